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

// TestReadBeneath: a regular file beneath a root is read whole; a symlink
// on the way or at the end, a fifo and a file over the cap are errors
// naming the path as given, and a missing file is ENOENT, unwrapped.
func TestReadBeneath(t *testing.T) {
	root := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(root, "etc"), 0o755))
	must(os.WriteFile(filepath.Join(root, "etc/machine-id"), []byte("abc\n"), 0o644))
	must(os.Symlink("etc", filepath.Join(root, "link")))
	must(syscall.Mkfifo(filepath.Join(root, "etc/fifo"), 0o644))
	if data, err := ReadIn(root, "/etc/machine-id", 4); err != nil || string(data) != "abc\n" {
		t.Errorf("ReadIn = %q, %v", data, err)
	}
	for p, want := range map[string]string{
		"/etc/machine-id":    "etc/machine-id: larger than 3 B",
		"/link/machine-id":   "too many levels of symbolic links",
		"/link":              "too many levels of symbolic links",
		"/etc/fifo":          "etc/fifo: a fifo, not a regular file",
		"/etc/missing":       "no such file or directory",
		"/../etc/machine-id": "invalid cross-device link",
	} {
		_, err := ReadIn(root, p, 3)
		if err == nil || err.Error() != want {
			t.Errorf("ReadIn(%s) = %v, want %q", p, err, want)
		}
	}
	if _, err := ReadIn(root, "/etc/missing", 3); err != syscall.ENOENT {
		t.Errorf("ReadIn of a missing file = %#v, want ENOENT", err)
	}
}
