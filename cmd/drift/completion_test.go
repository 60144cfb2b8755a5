package main

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/lint/output"
	"github.com/nix-drift/drift/internal/report"
	"github.com/spf13/cobra"
)

// complete runs drift __complete args (what the shell scripts of drift
// completion run) and returns the values and the directive.
func complete(t *testing.T, args ...string) ([]string, string) {
	t.Helper()
	code, out, errb := runDrift(t, append([]string{"__complete"}, args...)...)
	if code != 0 {
		t.Fatalf("drift __complete %q: exit %d, %s", args, code, errb)
	}
	var values []string
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if strings.HasPrefix(l, ":") {
			return values, l
		}
		v, _, _ := strings.Cut(l, "\t")
		values = append(values, v)
	}
	t.Fatalf("drift __complete %q: no directive in %q", args, out)
	return nil, ""
}

// TestCompleteFormat: --format completes its values on every command that
// has it, not file names. A command given --format later without a line
// here fails the test.
func TestCompleteFormat(t *testing.T) {
	want := map[string][]string{
		"check":    report.Formats,
		"diff":     report.DiffFormats,
		"suggest":  report.SuggestFormats,
		"roots":    report.WipeFormats,
		"wipe":     report.WipeFormats,
		"version":  {"text", "json"},
		"lint":     output.Formats,
		"adopt":    report.AdoptFormats,
		"prune":    pruneFormats,
		"rehearse": report.RehearseFormats,
	}
	noFiles := ":" + strconv.Itoa(int(cobra.ShellCompDirectiveNoFileComp))
	seen := 0
	for _, c := range newRootCmd(Streams{}).Commands() {
		if c.Flags().Lookup("format") == nil {
			continue
		}
		seen++
		w, ok := want[c.Name()]
		if !ok {
			t.Errorf("drift %s has --format: add its values to this test", c.Name())
			continue
		}
		got, dir := complete(t, c.Name(), "--format", "")
		if strings.Join(got, " ") != strings.Join(w, " ") || dir != noFiles {
			t.Errorf("drift __complete %s --format '': %q %s, want %q %s", c.Name(), got, dir, w, noFiles)
		}
		// The help names the same values.
		if u := c.Flags().Lookup("format").Usage; !strings.Contains(u, strings.Join(w, ", ")) {
			t.Errorf("drift %s --format help %q does not list %q", c.Name(), u, w)
		}
	}
	if seen != len(want) {
		t.Errorf("%d commands have --format, want %d", seen, len(want))
	}
}

// TestCompleteFlagValues: the other flags that take keywords complete
// them; a word that begins none of them falls back to paths where the flag
// takes a local path.
func TestCompleteFlagValues(t *testing.T) {
	noFiles := ":" + strconv.Itoa(int(cobra.ShellCompDirectiveNoFileComp))
	dirs := ":" + strconv.Itoa(int(cobra.ShellCompDirectiveFilterDirs))
	files := ":" + strconv.Itoa(int(cobra.ShellCompDirectiveDefault))
	for _, tc := range []struct {
		args []string
		want string
		dir  string
	}{
		{[]string{"check", "--color", ""}, "auto always never", noFiles},
		{[]string{"check", "--old-roots", ""}, "auto none", noFiles},
		{[]string{"check", "--old-roots", "n"}, "none", noFiles},
		{[]string{"check", "--old-roots", "/mnt/top/"}, "", dirs},
		{[]string{"check", "--root-subvol", ""}, "auto none", noFiles},
		{[]string{"check", "--root-subvol", "/@"}, "", noFiles},
		{[]string{"suggest", "--old-roots", ""}, "auto none", noFiles},
		{[]string{"suggest", "--old-roots", "./"}, "", dirs},
		{[]string{"suggest", "--root-subvol", "a"}, "auto", noFiles},
		{[]string{"wipe", "--resume-device", ""}, "auto none", noFiles},
		{[]string{"wipe", "--resume-device", "/dev/"}, "", files},
		{[]string{"wipe", "--resume-offset", ""}, "auto", noFiles},
		{[]string{"restore", "--to", ""}, "persist live", noFiles},
		{[]string{"restore", "--from", ""}, "latest", noFiles},
		{[]string{"restore", "--from", "/mnt/"}, "", dirs},
		{[]string{"lint", "--fail-on", ""}, "error warning info", noFiles},
	} {
		got, dir := complete(t, tc.args...)
		if strings.Join(got, " ") != tc.want || dir != tc.dir {
			t.Errorf("drift __complete %q: %q %s, want %q %s", tc.args, got, dir, tc.want, tc.dir)
		}
	}
}

// TestCompleteRules: drift lint --enable and --disable complete the rule
// ids (and all), not file names.
func TestCompleteRules(t *testing.T) {
	noFiles := ":" + strconv.Itoa(int(cobra.ShellCompDirectiveNoFileComp))
	for _, flag := range []string{"--enable", "--disable"} {
		got, dir := complete(t, "lint", flag, "")
		joined := " " + strings.Join(got, " ") + " "
		for _, id := range []string{"all", "conditional", "missing-var-log", "duplicate"} {
			if !strings.Contains(joined, " "+id+" ") || dir != noFiles {
				t.Errorf("drift __complete lint %s '': %q %s, want %s among them and %s", flag, got, dir, id, noFiles)
			}
		}
		got, _ = complete(t, "lint", flag, "duplicate,")
		if !slices.Contains(got, "duplicate,path-dot") || slices.Contains(got, "path-dot") {
			t.Errorf("drift __complete lint %s 'duplicate,': %q, want duplicate,RULE for each rule", flag, got)
		}
	}
}
