package btrfs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
)

// swapImage writes a file of pages pages with sig at the end of page at.
func swapImage(t *testing.T, p string, pages, at int, sig string) {
	t.Helper()
	size := os.Getpagesize()
	b := make([]byte, pages*size)
	copy(b[size-10:], "SWAPSPACE2")
	if sig != "" {
		copy(b[at*size+size-10:], sig)
	}
	testutil.Must(t, os.WriteFile(p, b, 0o600))
}

func TestHibernated(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name      string
		sig       string
		pages, at int
		offset    int64
		want      bool
		wantPage  int64
	}{
		{"hibernated", "S1SUSPEND", 1, 0, 0, true, 0},
		{"uswsusp", "ULSUSPEND", 1, 0, 0, true, 0},
		{"linhib", "LINHIB0001", 1, 0, 0, true, 0},
		{"plain swap", "SWAPSPACE2", 1, 0, 0, false, 0},
		// A swap file on the root filesystem: resume=<partition>
		// resume_offset=100, the image's header in page 100.
		{"swap file", "S1SUSPEND", 101, 100, 100, true, 100},
		{"swap file uswsusp", "ULSUSPEND", 101, 100, 100, true, 100},
		{"swap file plain", "SWAPSPACE2", 101, 100, 100, false, 0},
		// Page 0 is still checked with an offset (a swap partition named
		// with a stale resume_offset=).
		{"page 0 with offset", "S1SUSPEND", 101, 0, 100, true, 0},
		// Without the offset the image in page 100 is not where the
		// kernel looks either.
		{"swap file, no offset", "S1SUSPEND", 101, 100, 0, false, 0},
		{"offset past the end", "S1SUSPEND", 1, 0, 5000, true, 0},
		{"offset past the end, plain", "", 1, 0, 5000, false, 0},
	} {
		p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
		swapImage(t, p, tc.pages, tc.at, tc.sig)
		got, page, err := Hibernated(p, tc.offset)
		if err != nil || got != tc.want || page != tc.wantPage {
			t.Errorf("%s: Hibernated(offset %d) = %v, page %d, %v; want %v, page %d", tc.name, tc.offset, got, page, err, tc.want, tc.wantPage)
		}
	}
	short := filepath.Join(dir, "short")
	testutil.Must(t, os.WriteFile(short, make([]byte, 100), 0o600))
	if got, _, err := Hibernated(short, 0); got || err != nil {
		t.Errorf("short: Hibernated = %v, %v; want false, nil", got, err)
	}
	if _, _, err := Hibernated(filepath.Join(dir, "missing"), 0); err == nil {
		t.Error("no error for a missing device")
	}
	if _, _, err := Hibernated(short, -1); err == nil {
		t.Error("no error for a negative offset")
	}
}

func TestParseResume(t *testing.T) {
	for _, tc := range []struct {
		cmdline string
		want    Resume
	}{
		{"quiet resume=/dev/vda3 rw", Resume{Spec: "/dev/vda3", Device: "/dev/vda3"}},
		{"resume=UUID=1234-abcd", Resume{Spec: "UUID=1234-abcd", Device: "/dev/disk/by-uuid/1234-abcd"}},
		{"resume=PARTUUID=0fc63daf-01 resume_offset=533760", Resume{Spec: "PARTUUID=0fc63daf-01", Device: "/dev/disk/by-partuuid/0fc63daf-01", Offset: 533760, HasOffset: true}},
		{"resume=PARTLABEL=swap init=/init", Resume{Spec: "PARTLABEL=swap", Device: "/dev/disk/by-partlabel/swap"}},
		{"resume=LABEL=root", Resume{Spec: "LABEL=root", Device: "/dev/disk/by-label/root"}},
		// The offset before the device, and the usual btrfs swap file.
		{"resume_offset=100 root=fstab resume=/dev/disk/by-uuid/63e2 rw", Resume{Spec: "/dev/disk/by-uuid/63e2", Device: "/dev/disk/by-uuid/63e2", Offset: 100, HasOffset: true}},
		{"resume=254:3", Resume{Spec: "254:3", Device: "/dev/block/254:3"}},
		{"resume=swap", Resume{Spec: "swap"}},
		{"resume=UUID=", Resume{Spec: "UUID="}},
		// The last of each counts, as in the kernel.
		{"resume=/dev/vda3 resume=/dev/vda4 resume_offset=1 resume_offset=2", Resume{Spec: "/dev/vda4", Device: "/dev/vda4", Offset: 2, HasOffset: true}},
		// resume_offset without resume=: parsed, no device.
		{"resume_offset=100", Resume{Offset: 100, HasOffset: true}},
		{"root=/dev/vda2 quiet", Resume{}},
		{"noresume", Resume{}},
		{"", Resume{}},
		{"resume_offset=0 resume=/dev/vda3", Resume{Spec: "/dev/vda3", Device: "/dev/vda3", HasOffset: true}},
	} {
		got, err := ParseResume(tc.cmdline)
		if err != nil || got != tc.want {
			t.Errorf("ParseResume(%q) = %+v, %v; want %+v", tc.cmdline, got, err, tc.want)
		}
	}
	for _, bad := range []string{"resume=/dev/vda3 resume_offset=0x64", "resume_offset=-1", "resume_offset=", "resume_offset=12abc"} {
		if _, err := ParseResume(bad); err == nil || !strings.Contains(err.Error(), "resume_offset=") {
			t.Errorf("ParseResume(%q): %v, want an error naming resume_offset=", bad, err)
		}
	}
	// The device is kept with the error (a --resume-offset given instead).
	if r, err := ParseResume("resume=/dev/vda3 resume_offset=x"); err == nil || r.Device != "/dev/vda3" {
		t.Errorf("ParseResume with a bad offset = %+v, %v", r, err)
	}
}
