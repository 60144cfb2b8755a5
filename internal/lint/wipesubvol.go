package lint

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/nix-drift/drift/internal/btrfs"
	"github.com/nix-drift/drift/internal/persist"
)

// subvolArgRe finds drift wipe's --subvol value in a hook or unit text:
// `--subvol X`, `--subvol=X`, quoted or not (`'--subvol' 'root'`, as
// nix/module.nix writes it), never --subvol-is-root.
var subvolArgRe = regexp.MustCompile(`--subvol(?:=|["']?\s+["']?)([^\s"';|&)]+)`)

// oldRootsArgRe finds drift wipe's --old-roots value as subvolArgRe does
// --subvol's.
var oldRootsArgRe = regexp.MustCompile(`--old-roots(?:=|["']?\s+["']?)([^\s"';|&)]+)`)

// subvolOption returns the subvolume the mount options opts select with
// subvol= (clean, relative to the top level: "persist" for "subvol=/persist"),
// "" when none.
func subvolOption(opts string) string {
	for _, o := range strings.Split(opts, ",") {
		if v, ok := strings.CutPrefix(o, "subvol="); ok {
			return strings.Trim(path.Clean("/"+v), "/")
		}
	}
	return ""
}

// wipeUse is a subvolume path a drift wipe acts on (--subvol or
// --old-roots), where the configuration gives it.
type wipeUse struct {
	subvol, where string
	pos           persist.Pos
}

// wipeUses returns the values of drift wipe's flag (subvolArgRe or
// oldRootsArgRe) in the drift wipes of in, after opt, the
// services.drift.wipe option that sets it (name is its attribute), when
// the module's wipe is on.
func wipeUses(in persist.Initrd, opt persist.Str, name string, re *regexp.Regexp) []wipeUse {
	var uses []wipeUse
	if in.DriftWipe.Value == persist.True && opt.Value != "" {
		uses = append(uses, wipeUse{opt.Value, "services.drift.wipe." + name, opt.Pos})
	}
	for _, w := range wipes(in) {
		if !w.drift {
			continue
		}
		for _, m := range re.FindAllStringSubmatch(w.text, -1) {
			uses = append(uses, wipeUse{m[1], w.where, w.pos})
		}
	}
	return uses
}

// wipeSubvolRule reports a drift wipe whose --subvol (or
// services.drift.wipe.subvolume) is not the root fileSystems mounts: a
// subvolume fileSystems mounts elsewhere than / (subvol=), or one other than
// the subvol= of fileSystems."/" when that is btrfs; and one whose
// --old-roots (services.drift.wipe.oldRoots) overlaps a subvolume
// fileSystems mounts elsewhere than /. Both by btrfs.StorageMount, the
// rule drift wipe applies to the fstab at boot (btrfs.ErrNotRoot,
// btrfs.ErrStorage); lint says it before.
func (ck *checker) wipeSubvolRule(in persist.Initrd) {
	entries := mountEntries(ck.cfg.FileSystems)
	for _, u := range wipeUses(in, in.DriftWipeSubvol, "subvolume", subvolArgRe) {
		sv := strings.Trim(path.Clean("/"+u.subvol), "/")
		if msg := notRootWhy(ck.cfg.FileSystems, entries, sv); msg != "" {
			ck.add("wipe-subvol-not-root", sev("wipe-subvol-not-root"), u.pos, "", "", "%s wipes subvolume %q, %s", u.where, sv, msg)
		}
	}
	for _, u := range wipeUses(in, in.DriftWipeOldRoots, "oldRoots", oldRootsArgRe) {
		dir := strings.Trim(path.Clean("/"+u.subvol), "/")
		if at := btrfs.StorageMount(entries, dir, nil); at != "" {
			ck.add("wipe-old-roots-storage", sev("wipe-old-roots-storage"), u.pos, "", "", "%s keeps old roots in %q, which overlaps persistent storage: %s — the wipe would retire the root into it and delete what is named like an old root there, and drift wipe refuses it at boot", u.where, dir, at)
		}
	}
}

// mountEntries are fileSystems as btrfs.StorageMount reads them.
func mountEntries(fss []persist.Mount) []btrfs.MountEntry {
	out := make([]btrfs.MountEntry, 0, len(fss))
	for _, m := range fss {
		out = append(out, btrfs.MountEntry{Point: m.MountPoint, FSType: m.FSType, Options: m.Options, Where: fmt.Sprintf("fileSystems.%q", m.MountPoint)})
	}
	return out
}

// notRootWhy says why the subvolume sv is not the root fileSystems (fss,
// and as entries) mounts (one reason: one it is, holds or lies in mounted
// elsewhere first), "" when nothing says so.
func notRootWhy(fss []persist.Mount, entries []btrfs.MountEntry, sv string) string {
	if at := btrfs.StorageMount(entries, sv, nil); at != "" {
		return fmt.Sprintf("but %s: it is not the root — the wipe would retire it and delete it with the old roots", at)
	}
	rootIs := ""
	for _, m := range fss {
		if got := subvolOption(m.Options); got != "" && m.MountPoint == "/" && (m.FSType == "" || m.FSType == "btrfs") && got != sv {
			rootIs = got
		}
	}
	if rootIs != "" {
		return fmt.Sprintf("but fileSystems.\"/\" mounts subvol=%s as the root: the root is never wiped, and %q is retired at every boot", rootIs, sv)
	}
	return ""
}
