package partial

import (
	"os"
	"testing"
)

// TestNameParses: a partial copy's name reads back as the name it stands
// for, the command that built it and its pid; other names, drift's or
// not, do not.
func TestNameParses(t *testing.T) {
	for _, by := range []string{Restore, Adopt} {
		n := Name("app", by, 4242, "0123456789ab")
		if c, ok := Parse(n); !ok || c != (Copy{Of: "app", By: by, PID: 4242}) {
			t.Errorf("Parse(%q) = %+v, %v", n, c, ok)
		}
		if pid, ok := Of(n, "app"); !ok || pid != 4242 {
			t.Errorf("Of(%q, app) = %d, %v", n, pid, ok)
		}
		if _, ok := Of(n, "ap"); ok {
			t.Errorf("Of(%q, ap) matched", n)
		}
	}
	if n := Name("app", Adopt, 7, "0123456789ab"); n != ".app.drift-adopt-7-0123456789ab" {
		t.Errorf("adopt's partial copy is named %q", n)
	}
	// A name that holds the other mark reads by its last one.
	if c, ok := Parse(".a.drift-adopt-1-0123456789ab.drift-restore-5-0123456789ab"); !ok || c.By != Restore || c.PID != 5 || c.Of != "a.drift-adopt-1-0123456789ab" {
		t.Errorf("nested marks: %+v, %v", c, ok)
	}
	long := string(make([]byte, 300))
	if _, ok := Of(Name(long, Restore, 1, "0123456789ab"), long); !ok {
		t.Error("a long name's partial copy is not recognised")
	}
	for _, bad := range []string{"", "app", ".app.drift-restore-", ".app.drift-restore-12-zz", ".app.drift-restore-x-0123456789ab", "app.drift-restore-12-0123456789ab", ".app.drift-restore-0-0123456789ab", ".app.drift-adopt-12-zz", "app.drift-adopt-12-0123456789ab"} {
		if _, ok := Parse(bad); ok {
			t.Errorf("Parse(%q) matched", bad)
		}
	}
}

// TestGone: this process is never gone; a pid no process has is.
func TestGone(t *testing.T) {
	if Gone(os.Getpid()) {
		t.Error("this process counted as gone")
	}
	if !Gone(1 << 30) {
		t.Error("a pid above pid_max counted as running")
	}
}
