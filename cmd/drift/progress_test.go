package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/testutil"
	"golang.org/x/sys/unix"
)

// TestCheckProgressStreams: with the progress due at once, drift check
// draws it (and erases it) on a terminal stderr, and writes nothing of it
// when stderr is not a terminal or with --quiet; stdout never gets it.
func TestCheckProgressStreams(t *testing.T) {
	args := append(demoCheck(t), "--progress-after", "0s")
	for _, tt := range []struct {
		name     string
		terminal bool
		extra    []string
		want     bool
	}{
		{"terminal", true, nil, true},
		{"not a terminal", false, nil, false},
		{"quiet", true, []string{"--quiet"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			st := Streams{In: strings.NewReader(""), Out: &out, Err: &errb, ErrIsTerminal: tt.terminal}
			if code := run(context.Background(), append(append([]string{}, args...), tt.extra...), st); code != 1 {
				t.Fatalf("exit %d, want 1; stderr %q", code, errb.String())
			}
			got := strings.Contains(errb.String(), "\rdrift: scanned ")
			if got != tt.want {
				t.Errorf("progress drawn: %v, want %v; stderr %q", got, tt.want, errb.String())
			}
			if got && !strings.Contains(errb.String(), "files/s), ") {
				t.Errorf("progress without rate and size: %q", errb.String())
			}
			if got && !strings.Contains(errb.String(), "\r\x1b[K") {
				t.Errorf("progress not erased: %q", errb.String())
			}
			if strings.Contains(out.String(), "files/s") || strings.Contains(out.String(), "\r") {
				t.Errorf("progress on stdout: %q", out.String())
			}
		})
	}
}

// openPty opens a pseudo-terminal pair (ptmx and its unlocked slave).
func openPty(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		testutil.SkipOrFatal(t, testutil.RequireHost, fmt.Sprintf("no pseudo-terminal: %v", err))
	}
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		testutil.SkipOrFatal(t, testutil.RequireHost, fmt.Sprintf("unlockpt: %v", err))
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		m.Close()
		testutil.SkipOrFatal(t, testutil.RequireHost, fmt.Sprintf("ptsname: %v", err))
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		testutil.SkipOrFatal(t, testutil.RequireHost, fmt.Sprintf("open pts: %v", err))
	}
	return m, s
}

// TestCheckProgressRealStderr runs drift as a process: its own terminal
// test (mainRun) draws the progress on a pseudo-terminal stderr and never
// on a pipe.
func TestCheckProgressRealStderr(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	args := append(demoCheck(t), "--progress-after", "0s")
	runWith := func(stderr *os.File) {
		cmd := exec.Command(self, args...)
		cmd.Env = append(os.Environ(), "DRIFT_MAIN_CHILD=1")
		cmd.Stdout, cmd.Stderr = io.Discard, stderr
		if err := cmd.Run(); err == nil || cmd.ProcessState.ExitCode() != 1 {
			t.Fatalf("drift check: %v, want exit status 1", err)
		}
	}

	m, s := openPty(t)
	defer m.Close()
	runWith(s)
	s.Close()
	var tty bytes.Buffer
	done := make(chan struct{})
	go func() { io.Copy(&tty, m); close(done) }() // ends with EIO once the slave is closed
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("reading the pseudo-terminal did not end")
	}
	if !strings.Contains(tty.String(), "drift: scanned ") {
		t.Errorf("no progress on a terminal stderr: %q", tty.String())
	}

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	runWith(w)
	w.Close()
	piped, _ := io.ReadAll(r)
	r.Close()
	if bytes.Contains(piped, []byte("scanned")) || bytes.Contains(piped, []byte("\r")) {
		t.Errorf("progress written to a pipe: %q", piped)
	}
}
