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
	swap := filepath.Join(t.TempDir(), "swap")
	page := os.Getpagesize()
	b := make([]byte, page)
	copy(b[page-10:], "S1SUSPEND")
	if err := os.WriteFile(swap, b, 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	opts := &WipeOptions{Device: "/nonexistent", Subvol: "root", OldRoots: "old_roots", KeepDays: 30, KeepMin: 1, Format: "table", Resume: swap}
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
