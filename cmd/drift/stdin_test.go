package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runStdin runs drift in this process with stdin as its standard input.
func runStdin(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, Streams{In: strings.NewReader(stdin), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

// replaceArg is args with the value of flag replaced by value.
func replaceArg(t *testing.T, args []string, flag, value string) []string {
	t.Helper()
	out := append([]string(nil), args...)
	for i := range out[:len(out)-1] {
		if out[i] == flag {
			out[i+1] = value
			return out
		}
	}
	t.Fatalf("%s not in %q", flag, args)
	return nil
}

// TestStdinFeedsAnyInputFlag: --persist -, --mountinfo - and --ignore-file
// - read standard input, and drift check reports what it reports with the
// same content in a file (--mountinfo - was taken for a file named "-":
// "open -: no such file or directory").
func TestStdinFeedsAnyInputFlag(t *testing.T) {
	dir, args := workstation(t)
	ignore := filepath.Join(dir, "ignore")
	if err := os.WriteFile(ignore, []byte("# the caches\n/var/cache\n*.bin\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	check := append(forCommand("check", args), "--format", "paths", "--ignore-file", ignore)
	code, want, stderr := runStdin(t, "", check...)
	if code != 1 || want == "" {
		t.Fatalf("from files: exit %d, stdout %q; stderr:\n%s", code, want, stderr)
	}
	_, unignored, _ := runStdin(t, "", forCommand("check", append(args, "--format", "paths"))...)
	if unignored == want {
		t.Fatalf("the ignore file changes nothing: the test would not see it unread")
	}
	for _, flag := range []string{"--persist", "--mountinfo", "--ignore-file"} {
		file := map[string]string{"--persist": filepath.Join(dir, "decl.nix"), "--mountinfo": filepath.Join(dir, "mountinfo"), "--ignore-file": ignore}[flag]
		content, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		code, got, stderr := runStdin(t, string(content), replaceArg(t, check, flag, "-")...)
		if code != 1 || got != want {
			t.Errorf("%s -: exit %d, want 1; stdout:\n%s\nwant (from the file):\n%s\nstderr:\n%s", flag, code, got, want, stderr)
		}
	}
	// A malformed table on standard input is named <stdin>, with its line.
	code, _, stderr = runStdin(t, "garbage\n", replaceArg(t, check, "--mountinfo", "-")...)
	if code != 2 || !strings.Contains(stderr, "drift: error: <stdin>:1:1: expected mount ID") {
		t.Errorf("--mountinfo - with garbage: exit %d; stderr:\n%s", code, stderr)
	}
}

// TestStdinReadByOneInputOnly: standard input given to two inputs
// (--persist - and --mountinfo -, --persist - twice, lint's argument -
// and --layout -) is refused before anything is read, exit 2, naming
// each flag that took it once.
func TestStdinReadByOneInputOnly(t *testing.T) {
	dir, args := workstation(t)
	check := forCommand("check", args)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{append(replaceArg(t, check, "--mountinfo", "-"), "--persist", "-"), "drift: error: --persist - and --mountinfo -: standard input can be read only once"},
		{append(replaceArg(t, check, "--persist", "-"), "--persist", "-"), "drift: error: --persist -: standard input can be read only once"},
		{append(replaceArg(t, check, "--persist", "-"), "--ignore-file", "-"), "drift: error: --persist - and --ignore-file -: standard input can be read only once"},
		{[]string{"diff", "--ignore-file", "-", "--ignore-file", "-", dir, dir}, "drift: error: --ignore-file -: standard input can be read only once"},
		{[]string{"lint", "-", "-"}, "drift: error: -: standard input can be read only once"},
		{[]string{"lint", "--layout", "-", "-"}, "drift: error: - and --layout -: standard input can be read only once"},
	} {
		code, _, stderr := runStdin(t, "", tc.args...)
		if code != 2 || !strings.HasPrefix(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%q: exit %d, want 2 and %q; stderr:\n%s", tc.args, code, tc.want, stderr)
		}
	}
}

// TestPipeByNameHintsStdin: a pipe named by its path, as a shell's process
// substitution <(…) names one (/dev/fd/63), is refused at once (drift
// never waits for a writer) with a hint to pass the same flag - and pipe
// the content in instead; lint's argument gets "name - instead".
func TestPipeByNameHintsStdin(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close() // kept open and silent: opening r's path blocking would wait for ever
	pipe := fmt.Sprintf("/proc/self/fd/%d", r.Fd())
	_, args := workstation(t)
	check := forCommand("check", args)
	for _, tc := range []struct {
		args []string
		use  string
	}{
		{replaceArg(t, check, "--persist", pipe), "pass --persist - and pipe the content to drift's standard input"},
		{replaceArg(t, check, "--mountinfo", pipe), "pass --mountinfo - and pipe the content"},
		{append(check, "--ignore-file", pipe), "pass --ignore-file - and pipe the content"},
		{[]string{"lint", pipe}, "name - instead and pipe the content"},
		{[]string{"lint", "--layout", pipe, "-"}, "pass --layout - and pipe the content"},
	} {
		code, _, stderr := runStdin(t, "{}", tc.args...)
		if code != 2 || !strings.Contains(stderr, "a fifo, not a regular file\n") || !strings.Contains(stderr, "drift: hint: drift never opens a pipe by its name") || !strings.Contains(stderr, tc.use) {
			t.Errorf("%q: exit %d, want 2, the refusal and a hint to %q; stderr:\n%s", tc.args, code, tc.use, stderr)
		}
	}
}
