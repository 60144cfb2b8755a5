package partial

import (
	"os"
	"testing"
)

// TestNameParses: a partial copy's name reads back as the name it stands
// for and its pid; other names, drift's or not, do not.
func TestNameParses(t *testing.T) {
	n := Name("app", 4242, "0123456789ab")
	if of, pid, ok := Parse(n); !ok || of != "app" || pid != 4242 {
		t.Errorf("Parse(%q) = %q, %d, %v", n, of, pid, ok)
	}
	if pid, ok := Of(n, "app"); !ok || pid != 4242 {
		t.Errorf("Of(%q, app) = %d, %v", n, pid, ok)
	}
	if _, ok := Of(n, "ap"); ok {
		t.Errorf("Of(%q, ap) matched", n)
	}
	long := string(make([]byte, 300))
	if _, ok := Of(Name(long, 1, "0123456789ab"), long); !ok {
		t.Error("a long name's partial copy is not recognised")
	}
	for _, bad := range []string{"app", ".app.drift-restore-", ".app.drift-restore-12-zz", ".app.drift-restore-x-0123456789ab", "app.drift-restore-12-0123456789ab", ".app.drift-restore-0-0123456789ab"} {
		if _, _, ok := Parse(bad); ok {
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
