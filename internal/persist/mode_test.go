package persist

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
)

// modeCases are declared modes and the mode GNU coreutils gives a
// directory for them: mkdir --mode (impermanence's create-directories.bash)
// under the umask 0022 the activation runs with. Symbolic clauses start
// from a=rwx, so a class a mode leaves out keeps rwx ("u=rwx,g=rx" is
// 0757, not 0750); only a class-less clause is masked by the umask. The
// figures were taken from coreutils 9.1 (mkdir, and chmod on a 0777
// directory), and TestDirModeIsCoreutils takes them again where it runs.
var modeCases = []struct {
	in   string
	want uint32
}{
	{"0700", 0o700}, {"755", 0o755}, {"1777", 0o1777}, {"07777", 0o7777}, {"0", 0},
	{"u=rwx,g=rx,o=", 0o750}, {"u=rwx,g=,o=", 0o700}, {"a=rx,u+w", 0o755},
	{"u=rwx,g=rx", 0o757}, {"g-w", 0o757}, {"o=", 0o770}, {"go-rwx", 0o700},
	{"=rwx", 0o755}, {"+w", 0o777}, {"-x", 0o666}, {"=", 0}, {"u=rwx,go=rX", 0o755},
	{"go=u-w", 0o755}, {"u=rwx,g=u,o=g-w", 0o775}, {"=750", 0o750}, {"u=rwx,=700", 0o700},
	{"a=rwx,o-w", 0o775}, {"u=rwx,g=rx,o=,+x", 0o751}, {"a-rwx,u=rx+w", 0o700},
	// Special bits: chmod's figures (mkdir leaves group and other write
	// off where a clause sets one; DirMode does not model that).
	{"u=rwxs,g=x", 0o4717}, {"u+s,g=x", 0o4717}, {"g+s", 0o2777}, {"o+t", 0o1777},
	{"+t", 0o1777}, {"a+s", 0o6777}, {"o+s", 0o777}, {"u+t", 0o777}, {"=rwxs", 0o6755},
}

// TestDirModeAppliesSymbolicModesToRWX: the declared mode of a directory
// is read as GNU mkdir --mode reads it, symbolic clauses from 0777 (the
// restore and lint read it through this one function); bad modes are
// errors that say what was expected.
func TestDirModeAppliesSymbolicModesToRWX(t *testing.T) {
	for _, c := range modeCases {
		got, err := DirMode(c.in)
		if err != nil || got != c.want {
			t.Errorf("DirMode(%q) = %04o, %v; want %04o", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "0800", "77777", "010000", "u", "u=rwq", "rwx", "u=rwx,,", ",", "g=uw", "u=750", "=750x", "=17777", "u!"} {
		if m, err := DirMode(bad); err == nil {
			t.Errorf("DirMode(%q) = %04o, want an error", bad, m)
		}
	}
}

// TestDirModeIsCoreutils takes the table's figures from GNU coreutils
// where it is installed: chmod MODE on a 0777 directory under umask 0022
// (the same mode_adjust mkdir --mode runs), and mkdir --mode itself for
// the modes that set no special bit.
func TestDirModeIsCoreutils(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		testutil.SkipOrFatal(t, testutil.RequireHost, "no sh")
	}
	if out, err := exec.Command("chmod", "--version").Output(); err != nil || !strings.HasPrefix(string(out), "chmod (GNU coreutils)") {
		testutil.SkipOrFatal(t, testutil.RequireHost, "no GNU chmod")
	}
	dir := t.TempDir()
	for i, c := range modeCases {
		d := filepath.Join(dir, "c", string(rune('a'+i)))
		script := `umask 022; mkdir -p "$1" && chmod 0777 "$1" && chmod -- "$2" "$1"`
		if c.want&0o7000 == 0 {
			script = `umask 022; mkdir -p "${1%/*}" && mkdir --mode="$2" -- "$1"`
		}
		if out, err := exec.Command(sh, "-c", script, "sh", d, c.in).CombinedOutput(); err != nil {
			t.Errorf("%s: %v: %s", c.in, err, out)
			continue
		}
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		got := uint32(fi.Mode().Perm())
		for bit, m := range map[os.FileMode]uint32{os.ModeSetuid: 0o4000, os.ModeSetgid: 0o2000, os.ModeSticky: 0o1000} {
			if fi.Mode()&bit != 0 {
				got |= m
			}
		}
		if got != c.want {
			t.Errorf("coreutils gives %q %04o, the table %04o", c.in, got, c.want)
		}
	}
}
