package mounts

import (
	"slices"
	"testing"
)

// TestRootIndexAt: RootIndex lists the kept mounts of one filesystem and
// root, roots compared clean, in table order; another device, another
// root, or a mount keep refuses is not listed.
func TestRootIndexAt(t *testing.T) {
	tab := New([]Mount{
		{ID: 1, Major: 0, Minor: 30, Root: "/persist/", MountPoint: "/nix/persist"},
		{ID: 2, Major: 0, Minor: 31, Root: "/persist", MountPoint: "/other"},
		{ID: 3, Major: 0, Minor: 30, Root: "/persist/etc", MountPoint: "/etc"},
		{ID: 4, Major: 0, Minor: 30, Root: "/persist", MountPoint: "/skipped"},
		{ID: 5, Major: 0, Minor: 30, Root: "//persist", MountPoint: "/again"},
	})
	ix := tab.RootIndex(func(i int) bool { return tab.Mounts[i].ID != 4 })
	if got, want := ix.At(0, 30, "/persist"), []int{0, 4}; !slices.Equal(got, want) {
		t.Errorf("At(0:30, /persist) = %v, want %v", got, want)
	}
	if got, want := ix.At(0, 31, "/persist"), []int{1}; !slices.Equal(got, want) {
		t.Errorf("At(0:31, /persist) = %v, want %v", got, want)
	}
	if got := ix.At(0, 30, "/persist/etc/ssh"); got != nil {
		t.Errorf("At(0:30, /persist/etc/ssh) = %v, want none", got)
	}
}
