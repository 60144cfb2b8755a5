package report

import (
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/persist"
)

// TestShadowedWhyNamesWhatTheMountIs: a file on the root subvolume
// beneath the mount of an undeclared persistent subvolume (/var/log, from
// fileSystems) was explained as lacking from "the copy mount 31 shows",
// though that subvolume is no persistent copy of anything. The WHY names
// the filesystem mounted at /var/log; beneath the bind mount of a declared
// directory it still names the copy.
func TestShadowedWhyNamesWhatTheMountIs(t *testing.T) {
	a := audit()
	a.Decls.Entries = append(a.Decls.Entries, persist.Entry{Kind: persist.Dir, StoragePath: "/nix/persist", Path: "/var/lib/app"})
	a.ShownAt = map[int32]string{31: "/var/log", 32: "/var/lib/app"}
	for _, tc := range []struct {
		it        diff.Item
		want, not string
	}{
		{diff.Item{Path: "/var/log/old.log", Category: diff.Shadowed, Mode: fileMode, Decl: -1, Mount: 31, Copy: diff.CopyMissing},
			"; the filesystem mounted at /var/log (mount 31) lacks it", "copy"},
		{diff.Item{Path: "/var/log/syslog", Category: diff.Shadowed, Mode: fileMode, Decl: -1, Mount: 31, Copy: diff.CopyDiffers},
			"; the filesystem mounted at /var/log (mount 31) has other contents at /var/log/syslog", "copy"},
		{diff.Item{Path: "/var/lib/app/db", Category: diff.Shadowed, Mode: fileMode, Decl: -1, Mount: 32, Copy: diff.CopyMissing},
			"; the copy mount 32 shows lacks it", "filesystem mounted"},
	} {
		got := Why(a, &tc.it)
		if !strings.Contains(got, tc.want) || strings.Contains(got, tc.not) {
			t.Errorf("%s:\n got %s\nwant it to hold %q and not %q", tc.it.Path, got, tc.want, tc.not)
		}
	}
}
