package e2e

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/nix-drift/drift/internal/testutil"
)

// TestAdoptClonesOnTheSameFilesystem: on btrfs, with the persistent
// storage a subvolume of the root's filesystem, drift adopt's copy of a
// file is a clone: it is made of the very blocks of the live file (the
// same physical extent, marked shared), which is why it needs no reading
// back. Its bytes are the live file's.
func TestAdoptClonesOnTheSameFilesystem(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return
	}
	extra := filepath.Join(s.dir, "adopt.json")
	testutil.Must(t, os.WriteFile(extra, []byte(adoptDecls), 0o644))
	content := strings.Repeat("cloned, not copied\n", 20000)
	writeFile(t, s.M("/srv/app/big"), content, 0o644)
	unix.Sync()
	s.drift(0, "adopt", "--root", s.root, "--persist", s.declPath(), "--persist", extra, "/srv/app")
	copyPath := s.M(storage + "/srv/app/big")
	if b, err := os.ReadFile(copyPath); err != nil || string(b) != content {
		t.Fatalf("the copy: %d bytes, %v", len(b), err)
	}
	live, lflags := firstExtent(t, s.M("/srv/app/big"))
	cp, cflags := firstExtent(t, copyPath)
	const shared = 0x2000 // FIEMAP_EXTENT_SHARED
	if live == 0 || live != cp || cflags&shared == 0 || lflags&shared == 0 {
		t.Errorf("the copy is not a clone: first extent at %d (flags %#x), the live file's at %d (flags %#x)", cp, cflags, live, lflags)
	}
}

// firstExtent is the physical offset and flags of the first extent of the
// file p (FS_IOC_FIEMAP).
func firstExtent(t *testing.T, p string) (physical uint64, flags uint32) {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 32+56)
	le := binary.LittleEndian
	le.PutUint64(buf[8:], ^uint64(0))
	le.PutUint32(buf[16:], 1) // FIEMAP_FLAG_SYNC
	le.PutUint32(buf[24:], 1) // one extent
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, f.Fd(), 0xC020660B, uintptr(unsafe.Pointer(&buf[0]))); e != 0 {
		t.Fatalf("fiemap %s: %v", p, e)
	}
	if le.Uint32(buf[20:]) == 0 {
		t.Fatalf("fiemap %s: no extent", p)
	}
	return le.Uint64(buf[32+8:]), le.Uint32(buf[32+40:])
}
