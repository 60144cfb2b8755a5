package persist

import "sort"

// source is one input file with a table of line starts, to turn byte
// offsets into 1-based line:column positions (columns count bytes, as Go's
// own tools do).
type source struct {
	name  string
	data  []byte
	lines []int // offsets of line starts
}

func newSource(name string, data []byte) *source {
	s := &source{name: name, data: data, lines: []int{0}}
	for i, c := range data {
		if c == '\n' {
			s.lines = append(s.lines, i+1)
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
	l := sort.Search(len(s.lines), func(i int) bool { return s.lines[i] > off }) - 1
	return Pos{File: s.name, Line: l + 1, Col: off - s.lines[l] + 1}
}
