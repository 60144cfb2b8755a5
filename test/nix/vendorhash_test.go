package nixtest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

var vendorHashRe = regexp.MustCompile(`(?m)^(\s*vendorHash = ")([^"]*)(";)`)

// vendorHashInPackage returns the vendorHash written in nix/package.nix.
func vendorHashInPackage(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "nix/package.nix"))
	if err != nil {
		t.Fatal(err)
	}
	m := vendorHashRe.FindSubmatch(data)
	if m == nil {
		t.Fatal("nix/package.nix: no vendorHash = \"…\"; line")
	}
	return string(m[2])
}

// narWriter writes the Nix archive (NAR) serialisation of a file tree, the
// bytes whose SHA-256 `nix hash path` prints: every string as its length
// (64-bit little endian), its bytes and zero padding to 8 bytes; a tree as
// "nix-archive-1" then nested ( type regular|symlink|directory … ) nodes,
// directory entries sorted by name, executable regular files marked.
type narWriter struct{ w io.Writer }

func (n narWriter) str(s string) {
	var l [8]byte
	binary.LittleEndian.PutUint64(l[:], uint64(len(s)))
	n.w.Write(l[:])
	io.WriteString(n.w, s)
	if pad := (8 - len(s)%8) % 8; pad > 0 {
		n.w.Write(make([]byte, pad))
	}
}

func (n narWriter) node(p string) error {
	fi, err := os.Lstat(p)
	if err != nil {
		return err
	}
	n.str("(")
	switch {
	case fi.Mode().IsRegular():
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		n.str("type")
		n.str("regular")
		if fi.Mode()&0o111 != 0 {
			n.str("executable")
			n.str("")
		}
		n.str("contents")
		n.str(string(data))
	case fi.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(p)
		if err != nil {
			return err
		}
		n.str("type")
		n.str("symlink")
		n.str("target")
		n.str(target)
	case fi.IsDir():
		n.str("type")
		n.str("directory")
		ents, err := os.ReadDir(p)
		if err != nil {
			return err
		}
		names := make([]string, len(ents))
		for i, e := range ents {
			names[i] = e.Name()
		}
		sort.Strings(names) // byte order, as Nix sorts
		for _, name := range names {
			n.str("entry")
			n.str("(")
			n.str("name")
			n.str(name)
			n.str("node")
			if err := n.node(filepath.Join(p, name)); err != nil {
				return err
			}
			n.str(")")
		}
	default:
		return fmt.Errorf("%s: not a regular file, symlink or directory", p)
	}
	n.str(")")
	return nil
}

// narHash is the SRI form of the SHA-256 of p's NAR serialisation: what
// `nix hash path p` prints, and what buildGoModule's vendorHash is of the
// vendor directory.
func narHash(p string) (string, error) {
	var h hash.Hash = sha256.New()
	n := narWriter{h}
	n.str("nix-archive-1")
	if err := n.node(p); err != nil {
		return "", err
	}
	return "sha256-" + base64.StdEncoding.EncodeToString(h.Sum(nil)), nil
}

// vendorDir makes the vendor directory buildGoModule makes: `go mod
// vendor` in a copy of the module (go.mod, go.sum and every .go file, so
// that the packages the code imports are the ones vendored).
func vendorDir(t *testing.T) string {
	t.Helper()
	root := repoRoot(t)
	dir := t.TempDir()
	copyFiles(t, root, dir, "go.mod", "go.sum")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "vendor") {
			return fs.SkipDir
		}
		if d.Type().IsRegular() && strings.HasSuffix(p, ".go") {
			rel, _ := filepath.Rel(root, p)
			copyFiles(t, root, dir, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "mod", "vendor")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go mod vendor: %v\n%s", err, out)
	}
	return filepath.Join(dir, "vendor")
}

// TestVendorHash recomputes nix/package.nix's vendorHash from go.mod,
// go.sum and the imports, so that it cannot silently go stale (a stale
// hash fails the Nix build with a hash mismatch). go test -update rewrites
// it (scripts/vendor-hash.sh). With nix installed, the NAR hash computed
// here is checked against `nix hash path`.
func TestVendorHash(t *testing.T) {
	vendor := vendorDir(t)
	got, err := narHash(vendor)
	if err != nil {
		t.Fatal(err)
	}
	if nix, err := exec.LookPath("nix"); err == nil {
		out, err := exec.Command(nix, "--extra-experimental-features", "nix-command", "hash", "path", vendor).Output()
		if err != nil {
			t.Fatalf("nix hash path: %v", err)
		}
		if want := strings.TrimSpace(string(out)); got != want {
			t.Fatalf("NAR hash %s, nix hash path says %s", got, want)
		}
	}
	have := vendorHashInPackage(t)
	if got == have {
		return
	}
	if *update {
		p := filepath.Join(repoRoot(t), "nix/package.nix")
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		data = vendorHashRe.ReplaceAll(data, []byte("${1}"+got+"${3}"))
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("nix/package.nix: vendorHash %s -> %s", have, got)
		return
	}
	t.Errorf("nix/package.nix has vendorHash %q, but go.mod, go.sum and the imports give %q: run scripts/vendor-hash.sh", have, got)
}

// TestNarHash: the serialisation of a small tree with every node kind has
// the hash Nix gives it (computed with nix hash path, Nix 2.8).
func TestNarHash(t *testing.T) {
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "b/c"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "a.txt"), []byte("hello\n"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "b/run"), []byte("#!/bin/sh\n"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "b/c/empty"), nil, 0o644))
	must(os.Symlink("../a.txt", filepath.Join(dir, "b/link")))
	got, err := narHash(dir)
	if err != nil {
		t.Fatal(err)
	}
	const want = "sha256-i3B8A/rwoMQadtkWVKHil1XejLaABOGwRMdN2VrpWLs="
	if got != want {
		t.Errorf("narHash = %s, want %s", got, want)
	}
}
