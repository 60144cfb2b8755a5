package audit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWipeFailure: the module's mark is read as its first line; no mark is
// no failure; a symbolic link or a directory is refused, not followed.
func TestWipeFailure(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tt := range []struct{ path, want string }{
		{write("mark", "drift wipe exit status 2\n"), "drift wipe exit status 2"},
		{write("empty", ""), "failed"},
		{write("long", strings.Repeat("x", 1000)), strings.Repeat("x", 256)},
		{filepath.Join(dir, "none"), ""},
	} {
		got, err := wipeFailure(tt.path)
		if err != nil || got != tt.want {
			t.Errorf("%s: %q, %v; want %q", filepath.Base(tt.path), got, err, tt.want)
		}
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(filepath.Join(dir, "mark"), link); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{link, dir} {
		if got, err := wipeFailure(p); err == nil {
			t.Errorf("%s: %q, want an error", p, got)
		}
	}
}

// TestWipeFailureWarning: the mark becomes a wipe warning on / naming it;
// no mark, no warning.
func TestWipeFailureWarning(t *testing.T) {
	dir := t.TempDir()
	mark := filepath.Join(dir, "wipe-failed")
	if _, ok := wipeFailureWarning(mark); ok {
		t.Error("a warning without a mark")
	}
	if err := os.WriteFile(mark, []byte("drift wipe exit status 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	w, ok := wipeFailureWarning(mark)
	if !ok || w.Kind != "wipe" || w.Path != "/" || w.Message != "the wipe failed at this boot (drift wipe exit status 2, says "+mark+"): the root was not rolled back" {
		t.Errorf("%v %+v", ok, w)
	}
}
