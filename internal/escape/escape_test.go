package escape

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestName(t *testing.T) {
	for in, want := range map[string]string{
		"/etc/hostname":          "/etc/hostname",
		"/home/a/VirtualBox VMs": "/home/a/VirtualBox VMs",
		"/home/a/المستندات":      "/home/a/المستندات",
		"/a\nb":                  `/a\nb`,
		"/a\tb\rc":               `/a\tb\rc`,
		"/esc\x1b[31mred":        `/esc\x1b[31mred`,
		"/bad\xff\xfe":           `/bad\xff\xfe`,
		`/back\slash`:            `/back\\slash`,
		"/bell\a":                `/bell\x07`,
		"/c1\u009b":              `/c1\xc2\x9b`,
		"/del\x7f":               `/del\x7f`,
	} {
		got := Name(in)
		if got != want {
			t.Errorf("Name(%q) = %q, want %q", in, got, want)
		}
		for _, r := range got {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
				t.Errorf("Name(%q) kept control character %U", in, r)
			}
		}
	}
	// Distinct names stay distinct: the escape of a backslash can't be forged.
	if Name(`/a\nb`) == Name("/a\nb") {
		t.Error("a literal backslash-n and a newline escape the same")
	}
}

// TestUnprintable: the first character Name would escape (other than a
// backslash), where it is, and nothing in a printable name of any script.
func TestUnprintable(t *testing.T) {
	for _, c := range []struct {
		in string
		i  int
		r  rune
	}{
		{"/srv/plain name", -1, 0},
		{`/srv/back\slash`, -1, 0},
		{"/srv/Документы/المستندات", -1, 0},
		{"/srv/a\nb", 6, '\n'},
		{"/srv/a\x1b[31m", 6, 0x1b},
		{"/srv/a\x7f", 6, 0x7f},
		{"/srv/éa\u202eb", 8, 0x202e},
		{"/srv/\xffz", 5, utf8.RuneError},
	} {
		if i, r := Unprintable(c.in); i != c.i || r != c.r {
			t.Errorf("Unprintable(%q) = %d, %U; want %d, %U", c.in, i, r, c.i, c.r)
		}
		if i, _ := Unprintable(c.in); (i >= 0) != (Name(c.in) != strings.ReplaceAll(c.in, `\`, `\\`)) {
			t.Errorf("Unprintable(%q) and Name disagree: %q", c.in, Name(c.in))
		}
	}
}

func TestCopyCommand(t *testing.T) {
	for _, c := range []struct {
		src, dst string
		dir      bool
		want     string
	}{
		{"/nix/persist/var/lib/pg", "/var/lib/pg", true, "cp -a --reflink=auto /nix/persist/var/lib/pg/. /var/lib/pg/"},
		{"/nix/persist/etc/machine-id", "/etc/machine-id", false, "cp -a --reflink=auto /nix/persist/etc/machine-id /etc/machine-id"},
		{"/srv/a b", "/home/it's", true, `cp -a --reflink=auto '/srv/a b/.' '/home/it'"'"'s/'`},
		{"/srv/x\ny", "/d", false, `cp -a --reflink=auto $'/srv/x\ny' /d`},
	} {
		if got := CopyCommand(c.src, c.dst, c.dir); got != c.want {
			t.Errorf("CopyCommand(%q, %q, %v) = %q, want %q", c.src, c.dst, c.dir, got, c.want)
		}
	}
}

// TestDriftCommand: --root only when it is not /, then the audit's flags,
// then the operands, each word quoted for a shell.
func TestDriftCommand(t *testing.T) {
	for _, tc := range []struct {
		sub  []string
		root string
		args []string
		ops  []string
		want string
	}{
		{[]string{"adopt"}, "/", []string{"--persist", "/etc/nixos/p.nix"}, []string{"/var/lib/app"}, "drift adopt --persist /etc/nixos/p.nix /var/lib/app"},
		{[]string{"prune", "--undo", "20261207T185505Z"}, "/mnt/my root", nil, nil, "drift prune --undo 20261207T185505Z --root '/mnt/my root'"},
		{[]string{"adopt", "--prefer", "live"}, "", nil, []string{"/srv/a'b"}, `drift adopt --prefer live '/srv/a'"'"'b'`},
	} {
		if got := DriftCommand(tc.sub, tc.root, tc.args, tc.ops...); got != tc.want {
			t.Errorf("DriftCommand(%q, %q, %q, %q) = %q, want %q", tc.sub, tc.root, tc.args, tc.ops, got, tc.want)
		}
	}
}

// Line writes a space that begins or ends the name as \x20: `read` and
// most line tools trim it, and the paths format lost it (a fresh user's
// "/srv/trailing " read back as "/srv/trailing").
func TestLine(t *testing.T) {
	for in, want := range map[string]string{
		"/srv/a b":        "/srv/a b",
		"/srv/trailing ":  `/srv/trailing\x20`,
		"/srv/two  ":      `/srv/two\x20\x20`,
		" lead":           `\x20lead`,
		"  ":              `\x20\x20`,
		"/srv/x\n ":       `/srv/x\n\x20`,
		`/srv/back\slash`: `/srv/back\\slash`,
		"":                "",
	} {
		if got := Line(in); got != want {
			t.Errorf("Line(%q) = %q, want %q", in, got, want)
		}
	}
}
