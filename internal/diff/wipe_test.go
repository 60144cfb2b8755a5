package diff

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/btrfs"
	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/testutil"
)

// fakeSubvolume makes the root's subvolume appear created at created, with
// drift wipe's mark mark ("" for none), for one test.
func fakeSubvolume(t *testing.T, created time.Time, mark string, err error) {
	t.Helper()
	sv, cb := subvolumeOf, createdBoot
	t.Cleanup(func() { subvolumeOf, createdBoot = sv, cb })
	subvolumeOf = func(string) (btrfs.SubvolumeInfo, error) {
		return btrfs.SubvolumeInfo{ID: 256, Name: "root", ParentID: 5, OTime: created}, err
	}
	createdBoot = func(string) string { return mark }
}

func TestWipeThisBoot(t *testing.T) {
	booted := time.Date(2026, 11, 29, 19, 0, 0, 0, time.UTC)
	decls := []persist.Entry{dir("/etc/nixos")}
	for _, tc := range []struct {
		name    string
		created time.Time
		mark    string
		wiped   bool
	}{
		{"created seconds after boot", booted.Add(4 * time.Second), "", true},
		{"created within the slack before boot", booted.Add(-30 * time.Second), "", true},
		{"created the boot before", booted.Add(-26 * time.Hour), "", false},
		{"created two months ago", booted.AddDate(0, -2, 0), "", false},
		{"just outside the slack", booted.Add(-WipeSlack - time.Second), "", false},
		{"marked by drift wipe at this boot, clock wrong", time.Unix(0, 1), "this-boot", true},
		{"marked at another boot", booted.Add(-26 * time.Hour), "other-boot", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fakeSubvolume(t, tc.created, tc.mark, nil)
			a := check(t, "f /imperm_test/testfile x", btrfsSystem, decls, func(c *Config) {
				c.Boot = func() (Boot, error) { return Boot{Time: booted, ID: "this-boot"}, nil }
			})
			if a.Wipe == nil {
				t.Fatal("no wipe verdict")
			}
			if a.Wipe.WipedThisBoot != tc.wiped || !a.Wipe.RootCreated.Equal(tc.created) || !a.Wipe.BootTime.Equal(booted) {
				t.Errorf("wipe %+v, want wiped=%v", *a.Wipe, tc.wiped)
			}
			msg := a.Wipe.Warning()
			if tc.wiped != (msg == "") {
				t.Errorf("warning %q with wiped=%v", msg, tc.wiped)
			}
			if !tc.wiped && !strings.Contains(msg, tc.created.UTC().Format(time.RFC3339)) {
				t.Errorf("warning %q does not name the creation time", msg)
			}
		})
	}
}

func TestWipeNotChecked(t *testing.T) {
	decls := []persist.Entry{dir("/etc/nixos")}
	fakeSubvolume(t, time.Unix(1, 0), "", nil)
	boot := func() (Boot, error) { return Boot{Time: time.Now()}, nil }
	// No Boot (--root DIR, --mountinfo): no verdict.
	if a := check(t, "d /etc", btrfsSystem, decls, nil); a.Wipe != nil {
		t.Errorf("wipe checked without Config.Boot: %+v", *a.Wipe)
	}
	// A tmpfs root is new at every boot.
	tmpfs := "22 1 0:31 / / rw - tmpfs none rw\n24 22 0:22 / /proc rw - proc proc rw"
	if a := check(t, "d /etc", tmpfs, decls, func(c *Config) { c.Boot = boot }); a.Wipe != nil {
		t.Errorf("wipe checked on a tmpfs root: %+v", *a.Wipe)
	}
	// Unreadable: a warning, no verdict.
	fakeSubvolume(t, time.Time{}, "", errors.New("ENOTTY"))
	a := check(t, "d /etc", btrfsSystem, decls, func(c *Config) { c.Boot = boot })
	if a.Wipe != nil || len(a.Warnings) == 0 || !strings.Contains(a.Warnings[0].Message, "cannot tell whether the wipe ran") {
		t.Errorf("subvolume unreadable: wipe %v, warnings %q", a.Wipe, a.Warnings)
	}
	fakeSubvolume(t, time.Unix(1, 0), "", nil)
	a = check(t, "d /etc", btrfsSystem, decls, func(c *Config) {
		c.Boot = func() (Boot, error) { return Boot{}, errors.New("no /proc/stat") }
	})
	if a.Wipe != nil || len(a.Warnings) == 0 || !strings.Contains(a.Warnings[0].Message, "no /proc/stat") {
		t.Errorf("boot unknown: wipe %v, warnings %q", a.Wipe, a.Warnings)
	}
}

func TestCurrentBoot(t *testing.T) {
	b, err := CurrentBoot()
	if err != nil {
		testutil.SkipOrFatal(t, testutil.RequireHost, err.Error())
	}
	if now := time.Now(); b.Time.After(now) || b.Time.Before(now.AddDate(-5, 0, 0)) {
		t.Errorf("boot time %s, now %s", b.Time, now)
	}
}
