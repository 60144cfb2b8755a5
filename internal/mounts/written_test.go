package mounts

import "testing"

// TestShowsAsWritten: the path is not cleaned, so a ".." stays a name; Shows
// cleans it first.
func TestShowsAsWritten(t *testing.T) {
	tab := New([]Mount{{ID: 1, MountPoint: "/"}, {ID: 2, MountPoint: "/srv"}, {ID: 3, MountPoint: "/srv/x"}})
	for _, tc := range []struct {
		p              string
		written, shows int // mount IDs, 0 for nil
	}{
		{"/srv/x/../y", 3, 2},
		{"/srv/x/./y", 3, 3},
		{"/srv//x", 2, 3},
		{"/srv/x/", 3, 3},
		{"/srvx", 1, 1},
		{"/", 1, 1},
		{"srv/x", 0, 0},
		{"", 0, 0},
	} {
		id := func(m *Mount) int {
			if m == nil {
				return 0
			}
			return m.ID
		}
		if got := id(tab.ShowsAsWritten(tc.p)); got != tc.written {
			t.Errorf("ShowsAsWritten(%q) = mount %d, want %d", tc.p, got, tc.written)
		}
		if got := id(tab.Shows(tc.p)); got != tc.shows {
			t.Errorf("Shows(%q) = mount %d, want %d", tc.p, got, tc.shows)
		}
	}
}
