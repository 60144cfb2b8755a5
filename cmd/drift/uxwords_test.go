package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestInputErrorsNameTheirFlag: an input named by --persist, --mountinfo
// or --ignore-file that cannot be read (missing, a directory) is an error
// starting with the flag, as --mountinfo's and --ignore-file's were and
// --persist's were not; a declaration file that does not parse is named
// with its line instead.
func TestInputErrorsNameTheirFlag(t *testing.T) {
	dir, args := workstation(t)
	for _, flag := range []string{"--persist", "--mountinfo", "--ignore-file"} {
		for _, input := range []string{filepath.Join(dir, "missing"), dir} {
			code, out, errs := runDrift(t, append(forCommand("check", args), flag, input)...)
			if code != 2 || !strings.HasPrefix(errs, "drift: error: "+flag+": ") {
				t.Errorf("%s %s: exit %d\n%s\n%s", flag, input, code, out, errs)
			}
		}
	}
	bad := filepath.Join(dir, "bad.nix")
	if err := os.WriteFile(bad, []byte("{ x = "), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runDrift(t, append(forCommand("check", args), "--persist", bad)...); code != 2 || !strings.HasPrefix(errs, "drift: error: "+bad+":1:") {
		t.Errorf("a syntax error: exit %d\n%s", code, errs)
	}
}

// TestLintNamesAFifoAsCheckDoes: drift lint of a fifo said "not a regular
// file" where drift check --persist of the same fifo says "a fifo, not a
// regular file": one wording (safefile.NotRegularError), the specific one.
func TestLintNamesAFifoAsCheckDoes(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "decl.nix")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	want := fifo + ": a fifo, not a regular file"
	if code, out, errs := runDrift(t, "lint", fifo); code != 2 || !strings.Contains(errs, "drift: error: "+want) {
		t.Errorf("drift lint: exit %d\n%s\n%s", code, out, errs)
	}
}

// demoCopy is the demo fixture's root copied to a temporary directory,
// with the declarations decl, as drift adopt's flags (--root, --persist,
// --mountinfo): adopt may write there.
func demoCopy(t *testing.T, decl string) (root string, args []string) {
	t.Helper()
	fix, err := filepath.Abs("../../fixtures/demo")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	root = filepath.Join(dir, "root")
	if out, err := exec.Command("cp", "-a", filepath.Join(fix, "root"), root).CombinedOutput(); err != nil {
		t.Fatalf("cp -a: %v\n%s", err, out)
	}
	nix := filepath.Join(dir, "p.nix")
	if err := os.WriteFile(nix, []byte(decl), 0o644); err != nil {
		t.Fatal(err)
	}
	return root, []string{"--root", root, "--persist", nix, "--mountinfo", filepath.Join(fix, "mountinfo")}
}

// TestAdoptPendingWithNothingPendingSaysSo: drift adopt --pending with no
// declared path pending printed nothing at all (table and summary); it
// says there is nothing pending, exit 0.
func TestAdoptPendingWithNothingPendingSaysSo(t *testing.T) {
	_, args := demoCopy(t, `{ environment.persistence."/nix/persist".directories = [ "/var/spool" ]; }`)
	for _, extra := range [][]string{{}, {"--dry-run"}, {"--format", "summary"}} {
		code, out, errs := runDrift(t, append(append([]string{"adopt", "--pending"}, extra...), args...)...)
		if code != 0 || !strings.Contains(out, "nothing pending: no declared path holds live data without its persistent copy\n") {
			t.Errorf("%v: exit %d\nstdout:\n%s\nstderr:\n%s", extra, code, out, errs)
		}
	}
}

// TestAdoptConflictNamesThePathAsItsListing: drift adopt refused for a
// differing object names it in its error as its listing does (under
// --root); the error said /nix/persist/srv/www/index.html where the
// listing said ROOT/nix/persist/srv/www/index.html.
func TestAdoptConflictNamesThePathAsItsListing(t *testing.T) {
	root, args := demoCopy(t, `{ environment.persistence."/nix/persist".directories = [ "/srv" ]; }`)
	copyOf := filepath.Join(root, "nix/persist/srv/www/index.html")
	if err := os.MkdirAll(filepath.Dir(copyOf), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(copyOf, []byte("other\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runDrift(t, append([]string{"adopt", "/srv"}, args...)...)
	if code != 2 || !strings.Contains(out, "differs  "+copyOf+" ") || !strings.Contains(errs, "(first: "+copyOf+", ") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
}
