package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	if os.Getenv("DRIFT_MAIN_CHILD") == "1" { // TestBrokenPipe's child: drift itself
		os.Exit(mainRun())
	}
	testscript.Main(m, map[string]func(){
		"drift": func() { os.Exit(mainRun()) },
	})
}

// TestScripts runs the CLI end to end over testdata/script/*.txtar: real
// main, inline fixtures, assertions on stdout, stderr and exit status.
func TestScripts(t *testing.T) {
	demo, err := filepath.Abs("../../fixtures/demo")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("DEMO", demo)
			return nil
		},
		Condition: func(cond string) (bool, error) {
			if cond == "root" {
				return os.Geteuid() == 0, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// chown UID:GID PATH (never through a symlink); guard the
			// script with [!root] skip.
			"chown": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 2 {
					ts.Fatalf("usage: chown UID:GID PATH")
				}
				var uid, gid int
				if _, err := fmt.Sscanf(args[0], "%d:%d", &uid, &gid); err != nil {
					ts.Fatalf("chown %s: %v", args[0], err)
				}
				if err := os.Lchown(ts.MkAbs(args[1]), uid, gid); err != nil {
					ts.Fatalf("chown: %v", err)
				}
			},
		},
	})
}

// demoCheck is drift check on the bundled demo, which prints a report.
func demoCheck(t *testing.T) []string {
	demo, err := filepath.Abs("../../fixtures/demo")
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{"check"}, demoFlags(demo)...)
}

// TestRunBrokenPipe: run writing to a pipe whose reader is gone exits 141,
// with no error message.
func TestRunBrokenPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	defer w.Close()
	var stderr bytes.Buffer
	code := run(context.Background(), demoCheck(t), Streams{In: strings.NewReader(""), Out: w, Err: &stderr})
	if code != 141 || strings.Contains(stderr.String(), "error") {
		t.Errorf("run = %d, stderr %q; want 141 and no error message", code, stderr.String())
	}
}

// TestBrokenPipe runs drift as a process with its stdout a pipe closed by
// the reader (drift … | head -1): no death by SIGPIPE (deferred cleanups
// run), exit status 141, no error message.
func TestBrokenPipe(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, demoCheck(t)...)
	cmd.Env = append(os.Environ(), "DRIFT_MAIN_CHILD=1")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = w, &stderr
	err = cmd.Run()
	w.Close()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("drift: %v, want exit status 141", err)
	}
	if st, ok := ee.Sys().(syscall.WaitStatus); ok && st.Signaled() {
		t.Fatalf("drift died by %v: deferred cleanups never ran", st.Signal())
	}
	if ee.ExitCode() != 141 || strings.Contains(stderr.String(), "error") {
		t.Errorf("exit %d, stderr %q; want 141 and no error message", ee.ExitCode(), stderr.String())
	}
}
