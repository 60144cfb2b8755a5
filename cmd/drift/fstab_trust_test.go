package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestCheckIgnoresHandWrittenFstabOnRoot: /etc/fstab a regular file on
// the root (lost at the wipe, nothing generates it) is no source of what
// the next boot mounts: its bind mount at /postgres-copy is reported
// unmounted like any mount from persistent storage nothing re-makes, and
// suggest does not name the file as what uses the mount's source. The
// same line in NixOS's generated /etc/fstab (a link through /etc/static
// into the store) is trusted: TestCheckFstabBindMountNotUnmounted.
func TestCheckIgnoresHandWrittenFstabOnRoot(t *testing.T) {
	_, args := machine(t, false)
	root := args[slices.Index(args, "--root")+1]
	if err := os.WriteFile(filepath.Join(root, "etc/fstab"), []byte("/nix/persist/var/lib/postgresql /var/lib/postgresql none bind 0 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, out, errs := runDrift(t, append(append([]string{"check"}, args...), "--format", "json")...)
	var rep struct {
		Items []struct {
			Path     string `json:"path"`
			Category string `json:"category"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v: %s\n%s", err, out, errs)
	}
	var unmounted, fstabLost bool
	for _, it := range rep.Items {
		unmounted = unmounted || it.Category == "unmounted" && it.Path == "/var/lib/postgresql"
		fstabLost = fstabLost || it.Path == "/etc/fstab" && it.Category == "unpersisted"
	}
	if !unmounted || !fstabLost {
		t.Errorf("/var/lib/postgresql unmounted %v, /etc/fstab lost %v: %+v", unmounted, fstabLost, rep.Items)
	}
	srep := suggestOf(t, args)
	for _, s := range srep.Suggestions {
		for _, by := range s.UsedBy {
			if strings.Contains(by, "/etc/fstab") {
				t.Errorf("%s used by %q: a hand-written fstab the wipe removes", s.Path, by)
			}
		}
	}
}
