package nix

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"unsafe"
)

// Source is one input file with a table of line starts, to turn byte
// offsets into 1-based line:column positions (columns count bytes, as Go's
// own tools do).
type Source struct {
	Name string
	// data and text are the same bytes, never written: strings read from
	// the source without escapes (most paths) are slices of text, not
	// copies.
	Data  []byte
	Text  string
	Nix   bool    // a .nix file: list items are Nix expressions (list)
	Lines []int32 // offsets of line starts (inputs are at most 64 MiB)
	// ctx, when set, is polled every tickEvery calls of tick: a cancelled
	// read stops by panicking with cancelled, which ParseNix and ParseJSON
	// recover.
	Ctx   context.Context
	Ticks int
}

// tickEvery is how many units of work (tokens, evaluation steps, entries)
// pass between two looks at ctx.
const tickEvery = 4096

// cancelled carries ctx.Err() up the parser's, the evaluator's or the
// reader's stack.
type cancelled struct{ err error }

// Tick counts one unit of work and, every tickEvery, gives up when the
// source's context is done.
func (s *Source) Tick() {
	s.Ticks++
	if s.Ctx == nil || s.Ticks%tickEvery != 0 {
		return
	}
	if err := s.Ctx.Err(); err != nil {
		panic(cancelled{err})
	}
}

// RecoverCancelled turns a cancelled panic into *err; other panics go on.
func RecoverCancelled(err *error) {
	if r := recover(); r != nil {
		c, ok := r.(cancelled)
		if !ok {
			panic(r)
		}
		*err = c.err
	}
}

// NewSource makes the source of data. owned says that data is the
// caller's to give, never written again: the source (and every string read
// from it) shares its memory. Otherwise data is copied first.
func NewSource(name string, data []byte, owned bool) *Source {
	if !owned {
		data = bytes.Clone(data)
	}
	text := unsafe.String(unsafe.SliceData(data), len(data))
	s := &Source{Name: name, Data: data, Text: text, Lines: make([]int32, 1, 1+bytes.Count(data, []byte{'\n'}))}
	for i, c := range data {
		if c == '\n' {
			s.Lines = append(s.Lines, int32(i+1))
		}
	}
	return s
}

// Pos is the position of byte offset off (negative: the file only; past
// the end: the end).
func (s *Source) Pos(off int) Pos {
	if off < 0 {
		return Pos{File: s.Name}
	}
	if off > len(s.Data) {
		off = len(s.Data)
	}
	l := sort.Search(len(s.Lines), func(i int) bool { return int(s.Lines[i]) > off }) - 1
	return Pos{File: s.Name, Line: l + 1, Col: off - int(s.Lines[l]) + 1}
}

// Pos is where a declaration was written. Line and Col are 1-based; both are
// 0 when the position is unknown (JSON from nix eval has none).
type Pos struct {
	File string
	Line int
	Col  int
}

// String writes p as file:line:col, leaving out what is unknown.
func (p Pos) String() string {
	switch {
	case p.File == "":
		return ""
	case p.Line == 0:
		return p.File
	case p.Col == 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// SyntaxError is malformed input (Nix or JSON) at byte offset Off of Src.
type SyntaxError struct {
	Src *Source
	Off int
	Msg string
}

// Error is "file:line:col: message".
func (e *SyntaxError) Error() string { return e.Src.Pos(e.Off).String() + ": " + e.Msg }

// MaxDepth caps the nesting of JSON values and Nix expressions: deeper input
// is rejected with an error instead of exhausting the stack.
const MaxDepth = 1000

// AppendDoubling is append that doubles a full slice's capacity: a
// million appends allocate about twice the final slice, not the five
// times of append, which grows a large slice by a quarter.
func AppendDoubling[T any](s []T, v T) []T {
	if len(s) == cap(s) {
		// Not slices.Grow: asked for twice, it makes up to 2.5 times.
		n := make([]T, len(s), max(8, 2*len(s)))
		copy(n, s)
		s = n
	}
	return append(s, v)
}
