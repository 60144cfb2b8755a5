package persist

import (
	"strconv"
	"strings"
	"testing"
)

// lockWith is a flake.lock whose root's nixpkgs input is the node
// "nixpkgs" with original and lastModified as given.
func lockWith(original string, lastModified int64) string {
	return `{"nodes":{"nixpkgs":{"locked":{"lastModified":` + strconv.FormatInt(lastModified, 10) + `,"type":"github"},"original":` + original + `},` +
		`"root":{"inputs":{"nixpkgs":"nixpkgs"}}},"root":"root","version":7}`
}

// TestReadPin: the root's nixpkgs — by node name, through a follows path,
// from a ref or a url — and which stage 1 default it has.
func TestReadPin(t *testing.T) {
	const before, after = 1767225600 - 200*86400, 1767225600 // 2025-06-15, 2026-01-01
	for _, tt := range []struct {
		lock    string
		ref     string
		systemd bool
		known   bool
	}{
		{lockWith(`{"owner":"NixOS","repo":"nixpkgs","ref":"nixos-25.11","type":"github"}`, after), "nixos-25.11", false, true},
		{lockWith(`{"owner":"NixOS","repo":"nixpkgs","ref":"nixos-26.05","type":"github"}`, after), "nixos-26.05", true, true},
		{lockWith(`{"owner":"NixOS","repo":"nixpkgs","ref":"nixos-26.11-small","type":"github"}`, after), "nixos-26.11-small", true, true},
		{lockWith(`{"owner":"NixOS","repo":"nixpkgs","ref":"nixos-unstable","type":"github"}`, before), "nixos-unstable", false, false},
		{lockWith(`{"owner":"NixOS","repo":"nixpkgs","ref":"nixos-unstable","type":"github"}`, 1790000000), "nixos-unstable", true, true}, // 2026-09
		{lockWith(`{"type":"url","url":"github:NixOS/nixpkgs/nixos-25.05"}`, after), "nixos-25.05", false, true},
		{lockWith(`{"type":"git","url":"https://github.com/NixOS/nixpkgs?ref=refs/heads/nixos-26.05"}`, after), "nixos-26.05", true, true},
		{lockWith(`{"id":"nixpkgs","type":"indirect"}`, after), "", false, false},
		// through a follows path: root.nixpkgs follows home-manager's nixpkgs
		{`{"nodes":{"hm":{"inputs":{"nixpkgs":"np"}},"np":{"original":{"ref":"nixos-25.11"}},"root":{"inputs":{"home-manager":"hm","nixpkgs":["home-manager","nixpkgs"]}}},"root":"root","version":7}`, "nixos-25.11", false, true},
	} {
		p, ok, err := ReadPin("flake.lock", []byte(tt.lock))
		if err != nil || !ok {
			t.Errorf("%s: ok %v err %v", tt.lock, ok, err)
			continue
		}
		systemd, known := p.SystemdStage1Default()
		if p.Ref != tt.ref || systemd != tt.systemd || known != tt.known {
			t.Errorf("%s: ref %q systemd %v known %v, want %q %v %v", tt.lock, p.Ref, systemd, known, tt.ref, tt.systemd, tt.known)
		}
	}
	if _, ok, err := ReadPin("flake.lock", []byte(`{"nodes":{"root":{}},"root":"root","version":7}`)); ok || err != nil {
		t.Errorf("no nixpkgs input: ok %v err %v", ok, err)
	}
	if _, _, err := ReadPin("x/flake.lock", []byte(`{`)); err == nil || !strings.Contains(err.Error(), "x/flake.lock: not a flake.lock") {
		t.Errorf("malformed: %v", err)
	}
}
