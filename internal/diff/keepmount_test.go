package diff

import (
	"testing"

	"github.com/nix-drift/drift/internal/persist"
)

// TestKeepNeverPrefersWhatAMountHides guards the rule drift check's and
// drift suggest's adopt commands read: where a declared path is mounted
// from its persistent copy, the copy is the live data. A stale object
// beneath the mount that differs from the copy is KeepHidden, with no
// drift adopt command and no --prefer (field case: a fresh user's older
// hardware-configuration.nix beneath the /etc/nixos bind mount, for which
// check said "keep the live objects: drift adopt --prefer live", which
// replaced the edited file); what the copy lacks is still adopted. A path
// shown by a mount whose source was replaced by a rename since is
// KeepShownDeleted, naming where the source lay (field case: a replaced
// machine-id, for which check recommended drift adopt --prefer live,
// which copied the empty file beneath the mount over the new copy).
func TestKeepNeverPrefersWhatAMountHides(t *testing.T) {
	nixos := persist.Entry{Kind: persist.Dir, StoragePath: "/nix/persist", Path: "/etc/nixos"}
	mi := btrfsSystem + `40 22 0:31 /persist/etc/machine-id//deleted /etc/machine-id rw - btrfs /dev/vda2 rw`
	a := check(t, "f /etc/machine-id running\nf /nix/persist/etc/machine-id renamed", mi, []persist.Entry{machineID(), nixos}, nil)
	if len(a.Lost) != 1 {
		t.Fatalf("lost %d, want /etc/machine-id", len(a.Lost))
	}
	hidden := &Item{Path: "/etc/nixos/hardware-configuration.nix", Category: Shadowed, Decl: -1, Mount: 41, Copy: CopyDiffers, view: 1}
	lacking := &Item{Path: "/etc/nixos/extra.nix", Category: Shadowed, Decl: -1, Mount: 41, Copy: CopyMissing, view: 1}
	a.Lost = append(a.Lost, hidden, lacking)
	for _, tc := range []struct {
		it   *Item
		keep Keep
		what string
	}{
		{a.Lost[0], KeepShownDeleted, "/nix/persist/etc/machine-id"},
		{hidden, KeepHidden, ""},
		{lacking, KeepAdopt, "/etc/nixos"},
	} {
		k, what := a.Keep(tc.it)
		if k != tc.keep || what != tc.what {
			t.Errorf("%s: %v %q, want %v %q", tc.it.Path, k, what, tc.keep, tc.what)
		}
		d, ok := a.AdoptDecl(tc.it)
		if adopts := k == KeepAdopt; ok != adopts || adopts && d != what {
			t.Errorf("%s: AdoptDecl %q %v", tc.it.Path, d, ok)
		}
		if k.Why() == "" || k.String() == "" {
			t.Errorf("%v: no Why or name", k)
		}
	}
	if got := a.Differing(); len(got) != 0 {
		t.Errorf("Differing %v: a declared path needs --prefer for what a mount hides, or a deleted mount shows", got)
	}
}
