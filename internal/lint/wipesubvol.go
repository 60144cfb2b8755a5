package lint

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/nix-drift/drift/internal/persist"
)

// subvolArgRe finds drift wipe's --subvol value in a hook or unit text:
// `--subvol X`, `--subvol=X`, quoted or not (`'--subvol' 'root'`, as
// nix/module.nix writes it), never --subvol-is-root.
var subvolArgRe = regexp.MustCompile(`--subvol(?:=|["']?\s+["']?)([^\s"';|&)]+)`)

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

// wipeSubvolRule reports a drift wipe whose --subvol (or
// services.drift.wipe.subvolume) is not the root fileSystems mounts: a
// subvolume fileSystems mounts elsewhere than / (subvol=), or one other than
// the subvol= of fileSystems."/" when that is btrfs. drift wipe refuses
// the first at boot only when it can tell (btrfs.ErrNotRoot); lint says it
// before.
func (ck *checker) wipeSubvolRule(in persist.Initrd) {
	type use struct {
		subvol, where string
		pos           persist.Pos
	}
	var uses []use
	if in.DriftWipe.Value == persist.True && in.DriftWipeSubvol.Value != "" {
		uses = append(uses, use{in.DriftWipeSubvol.Value, "services.drift.wipe.subvolume", in.DriftWipeSubvol.Pos})
	}
	for _, w := range wipes(in) {
		if !w.drift {
			continue
		}
		for _, m := range subvolArgRe.FindAllStringSubmatch(w.text, -1) {
			uses = append(uses, use{m[1], w.where, w.pos})
		}
	}
	for _, u := range uses {
		sv := strings.Trim(path.Clean("/"+u.subvol), "/")
		if msg := notRootWhy(ck.cfg.FileSystems, sv); msg != "" {
			ck.add("wipe-subvol-not-root", sev("wipe-subvol-not-root"), u.pos, "", "", "%s wipes subvolume %q, %s", u.where, sv, msg)
		}
	}
}

// notRootWhy says why the subvolume sv is not the root fileSystems mounts
// (one reason: mounted elsewhere first), "" when nothing says so.
func notRootWhy(fss []persist.Mount, sv string) string {
	rootIs := ""
	for _, m := range fss {
		got := subvolOption(m.Options)
		switch {
		case got == "" || m.FSType != "" && m.FSType != "btrfs":
		case m.MountPoint != "/" && got == sv:
			return fmt.Sprintf("which fileSystems.%q mounts at %s (subvol=%s): it is not the root — the wipe would retire it and delete it with the old roots", m.MountPoint, m.MountPoint, got)
		case m.MountPoint == "/" && got != sv:
			rootIs = got
		}
	}
	if rootIs != "" {
		return fmt.Sprintf("but fileSystems.\"/\" mounts subvol=%s as the root: the root is never wiped, and %q is retired at every boot", rootIs, sv)
	}
	return ""
}
