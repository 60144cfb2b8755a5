package suggest

import (
	"fmt"
	"slices"
	"strings"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/knowledge"
	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/units"
)

// Action is what a suggestion asks for.
type Action string

const (
	// Persist: declare the path in environment.persistence (a persisted
	// directory or file).
	Persist Action = "persist"
	// Ignore: a cache or regenerated state; an --ignore rule for drift
	// check rather than a declaration.
	Ignore Action = "ignore"
	// DeclareOrRemove: data under the persistent storage path that no
	// declaration covers (stray): declare it again, or remove it yourself.
	// drift never deletes it.
	DeclareOrRemove Action = "declare-or-remove"
	// InUse: data under the persistent storage path that no declaration
	// covers but the running system or its configuration uses (mounted
	// now, named by an option: UsedBy). Keep it; declare it to make the
	// use survive a boot. Never a candidate for removal.
	InUse Action = "in-use"
)

// Confidence levels, from the score (Suggestion.Score).
const (
	High   = "high"   // score 60 and more
	Medium = "medium" // 30 to 59
	Low    = "low"    // below 30
)

// Attrs are the owner and mode written in impermanence's attrset form
// ({ directory = …; user = …; group = …; mode = …; }, or a file's
// parentDirectory) when they differ from the module's defaults.
type Attrs struct {
	User, Group, Mode string
}

// Suggestion is one row of drift suggest.
type Suggestion struct {
	// Rank is the 1-based position in the report.
	Rank   int
	Action Action
	// Path is the live path to declare or ignore (absolute inside the
	// audited root, raw bytes); for DeclareOrRemove, the path under the
	// persistent storage path ("/nix/persist/var/lib/old").
	Path string
	// Kind is persist.Dir or persist.File.
	Kind persist.Kind
	// Entries counts the lost paths (stray paths) the suggestion stands
	// for; Bytes sums the apparent sizes of the regular files among them;
	// Mtime is the newest modification time among them (ns since the
	// epoch).
	Entries, Bytes, Mtime int64
	// Boots is how many old roots were compared (at most --boots); Seen in
	// how many of them Path existed; Changed in how many of them something
	// of it differed from now (content, type, mode, owner, files added).
	Boots, Seen, Changed int
	// Regen is the model's word (diff.Regen) on the lost paths it stands
	// for: RegenYes when every one of them is made again at every boot
	// with the same bytes (then, and only then, an Ignore by history),
	// else the first other answer among them.
	Regen diff.Regen
	// Score orders suggestions of the same action (Score documents the
	// weights); Confidence is its level.
	Score      int
	Confidence string
	// Fact is the knowledge base entry that matched, nil when none.
	Fact *knowledge.Fact
	// Evidence lists findings beyond the counts (the journal directories
	// of several machine IDs), one sentence each, with no file name in them.
	Evidence []string
	// Holds are known paths inside Path that were merged into it (raw
	// bytes), with their facts.
	Holds []Held
	// StoragePath is the persistent storage path to declare it under;
	// for DeclareOrRemove, the one it lies in.
	StoragePath string
	// User is the users.<name> the path belongs to (it lies in that
	// user's home, Home); "" for a system path. Rel is Path relative to
	// Home then.
	User, Home, Rel string
	// Attrs, when set, asks for the attrset form (the live directory — a
	// file's parent — is not owned and moded as the module would make it).
	Attrs *Attrs
	// LivePath, for DeclareOrRemove, is the live path the stray data would
	// be declared as (Path without the storage path).
	LivePath string
	// Symlink, for DeclareOrRemove and InUse, says Path is a symlink
	// (listed, never followed); Kind is persist.File then.
	Symlink bool
	// OtherDevice, for DeclareOrRemove and InUse, is the first directory
	// at or below Path (under the storage path, raw bytes) on another
	// device than the one holding it — a nested btrfs subvolume, or a
	// mount point — "" when none: what drift prune never moves.
	OtherDevice string
	// UsedBy, for InUse, says what uses Path, one use each
	// (audit.Use.By).
	UsedBy []string
	// UntilBoot, for InUse, is the mount point Path is bind-mounted at
	// when that mount is its only use and the next boot does not make it
	// again (audit.Use.UntilBoot: drift check's unmounted): declare it, or
	// it is no longer mounted after the reboot. "" otherwise.
	UntilBoot string
	// UntilBootFS, with UntilBoot, is the persistent filesystem other
	// than the root that UntilBoot lies on (audit.Use.OnFS): moving the
	// data there keeps it in view without a declaration.
	UntilBootFS string
	// MountedUntil, for DeclareOrRemove, is the live path Path was
	// bind-mounted at until the last boot (audit.Model.MountedUntilLastBoot:
	// the previous root holds only that empty mount point; or
	// audit.Model.MountedUntilAt, which also knows a mount point on another
	// persistent filesystem), "" otherwise.
	MountedUntil string
	// Prune, for DeclareOrRemove, is the drift prune command that moves it
	// aside: escape.DriftCommand with the audit's --root and the flags
	// prune takes (audit.PruneArgs); Run sets it. "" leaves the note
	// saying "drift prune".
	Prune string
	// Secrets, for Persist, are the boot secrets it stands for
	// (diff.Audit.SecretsAt: a password file, a host key, a sops-nix or
	// agenix key), each with what losing it does (persist.Ref.Loss): such
	// a suggestion is ranked first and never an Ignore.
	Secrets []persist.Ref
	// Vanished, for Persist, are the paths the last wipe destroyed that
	// it stands for (addVanished), with the restore that gets each back.
	Vanished []Vanished
	// items, for Persist and Ignore, index the lost paths (Audit.Lost) the
	// suggestion stands for: Entries of them.
	items []int32
}

// Lost indexes the lost paths (diff.Audit.Lost of the audit it was
// weighed from) a Persist or Ignore suggestion stands for: Entries of
// them, in path order. Empty for the other actions, and for a suggestion
// made for another's sake (/var/lib/private's mode).
func (s *Suggestion) Lost() []int32 { return s.items }

// Declares reports whether s is a declaration to make (--format nix, drift
// adopt): a Persist suggestion that stands for no boot secret read before
// the persistence mounts exist (persist.Ref.Early: declaring it makes an
// early reader, which drift lint rejects; its note says how to keep it).
func (s *Suggestion) Declares() bool {
	return s.Action == Persist && !slices.ContainsFunc(s.Secrets, func(r persist.Ref) bool { return r.Early })
}

// Held is a known path inside a suggestion, and its fact.
type Held struct {
	Path string
	Fact *knowledge.Fact
}

// Note is the suggestion's evidence in one line: the knowledge base's
// note, the evidence, what the history says. esc makes a file name
// printable (escape.Name).
func (s *Suggestion) Note(esc func(string) string) string { return s.NoteCmds(esc, nil) }

// NoteCmds is Note with each command to run in it (the drift prune, drift
// restore and cp it gives) as cmd shows it: a reference to it printed
// apart, in a table. nil shows the command itself.
func (s *Suggestion) NoteCmds(esc, cmd func(string) string) string {
	if cmd == nil {
		cmd = func(c string) string { return c }
	}
	var parts []string
	for _, r := range s.Secrets {
		parts = append(parts, esc(diff.SecretWhy(r, s.Path)))
		if r.Early {
			parts = append(parts, "to keep "+esc(r.Path)+": "+r.KeepHint(s.StoragePath, esc))
		}
	}
	if s.Fact != nil {
		parts = append(parts, s.Fact.What)
	}
	for _, h := range s.Holds {
		parts = append(parts, fmt.Sprintf("holds %s (%s): %s", esc(h.Path), h.Fact.Action, h.Fact.What))
	}
	parts = append(parts, s.Evidence...)
	if s.Action == InUse {
		if s.Symlink {
			parts = append(parts, "a symlink (not followed)")
		}
		if s.UntilBoot != "" {
			move := ""
			if s.UntilBootFS != "" {
				sh := escape.Shell // commands to run: quoted for a shell, printable
				cp := escape.CopyCommand(s.Path, s.UntilBoot, s.Kind != persist.File)
				move = ", or move the data onto the file system at " + esc(s.UntilBootFS) + " before the next boot (stop what uses it, umount " + sh(s.UntilBoot) + ", " + cmd(cp) + ")"
			}
			parts = append(parts, "in use: "+esc(strings.Join(s.UsedBy, "; "))+"; declare "+esc(s.UntilBoot)+move+", or it is no longer mounted there after the next boot (the data stays here; drift never removes it)")
		} else {
			parts = append(parts, "in use: "+esc(strings.Join(s.UsedBy, "; "))+"; on persistent storage already and used there: nothing to do (drift never removes it)")
		}
	} else if s.Action == DeclareOrRemove {
		if s.Symlink {
			parts = append(parts, "a symlink (not followed)")
		}
		prune := "drift prune"
		if s.Prune != "" {
			prune = cmd(s.Prune)
		}
		if s.MountedUntil != "" {
			parts = append(parts, "was mounted at "+esc(s.MountedUntil)+" until the last boot (only its empty mount point is left), declared by nothing now: declare "+esc(s.MountedUntil)+" again, or move it aside: "+prune+" (drift prune --undo ID puts it back; drift prune --list shows the IDs)")
		} else {
			parts = append(parts, "under "+esc(s.StoragePath)+", declared by nothing and linked to by nothing live: declare "+esc(s.LivePath)+", or move it aside: "+prune+" (drift prune --undo ID puts it back; drift prune --list shows the IDs)")
		}
	} else {
		if v := s.vanishedNote(esc, cmd); v != "" {
			parts = append(parts, v)
		}
		if h := s.historyNote(); h != "" {
			parts = append(parts, h)
		}
	}
	return strings.Join(parts, "; ")
}

// historyNote says what the old roots compared show of s: in how many it
// was, and how it compared with now (Seen, Changed); "" with none
// compared.
func (s *Suggestion) historyNote() string {
	switch {
	case s.Boots == 0:
		return ""
	case s.OnlyVanished():
		// Not live: every old root holding it differs from now only in
		// that it is gone (vanishedNote says when and how to get it back).
		return fmt.Sprintf("in %d of the last %s, gone now", s.Seen, units.Plural(int64(s.Boots), "old root", "old roots"))
	case s.Seen == 0:
		return fmt.Sprintf("in none of the last %s: new since the last boot", units.Plural(int64(s.Boots), "old root", "old roots"))
	case s.Changed == 0 && s.Seen == s.Boots && s.Regen == diff.RegenYes:
		return fmt.Sprintf("identical in all %s: lost at the wipe, and %s", units.Plural(int64(s.Boots), "old root", "old roots"), diff.SameMeans)
	case s.Changed == 0 && s.Seen == s.Boots && s.Regen.NotRegenWhy() != "":
		return fmt.Sprintf("identical in all %s, %s", units.Plural(int64(s.Boots), "old root", "old roots"), s.Regen.NotRegenWhy())
	case s.Changed == 0 && s.Seen == s.Boots:
		return fmt.Sprintf("identical in all %s", units.Plural(int64(s.Boots), "old root", "old roots"))
	case s.Changed > 0:
		return s.differsNote()
	}
	return fmt.Sprintf("in %d of the last %s, identical", s.Seen, units.Plural(int64(s.Boots), "old root", "old roots"))
}

// differsNote is historyNote for a path that differs from now in some old
// root (Changed > 0): in how many, in how many it was identical to now or
// absent, and, when every old root that held it differs from now and most
// held it, that state was lost at every boot (that had it). What is
// measured is each old root against now, never one old root against the
// next: two boots that left the same bytes count as two that differ from
// now. A path in fewer than half of them, or identical to now in one,
// gets the counts alone.
func (s *Suggestion) differsNote() string {
	note := fmt.Sprintf("differs from now in %d of the last %s", s.Changed, units.Plural(int64(s.Boots), "old root", "old roots"))
	var rest []string
	if same := s.Seen - s.Changed; same > 0 {
		rest = append(rest, fmt.Sprintf("identical in %d", same))
	}
	if absent := s.Boots - s.Seen; absent > 0 {
		rest = append(rest, fmt.Sprintf("absent from %d", absent))
	}
	if len(rest) > 0 {
		note += " (" + strings.Join(rest, ", ") + ")"
	}
	switch {
	case s.Changed == s.Seen && s.Seen == s.Boots:
		note += ": state lost at every boot"
	case s.Changed == s.Seen && 2*s.Seen > s.Boots:
		note += ": state lost at every boot that had it"
	}
	return note
}
