package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunWipeHibernated: with a hibernation image on the resume device
// (field case C11), drift wipe touches nothing — it does not even look at
// the device — and exits 0 saying why.
func TestRunWipeHibernated(t *testing.T) {
	dir := t.TempDir()
	swap := filepath.Join(dir, "swap")
	page := os.Getpagesize()
	b := make([]byte, page)
	copy(b[page-10:], "S1SUSPEND")
	if err := os.WriteFile(swap, b, 0o600); err != nil {
		t.Fatal(err)
	}
	// An empty kernel command line, not this machine's: a resume_offset=
	// there would move the header looked at.
	cmdline := filepath.Join(dir, "cmdline")
	if err := os.WriteFile(cmdline, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	opts := &WipeOptions{Device: "/nonexistent", Subvol: "root", OldRoots: "old_roots", KeepDays: 30, KeepMin: 1, Format: "table", Resume: swap, Cmdline: cmdline}
	if err := runWipe(context.Background(), opts, Streams{Out: &out, Err: &errb}); err != nil {
		t.Fatalf("runWipe: %v", err)
	}
	if out.Len() != 0 || !strings.Contains(errb.String(), "hibernation image") {
		t.Errorf("stdout %q, stderr %q", out.String(), errb.String())
	}
	// A plain swap area: the wipe goes on (and fails on the missing device).
	copy(b[page-10:], "SWAPSPACE2")
	if err := os.WriteFile(swap, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := runWipe(context.Background(), opts, Streams{Out: &out, Err: &errb}); err == nil || !strings.Contains(err.Error(), "/nonexistent") {
		t.Errorf("runWipe with plain swap: %v, want the missing device", err)
	}
}

// TestRunWipeHibernatedSwapFile: the common btrfs setup of field case C11 —
// a swap file on the root filesystem, resume=<root partition>
// resume_offset=N on the kernel command line — with an image whose header
// is in page N: drift wipe leaves the filesystem alone, whether the offset
// comes from the command line or from --resume-offset.
func TestRunWipeHibernatedSwapFile(t *testing.T) {
	dir := t.TempDir()
	part := filepath.Join(dir, "root-partition")
	page := os.Getpagesize()
	b := make([]byte, 101*page)
	copy(b[100*page+page-10:], "S1SUSPEND")
	if err := os.WriteFile(part, b, 0o600); err != nil {
		t.Fatal(err)
	}
	cmdline := func(s string) string {
		p := filepath.Join(dir, "cmdline")
		if err := os.WriteFile(p, []byte(s+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	base := WipeOptions{Device: "/nonexistent", Subvol: "root", OldRoots: "old_roots", KeepDays: 30, KeepMin: 1, Format: "table"}
	for _, tc := range []struct {
		name                  string
		cmdline, resume, off  string
		hibernated            bool
		wantErr, wantWarnings string
	}{
		{name: "cmdline", cmdline: "root=fstab resume=" + part + " resume_offset=100 quiet", resume: "auto", off: "auto", hibernated: true},
		{name: "cmdline offset first", cmdline: "resume_offset=100 resume=" + part, resume: "auto", off: "auto", hibernated: true},
		{name: "flags", cmdline: "quiet", resume: part, off: "100", hibernated: true},
		{name: "device flag, offset of the cmdline", cmdline: "resume_offset=100", resume: part, off: "auto", hibernated: true},
		{name: "offset flag over the cmdline", cmdline: "resume=" + part + " resume_offset=7", resume: "auto", off: "100", hibernated: true},
		// The offset is needed: page 0 of the partition holds no image.
		{name: "no offset", cmdline: "resume=" + part, resume: "auto", off: "auto", wantErr: "/nonexistent"},
		{name: "other offset", cmdline: "resume=" + part + " resume_offset=50", resume: "auto", off: "auto", wantErr: "/nonexistent"},
		{name: "none", cmdline: "resume=" + part + " resume_offset=100", resume: "none", off: "auto", wantErr: "/nonexistent"},
		{name: "bad offset", cmdline: "resume=" + part + " resume_offset=0x64", resume: "auto", off: "auto", wantErr: "resume_offset=0x64: expected a decimal number of pages"},
		{name: "bad offset flag", cmdline: "resume=" + part, resume: "auto", off: "-3", wantErr: `--resume-offset "-3"`},
		{name: "missing device", cmdline: "resume=" + part + ".gone resume_offset=100", resume: "auto", off: "auto", wantErr: "/nonexistent", wantWarnings: "is not there: hibernation not checked"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			opts := base
			opts.Cmdline, opts.Resume, opts.ResumeOffset = cmdline(tc.cmdline), tc.resume, tc.off
			err := runWipe(context.Background(), &opts, Streams{Out: &out, Err: &errb})
			if tc.hibernated {
				if err != nil || out.Len() != 0 || !strings.Contains(errb.String(), "holds a hibernation image that was not resumed") || !strings.Contains(errb.String(), "page 100") {
					t.Errorf("runWipe: %v; stdout %q, stderr %q", err, out.String(), errb.String())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("runWipe: %v, want %q", err, tc.wantErr)
			}
			if !strings.Contains(errb.String(), tc.wantWarnings) {
				t.Errorf("stderr %q, want %q", errb.String(), tc.wantWarnings)
			}
		})
	}
}
