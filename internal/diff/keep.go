package diff

import (
	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/persist"
)

// Keep says what keeps a lost path, or what is left to do about it when
// declaring it would not: one answer per lost Item (Audit.Keep), the rule
// drift check's drift adopt commands and drift suggest's list of what it
// leaves to the user both read.
type Keep uint8

const (
	// KeepDeclare: Unpersisted; a declaration of it (or of a directory
	// above it) keeps it. drift suggest weighs it.
	KeepDeclare Keep = iota + 1
	// KeepAdopt: declared, and drift adopt of the declared path
	// (Audit.AdoptDecl) copies it into the persistent copy the next boot
	// mounts there: DeclaredUnbacked, Covered on another persistent
	// filesystem, or Shadowed beneath a mount inside a declaration.
	KeepAdopt
	// KeepUndeclare: Covered on a persistent filesystem other than the
	// root (visible, declared, not mounted from its copy), its copy the
	// same or lacking it: the declaration is not needed there
	// (persist.NotNeeded, drift lint's already-persistent); drift adopt of
	// the declared path (Audit.AdoptDecl) keeps it declared instead.
	KeepUndeclare
	// KeepChoose: as KeepAdopt, the persistent copy lacking the path,
	// but the copy of the declared path differs somewhere else below it
	// (Audit.Differing): drift adopt of the declared path refuses without
	// --prefer live (the live objects win) or --prefer persistent (the
	// copy's stay, what it lacks is copied).
	KeepChoose
	// KeepRefused: declared (DeclaredUnbacked, Covered, Shadowed below a
	// declared path), but drift adopt refuses the declaration whatever it
	// is asked (Audit.Refusal: its storage path unusable, or the declared
	// path the mount point of another filesystem).
	KeepRefused
	// KeepRemounted: Covered with no declaration: on an ephemeral
	// filesystem (the root, usually) where the next boot mounts another
	// filesystem (an API filesystem, fileSystems, /etc/fstab), not
	// mounted now. Hidden then and deleted with the root; no declaration
	// keeps it.
	KeepRemounted
	// KeepBeneath: Shadowed outside every declaration drift adopt takes:
	// on an ephemeral filesystem beneath a mount point, hidden now and
	// deleted with it; no declaration of the path keeps it (the mount
	// stays on top).
	KeepBeneath
	// KeepRedeclare: Unmounted; a declaration of the mount point again
	// keeps it in view (its data stays in persistent storage either way).
	KeepRedeclare
	// KeepHidden: Shadowed beneath a live mount that shows the persistent
	// copy (Mount set), which holds other content there (CopyDiffers):
	// the copy is the data the running system uses, what lies beneath is
	// hidden and stale. No drift adopt command (never --prefer live: it
	// would replace the copy with the stale object; drift adopt refuses
	// it); look beneath the mount to copy it by hand if really wanted.
	KeepHidden
	// KeepShownDeleted: shown by a mount whose root was deleted since it
	// was mounted (Audit.DeletedAt): what the mount shows is the only
	// version of it, in no persistent storage; what lies beneath and the
	// persistent copy now are other versions. drift adopt refuses it;
	// Keep's what is the path the mount's root lay at (DeletedMount.Source),
	// where a by-hand copy of what it shows keeps it.
	KeepShownDeleted
	// KeepCopyBack: declared, not mounted from the persistent copy, which
	// holds another object at the path (CopyDiffers), or at a live
	// directory above it below the declared path, so that it lacks
	// nothing drift adopt --prefer persistent could copy there
	// (Audit.CopyLacks): the copy's object comes back at the next boot,
	// and the live one goes with its filesystem (to the old root, where
	// old roots are kept) or, on a persistent filesystem, is hidden
	// beneath the mount. drift adopt --prefer live of the path (or of the
	// declared path, Keep's what) keeps the live object; --prefer
	// persistent would change nothing, so it is never offered for it.
	KeepCopyBack
)

var keepNames = [...]string{KeepDeclare: "declare", KeepAdopt: "adopt", KeepChoose: "choose", KeepRefused: "refused",
	KeepRemounted: "remounted", KeepBeneath: "beneath", KeepRedeclare: "redeclare", KeepHidden: "hidden", KeepShownDeleted: "deleted", KeepUndeclare: "undeclare", KeepCopyBack: "copy-back"}

// String names k in one word ("adopt"), "" for 0.
func (k Keep) String() string {
	if int(k) < len(keepNames) {
		return keepNames[k]
	}
	return ""
}

// Why is what Keep means to the user, and what to do, in one sentence
// naming no path of the audited system: drift suggest's reason for the
// paths it leaves to the user (KeepDeclare's paths it weighs instead).
// The API filesystems it names are apiMountPoints.
func (k Keep) Why() string {
	switch k {
	case KeepDeclare:
		return "not declared: a declaration keeps it"
	case KeepAdopt:
		return "declared, but the persistent copy lacks the data (not mounted from it yet, or the data lies beneath its mount): lost at the next boot (deleted with the wiped filesystem, or hidden beneath the copy); drift adopt copies it into the copy"
	case KeepUndeclare:
		return "declared, on a persistent file system other than the root but not mounted from the persistent copy: " + persist.NotNeeded + "; or drift adopt copies the data into the copy, kept declared"
	case KeepChoose:
		return "declared, but not mounted from the persistent copy, which holds other content at some paths of the declaration (the copy's comes back there at the next boot): drift adopt copies the data once told which side wins"
	case KeepCopyBack:
		return "declared, not mounted from the persistent copy, which holds another version there: the copy's version comes back at the next boot and the live one goes with the wiped filesystem (where old roots are kept, into the old root, restorable with drift restore for as long as the old root is kept; on a persistent filesystem, hidden beneath the copy's mount); drift adopt --prefer live keeps the live version instead (--prefer persistent would change nothing)"
	case KeepRefused:
		return "declared, not mounted from the persistent copy, and drift adopt refuses the declaration"
	case KeepRemounted:
		return "on a wiped filesystem (the root, or another the next boot wipes) where the next boot mounts another filesystem (/proc, /sys, /dev, /run, fileSystems, /etc/fstab; not mounted now): hidden then and deleted with the wiped one, and no declaration keeps what lies there; look at it now, and copy what you need onto that filesystem once it is mounted (or into a declared path), or remove what you do not need"
	case KeepBeneath:
		return "on a wiped filesystem (the root, or another the next boot wipes) beneath a mount point: hidden now and deleted with that filesystem, and no declaration keeps what lies there (the mount stays on top); drift check lists each path; to reach what lies there, bind-mount the wiped filesystem alone elsewhere (for the root of the running system: mkdir -p /mnt/beneath && mount --bind / /mnt/beneath, for a system audited at --root DIR with DIR in place of /, for another wiped filesystem with its mount point in place of /; without --rbind it shows what the mounts hide), copy what you need into persistent storage, then umount /mnt/beneath"
	case KeepHidden:
		return "declared and mounted from the persistent copy, which holds other content at the same place: the copy is what the running system uses, and what lies beneath the mount is hidden and stale (drift adopt never replaces the copy with it); to look at it, bind-mount the filesystem it lies on alone elsewhere (for the root of the running system: mkdir -p /mnt/beneath && mount --bind / /mnt/beneath, for a system audited at --root DIR with DIR in place of /; without --rbind it shows what the mounts hide), copy it by hand only if you really want it in place of the copy's, then umount /mnt/beneath"
	case KeepShownDeleted:
		return "shown by a mount whose persistent copy was deleted or replaced since it was mounted: what the mount shows is in no persistent storage and lost at the next boot, and the persistent copy there now is another version (drift adopt refuses it); decide which to keep, and to keep what the mount shows copy it by hand: " + escape.CopyCommand("MOUNT-POINT", "PERSISTENT-COPY", false)
	case KeepRedeclare:
		return "mounted from persistent storage, no longer declared: gone from view at the next boot (the data stays in persistent storage); declare the mount point again to keep it in view, or leave it"
	}
	return ""
}

// Keep is what keeps the lost item it (an element of a.Lost), with what:
// the declared path (persist.Entry.Path) drift adopt takes for KeepAdopt,
// KeepChoose and KeepCopyBack (AdoptDecl), why drift adopt refuses it for
// KeepRefused (Audit.Refusal's message), "" otherwise. Ignored items, which drift
// check hides, and items not lost are 0.
func (a *Audit) Keep(it *Item) (k Keep, what string) {
	switch it.Category {
	case Unpersisted:
		return KeepDeclare, ""
	case Unmounted:
		return KeepRedeclare, ""
	case DeclaredUnbacked, Covered, Shadowed:
	default:
		return 0, ""
	}
	if d := a.shownDeleted(it); d != nil {
		return KeepShownDeleted, d.Source
	}
	if hiddenStale(it) {
		return KeepHidden, ""
	}
	d, ok := a.adoptTarget(it)
	switch {
	case ok && d.refused != "":
		return KeepRefused, d.refused
	case ok && a.copyBacks().at(it):
		return KeepCopyBack, d.path
	case ok && len(a.Differing()[d.path]) > 0:
		return KeepChoose, d.path
	case ok && it.Category == Covered && it.Visible() && it.Decl >= 0:
		return KeepUndeclare, d.path
	case ok:
		return KeepAdopt, d.path
	case it.Category == Shadowed:
		return KeepBeneath, ""
	}
	// Covered with no declaration (Decl -1), or a declared-unbacked path
	// whose declaration no longer covers it: nothing to adopt into.
	return KeepRemounted, ""
}

// AdoptDecl is the declared path (persist.Entry.Path) drift adopt copies
// the lost item it into the persistent copy of: the declaration covering
// a DeclaredUnbacked, Covered or Shadowed path, when drift adopt does not
// refuse it (Audit.Refusal). ok is false for any other item.
func (a *Audit) AdoptDecl(it *Item) (decl string, ok bool) {
	if it.Category != DeclaredUnbacked && it.Category != Covered && it.Category != Shadowed {
		return "", false
	}
	if a.shownDeleted(it) != nil || hiddenStale(it) {
		return "", false // KeepShownDeleted, KeepHidden: drift adopt refuses them
	}
	d, ok := a.adoptTarget(it)
	if !ok || d.refused != "" {
		return "", false
	}
	return d.path, true
}

// adoptTarget is the declaration covering it (a.Decls.Covering), with
// drift adopt's refusal of it ("" when it adopts).
type adoptTarget struct {
	path, refused string
}

func (a *Audit) adoptTarget(it *Item) (adoptTarget, bool) {
	if a.Decls == nil {
		return adoptTarget{}, false
	}
	e, ok := a.Decls.Covering(it.Path)
	if !ok {
		return adoptTarget{}, false
	}
	why, refused := a.Refusal(&e)
	if !refused {
		why = ""
	}
	return adoptTarget{path: e.Path, refused: why}, true
}

// Differing maps each declared path (persist.Entry.Path) whose drift
// adopt needs --prefer to the paths below it where its persistent copy
// differs: the lost paths (Ignored included: adopting a declared path
// copies all of it) whose copy holds other content (CopyDiffers), then
// CopiedOtherMeta's (the same bytes, another mode or owner). Computed
// once, at the first call, from Lost and CopiedOtherMeta as they are
// then (call it once Check is done, never from two goroutines at once
// before the first call returns); nil when none differs.
func (a *Audit) Differing() map[string][]string {
	if a.differing != nil {
		return *a.differing
	}
	var m map[string][]string
	mark := func(p string) {
		if a.Decls == nil {
			return
		}
		if e, ok := a.Decls.Covering(p); ok {
			if m == nil {
				m = map[string][]string{}
			}
			m[e.Path] = append(m[e.Path], p)
		}
	}
	for _, it := range a.Lost {
		if it.Copy == CopyDiffers && !hiddenStale(it) && a.shownDeleted(it) == nil {
			mark(it.Path)
		}
	}
	for _, p := range a.CopiedOtherMeta {
		mark(p)
	}
	a.differing = &m
	return m
}

// hiddenStale says whether it lies beneath a live mount that shows the
// persistent copy (a Shadowed path with Mount set) holding other content
// there: KeepHidden.
func hiddenStale(it *Item) bool {
	return (it.Category == Shadowed || it.Category == Covered && !it.Visible()) && it.Mount != 0 && it.Copy == CopyDiffers
}

// shownDeleted is the mount of a.Deleted that shows it (a visible item):
// KeepShownDeleted; nil otherwise.
func (a *Audit) shownDeleted(it *Item) *DeletedMount {
	if !it.Visible() {
		return nil
	}
	return a.DeletedAt(it.Path)
}
