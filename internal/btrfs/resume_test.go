package btrfs

import (
	"os"
	"path/filepath"
	"testing"
)

func TestHibernated(t *testing.T) {
	dir := t.TempDir()
	page := os.Getpagesize()
	for _, tc := range []struct {
		name string
		sig  string
		size int
		want bool
	}{
		{"hibernated", "S1SUSPEND", page, true},
		{"uswsusp", "ULSUSPEND", page, true},
		{"plain swap", "SWAPSPACE2", page, false},
		{"short", "", 100, false},
	} {
		p := filepath.Join(dir, tc.name)
		b := make([]byte, tc.size)
		if tc.sig != "" {
			copy(b[page-10:], tc.sig)
		}
		must(t, os.WriteFile(p, b, 0o600))
		got, err := Hibernated(p)
		if err != nil || got != tc.want {
			t.Errorf("%s: Hibernated = %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
	if _, err := Hibernated(filepath.Join(dir, "missing")); err == nil {
		t.Error("no error for a missing device")
	}
}

func TestResumeDevice(t *testing.T) {
	for in, want := range map[string]string{
		"quiet resume=/dev/vda3 rw":        "/dev/vda3",
		"resume=UUID=1234-abcd":            "/dev/disk/by-uuid/1234-abcd",
		"resume=PARTLABEL=swap init=/init": "/dev/disk/by-partlabel/swap",
		"resume=254:3":                     "",
		"root=/dev/vda2 quiet":             "",
		"noresume":                         "",
	} {
		if got := ResumeDevice(in); got != want {
			t.Errorf("ResumeDevice(%q) = %q, want %q", in, got, want)
		}
	}
}
