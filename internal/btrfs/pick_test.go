package btrfs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPickOldRoot(t *testing.T) {
	now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
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
		{Name: "manual-backup", Path: "old_roots/manual-backup", Kind: KindSubvolume, Time: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}, // newest, not an old root
	}
	r, err := PickOldRoot(roots, Latest, now)
	if err != nil || r.Name != "2026-11-10_08:00:00" {
		t.Errorf("latest: %q, %v; want 2026-11-10_08:00:00", r.Name, err)
	}
	if r, err := PickOldRoot(roots[:1], Latest, now); err != nil || r.Name != "2026-11-9_08:00:00" {
		t.Errorf("latest of one: %q, %v", r.Name, err)
	}
	for _, name := range []string{"2026-11-9_08:00:00.1", "2026-12-1_00:00:00"} {
		if r, err := PickOldRoot(roots, name, now); err != nil || r.Name != name {
			t.Errorf("%s: %q, %v", name, r.Name, err)
		}
	}
	if _, err := PickOldRoot(roots, "link", now); err == nil || !strings.Contains(err.Error(), "symlink") {
		t.Errorf("a symlink: %v", err)
	}
	if _, err := PickOldRoot(roots, "sock", now); err == nil {
		t.Error("a socket picked")
	}
	if _, err := PickOldRoot(roots, "2026-1-1_00:00:00", now); !errors.Is(err, ErrNoOldRoot) {
		t.Errorf("missing: %v", err)
	}
	if r, err := PickOldRoot(roots, "manual-backup", now); err != nil || r.Name != "manual-backup" {
		t.Errorf("manual-backup by name: %q, %v", r.Name, err)
	}
	if _, err := PickOldRoot(roots[3:], Latest, now); !errors.Is(err, ErrNoOldRoot) {
		t.Errorf("latest without a subvolume: %v", err)
	}
	// Names that denote the same time find each other: zero-padded or not.
	for name, want := range map[string]string{
		"2026-11-09_08:00:00":   "2026-11-9_08:00:00",
		"2026-11-09_08:00:00.1": "2026-11-9_08:00:00.1",
		"2026-12-01_00:00:00":   "2026-12-1_00:00:00",
	} {
		if r, err := PickOldRoot(roots, name, now); err != nil || r.Name != want {
			t.Errorf("%s: %q, %v; want %s", name, r.Name, err, want)
		}
	}
	if _, err := PickOldRoot(roots, "2026-11-09_08:00:00.2", now); !errors.Is(err, ErrNoOldRoot) {
		t.Errorf("another collision suffix: %v", err)
	}
	// both spellings present: the exact one wins; neither exact: ambiguous
	twins := []OldRoot{mk("2026-11-9_08:00:00", KindSubvolume), mk("2026-11-09_08:00:00", KindSubvolume)}
	if r, err := PickOldRoot(twins, "2026-11-09_08:00:00", now); err != nil || r.Name != "2026-11-09_08:00:00" {
		t.Errorf("exact twin: %q, %v", r.Name, err)
	}
	if _, err := PickOldRoot(twins, "2026-11-9_8:00:00", now); !errors.Is(err, ErrNoOldRoot) {
		t.Errorf("not an old-root name: %v", err)
	}
	jan := []OldRoot{mk("2026-1-9_08:00:00", KindSubvolume), mk("2026-01-09_08:00:00", KindSubvolume)}
	if _, err := PickOldRoot(jan, "2026-01-9_08:00:00", now); err == nil || !strings.Contains(err.Error(), "2026-1-9_08:00:00 and 2026-01-09_08:00:00") {
		t.Errorf("two entries of the same time, neither named exactly: %v", err)
	}
}

// TestLatestIsThePreviousRoot: drift restore --from latest reads the root
// drift check takes as the previous boot's (RecentRoots with PastBoot),
// never one dated after now, which check refuses as the previous root
// ("the clock looks wrong"); before, latest was the newest by name's time
// whatever the clock said (a tester's 2026-12-31_23:59:59 on 2026-12-07).
// A future root alone is an error naming it and how to read it anyway.
func TestLatestIsThePreviousRoot(t *testing.T) {
	now := time.Date(2026, 12, 7, 18, 0, 0, 0, time.UTC)
	mk := func(name string) OldRoot {
		r := OldRoot{Name: name, Path: "old_roots/" + name, Kind: KindSubvolume}
		r.resolveTime(time.UTC)
		return r
	}
	roots := []OldRoot{mk("2026-12-6_09:00:00"), mk("2026-12-31_23:59:59"), mk("2026-12-7_17:54:58")}
	r, err := PickOldRoot(roots, Latest, now)
	if err != nil || r.Name != "2026-12-7_17:54:58" {
		t.Errorf("latest = %q, %v; want 2026-12-7_17:54:58", r.Name, err)
	}
	checks := RecentRoots(roots, []Kind{KindSubvolume}, PastBoot(nil, now), 1)
	if len(checks) != 1 || checks[0].Name != r.Name {
		t.Errorf("check's previous root %+v, restore's latest %q", checks, r.Name)
	}
	if _, err := PickOldRoot(roots[1:2], Latest, now); !errors.Is(err, ErrNoOldRoot) || !strings.Contains(err.Error(), "--from 2026-12-31_23:59:59") {
		t.Errorf("only a future root: %v", err)
	}
	if r, err := PickOldRoot(roots, "2026-12-31_23:59:59", now); err != nil || r.Name != "2026-12-31_23:59:59" {
		t.Errorf("a future root by name: %q, %v", r.Name, err)
	}
}

func TestPreviousRoot(t *testing.T) {
	mk := func(name string, kind Kind, id uint64) OldRoot {
		r := OldRoot{Name: name, Path: "old_roots/" + name, Kind: kind, ID: id}
		r.resolveTime(time.UTC)
		return r
	}
	roots := []OldRoot{
		mk("2026-11-9_08:00:00", KindSubvolume, 257),
		mk("2026-11-10_08:00:00", KindSubvolume, 258), // newest by time; first as a string
		mk("2026-11-30_08:00:00", KindSubvolume, 300), // the live root, a retired one (C18)
		mk("2026-12-1_00:00:00", KindDir, 0),
		mk("link", KindSymlink, 0),
		{Name: "manual-backup", Path: "old_roots/manual-backup", Kind: KindSubvolume, ID: 400, Time: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		{Name: "backup-dir", Path: "old_roots/backup-dir", Kind: KindDir, Time: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	live := func(r OldRoot) bool { return r.ID == 300 }
	subs := []Kind{KindSubvolume}
	if r, ok := PreviousRoot(roots, subs, live); !ok || r.Name != "2026-11-10_08:00:00" {
		t.Errorf("subvolumes, not the live root: %q %v", r.Name, ok)
	}
	if r, ok := PreviousRoot(roots, subs, nil); !ok || r.Name != "2026-11-30_08:00:00" {
		t.Errorf("subvolumes: %q %v", r.Name, ok)
	}
	if r, ok := PreviousRoot(roots, []Kind{KindSubvolume, KindDir}, live); !ok || r.Name != "2026-12-1_00:00:00" {
		t.Errorf("with directories: %q %v", r.Name, ok)
	}
	if r, ok := PreviousRoot(roots[2:3], subs, live); ok {
		t.Errorf("only the live root: picked %q", r.Name)
	}
	if _, ok := PreviousRoot(nil, subs, nil); ok {
		t.Error("none: picked one")
	}
}

func TestOldRootsBeside(t *testing.T) {
	for in, want := range map[string]string{
		"root":                           "old_roots",
		"/root":                          "old_roots",
		"@":                              "old_roots",
		"nixos/@":                        "nixos/old_roots",
		"old_roots/2026-11-5_09:03:07":   "old_roots", // the live root is a retired one (field case C18)
		"x/old_roots/2026-11-5_09:03:07": "x/old_roots",
	} {
		if got := OldRootsBeside(in); got != want {
			t.Errorf("OldRootsBeside(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestOldRootsDir: a directory of old roots on any filesystem, in real time
// order; plain directories and symlinks are told apart, never followed.
func TestOldRootsDir(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"2026-11-9_08:00:00", "2026-11-10_08:00:00", "other"} {
		if err := os.Mkdir(filepath.Join(dir, n), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("/", filepath.Join(dir, "2026-12-1_00:00:00")); err != nil {
		t.Fatal(err)
	}
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(dir, "other"), old, old); err != nil {
		t.Fatal(err)
	}
	roots, err := OldRootsDir(dir, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range roots {
		got = append(got, r.Name+":"+string(r.Kind))
	}
	want := "other:directory 2026-11-9_08:00:00:directory 2026-11-10_08:00:00:directory 2026-12-1_00:00:00:symlink"
	if strings.Join(got, " ") != want {
		t.Errorf("OldRootsDir: %q, want %q", strings.Join(got, " "), want)
	}
	if r, ok := PreviousRoot(roots, []Kind{KindSubvolume, KindDir}, nil); !ok || r.Name != "2026-11-10_08:00:00" {
		t.Errorf("PreviousRoot: %q %v", r.Name, ok)
	}
	if _, err := OldRootsDir(filepath.Join(dir, "missing"), time.UTC); err == nil {
		t.Error("a missing directory: no error")
	}
}
