package layers

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// skipCall is a call that skips a test: t.Skip, t.Skipf, t.SkipNow.
var skipCall = regexp.MustCompile(`\.Skip(f|Now)?\(`)

// skipGuard is what one of the four lines above a skip shows when the
// skip is guarded: a DRIFT_REQUIRE_* variable read (os.Getenv of the
// literal name, of a test package's envRequire… constant, or of
// testutil.RequireHost) that turns it into a failure before it is
// reached, or test/e2e's harness-only mode, which a developer asks for by
// name.
var skipGuard = regexp.MustCompile(`os\.Getenv\(("DRIFT_REQUIRE_\w+"|envRequire\w*|testutil\.RequireHost)\)|harnessOnly\(\)`)

// TestSkipsAreRequired fails for a test that skips without a
// DRIFT_REQUIRE_* variable that makes the skip a failure
// (testutil.SkipOrFatal, or its own os.Getenv check just above the
// skip): .ci/run sets the variables, so no test CI runs is skipped
// silently, as TestDirModeIsCoreutils ("no GNU chmod") and
// TestReadmeMakeDemoExitStatus ("no make") could be. Benchmarks, which CI
// does not run as tests, may skip when their input is not set.
func TestSkipsAreRequired(t *testing.T) {
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, "_test.go") || d.Name() == "skips_test.go" {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		bad, err := unguardedSkips(f)
		rel, _ := filepath.Rel(root, p)
		for _, b := range bad {
			t.Errorf("%s:%s: skips without a DRIFT_REQUIRE_* variable (use testutil.SkipOrFatal)", rel, b)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// unguardedSkips lists the skips of the Go test source r that no
// DRIFT_REQUIRE_* variable guards (skipGuard in the four lines above),
// outside benchmarks, each as "LINE: the call".
func unguardedSkips(r io.Reader) ([]string, error) {
	var bad, above []string
	bench := false
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(line, "func ") {
			bench = strings.HasPrefix(line, "func Benchmark")
		}
		if !bench && skipCall.MatchString(line) && !strings.Contains(line, "SkipOrFatal") && !skipGuard.MatchString(strings.Join(above, "\n")) {
			bad = append(bad, fmt.Sprintf("%d: %s", n, strings.TrimSpace(line)))
		}
		if above = append(above, line); len(above) > 4 {
			above = above[1:]
		}
	}
	return bad, sc.Err()
}

// TestUnguardedSkips: a skip guarded by some other variable (HOME) is
// reported, as is one whose DRIFT_REQUIRE_* check lies more than four
// lines above it; SkipOrFatal, a guarded skip and a benchmark's skip are
// not.
func TestUnguardedSkips(t *testing.T) {
	src := `func TestA(t *testing.T) {
	if os.Getenv("HOME") == "" {
		t.Skip("no home")
	}
	testutil.SkipOrFatal(t, "DRIFT_REQUIRE_X", "no x")
	if _, err := exec.LookPath("jq"); err != nil {
		if os.Getenv(envRequire) == "1" {
			t.Fatal("no jq")
		}
		t.Skip("no jq")
	}
	if os.Getenv("DRIFT_REQUIRE_NIX") == "1" {
		x()
		y()
		z()
		w()
		t.Skip("too far")
	}
}

func BenchmarkB(b *testing.B) {
	if os.Getenv("DRIFT_BENCH_ROOT") == "" {
		b.Skip("not set")
	}
}
`
	got, err := unguardedSkips(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`3: t.Skip("no home")`, `17: t.Skip("too far")`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("unguarded skips: %q, want %q", got, want)
	}
}
