package safefile

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestOpenRefusesNonRegular: a FIFO (no writer: open(2) would wait for
// ever without O_NONBLOCK), a socket, a device and a directory are each
// refused at once, the error naming the file (escaped) and its type.
func TestOpenRefusesNonRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "new\nline\x1b[31m")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, tc := range []struct{ name, typ string }{
		{fifo, "fifo"}, {sock, "socket"}, {"/dev/null", "character device"}, {dir, "directory"},
	} {
		done := make(chan error, 1)
		go func() {
			f, _, err := Open(tc.name, 0)
			if f != nil {
				f.Close()
			}
			done <- err
		}()
		select {
		case err := <-done:
			var nr *NotRegularError
			if !errors.As(err, &nr) || nr.Type != tc.typ {
				t.Errorf("%q: err %v, want a %s refused", tc.name, err, tc.typ)
			}
			if msg := err.Error(); strings.ContainsAny(msg, "\n\x1b") {
				t.Errorf("%q: raw control character in %q", tc.name, msg)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%q: Open still blocked after 5 s", tc.name)
		}
	}
	if _, _, err := Open(filepath.Join(dir, "missing\n"), 0); !errors.Is(err, os.ErrNotExist) || strings.Contains(err.Error(), "\n") {
		t.Errorf("missing: %v", err)
	}
}

// TestReadAllLimit: at most Max bytes; one more is *TooLargeError saying
// what the input should have been.
func TestReadAllLimit(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte(strings.Repeat("x", 1000)), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadFile(context.Background(), p, 1000); err != nil || len(b) != 1000 {
		t.Errorf("at the limit: %d bytes, %v", len(b), err)
	}
	f, _, err := Open(p, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = ReadAll(context.Background(), f, Limit{Name: p, Max: 999, What: "a test file"})
	var tl *TooLargeError
	if !errors.As(err, &tl) || !strings.HasSuffix(err.Error(), ": not a test file") {
		t.Errorf("over the limit: %v", err)
	}
}

// TestReadAllStopsOnCancel: a read blocked on a pipe that a writer keeps
// open and silent returns the context's error once it is cancelled.
func TestReadAllStopsOnCancel(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	w.Write([]byte("partial"))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	done := make(chan error, 1)
	go func() {
		_, err := ReadAll(ctx, r, Limit{Name: "-", Max: 1 << 20})
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ReadAll still blocked 5 s after the cancel")
	}
}
