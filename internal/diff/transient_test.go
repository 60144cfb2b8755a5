package diff

import (
	"slices"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/persist"
)

// TestTransientConsequence: the warning of a transient tmpfs over the
// persisted /etc/machine-id (C08 variant B) says the machine ID changes
// at the next boot; over another persisted path it says no such thing.
func TestTransientConsequence(t *testing.T) {
	mi := btrfsSystem + `
70 22 0:31 /persist/etc/machine-id /etc/machine-id rw - btrfs /dev/vda2 rw
71 70 0:71 /machine-id /etc/machine-id ro - tmpfs tmpfs ro,mode=755
72 22 0:31 /persist/etc/adjtime /etc/adjtime rw - btrfs /dev/vda2 rw
73 72 0:73 /adjtime /etc/adjtime ro - tmpfs tmpfs ro,mode=755`
	a := check(t, "f /etc/machine-id 3333\nf /etc/adjtime 0", mi, []persist.Entry{file("/etc/machine-id"), file("/etc/adjtime")}, nil)
	has := func(sub string) bool {
		return slices.ContainsFunc(Messages(a.Warnings), func(w string) bool { return strings.Contains(w, sub) })
	}
	if !has("/etc/machine-id is covered by a transient tmpfs (mount 71): the persisted file is not what processes see: the machine ID will change at the next boot") {
		t.Errorf("machine-id warning without its consequence: %q", a.Warnings)
	}
	if !has("/etc/adjtime is covered by a transient tmpfs (mount 73): the persisted file is not what processes see") || has("/etc/adjtime is covered by a transient tmpfs (mount 73): the persisted file is not what processes see:") {
		t.Errorf("adjtime warning: %q", a.Warnings)
	}
}
