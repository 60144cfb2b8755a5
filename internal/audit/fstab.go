package audit

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"syscall"

	"github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/safefile"
	"golang.org/x/sys/unix"
)

// FSEntry is a mount the next boot makes again: a line of the audited
// system's /etc/fstab (NixOS writes its fileSystems there) or an entry of
// the configuration's fileSystems.
type FSEntry struct {
	// Point is the mount point, absolute and clean; Device the source as
	// written (a directory for a bind mount); FSType and Options as
	// written ("" when not known).
	Point, Device, FSType, Options string
	// At says where it was read: "/etc/fstab:LINE" or the option's
	// position.
	At string
}

// Bind reports whether e is a bind mount: its options hold bind or rbind,
// or its type is none with a directory as device.
func (e FSEntry) Bind() bool {
	for _, o := range strings.Split(e.Options, ",") {
		if o == "bind" || o == "rbind" {
			return true
		}
	}
	return e.FSType == "none" && strings.HasPrefix(e.Device, "/") && !strings.HasPrefix(e.Device, "/dev/")
}

// maxFstab bounds what is read of /etc/fstab.
const maxFstab = 1 << 20

// readFstab reads ROOT/etc/fstab (fstab(5): fields separated by blanks,
// octal escapes such as \040, # comments), opened beneath root without
// following a symlink out of it. A missing file is no error; lines with
// fewer than two fields or a mount point that is not absolute are skipped.
func readFstab(root string) ([]FSEntry, error) {
	return readFstabAt(root, "etc/fstab")
}

// readFstabAt is readFstab of the file rel (relative to root) that
// ROOT/etc/fstab resolves to; the entries say /etc/fstab:LINE.
func readFstabAt(root, rel string) ([]FSEntry, error) {
	data, err := readBeneath(root, rel, maxFstab)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s/etc/fstab: %w", strings.TrimSuffix(root, "/"), err)
	}
	var out []FSEntry
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), maxFstab)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 || !strings.HasPrefix(mounts.Unescape(f[1]), "/") {
			continue
		}
		e := FSEntry{Device: mounts.Unescape(f[0]), Point: pathx.Clean(mounts.Unescape(f[1])), At: fmt.Sprintf("/etc/fstab:%d", n)}
		if len(f) > 2 {
			e.FSType = f[2]
		}
		if len(f) > 3 {
			e.Options = f[3]
		}
		out = append(out, e)
	}
	return out, sc.Err()
}

// readBeneath reads at most limit bytes of the regular file rel beneath
// root (fsys.Open: no symlink followed, never out of root). Errors:
// fs.ErrNotExist for a missing file; "a fifo, not a regular file"
// (safefile.TypeName) for another type; fsys.Open's, stat's and read's.
func readBeneath(root, rel string, limit int64) ([]byte, error) {
	dir, err := fsys.OpenRoot(root)
	if err != nil {
		return nil, err
	}
	defer unix.Close(dir)
	fd, err := fsys.Open(dir, rel, unix.O_RDONLY|unix.O_NONBLOCK)
	if errors.Is(err, unix.ENOENT) {
		return nil, fs.ErrNotExist
	}
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), rel)
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		// Said as every input says it ("a fifo, not a regular file").
		return nil, fmt.Errorf("a %s, not a regular file", safefile.TypeName(fi.Sys().(*syscall.Stat_t).Mode))
	}
	return io.ReadAll(io.LimitReader(f, limit))
}
