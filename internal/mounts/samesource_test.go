package mounts

import "testing"

// TestSameSourcePath: SameSourcePath says what comparing the two
// SourcePath strings says, for roots and paths of every shape join knows
// (a root "/", one ending in "/", a non-path root, a mount point itself).
func TestSameSourcePath(t *testing.T) {
	ms := []Mount{
		{MountPoint: "/", Root: "/root"},
		{MountPoint: "/var/lib", Root: "/lib"},
		{MountPoint: "/nix/persist", Root: "/"},
		{MountPoint: "/p", Root: "/root/p/"},
		{MountPoint: "/x", Root: "net:[4026531840]"},
		{MountPoint: "/var", Root: "/root/var"},
	}
	ps := []string{"/", "/p", "/p/var/lib/d", "/var/lib", "/var/lib/d", "/nix/persist", "/nix/persist/root/p/var/lib/d", "/nix/persist/lib/d", "/x", "/x/a", "/root", "/var/lib/dd"}
	n := 0
	for i := range ms {
		for j := range ms {
			for _, p := range ps {
				for _, q := range ps {
					a, b := ms[i].SourcePath(p), ms[j].SourcePath(q)
					if a == "" || b == "" {
						continue
					}
					if got := SameSourcePath(&ms[i], p, &ms[j], q); got != (a == b) {
						t.Errorf("SameSourcePath(%s at %s, %s at %s) = %v; the paths are %q and %q", p, ms[i].MountPoint, q, ms[j].MountPoint, got, a, b)
					}
					if a == b {
						n++
					}
				}
			}
		}
	}
	if n < 20 {
		t.Errorf("only %d pairs of equal source paths: the test compares too little", n)
	}
}
