package diff

// transientConsequence is what a transient mount over the persisted path p
// costs, appended to the "is covered by a transient" warning ("" when
// nothing more specific than the warning is known). For /etc/machine-id
// (a tmpfs mounted over it): systemd finds no ID it can keep and makes a
// new one at every boot (machine-id(5), "First Boot Semantics"), so the
// journal is filed under a new ID each time.
func transientConsequence(p string) string {
	if p == "/etc/machine-id" {
		return ": the machine ID will change at the next boot (journalctl --list-boots will show only that boot)"
	}
	return ""
}
