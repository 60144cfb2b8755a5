package btrfs

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestPickOldRoot(t *testing.T) {
	mk := func(name string, kind Kind) OldRoot {
		r := OldRoot{Name: name, Path: "old_roots/" + name, Kind: kind}
		r.resolveTime(time.UTC)
		return r
	}
	roots := []OldRoot{
		mk("2026-11-9_08:00:00", KindSubvolume),
		mk("2026-11-10_08:00:00", KindSubvolume), // newest subvolume, sorts first as a string
		mk("2026-11-9_08:00:00.1", KindSubvolume),
		mk("2026-12-1_00:00:00", KindDir), // newer, but a plain directory
		mk("link", KindSymlink),
		mk("sock", KindOther),
	}
	r, err := PickOldRoot(roots, Latest)
	if err != nil || r.Name != "2026-11-10_08:00:00" {
		t.Errorf("latest: %q, %v; want 2026-11-10_08:00:00", r.Name, err)
	}
	if r, err := PickOldRoot(roots[:1], Latest); err != nil || r.Name != "2026-11-9_08:00:00" {
		t.Errorf("latest of one: %q, %v", r.Name, err)
	}
	for _, name := range []string{"2026-11-9_08:00:00.1", "2026-12-1_00:00:00"} {
		if r, err := PickOldRoot(roots, name); err != nil || r.Name != name {
			t.Errorf("%s: %q, %v", name, r.Name, err)
		}
	}
	if _, err := PickOldRoot(roots, "link"); err == nil || !strings.Contains(err.Error(), "symlink") {
		t.Errorf("a symlink: %v", err)
	}
	if _, err := PickOldRoot(roots, "sock"); err == nil {
		t.Error("a socket picked")
	}
	if _, err := PickOldRoot(roots, "2026-1-1_00:00:00"); !errors.Is(err, ErrNoOldRoot) {
		t.Errorf("missing: %v", err)
	}
	if _, err := PickOldRoot(roots[3:], Latest); !errors.Is(err, ErrNoOldRoot) {
		t.Errorf("latest without a subvolume: %v", err)
	}
}
