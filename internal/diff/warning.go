package diff

// WarningKind says what a Warning is about; its value is the word drift
// prints in JSON ("kind").
type WarningKind string

// The kinds of warnings.
const (
	// WarnSetup: the mounts or the declarations do not do what they seem
	// to (an over-mount hides persisted data, a declared path is mounted
	// from elsewhere, a transient filesystem covers a declared path, / is
	// on a filesystem nothing is known to wipe).
	WarnSetup WarningKind = "setup"
	// WarnNotMounted: a declared path (Warning.Path, persist.Entry.Path)
	// is not mounted from its persistent copy: what is there now and what
	// the next boot's mount of the copy does to it, which depends on what
	// the copy holds (declared-unbacked, covered, not mounted).
	WarnNotMounted WarningKind = "not-mounted"
	// WarnWipe: the wipe did not run at this boot, or whether it did
	// cannot be told, or it renamed the running root.
	WarnWipe WarningKind = "wipe"
	// WarnUnreadable: something drift needed could not be read (a mount
	// point's underside, part of an old root, a path of the walk).
	WarnUnreadable WarningKind = "unreadable"
	// WarnHistory: a comparison with an old root is incomplete.
	WarnHistory WarningKind = "history"
	// WarnIDs: a user or group database (/etc/passwd, /etc/group,
	// /var/lib/nixos uid-map and gid-map) is unreadable or malformed.
	WarnIDs WarningKind = "ids"
	// WarnOldRoots: the old roots could not be found, or none was where
	// --old-roots said.
	WarnOldRoots WarningKind = "old-roots"
	// WarnStorage: the persistent storage path suggestions use is on no
	// persistent mount, or could not be walked; or it holds a partial
	// copy that a killed drift adopt or drift restore left.
	WarnStorage WarningKind = "storage"
)

// Warning is a finding that is not a lost path: its kind, the path (in
// the audited system) it is about ("" when it is about no one path), and
// what it means in words. Renderings escape Message and Path.
type Warning struct {
	Kind    WarningKind
	Path    string
	Message string
}

// String is the message.
func (w Warning) String() string { return w.Message }

// Messages returns the messages of ws, in order.
func Messages(ws []Warning) []string {
	out := make([]string, 0, len(ws))
	for _, w := range ws {
		out = append(out, w.Message)
	}
	return out
}
