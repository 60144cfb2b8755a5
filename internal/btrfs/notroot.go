package btrfs

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/safefile"
)

// ErrNotRoot wraps ErrUnsafe: --subvol names a subvolume that is not a
// root — it holds a Nix store, the fstab mounts it somewhere else than
// /, or its name is what persistent storage is called and nothing in it
// says it was ever booted as /. Retiring it would take that storage away
// and expire it --keep-days later. Options.SubvolIsRoot overrides only the
// last, a guess from the name.
var ErrNotRoot = fmt.Errorf("%w: not a root", ErrUnsafe)

// storageNames are the names (the last component of --subvol, without a
// leading "@", lower case) that subvolumes of persistent storage or of the
// Nix store have in the layouts NixOS impermanence guides and disko
// templates give: never a root's.
var storageNames = map[string]bool{
	"nix": true, "persist": true, "persistent": true, "persistence": true, "state": true,
	"home": true, "log": true, "logs": true, "var": true, "swap": true, "snapshots": true, "data": true,
	"srv": true,
}

// bootedMarks are entries every root a NixOS system booted on holds at its
// top: the mount points stage 1 and systemd make on / (the Nix store's and
// the API filesystems'). Persistent storage may hold one by chance (a
// user's dev/ in a home), not all of them.
var bootedMarks = []string{"nix", "proc", "sys", "dev", "run"}

// nixStoreMarks are what a subvolume holding a Nix store has: the store's
// hard-link directory or the Nix database, at the top (a subvolume mounted
// on /nix) or under nix/ (one holding /nix as a directory).
var nixStoreMarks = []string{"store/.links", "var/nix/db", "nix/store/.links", "nix/var/nix/db"}

// storePathRe matches a Nix store path's name: 32 characters of Nix's
// base32 and a dash (nix/src/libstore/path.cc).
var storePathRe = regexp.MustCompile(`^[0-9a-df-np-sv-z]{32}-`)

// checkRoot refuses (ErrNotRoot) the subvolume sv at rootPath as the root
// to retire when it is not one: it, or a directory on its way, holds a
// Nix store (nixStoreOn), or it overlaps persistent storage by the
// system's facts (guardTarget: a subvolume it is, holds or lies in that
// the fstab, opts.Fstab, mounts elsewhere than / or /sysroot, or that is
// mounted here, the root itself aside), or its name is a storage name
// (storageNames) and it does not look like a root (rootLike: a home
// holding a user's dev/ is not one), unless opts.SubvolIsRoot. A root
// drift wipe made or marked retired is never refused by its name or a Nix
// store in it.
// In a preview the reason is a warning instead.
func (t *Top) checkRoot(p *Plan, sv Subvolume, rootPath string, subs []Subvolume, mounted map[uint64][]string) error {
	opts := p.Options
	made := getxattr(rootPath, XattrCreated) != "" || getxattr(rootPath, XattrRetired) != ""
	why := ""
	if mark := t.nixStoreOn(opts.Subvol); mark != "" && !made {
		why = fmt.Sprintf("holds a Nix store (%s): the Nix store's subvolume is mounted on /nix, never wiped", strings.TrimPrefix(mark, opts.Subvol+"/"))
	} else if at := t.guardTarget(opts.Subvol, opts.Fstab, subs, mounted, func(s Subvolume) bool { return s.ID == sv.ID }); at != "" {
		why = at
	} else if base := strings.ToLower(strings.TrimPrefix(filepath.Base(opts.Subvol), "@")); storageNames[base] && !opts.SubvolIsRoot {
		if not := rootLike(rootPath); not != "" {
			why = fmt.Sprintf("is named %q, what persistent storage or the Nix store is called, and %s (pass --subvol-is-root if it really is the root)", base, not)
		}
	}
	if why == "" {
		return nil
	}
	msg := fmt.Sprintf("--subvol %s (subvolume %d) %s; retiring it would take it away from the system and delete it %d days later. The root is the subvolume mounted at /: check --subvol", opts.Subvol, sv.ID, why, opts.KeepDays+1)
	if opts.Preview {
		p.Warnings = append(p.Warnings, msg+" (drift wipe refuses to run)")
		return nil
	}
	return fmt.Errorf("%w: %s", ErrNotRoot, msg)
}

// NixStore returns the first of nixStoreMarks found under dir (the
// store's hard-link directory store/.links or the Nix database var/nix/db,
// at dir's top or under nix/), or "store/NAME" or "nix/store/NAME" when
// that directory's first 64 entries include a store path NAME (32
// characters of Nix's base32 and a dash, nix/src/libstore/path.cc); ""
// when dir holds no Nix store. Nothing of a Nix store may be retired
// (drift wipe) or moved (drift prune).
func NixStore(dir string) string {
	for _, m := range nixStoreMarks {
		if fi, err := os.Lstat(filepath.Join(dir, m)); err == nil && fi.IsDir() {
			return m
		}
	}
	for _, s := range []string{"store", "nix/store"} {
		f, err := os.Open(filepath.Join(dir, s))
		if err != nil {
			continue
		}
		names, _ := f.Readdirnames(64)
		f.Close()
		for _, n := range names {
			if storePathRe.MatchString(n) {
				return s + "/" + n
			}
		}
	}
	return ""
}

// missingOf returns the names dir holds no entry by, in order.
func missingOf(dir string, names []string) []string {
	var missing []string
	for _, n := range names {
		if _, err := os.Lstat(filepath.Join(dir, n)); err != nil {
			missing = append(missing, n)
		}
	}
	return missing
}

// lacksMarks says which of bootedMarks a subvolume lacks (missing, in
// bootedMarks' order, at least one), each name once: "holds none of nix,
// proc, sys, dev and run, which every booted root has", or "lacks proc and
// run, which every booted root has (it has nix, sys and dev)".
func lacksMarks(missing []string) string {
	var has []string
	for _, m := range bootedMarks {
		if !slices.Contains(missing, m) {
			has = append(has, m)
		}
	}
	if len(has) == 0 {
		return "holds none of " + andList(missing) + ", which every booted root has"
	}
	return "lacks " + andList(missing) + ", which every booted root has (it has " + andList(has) + ")"
}

// andList is names joined with commas, the last two with "and".
func andList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// maxFstab bounds what fstabEntries reads.
const maxFstab = 1 << 20

// fstabEntries returns the btrfs lines of the fstab file (fstab(5); "" or
// a missing or unreadable file: none) whose device (resolved as the
// kernel's resume= is) is the block device dev, Where "FILE:LINE".
func fstabEntries(file, dev string) []MountEntry {
	if file == "" || dev == "" {
		return nil
	}
	var want unix.Stat_t
	if unix.Stat(dev, &want) != nil || want.Mode&unix.S_IFMT != unix.S_IFBLK {
		return nil
	}
	data, err := safefile.ReadFile(context.Background(), file, maxFstab)
	if err != nil {
		return nil
	}
	var out []MountEntry
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), maxFstab)
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || strings.HasPrefix(f[0], "#") || f[2] != "btrfs" {
			continue
		}
		var st unix.Stat_t
		if p := resumePath(mounts.Unescape(f[0])); p == "" || unix.Stat(p, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFBLK || st.Rdev != want.Rdev {
			continue
		}
		out = append(out, MountEntry{Point: mounts.Unescape(f[1]), FSType: f[2], Options: f[3], Where: fmt.Sprintf("%s:%d", file, n)})
	}
	return out
}
