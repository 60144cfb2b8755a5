package units

import "testing"

func TestPluralBytes(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{Plural(0, "path", "paths"), "0 paths"},
		{Plural(1, "path", "paths"), "1 path"},
		{Plural(2, "entry", "entries"), "2 entries"},
		{Bytes(0), "0 B"},
		{Bytes(1023), "1023 B"},
		{Bytes(1024), "1.0 KiB"},
		{Bytes(1536), "1.5 KiB"},
		{Bytes(1 << 30), "1.0 GiB"},
		{Bytes(5 << 40), "5.0 TiB"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
