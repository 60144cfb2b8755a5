package diff

import (
	"strings"
	"testing"
)

// TestIgnoreLongLine: a line longer than an ignore pattern can be (50 MB
// here) is an error naming file and line, read no further.
func TestIgnoreLongLine(t *testing.T) {
	var ig Ignore
	in := "/var/cache\n# comment\n" + strings.Repeat("x", 50<<20) + "\n/tmp\n"
	err := ig.AddReader(strings.NewReader(in), "ignore")
	want := "ignore:3: expected an ignore pattern of at most 1 MiB, found a longer line"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %q", err, want)
	}
}
