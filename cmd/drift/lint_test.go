package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestNewCmdLint: the flags and their defaults.
func TestNewCmdLint(t *testing.T) {
	cmd := newLintCmd(Streams{})
	for flag, want := range map[string]string{"format": "text", "fail-on": "error", "flake": "", "list-rules": "false"} {
		f := cmd.Flags().Lookup(flag)
		if f == nil || f.DefValue != want {
			t.Errorf("--%s: %+v, want default %q", flag, f, want)
		}
	}
	if !strings.Contains(cmd.Long, "EXIT STATUS") {
		t.Error("help has no EXIT STATUS")
	}
}

// TestLintFollowsImports: relative path imports of .nix files (and of a
// directory's default.nix) are read as part of the configuration,
// cycle-safe, and so is `import ./x.nix` there; a static import outside
// the tree given (../x.nix) is read too, as nixos-rebuild reads it; a
// computed import and a path through a symlink are not-static warnings at
// their position; the importing module without declarations is not a
// warning.
func TestLintFollowsImports(t *testing.T) {
	dir := t.TempDir()
	for p, s := range map[string]string{
		"cfg/main.nix":        "{ imports = [ ./persist.nix (import ./third.nix) (builtins.fetchTarball \"u\") ./sub ./loop.nix ./link.nix ../x.nix ]; }",
		"cfg/persist.nix":     `{ environment.persistence."/p".directories = [ "/srv" ]; imports = [ ./main.nix ]; }`,
		"cfg/sub/default.nix": `{ environment.persistence."/p".directories = [ "/srv" ]; }`,
		"cfg/loop.nix":        "{ imports = [ ./main.nix ]; }",
		"cfg/third.nix":       "{ }",
		"x.nix":               `{ environment.persistence."/p".directories = [ "/x" ]; }`,
	} {
		p = filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("../x.nix", filepath.Join(dir, "cfg/link.nix")); err != nil {
		t.Fatal(err)
	}
	t.Chdir(filepath.Join(dir, "cfg"))
	var out, errb strings.Builder
	code := run(context.Background(), []string{"lint", "--format", "json", "main.nix"}, Streams{In: strings.NewReader(""), Out: &out, Err: &errb})
	if code != 1 {
		t.Fatalf("exit %d, stderr %s", code, errb.String())
	}
	got := out.String()
	for _, want := range []string{
		`first at sub/default.nix:1:48`, `"rule": "duplicate"`, `"file": "../x.nix"`,
		"cannot follow the result of calling `builtins.fetchTarball`",
		`./link.nix is not followed (a symlink is on its way)`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in\n%s", want, got)
		}
	}
	if strings.Contains(got, "no persistence declarations found") || strings.Contains(got, "../x.nix is not followed") {
		t.Errorf("unexpected finding in\n%s", got)
	}
	if !strings.Contains(errb.String(), "in 6 inputs") { // third.nix and ../x.nix too
		t.Errorf("stderr %s", errb.String())
	}
}

// TestLintImportsAcrossHosts: in `drift lint .`, a host importing a shared
// module (../../modules/common.nix) gets that module's declarations, so no
// missing-state rule fires for what the module persists, and the module's
// own findings are printed once; naming both files on the command line
// reads the import as part of the configuration, with no not-static
// finding for it.
func TestLintImportsAcrossHosts(t *testing.T) {
	dir := t.TempDir()
	for p, s := range map[string]string{
		"hosts/a/default.nix": `{ imports = [ ./persist.nix ../../modules/common.nix ]; users.mutableUsers = false; }`,
		"hosts/a/persist.nix": `{ environment.persistence."/p".directories = [ "/var/log" "/var/lib/nixos" ]; environment.persistence."/p".files = [ "/etc/machine-id" ]; }`,
		"modules/common.nix":  `{ environment.persistence."/p".directories = [ "/var/lib/systemd/timers" "/srv//x" ]; }`,
	} {
		p = filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	for _, args := range [][]string{{"."}, {"hosts/a/default.nix", "hosts/a/persist.nix", "modules/common.nix"}, {"hosts/a", "modules/common.nix"}} {
		var out, errb strings.Builder
		run(context.Background(), append([]string{"lint", "--format", "json"}, args...), Streams{In: strings.NewReader(""), Out: &out, Err: &errb})
		got := out.String()
		for _, bad := range []string{"missing-systemd-timers", "is not followed"} {
			if strings.Contains(got, bad) {
				t.Errorf("drift lint %s: %q in\n%s", args, bad, got)
			}
		}
		if n := strings.Count(got, `"rule": "path-slashes"`); n != 1 {
			t.Errorf("drift lint %s: the shared module's path-slashes finding %d times, want once:\n%s", args, n, got)
		}
		if !strings.Contains(errb.String(), " in 3 inputs") {
			t.Errorf("drift lint %s: %s, want 3 inputs (each file once)", args, errb.String())
		}
	}
}

// TestLintDuplicateOfSharedModule: two hosts import one module and repeat
// one of its entries: each host gets its own duplicate finding, at its own
// line, and the module none (it would otherwise collect one per host).
func TestLintDuplicateOfSharedModule(t *testing.T) {
	dir := t.TempDir()
	host := `{ imports = [ ../../modules/common.nix ];
  environment.persistence."/p".directories = [ "/var/lib/bluetooth" "/var/log" ];
}
`
	for p, s := range map[string]string{
		"hosts/a/default.nix": host,
		"hosts/b/default.nix": host,
		"modules/common.nix":  `{ environment.persistence."/p".directories = [ "/var/log" ]; }`,
	} {
		p = filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	var out, errb strings.Builder
	run(context.Background(), []string{"lint", "--disable", "all", "--enable", "duplicate", "."}, Streams{In: strings.NewReader(""), Out: &out, Err: &errb})
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if strings.Contains(l, " duplicate: ") {
			got = append(got, l[:strings.Index(l, ": ")])
		}
	}
	want := []string{"hosts/a/default.nix:2:69", "hosts/b/default.nix:2:69"}
	if !slices.Equal(got, want) {
		t.Errorf("duplicate findings at %q, want %q\n%s", got, want, out.String())
	}
}

// TestLintEmptyDirHint: a named directory without a .nix file is an error
// with its hint below it, also among other inputs' errors.
func TestLintEmptyDirHint(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	var out, errb strings.Builder
	code := run(context.Background(), []string{"lint", "empty", "missing.nix"}, Streams{In: strings.NewReader(""), Out: &out, Err: &errb})
	want := "drift: error: empty: no .nix file in this directory or below it\n" +
		"drift: hint: symlinks inside a named directory are not followed and hidden directories are skipped; name the files, or the directory that holds them\n" +
		"drift: error: stat missing.nix: no such file or directory\n"
	if code != 2 || !strings.HasSuffix(errb.String(), want) {
		t.Errorf("exit %d, stderr:\n%s\nwant it to end with:\n%s", code, errb.String(), want)
	}
}

// TestSuggestPipedIntoLintHasNoFalseWarning: drift suggest --format nix |
// drift lint -, on the bundled demo, exits 0 with no finding at all (the
// module suggest prints is not a host: the missing-state rules, which
// found /etc/machine-id, /var/log, … "missing" in it, do not run); linted
// together with the host's own file, they run again.
func TestSuggestPipedIntoLintHasNoFalseWarning(t *testing.T) {
	demo, err := filepath.Abs("../../fixtures/demo")
	if err != nil {
		t.Fatal(err)
	}
	code, out, errs := runDrift(t, "suggest", "--root", demo+"/root", "--mountinfo", demo+"/mountinfo",
		"--persist", demo+"/impermanence.nix", "--now", "2100-01-01T00:00:00Z", "--quiet", "--format", "nix")
	if code != 0 {
		t.Fatalf("suggest: exit %d: %s", code, errs)
	}
	var lout, lerr bytes.Buffer
	code = run(context.Background(), []string{"lint", "--fail-on", "info", "-"}, Streams{In: strings.NewReader(out), Out: &lout, Err: &lerr})
	if code != 0 || lout.Len() != 0 {
		t.Errorf("lint -: exit %d:\n%s%s\n--- input:\n%s", code, lout.String(), lerr.String(), out)
	}
	f := filepath.Join(t.TempDir(), "suggested.nix")
	if err := os.WriteFile(f, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	_, lo, _ := runDrift(t, "lint", demo+"/impermanence.nix", f)
	if !strings.Contains(lo, "missing-var-log") {
		t.Errorf("the host with the suggested module: no missing-var-log:\n%s", lo)
	}
}
