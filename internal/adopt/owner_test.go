package adopt

import "testing"

// TestParseModeAsChmod: declared modes, octal and symbolic, read as chmod
// and install read them (symbolic applied to 0); bad ones are errors.
func TestParseModeAsChmod(t *testing.T) {
	for _, c := range []struct {
		in   string
		want uint32
	}{
		{"0700", 0o700}, {"755", 0o755}, {"1777", 0o1777},
		{"u=rwx,g=rx,o=", 0o750}, {"u=rwx,g=,o=", 0o700}, {"a=rx,u+w", 0o755},
		{"=rwx", 0o777}, {"u=rwx,go=rX", 0o755}, {"u=rwxs,g=x", 0o4710}, {"a=rwx,o-w", 0o775},
	} {
		got, err := ParseMode(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseMode(%q) = %04o, %v; want %04o", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "0800", "77777", "u", "u=rwq", "rwx", "u=rwx,,"} {
		if m, err := ParseMode(bad); err == nil {
			t.Errorf("ParseMode(%q) = %04o, want an error", bad, m)
		}
	}
}
