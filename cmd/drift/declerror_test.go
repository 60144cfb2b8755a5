package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
)

// TestQuietNeverHidesADeclarationError: ROOT/etc/drift/declarations.json
// whose only entry is malformed ("directory": 7) leaves no declaration,
// and drift check says the root is not impermanent. With -q the error
// that left the entry out was hidden, and the verdict's only hint was
// about a configuration in persistent storage, though ROOT/etc/nixos
// held it (field case). The error diagnostic is printed with or without
// -q, the verdict names it, and the hint says to correct it.
func TestQuietNeverHidesADeclarationError(t *testing.T) {
	root := t.TempDir()
	testutil.Tree(t, root, "d /etc/drift\nf /etc/nixos/configuration.nix { }\n")
	decl := filepath.Join(root, "etc/drift/declarations.json")
	testutil.Must(t, os.WriteFile(decl, []byte("{\n  \"/nix/persist\": {\n    \"directories\": [\n      {\"directory\": 7}\n    ]\n  }\n}\n"), 0o644))
	mi := filepath.Join(t.TempDir(), "mountinfo")
	testutil.Must(t, os.WriteFile(mi, []byte("22 1 0:31 /root / rw - btrfs /dev/vda2 rw,subvol=/root\n"), 0o644))
	for _, q := range [][]string{nil, {"-q"}} {
		code, _, errs := runDrift(t, append([]string{"check", "--root", root, "--mountinfo", mi, "--format", "paths"}, q...)...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2: %s", q, code, errs)
		}
		cause := decl + ":4:21: error: \"/nix/persist\".directories[0].directory: expected a string, found a number"
		if !strings.Contains(errs, "drift: "+cause+"\n") {
			t.Errorf("%v: the error diagnostic is not printed:\n%s", q, errs)
		}
		if !strings.Contains(errs, "hold no persisted path; what they declare was left out for an error: "+cause) {
			t.Errorf("%v: the verdict does not name its cause:\n%s", q, errs)
		}
		if !strings.Contains(errs, "drift: hint: correct the declarations where the error says") || strings.Contains(errs, "persistent storage, not on the root") {
			t.Errorf("%v: hint:\n%s", q, errs)
		}
	}
}
