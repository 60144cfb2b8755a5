package pathx

import ()

// Compare orders paths component by component: it compares bytes with
// '/' sorting before every other byte, so a directory's subtree is
// contiguous ("/a", "/a/b", "/a-b").
func Compare(a, b string) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if x == '/' {
			return -1
		}
		if y == '/' {
			return 1
		}
		if x < y {
			return -1
		}
		return 1
	}
	return len(a) - len(b)
}
