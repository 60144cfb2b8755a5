package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFIFOInputs: a FIFO wherever drift check and drift suggest read a file
// (the live root's and the previous root's /etc/passwd, /etc/group and
// /var/lib/nixos/uid-map, --persist, --mountinfo, --ignore-file) is
// refused at once, named, instead of blocking for ever in open(2) waiting
// for a writer. Each run is a process: a hang fails after 10 s. An error
// about an input a flag named starts with the flag (--persist said only
// the file).
func TestFIFOInputs(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	prev := filepath.Join("old_roots", "2026-11-29_08:00:00")
	for _, tc := range []struct {
		name string
		fifo string // relative to the fixture's directory
		flag string // the flag naming it, if any
		bad  bool   // an error (exit 2), not a warning
	}{
		{"live passwd", "root/etc/passwd", "", false},
		{"live group", "root/etc/group", "", false},
		{"live uid-map", "root/var/lib/nixos/uid-map", "", false},
		{"previous passwd", prev + "/etc/passwd", "", false},
		{"previous group", prev + "/etc/group", "", false},
		{"previous uid-map", prev + "/var/lib/nixos/uid-map", "", false},
		{"--persist", "fifo.nix", "--persist", true},
		{"--mountinfo", "mountinfo.fifo", "--mountinfo", true},
		{"--ignore-file", "ignore.fifo", "--ignore-file", true},
	} {
		for _, command := range []string{"check", "suggest"} {
			t.Run(command+" "+tc.name, func(t *testing.T) {
				dir, args := workstation(t)
				fifo := filepath.Join(dir, tc.fifo)
				if err := os.MkdirAll(filepath.Dir(fifo), 0o755); err != nil {
					t.Fatal(err)
				}
				os.Remove(fifo)
				if err := syscall.Mkfifo(fifo, 0o644); err != nil {
					t.Fatal(err)
				}
				args = forCommand(command, args)
				if tc.flag != "" {
					args = append(args, tc.flag, fifo)
				}
				code, stderr, elapsed := runChild(t, self, args, nil)
				if elapsed > 5*time.Second {
					t.Errorf("took %v", elapsed)
				}
				if !strings.Contains(stderr, "a fifo, not a regular file") {
					t.Errorf("exit %d; stderr does not say a fifo was refused:\n%s", code, stderr)
				}
				if tc.flag != "" && !strings.Contains(stderr, "drift: error: "+tc.flag+": ") {
					t.Errorf("the error does not name %s, where the input came from:\n%s", tc.flag, stderr)
				}
				if tc.bad != (code == 2) {
					t.Errorf("exit %d, want 2: %v\n%s", code, tc.bad, stderr)
				}
			})
		}
	}
}

// TestInterruptBlockedRead: the first SIGTERM stops drift check while it
// waits on a standard input (--persist -, --mountinfo -, --ignore-file -)
// that a writer keeps open and silent: exit 143 at once.
func TestInterruptBlockedRead(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	_, args := workstation(t)
	for _, flag := range []string{"--persist", "--mountinfo", "--ignore-file"} {
		t.Run(flag, func(t *testing.T) {
			var rest []string
			for i := 0; i < len(args); i++ {
				if args[i] == flag {
					i++
					continue
				}
				rest = append(rest, args[i])
			}
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			defer w.Close() // never written
			code, stderr, elapsed := runChild(t, self, append(forCommand("check", rest), flag, "-"), func(cmd *exec.Cmd) {
				cmd.Stdin = r
			})
			if code != 143 || !strings.Contains(stderr, "interrupted by SIGTERM") {
				t.Errorf("exit %d after %v, want 143; stderr:\n%s", code, elapsed, stderr)
			}
		})
	}
}

// forCommand is the workstation fixture's args for command, warnings on:
// without --quiet, and without suggest's --now for check.
func forCommand(command string, args []string) []string {
	out := []string{command}
	for i := 0; i < len(args); i++ {
		switch {
		case args[i] == "--quiet":
		case args[i] == "--now" && command == "check":
			i++
		default:
			out = append(out, args[i])
		}
	}
	return out
}

// runChild runs drift (this test binary as drift) with args; with setup
// non-nil it is given the command before the start and the child is sent
// SIGTERM after a second. It returns the exit status, stderr and how long
// the child ran after its start (after the signal, with setup); a child
// still running 10 s later is killed and fails the test.
func runChild(t *testing.T, self string, args []string, setup func(*exec.Cmd)) (int, string, time.Duration) {
	t.Helper()
	cmd := exec.Command(self, args...)
	cmd.Env = append(os.Environ(), "DRIFT_MAIN_CHILD=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if setup != nil {
		setup(cmd)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if setup != nil {
		time.Sleep(time.Second) // past the runtime start and signal.Notify
		start = time.Now()
		cmd.Process.Signal(syscall.SIGTERM)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("drift %s: still running after 10 s; stderr:\n%s", strings.Join(args, " "), stderr.String())
	}
	elapsed := time.Since(start)
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), stderr.String(), elapsed
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, stderr.String(), elapsed
}
