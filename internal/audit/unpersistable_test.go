package audit

import (
	"math/rand"
	"runtime"
	"slices"
	"strconv"
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

// TestMountIndexAllocBound: the index Unpersistable answers from holds
// what it needs of the declarations, whether each mount point is
// declared, not every declared path: with 200,000 declarations and 3
// mount points it allocates under 1 byte a declaration (a map of the
// declared paths allocated about 70), and still says which mount point is
// declared.
func TestMountIndexAllocBound(t *testing.T) {
	const n = 200000
	m := &Model{Decls: &persist.Set{}, Audit: &diff.Audit{Ephemeral: []mounts.Mount{{MountPoint: "/"}}}, mountPoints: []string{"/", "/boot", "/var/lib/d7"}}
	for i := range n {
		m.Decls.Entries = append(m.Decls.Entries, persist.Entry{Kind: persist.Dir, Path: "/var/lib/d" + strconv.Itoa(i)})
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	mx := m.newMountIndex()
	runtime.ReadMemStats(&after)
	if per := float64(after.TotalAlloc-before.TotalAlloc) / n; per > 1 {
		t.Errorf("%.1f bytes allocated a declaration, want under 1", per)
	}
	if !mx.declared["/var/lib/d7"] || mx.declared["/boot"] {
		t.Errorf("declared mount points %v, want /var/lib/d7 alone", mx.declared)
	}
	if got := m.Unpersistable("/var/lib"); got != "" {
		t.Errorf("Unpersistable(/var/lib) = %q: /var/lib/d7 below it is declared", got)
	}
}
