package escape

import "testing"

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
