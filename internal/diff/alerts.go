package diff

import (
	"errors"
	"fmt"
	"os"
	"path"
	"slices"

	ifsys "github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/pathx"
	"golang.org/x/sys/unix"
)

// AlertKind names a finding against the previous boot's root.
type AlertKind uint8

const (
	// OwnershipDrift: a persisted path is owned by a uid (or gid) that
	// names another user (group) now than it did in the previous root
	// (/var/lib/nixos not persisted: NixOS allocates the ids again at boot).
	// A warning: it does not change the exit status.
	OwnershipDrift AlertKind = iota + 1
	// HostKeyChanged: an SSH host key on the ephemeral root differs from
	// the previous root's copy: it is regenerated at every boot.
	// Something is being lost every boot: drift check exits 1.
	HostKeyChanged
)

func (k AlertKind) String() string {
	switch k {
	case OwnershipDrift:
		return "ownership-drift"
	case HostKeyChanged:
		return "host-key-changed"
	}
	return "unknown"
}

// Losing reports whether an alert of this kind means that something is
// lost at every boot (drift check then exits 1).
func (k AlertKind) Losing() bool { return k == HostKeyChanged }

// Alert is a finding of the comparison with the previous boot's root.
type Alert struct {
	Kind AlertKind
	// Path is the live path (relative to the audited root, from "/").
	Path string
	// Message is the whole finding in one line (raw bytes of the path:
	// escape it before printing).
	Message string
	// Previous is the previous root's name (PreviousRoot.Name).
	Previous string

	// OwnershipDrift: IDKind is "uid" or "gid"; ID the number; NameNow
	// its name in the audited root ("" when nothing has it now) and
	// NameBefore in the previous root; Entries how many entries have it
	// (the path and the entries directly inside the declared directory).
	IDKind     string
	ID         uint32
	NameNow    string
	NameBefore string
	Entries    int

	// HostKeyChanged: Lost is the category of the live copy (it is on the
	// ephemeral root).
	Lost Category
}

// Losing reports whether any alert means something is lost at every boot.
func (a *Audit) Losing() bool {
	return slices.ContainsFunc(a.Alerts, func(al Alert) bool { return al.Kind.Losing() })
}

// hostKeys compares each SSH host key (/etc/ssh/ssh_host_*_key and .pub)
// that lies on the ephemeral root now (a lost item) with the previous
// root's copy: different bytes mean the key is regenerated at every boot.
// A key on persistent storage now is not compared: it survives the next
// boot, and the previous root holds only the mount point there.
func (h *hist) hostKeys() {
	fd, err := ifsys.Open(h.live, "etc/ssh", unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return
	}
	f := os.NewFile(uintptr(fd), "/etc/ssh")
	names, _ := f.Readdirnames(-1)
	f.Close()
	slices.Sort(names)
	for _, n := range names {
		if ok, _ := path.Match("ssh_host_*_key", n); !ok {
			if ok, _ := path.Match("ssh_host_*_key.pub", n); !ok {
				continue
			}
		}
		p := "/etc/ssh/" + n
		it := h.lostItem(p)
		if it == nil || it.Mode&unix.S_IFMT != unix.S_IFREG {
			continue
		}
		same, err := sameBytes(h.live, h.prev, "etc/ssh/"+n)
		if err != nil {
			if !errors.Is(err, errNoOldKey) {
				h.c.warn(WarnHistory, p, fmt.Sprintf("cannot compare SSH host key %s with %s: %v", p, h.label, err))
			}
			continue
		}
		if same {
			continue
		}
		msg := fmt.Sprintf("SSH host key %s changed between %s and now: it is being regenerated at every boot; clients will warn and secrets encrypted to it (sops-nix, agenix) break; the key there now is on the ephemeral root too (%s): lost at the next boot",
			p, h.label, it.Category)
		h.a.Alerts = append(h.a.Alerts, Alert{Kind: HostKeyChanged, Path: p, Message: msg, Previous: h.name, Lost: it.Category})
	}
}

// lostItem returns the lost item at p, or nil.
func (h *hist) lostItem(p string) *Item {
	i, ok := slices.BinarySearchFunc(h.a.Lost, p, func(it *Item, p string) int { return pathx.Compare(it.Path, p) })
	if !ok || !h.a.Lost[i].Category.Lost() {
		return nil
	}
	return h.a.Lost[i]
}

var errNoOldKey = errors.New("no key in the previous root")

// sameBytes compares the regular file rel in both roots (never through a
// symlink) with the hasher drift diff uses. The previous root's copy
// missing, not a regular file, or empty (a mount point left for a bind
// mount) is errNoOldKey.
func sameBytes(liveFD, prevFD int, rel string) (bool, error) {
	var ost, lst unix.Stat_t
	if err := ifsys.Lstat(prevFD, rel, &ost); err != nil {
		if ifsys.Absent(err) {
			return false, errNoOldKey
		}
		return false, err
	}
	if ost.Mode&unix.S_IFMT != unix.S_IFREG || ost.Size == 0 {
		return false, errNoOldKey
	}
	if err := ifsys.Lstat(liveFD, rel, &lst); err != nil {
		return false, err
	}
	if lst.Mode&unix.S_IFMT != unix.S_IFREG {
		return false, fmt.Errorf("not a regular file")
	}
	if lst.Size != ost.Size {
		return false, nil
	}
	a, b := entryOf("/"+rel, &ost, ""), entryOf("/"+rel, &lst, "")
	return newHasher(nil).sameFiles(prevFD, &a, liveFD, &b)
}
