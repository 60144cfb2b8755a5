package report

import (
	"strings"
	"testing"
)

// under is strings.HasPrefix(p, dirPrefix(dir)) without building the
// prefix: the same answer at, below, beside and above a directory, and
// for "/".
func TestUnderIsBelowDirPrefix(t *testing.T) {
	paths := []string{"/", "/home", "/home/a", "/homework", "/home/a/b", "/hom", "/h", "/x"}
	for _, dir := range paths {
		for _, p := range paths {
			if got, want := under(p, dir), strings.HasPrefix(p, dirPrefix(dir)); got != want {
				t.Errorf("under(%q, %q) = %v, want %v", p, dir, got, want)
			}
		}
	}
}
