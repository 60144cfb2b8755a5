package persist

import (
	"bytes"
	"context"
	"sort"
	"unsafe"
)

// source is one input file with a table of line starts, to turn byte
// offsets into 1-based line:column positions (columns count bytes, as Go's
// own tools do).
type source struct {
	name string
	// data and text are the same bytes, never written: strings read from
	// the source without escapes (most paths) are slices of text, not
	// copies.
	data  []byte
	text  string
	nix   bool    // a .nix file: list items are Nix expressions (list)
	lines []int32 // offsets of line starts (inputs are at most 64 MiB)
	// ctx, when set, is polled every tickEvery calls of tick: a cancelled
	// read stops by panicking with cancelled, which ParseNix and ParseJSON
	// recover.
	ctx   context.Context
	ticks int
}

// tickEvery is how many units of work (tokens, evaluation steps, entries)
// pass between two looks at ctx.
const tickEvery = 4096

// cancelled carries ctx.Err() up the parser's, the evaluator's or the
// reader's stack.
type cancelled struct{ err error }

// tick counts one unit of work and, every tickEvery, gives up when the
// source's context is done.
func (s *source) tick() {
	s.ticks++
	if s.ctx == nil || s.ticks%tickEvery != 0 {
		return
	}
	if err := s.ctx.Err(); err != nil {
		panic(cancelled{err})
	}
}

// recoverCancelled turns a cancelled panic into *err; other panics go on.
func recoverCancelled(err *error) {
	if r := recover(); r != nil {
		c, ok := r.(cancelled)
		if !ok {
			panic(r)
		}
		*err = c.err
	}
}

// newSource makes the source of data. owned says that data is the
// caller's to give, never written again: the source (and every string read
// from it) shares its memory. Otherwise data is copied first.
func newSource(name string, data []byte, owned bool) *source {
	if !owned {
		data = bytes.Clone(data)
	}
	text := unsafe.String(unsafe.SliceData(data), len(data))
	s := &source{name: name, data: data, text: text, lines: make([]int32, 1, 1+bytes.Count(data, []byte{'\n'}))}
	for i, c := range data {
		if c == '\n' {
			s.lines = append(s.lines, int32(i+1))
		}
	}
	return s
}

func (s *source) pos(off int) Pos {
	if off < 0 {
		return Pos{File: s.name}
	}
	if off > len(s.data) {
		off = len(s.data)
	}
	l := sort.Search(len(s.lines), func(i int) bool { return int(s.lines[i]) > off }) - 1
	return Pos{File: s.name, Line: l + 1, Col: off - int(s.lines[l]) + 1}
}
