package persist

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Pin is the nixpkgs a flake.lock pins for its flake: the branch it
// follows and when the locked revision was committed. It tells which
// defaults apply to a configuration read statically (drift lint's
// wipe-not-run: boot.initrd.systemd.enable).
type Pin struct {
	File string // the flake.lock's name
	// Ref is the branch or tag followed ("nixos-25.11", "nixos-unstable");
	// "" when the lock names none (the default branch, or the registry).
	Ref string
	// LastModified is the locked revision's commit time (zero when the
	// lock has none).
	LastModified time.Time
}

// systemdStage1Release is the first NixOS release whose stage 1 is systemd
// by default (nixpkgs PR #435781); unstableAfter is when it was released,
// so that an unstable branch locked later has it.
const systemdStage1Release = "26.05"

var unstableAfter = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

var releaseRef = regexp.MustCompile(`^(?:nixos|nixpkgs|release)-(\d\d\.\d\d)(?:-small|-darwin)?$`)

// Release is the NixOS release of a release branch ("25.11" for
// nixos-25.11, nixos-25.11-small, release-25.11), "" for another ref.
func (p Pin) Release() string {
	if m := releaseRef.FindStringSubmatch(p.Ref); m != nil {
		return m[1]
	}
	return ""
}

// SystemdStage1Default says whether boot.initrd.systemd.enable defaults
// to true in the pinned nixpkgs, and whether that is known: a release
// branch before or from 26.05, or an unstable branch (nixos-unstable,
// nixpkgs-unstable, master) locked after 26.05 was released. An unstable
// branch locked earlier, or no branch, is not known.
func (p Pin) SystemdStage1Default() (systemd, known bool) {
	if r := p.Release(); r != "" {
		return r >= systemdStage1Release, true
	}
	switch strings.TrimSuffix(p.Ref, "-small") {
	case "nixos-unstable", "nixpkgs-unstable", "master":
		if !p.LastModified.IsZero() && p.LastModified.After(unstableAfter) {
			return true, true
		}
	}
	return false, false
}

// String names the pin for a message: "nixos-25.11 in flake.lock".
func (p Pin) String() string {
	s := p.Ref
	if !p.LastModified.IsZero() && p.Release() == "" {
		s += " of " + p.LastModified.UTC().Format("2006-01-02")
	}
	return s + " in " + p.File
}

// ReadPin reads the root flake's nixpkgs input from a flake.lock (name
// for messages): the node the root's input "nixpkgs" names (directly, or
// through a follows path), its original ref (or the last part of an
// original url) and locked lastModified. ok is false when the root has
// no nixpkgs input; malformed JSON is an error naming the file.
func ReadPin(name string, data []byte) (pin Pin, ok bool, err error) {
	type node struct {
		Inputs map[string]json.RawMessage `json:"inputs"`
		Locked struct {
			LastModified int64 `json:"lastModified"`
		} `json:"locked"`
		Original struct {
			Ref string `json:"ref"`
			URL string `json:"url"`
		} `json:"original"`
	}
	var lock struct {
		Nodes map[string]node `json:"nodes"`
		Root  string          `json:"root"`
	}
	if err := json.Unmarshal(data, &lock); err != nil {
		return Pin{}, false, fmt.Errorf("%s: not a flake.lock: %w", name, err)
	}
	// input resolves an input of node n: a node name, or a follows path
	// from the root.
	var input func(n node, in string, depth int) (node, bool)
	input = func(n node, in string, depth int) (node, bool) {
		raw, ok := n.Inputs[in]
		if !ok || depth > 16 {
			return node{}, false
		}
		var direct string
		if json.Unmarshal(raw, &direct) == nil {
			d, ok := lock.Nodes[direct]
			return d, ok
		}
		var path []string
		if json.Unmarshal(raw, &path) != nil || len(path) == 0 {
			return node{}, false
		}
		cur := lock.Nodes[lock.Root]
		for _, p := range path {
			var ok bool
			if cur, ok = input(cur, p, depth+1); !ok {
				return node{}, false
			}
		}
		return cur, true
	}
	root, ok := lock.Nodes[lock.Root]
	if !ok {
		return Pin{}, false, nil
	}
	n, ok := input(root, "nixpkgs", 0)
	if !ok {
		return Pin{}, false, nil
	}
	pin = Pin{File: name, Ref: n.Original.Ref}
	if pin.Ref == "" && n.Original.URL != "" {
		_, query, _ := strings.Cut(n.Original.URL, "?")
		for _, kv := range strings.Split(query, "&") {
			if r, ok := strings.CutPrefix(kv, "ref="); ok {
				pin.Ref = strings.TrimPrefix(r, "refs/heads/")
			}
		}
	}
	if pin.Ref == "" && n.Original.URL != "" {
		u, _, _ := strings.Cut(n.Original.URL, "?")
		if i := strings.LastIndexByte(u, '/'); i >= 0 && strings.Count(u[strings.Index(u, ":")+1:], "/") >= 2 {
			pin.Ref = u[i+1:]
		}
	}
	if n.Locked.LastModified > 0 {
		pin.LastModified = time.Unix(n.Locked.LastModified, 0).UTC()
	}
	return pin, true, nil
}
