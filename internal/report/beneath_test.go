package report

import "testing"

// TestBeneathHint: when a tree cannot be read beneath its mounts, the hint
// is a command that can: sudo for a user; as root, a bind mount without
// --rbind of the side that failed, compared in its place.
func TestBeneathHint(t *testing.T) {
	const a, b = "/mnt/top/old_roots/2026-11-10_09:00:00", "/"
	for _, tc := range []struct {
		side int
		root bool
		want string
	}{
		{1, false, "reading it beneath its mounts needs root: sudo drift diff /mnt/top/old_roots/2026-11-10_09:00:00 /"},
		{1, true, "a bind mount without --rbind shows it without the mounts below it: mkdir -p /mnt/beneath && mount --bind / /mnt/beneath && drift diff /mnt/top/old_roots/2026-11-10_09:00:00 /mnt/beneath; umount /mnt/beneath"},
		{0, true, "a bind mount without --rbind shows it without the mounts below it: mkdir -p /mnt/beneath && mount --bind /mnt/top/old_roots/2026-11-10_09:00:00 /mnt/beneath && drift diff /mnt/beneath /; umount /mnt/beneath"},
	} {
		if got := BeneathHint(a, b, tc.side, tc.root); got != tc.want {
			t.Errorf("side %d, root %v:\n got %s\nwant %s", tc.side, tc.root, got, tc.want)
		}
	}
	if got := BeneathHint("/old root", "/", 1, false); got != "reading it beneath its mounts needs root: sudo drift diff '/old root' /" {
		t.Errorf("quoting: %s", got)
	}
}
