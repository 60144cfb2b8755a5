package audit

import (
	"math/rand"
	"slices"
	"testing"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/persist"
)

// TestUnpersistableAgreesWithTheScan: Unpersistable, answered from the
// index of the mount points (a lookup per component of the path and the
// mount points below it), names the mount point a scan of every mount
// point in byte order names first, on random paths over a few names that
// nest and repeat (mount points written unclean among them, as
// /etc/fstab may).
func TestUnpersistableAgreesWithTheScan(t *testing.T) {
	r := rand.New(rand.NewSource(13))
	names := []string{"a", "b", "a-b", "c"}
	randPath := func() string {
		p := ""
		for range r.Intn(4) {
			p += "/" + names[r.Intn(len(names))]
		}
		if p == "" {
			return "/"
		}
		if r.Intn(8) == 0 {
			p += "/"
		}
		return p
	}
	for round := range 500 {
		m := &Model{Decls: &persist.Set{}, Audit: &diff.Audit{}}
		for range r.Intn(6) {
			m.mountPoints = append(m.mountPoints, randPath())
		}
		slices.Sort(m.mountPoints)
		m.mountPoints = slices.Compact(m.mountPoints)
		for range r.Intn(3) {
			m.Decls.Entries = append(m.Decls.Entries, persist.Entry{Kind: persist.Dir, Path: randPath()})
		}
		for range r.Intn(3) {
			m.Audit.Ephemeral = append(m.Audit.Ephemeral, mounts.Mount{MountPoint: randPath()})
		}
		for range 8 {
			p := randPath()
			if got, want := m.Unpersistable(p), scanUnpersistable(m, p); got != want {
				t.Fatalf("round %d: Unpersistable(%s) with mount points %q, declarations %v, ephemeral %v: %q, the scan %q", round, p, m.mountPoints, m.Decls.Entries, m.Audit.Ephemeral, got, want)
			}
		}
	}
}

// scanUnpersistable is Unpersistable's scan of every mount point before
// the index.
func scanUnpersistable(m *Model, p string) string {
	for _, api := range apiFilesystems {
		if pathx.Contains(api, p) {
			return api + " is an API filesystem systemd mounts at boot"
		}
	}
	declaredAt := func(mp string) bool {
		return slices.ContainsFunc(m.Decls.Entries, func(e persist.Entry) bool { return e.Path == mp })
	}
	ephemeralAt := func(mp string) bool {
		return slices.ContainsFunc(m.Audit.Ephemeral, func(e mounts.Mount) bool { return e.MountPoint == mp })
	}
	for _, mp := range m.mountPoints {
		if p == mp || pathx.Contains(p, mp) && !declaredAt(mp) || pathx.Contains(mp, p) && !ephemeralAt(mp) {
			return mp + " is the mount point of another filesystem"
		}
	}
	return ""
}
