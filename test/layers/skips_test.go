package layers

import (
	"bufio"
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
// skip is guarded: a DRIFT_REQUIRE_* variable read (os.Getenv) that turns
// it into a failure before it is reached, or test/e2e's harness-only mode,
// which a developer asks for by name.
var skipGuard = regexp.MustCompile(`os\.Getenv\(|harnessOnly\(\)`)

// TestSkipsAreRequired fails for a test that skips without a
// DRIFT_REQUIRE_* variable that makes the skip a failure
// (testutil.SkipOrFatal, or its own os.Getenv check just above the
// skip): .ci/run sets the variables, so no test CI runs is skipped
// silently, as TestDirModeIsCoreutils ("no GNU chmod") and
// TestReadmeMakeDemoExitStatus ("no make") could be.
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
		var above []string
		sc := bufio.NewScanner(f)
		for n := 1; sc.Scan(); n++ {
			line := sc.Text()
			if skipCall.MatchString(line) && !strings.Contains(line, "SkipOrFatal") && !skipGuard.MatchString(strings.Join(above, "\n")) {
				rel, _ := filepath.Rel(root, p)
				t.Errorf("%s:%d: %s: skips without a DRIFT_REQUIRE_* variable (use testutil.SkipOrFatal)", rel, n, strings.TrimSpace(line))
			}
			if above = append(above, line); len(above) > 4 {
				above = above[1:]
			}
		}
		return sc.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
}
