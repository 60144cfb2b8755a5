package fsys

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
	"golang.org/x/sys/unix"
)

// tree is a root with a file, a directory, a symlink to each (one inside,
// one leading out) and a fifo.
func tree(t *testing.T) (string, int) {
	t.Helper()
	root := t.TempDir()
	testutil.Tree(t, root, `
		f /etc/machine-id abc
		d /var/lib
		l /etc/link -> machine-id
		l /linkdir -> etc
		l /out -> /
		l /var/up -> ../..
	`)
	testutil.Must(t, unix.Mkfifo(filepath.Join(root, "fifo"), 0o644))
	fd, err := OpenRoot(root)
	testutil.Must(t, err)
	t.Cleanup(func() { unix.Close(fd) })
	return root, fd
}

// TestOpenNeverFollowsASymlink: Open refuses a symlink at the end (ELOOP)
// and on the way, whether it points inside the root or out of it, and a
// ".." or absolute way out (EXDEV); a NUL byte is EINVAL, never a
// truncated name.
func TestOpenNeverFollowsASymlink(t *testing.T) {
	_, fd := tree(t)
	for rel, want := range map[string]error{
		"etc/link":             unix.ELOOP,
		"linkdir/machine-id":   unix.ELOOP,
		"out/etc":              unix.ELOOP,
		"var/up/etc":           unix.ELOOP,
		"../etc":               unix.EXDEV,
		"/etc":                 unix.EXDEV,
		"var/../../etc":        unix.EXDEV,
		"etc/machine-id\x00/x": unix.EINVAL,
		"etc/missing":          unix.ENOENT,
	} {
		got, err := Open(fd, rel, unix.O_RDONLY)
		if err == nil {
			unix.Close(got)
		}
		if err != want {
			t.Errorf("Open(%q) = %v, want %v (unwrapped)", rel, err, want)
		}
	}
	got, err := Open(fd, "etc/machine-id", unix.O_RDONLY)
	testutil.Must(t, err)
	defer unix.Close(got)
	flags, err := unix.FcntlInt(uintptr(got), unix.F_GETFD, 0)
	testutil.Must(t, err)
	if flags&unix.FD_CLOEXEC == 0 {
		t.Error("Open's descriptor is inherited by a child: no O_CLOEXEC")
	}
}

// TestOpenNoXDevRefusesAMountPoint: /proc is a mount of its own on every
// Linux system; OpenNoXDev refuses it (EXDEV), Open does not.
func TestOpenNoXDevRefusesAMountPoint(t *testing.T) {
	fd, err := OpenRoot("/")
	testutil.Must(t, err)
	defer unix.Close(fd)
	var root, proc unix.Stat_t
	testutil.Must(t, unix.Stat("/", &root))
	testutil.Must(t, unix.Stat("/proc", &proc))
	if root.Dev == proc.Dev {
		testutil.SkipOrFatal(t, testutil.RequireHost, "/proc is not a mount here")
	}
	if p, err := OpenNoXDev(fd, "proc/self", unix.O_PATH); err != unix.EXDEV {
		unix.Close(p)
		t.Errorf("OpenNoXDev(/proc/self) = %v, want EXDEV", err)
	}
	p, err := Open(fd, "proc", unix.O_PATH)
	testutil.Must(t, err)
	unix.Close(p)
}

// TestOpenInRootResolvesInsideTheRoot: an absolute link and ".." lead to
// the root, never above it; O_NOFOLLOW refuses a link at the end.
func TestOpenInRootResolvesInsideTheRoot(t *testing.T) {
	_, fd := tree(t)
	for _, rel := range []string{"out/etc/machine-id", "var/up/etc/link", "../../etc/machine-id"} {
		got, err := OpenInRoot(fd, rel, unix.O_RDONLY)
		testutil.Must(t, err)
		buf := make([]byte, 8)
		n, _ := unix.Read(got, buf)
		unix.Close(got)
		if string(buf[:n]) != "abc" {
			t.Errorf("OpenInRoot(%q) read %q, want the root's /etc/machine-id", rel, buf[:n])
		}
	}
	if got, err := OpenInRoot(fd, "etc/link", unix.O_RDONLY|unix.O_NOFOLLOW); err != unix.ELOOP {
		unix.Close(got)
		t.Errorf("OpenInRoot(etc/link, O_NOFOLLOW) = %v, want ELOOP", err)
	}
}

// TestOpenReadDoesNotBlockOnAFifo: a fifo without a writer opens at once
// (O_NONBLOCK); the caller sees it is not a regular file.
func TestOpenReadDoesNotBlockOnAFifo(t *testing.T) {
	_, fd := tree(t)
	got, err := OpenRead(fd, "fifo")
	testutil.Must(t, err)
	defer unix.Close(got)
	var st unix.Stat_t
	testutil.Must(t, unix.Fstat(got, &st))
	if st.Mode&unix.S_IFMT != unix.S_IFIFO {
		t.Errorf("mode %o, want a fifo", st.Mode)
	}
}

// TestLstatAndReadlinkBeneath: the last component is not followed, a
// symlink on the way is refused, and Absent tells "nothing there" from
// other errors.
func TestLstatAndReadlinkBeneath(t *testing.T) {
	root, fd := tree(t)
	var st unix.Stat_t
	testutil.Must(t, Lstat(fd, "etc/link", &st))
	if st.Mode&unix.S_IFMT != unix.S_IFLNK {
		t.Errorf("Lstat(etc/link) mode %o, want a symlink", st.Mode)
	}
	if target, err := Readlink(fd, "etc/link"); err != nil || target != "machine-id" {
		t.Errorf("Readlink(etc/link) = %q, %v", target, err)
	}
	for _, rel := range []string{"linkdir/machine-id", "etc/machine-id/x", "etc/missing", "../x"} {
		err := Lstat(fd, rel, &st)
		if !Absent(err) {
			t.Errorf("Lstat(%q) = %v, want an error Absent accepts", rel, err)
		}
		if _, err := Readlink(fd, rel); !Absent(err) {
			t.Errorf("Readlink(%q) = %v, want an error Absent accepts", rel, err)
		}
	}
	if Absent(unix.EACCES) || Absent(nil) {
		t.Error("Absent(EACCES or nil) = true")
	}
	if st, err := StatIn(root, "/"); err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
		t.Errorf("StatIn(root, /) = %o, %v", st.Mode, err)
	}
	// A symlink opened as a directory (O_DIRECTORY|O_NOFOLLOW) is ENOTDIR.
	if _, err := StatIn(root, "/linkdir/machine-id"); err != unix.ENOTDIR {
		t.Errorf("StatIn(/linkdir/machine-id) = %v, want ENOTDIR", err)
	}
	if target, err := ReadlinkIn(root, "/out"); err != nil || target != "/" {
		t.Errorf("ReadlinkIn(/out) = %q, %v", target, err)
	}
	d, err := OpenDirIn(root, "/")
	testutil.Must(t, err)
	unix.Close(d)
	if d, err := OpenDirIn(root, "/linkdir"); err != unix.ENOTDIR {
		unix.Close(d)
		t.Errorf("OpenDirIn(/linkdir) = %v, want ENOTDIR", err)
	}
	if d, err := OpenDirIn(root, "/linkdir/x"); err != unix.ELOOP {
		unix.Close(d)
		t.Errorf("OpenDirIn(/linkdir/x) = %v, want ELOOP", err)
	}
	if _, err := OpenDirIn(filepath.Join(root, "missing"), "/"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("OpenDirIn of a missing root = %v", err)
	}
}

// TestOpenZAllocatesNothing: a walk opens every directory through OpenZ.
func TestOpenZAllocatesNothing(t *testing.T) {
	_, fd := tree(t)
	name := []byte("etc\x00")
	allocs := testing.AllocsPerRun(100, func() {
		got, err := OpenZ(fd, name, unix.O_PATH|unix.O_DIRECTORY)
		if err != nil {
			t.Fatal(err)
		}
		unix.Close(got)
	})
	if allocs != 0 {
		t.Errorf("OpenZ allocates %v times an open", allocs)
	}
}

// TestENOSYSIsSaid: the message a kernel without openat2 gives.
func TestENOSYSIsSaid(t *testing.T) {
	// The system call cannot be made to fail with ENOSYS here; the error
	// is built where openat2 is, so check its words and that it unwraps.
	err := enosys()
	if !errors.Is(err, unix.ENOSYS) || !strings.Contains(err.Error(), "openat2: ") || !strings.HasSuffix(err.Error(), "(needs Linux 5.6 or later)") {
		t.Errorf("%v", err)
	}
}
