package lint

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/nix-drift/drift/internal/persist"
)

// wipe is one wipe of the root the configuration defines: a shell hook of
// the scripted stage 1, or an initrd systemd service, whose commands
// replace the root subvolume.
type wipe struct {
	hook *persist.Hook
	unit *persist.Unit
	// where names the option: "boot.initrd.postResumeCommands",
	// "boot.initrd.systemd.services.rollback".
	where string
	pos   persist.Pos
	text  string
	// drift marks a wipe that runs `drift wipe`; the faults of the
	// README's script family are not its.
	drift bool
}

var (
	// wipeRe finds the commands that replace or roll back a root: btrfs
	// (any abbreviation of `subvolume`), zfs, bcachefs, drift.
	wipeRe = regexp.MustCompile(`\bbtrfs\s+su[a-z]*\s+(?:del[a-z]*|cr[a-z]*|sn[a-z]*)\b|\bzfs\s+rollback\b|\bbcachefs\s+subvolume\s+(?:delete|create|snapshot)\b|` + driftWipe)
	// driftWipe matches drift's wipe command, quoted as nix/module.nix
	// writes it ('…/bin/drift' 'wipe', "wipe") or not, but not the words
	// "drift wipe failed" of a message.
	driftWipe   = `\bdrift["']?\s+["']?wipe["']?\s+["']?-`
	driftWipeRe = regexp.MustCompile(driftWipe)
	zfsRe       = regexp.MustCompile(`\bzfs\s+rollback\b`)
	// moduleMark starts the hook text services.drift.wipe generates.
	moduleMark = "# services.drift.wipe:"
	// failureRe finds a hook that stops on a failing command.
	failureRe = regexp.MustCompile(`(?m)^\s*set\s+(?:-[a-zA-Z]*e|-o\s+errexit)|\|\|\s*(?:fail|exit|panic|reboot)\b`)
	// devUseRe finds a hook command that opens a device by its /dev path:
	// a mount, or drift wipe --device.
	devUseRe = regexp.MustCompile(`\bmount\b[^\n;|&]*\s["']?/dev/|--device[= ]["']?/dev/`)
	// listRe, nameRe, expiryRe: the README script family's faults.
	listRe   = regexp.MustCompile(`\bbtrfs\s+su[a-z]*\s+(?:list|li|l)\s+(?:-[a-zA-Z]+\s+)*-[a-zA-Z]*o`)
	nameRe   = regexp.MustCompile(`\bstat\s+(?:-c\s*|--format[= ]|--printf[= ])["']?%Y|%-d`)
	expiryRe = regexp.MustCompile(`\bfind\b[^\n|;]*\s-[cm](?:time|min)\s+\+?\d`)
)

// wipes returns the wipes in, leaving out what services.drift.wipe
// generates (the units and hook text of nix/module.nix, in evaluated
// configurations) — except the rest of a hook it shares with another
// wipe.
func wipes(in persist.Initrd) []wipe {
	var out []wipe
	for i := range in.Hooks {
		h := &in.Hooks[i]
		text := withoutModuleBlock(h.Text)
		if wipeRe.MatchString(text) {
			out = append(out, wipe{hook: h, where: "boot.initrd." + h.Option, pos: h.Pos, text: text, drift: driftWipeRe.MatchString(text)})
		}
	}
	for i := range in.Units {
		u := &in.Units[i]
		if !wipeRe.MatchString(u.Text) {
			continue
		}
		w := wipe{unit: u, where: "boot.initrd.systemd.services." + u.Name, pos: u.Pos, text: u.Text, drift: driftWipeRe.MatchString(u.Text)}
		if w.drift && u.Name == "drift-wipe" && in.DriftWipe.Value == persist.True && in.Evaluated {
			continue // services.drift.wipe's own unit
		}
		out = append(out, w)
	}
	return out
}

// withoutModuleBlock drops the lines services.drift.wipe adds to a hook:
// from its comment through its drift wipe command, and the `|| { … }`
// block that follows it (nix/module.nix wipeScript).
func withoutModuleBlock(text string) string {
	i := strings.Index(text, moduleMark)
	if i < 0 {
		return text
	}
	lines := strings.SplitAfter(text[i:], "\n")
	end, inBlock := len(lines), false
	for j, l := range lines {
		t := strings.TrimSpace(l)
		if inBlock {
			if t == "}" {
				end = j + 1
				break
			}
			continue
		}
		if driftWipeRe.MatchString(l) && !strings.HasPrefix(t, "#") {
			if strings.HasSuffix(t, "{") {
				inBlock = true
				continue
			}
			end = j + 1
			break
		}
	}
	return text[:i] + strings.Join(lines[end:], "")
}

// stage1 says which stage 1 the configuration uses, whether that is known
// (set, read from an evaluation, or the default of the nixpkgs a
// flake.lock pins), and, when it is the default, a note saying whose.
func stage1(in persist.Initrd, pin *persist.Pin) (systemd, known bool, note string) {
	switch in.Systemd.Value {
	case persist.True:
		return true, true, ""
	case persist.False:
		return false, true, ""
	case persist.Unset:
		if in.Evaluated {
			return false, true, "" // an evaluated NixOS without the option: scripted
		}
		if pin != nil {
			if systemd, known := pin.SystemdStage1Default(); known {
				return systemd, true, fmt.Sprintf("not set, the default of the nixpkgs pinned (%s)", pin)
			}
		}
	}
	return false, false, ""
}

// defaultNote says which default of boot.initrd.systemd.enable applies:
// note from stage1, or the release of an evaluation.
func defaultNote(in persist.Initrd, note string) string {
	switch {
	case note != "":
		return "(" + note + ")"
	case in.Evaluated && in.Release != "":
		return fmt.Sprintf("(NixOS %s; systemd stage 1 is the default from 26.05)", in.Release)
	}
	return ""
}

// pinNote names, for a finding that the default is unknown, the flake.lock
// that did not tell.
func pinNote(pin *persist.Pin) string {
	if pin == nil {
		return ""
	}
	return fmt.Sprintf(" (%s does not tell which)", pin)
}

// hibernation describes where the configuration resumes from ("" when
// nowhere): boot.resumeDevice, resume= on the kernel command line, or a
// swap device (the scripted stage 1 tries each).
func hibernation(in persist.Initrd) string {
	switch {
	case in.ResumeDevice.Value != "":
		return "boot.resumeDevice = " + qq(in.ResumeDevice.Value)
	case in.ResumeParam.Value != "":
		return "boot.kernelParams has " + qq(in.ResumeParam.Value)
	case len(in.Swap) > 0:
		return "swapDevices has " + qq(in.Swap[0].Value)
	}
	return ""
}

// wipeRules runs the wipe rules on the configuration's initrd.
func (ck *checker) wipeRules() {
	if ck.cfg == nil {
		return
	}
	in := ck.cfg.Initrd
	ck.wipeSubvolRule(in)
	ws := wipes(in)
	for _, w := range ws {
		if in.DriftWipe.Value == persist.True {
			ck.add("wipe-twice", sev("wipe-twice"), w.pos, "", "",
				"%s wipes the root and services.drift.wipe.enable is set too: two wipes run at one boot, the second retiring the fresh root the first made", w.where)
		}
		if !w.drift {
			ck.scriptFaults(w)
		}
		if w.hook != nil {
			ck.hookWipe(in, w)
		} else {
			ck.unitWipe(in, w)
		}
	}
}

// hookWipe checks a wipe in a shell hook of the scripted stage 1.
func (ck *checker) hookWipe(in persist.Initrd, w wipe) {
	systemd, known, note := stage1(in, ck.c.Nixpkgs)
	switch {
	case systemd:
		ck.add("wipe-not-run", Error, w.pos, "", "",
			"%s holds the root's wipe, but stage 1 is systemd (boot.initrd.systemd.enable = true)%s: its shell hooks never run — newer NixOS rejects the option with a failed assertion, older releases silently ignore it, and the root is never wiped",
			w.where, prefixSpace(defaultNote(in, note)))
		return
	case !known && !ck.c.Shared: // a shared module: the host decides
		ck.add("wipe-not-run", Warning, w.pos, "", "set boot.initrd.systemd.enable explicitly (or lint the evaluated configuration with --flake REF#HOST); services.drift.wipe generates the wipe for either stage 1",
			"%s holds the root's wipe, and boot.initrd.systemd.enable is not set in the files read%s: its default is false (the scripted stage 1, which runs this hook) before NixOS 26.05 and true from 26.05, where this hook never runs (a failed assertion, or silently ignored)", w.where, pinNote(ck.c.Nixpkgs))
	}
	switch w.hook.Option {
	case "preDeviceCommands", "preLVMCommands", "postDeviceCommands":
		ck.beforeResume(in, w, fmt.Sprintf("%s runs before stage 1 attempts to resume from hibernation", w.where))
	case "postMountCommands":
		ck.add("wipe-after-root-mount", Error, w.pos, "", "move it to boot.initrd.postResumeCommands, or use services.drift.wipe",
			"%s runs after the root is mounted: the wipe renames the subvolume mounted as /, and the system runs inside the old root", w.where)
	}
	if devUseRe.MatchString(w.text) && !strings.Contains(w.text, "waitDevice") {
		ck.add("wipe-device-order", Warning, w.pos, "", "",
			"%s uses a device by its /dev path without `waitDevice` first: the scripted stage 1 waits for devices only when it mounts the file systems, after this hook, so a disk that appears late is not there yet and the wipe fails", w.where)
	}
	if !w.drift && !failureRe.MatchString(w.text) {
		ck.add("wipe-failure-unnoticed", sev("wipe-failure-unnoticed"), w.pos, "", "",
			"%s does not stop on a failing command (stage-1-init.sh runs hooks without set -e): a wipe that fails part way boots the old root as if wiped, or leaves no root at all", w.where)
	}
}

// beforeResume reports a wipe that runs before the resume attempt: an
// error when the configuration hibernates, else a warning.
func (ck *checker) beforeResume(in persist.Initrd, w wipe, what string) {
	if h := hibernation(in); h != "" {
		ck.add("wipe-before-resume", Error, w.pos, "", "",
			"%s (%s): it changes the file system a hibernated kernel still has mounted, and resuming then corrupts it", what, h)
		return
	}
	if zfsOnly(w.text) {
		return // NixOS does not hibernate with ZFS (boot.zfs.allowHibernation)
	}
	ck.add("wipe-before-resume", Warning, w.pos, "", "",
		"%s: no resume device is configured in the files read, but with one (swap for hibernation) it changes the file system a hibernated kernel still has mounted", what)
}

// zfsOnly reports whether a wipe rolls back ZFS datasets and nothing else.
func zfsOnly(text string) bool {
	return zfsRe.MatchString(text) && !strings.Contains(text, "btrfs") && !driftWipeRe.MatchString(text)
}

// unitWipe checks a wipe in an initrd systemd service.
func (ck *checker) unitWipe(in persist.Initrd, w wipe) {
	u := w.unit
	systemd, known, note := stage1(in, ck.c.Nixpkgs)
	switch {
	case known && !systemd:
		ck.add("wipe-not-run", Error, w.pos, "", "",
			"%s holds the root's wipe, but stage 1 is the scripted one (boot.initrd.systemd.enable = false)%s: its systemd services are not part of it, and the root is never wiped",
			w.where, prefixSpace(defaultNote(in, note)))
		return
	case !known && !ck.c.Shared:
		ck.add("wipe-not-run", Warning, w.pos, "", "set boot.initrd.systemd.enable = true (or lint the evaluated configuration with --flake REF#HOST); services.drift.wipe generates the wipe for either stage 1",
			"%s holds the root's wipe, and boot.initrd.systemd.enable is not set in the files read%s: its default is true from NixOS 26.05, but false (the scripted stage 1, without these services) before", w.where, pinNote(ck.c.Nixpkgs))
	}
	if !pulledIn(in, u) {
		ck.add("wipe-not-run", Error, w.pos, "", "add wantedBy = [ \"initrd.target\" ], or use services.drift.wipe",
			"%s holds the root's wipe, but nothing in stage 1 starts it (wantedBy/requiredBy name no unit of the initrd's boot)", w.where)
		return
	}
	if !hasAny(u.After, "systemd-hibernate-resume.service", "systemd-hibernate-resume@", "local-fs-pre.target", "local-fs.target") {
		ck.beforeResume(in, w, w.where+" is not ordered after the resume attempt (after = [ \"systemd-hibernate-resume.service\" \"local-fs-pre.target\" ])")
	}
	ck.deviceOrder(w)
	if late := lateOrder(u); late != "" || !has(u.Before, "sysroot.mount") {
		msg := w.where + " is not ordered before sysroot.mount: it may run after the root is mounted, rename the subvolume mounted as /, and the system runs inside the old root"
		if late != "" {
			msg = fmt.Sprintf("%s runs after %s, after the root is mounted: the wipe renames the subvolume mounted as /, and the system runs inside the old root", w.where, late)
		}
		ck.add("wipe-after-root-mount", Error, w.pos, "", "", "%s", msg)
	}
	if w.drift {
		return
	}
	switch {
	case u.IgnoresFailure:
		ck.add("wipe-failure-unnoticed", Warning, w.pos, "", "",
			"%s: its ExecStart starts with \"-\", so systemd ignores its failure and the old root boots as if wiped", w.where)
	case !u.OnFailure && !stopsBoot(u):
		ck.add("wipe-failure-unnoticed", Warning, w.pos, "", "",
			"%s is only wanted, not required, by the boot, and has no OnFailure=: when it fails, stage 1 goes on and the old root boots as if wiped", w.where)
	}
}

// deviceOrder reports a unit not ordered after the device it wipes.
func (ck *checker) deviceOrder(w wipe) {
	u := w.unit
	var devs []string
	for _, a := range u.After {
		if strings.HasSuffix(a, ".device") || a == "initrd-root-device.target" || strings.HasPrefix(a, "zfs-import") {
			devs = append(devs, a)
		}
	}
	if len(devs) == 0 {
		ck.add("wipe-device-order", Error, w.pos, "", "",
			"%s is not ordered after the device holding the root (after = [ the device unit ] or [ \"initrd-root-device.target\" ]): it may run before the device exists, fail, and leave the root unwiped", w.where)
		return
	}
	for _, d := range devs {
		if strings.HasSuffix(d, ".device") && (has(u.Requires, d) || has(u.BindsTo, d) || has(u.Wants, d) || has(u.Requisite, d)) || strings.HasPrefix(d, "zfs-import") {
			return
		}
	}
	for _, d := range devs {
		if strings.HasSuffix(d, ".device") {
			ck.add("wipe-device-order", Warning, w.pos, "", "",
				"%s is ordered after %s but does not require it: an After= alone waits only for a device something else pulls in, so under another name for the same disk the wipe may start before it exists", w.where, d)
			return
		}
	}
	ck.add("wipe-device-order", Warning, w.pos, "", "",
		"%s is ordered after initrd-root-device.target only: with the root from fstab (NixOS's default, no root= on the kernel command line) that target need not wait for the device the wipe mounts (systemd #24904)", w.where)
}

// lateOrder returns an unit u is ordered after that comes after the root
// is mounted, "" when none.
func lateOrder(u *persist.Unit) string {
	for _, a := range u.After {
		switch a {
		case "sysroot.mount", "initrd-root-fs.target", "initrd-fs.target", "initrd.target", "initrd-parse-etc.service", "initrd-switch-root.target":
			return a
		}
	}
	return ""
}

// initrdBoot are units of the initrd's boot transaction a wipe may be
// pulled in by (bootup(7), "Bootup in the initrd").
var initrdBoot = map[string]bool{
	"initrd.target": true, "initrd-root-device.target": true, "initrd-root-fs.target": true, "initrd-fs.target": true,
	"initrd-usr-fs.target": true, "sysroot.mount": true, "local-fs-pre.target": true, "local-fs.target": true,
	"sysinit.target": true, "basic.target": true, "cryptsetup.target": true, "cryptsetup-pre.target": true, "default.target": true,
}

// pulledIn reports whether something of the initrd's boot starts u: an
// [Install] link to one of its units or to another service of the initrd,
// or another service's Wants=/Requires=.
func pulledIn(in persist.Initrd, u *persist.Unit) bool {
	names := map[string]bool{}
	for _, o := range in.Units {
		names[o.Name+".service"] = true
		if o.Name == u.Name {
			continue
		}
		for _, l := range [][]string{o.Wants, o.Requires, o.BindsTo, o.Requisite} {
			if has(l, u.Name+".service") || has(l, u.Name) {
				return true
			}
		}
	}
	for _, l := range [][]string{u.WantedBy, u.RequiredBy, u.UpheldBy} {
		for _, t := range l {
			if initrdBoot[t] || names[t] || strings.HasSuffix(t, ".mount") && strings.HasPrefix(t, "sysroot") {
				return true
			}
		}
	}
	return false
}

// stopsBoot reports whether u's failure stops stage 1: required by the
// root's mount or the initrd's targets.
func stopsBoot(u *persist.Unit) bool {
	for _, t := range append(append([]string(nil), u.RequiredBy...), u.UpheldBy...) {
		if t == "sysroot.mount" || t == "initrd.target" || t == "initrd-root-fs.target" || t == "initrd-fs.target" {
			return true
		}
	}
	return false
}

// scriptFaults reports the known faults of the README's script family.
func (ck *checker) scriptFaults(w wipe) {
	if listRe.MatchString(w.text) {
		given := "a path that is not a subvolume"
		if strings.Contains(w.text, "-maxdepth 1") {
			given = "a path that is not a subvolume (find … -maxdepth 1 can yield the old-roots directory itself)"
		}
		ck.add("wipe-subvolume-list", sev("wipe-subvolume-list"), w.pos, "", "",
			"%s lists subvolumes with `btrfs subvolume list -o`, which lists the subvolumes of the one holding the path: given %s, at the top level that is every subvolume there (the root, nix, the persistent storage), and the loop deletes them", w.where, given)
	}
	if nameRe.MatchString(w.text) {
		ck.add("wipe-old-root-name", sev("wipe-old-root-name"), w.pos, "", "",
			"%s names old roots by the root's mtime (stat %%Y, day not padded): two roots with the same mtime get one name and mv puts the second inside the first, and names do not sort by time (2025-03-9 after 2025-03-10)", w.where)
	}
	if expiryRe.MatchString(w.text) {
		ck.add("wipe-expiry-mtime", sev("wipe-expiry-mtime"), w.pos, "", "",
			"%s expires old roots by their mtime (find -mtime): a root used for longer than that (a long uptime, a machine left off) is expired the moment it is retired, in the same boot as every other old root, and nothing is left to restore from", w.where)
	}
}

func has(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// hasAny reports whether l holds one of names, or one starting with a name
// ending in "@" (a template's instances).
func hasAny(l []string, names ...string) bool {
	for _, x := range l {
		for _, n := range names {
			if x == n || strings.HasSuffix(n, "@") && strings.HasPrefix(x, n) {
				return true
			}
		}
	}
	return false
}

func prefixSpace(s string) string {
	if s == "" {
		return ""
	}
	return " " + s
}
