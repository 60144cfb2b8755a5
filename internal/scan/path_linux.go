//go:build linux

package scan

import "unsafe"

// Join returns the path of name in the directory dir (a walk's path: "/"
// for the root).
func Join(dir string, name []byte) string {
	if dir == "/" {
		return "/" + string(name)
	}
	return dir + "/" + string(name)
}

// appendJoin appends Join(dir, name) to b.
func appendJoin(b []byte, dir string, name []byte) []byte {
	if dir != "/" {
		b = append(b, dir...)
	}
	b = append(b, '/')
	return append(b, name...)
}

// tallyPathChunk is the size of the blocks tallyPath builds paths in.
const tallyPathChunk = 16 << 10

// tallyPath returns Join(dir, name), built in ws.paths rather than
// allocated on its own: below a Tally the only paths are directories' (one
// string each, 86,865 on the bench tree, 1.2% of drift check's CPU time in
// malloc). A block is never written again where a path returned lies, and
// is kept (by the GC) while any of its paths is: those of a walk's pending
// directories and of the errors reported, a few blocks.
func (ws *wstate) tallyPath(dir string, name []byte) string {
	n := 1 + len(name)
	if dir != "/" {
		n += len(dir)
	}
	if cap(ws.paths)-len(ws.paths) < n {
		ws.paths = make([]byte, 0, max(tallyPathChunk, n))
	}
	start := len(ws.paths)
	ws.paths = appendJoin(ws.paths, dir, name)
	return unsafe.String(&ws.paths[start], n)
}
