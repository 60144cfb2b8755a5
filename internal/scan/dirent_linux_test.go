package scan

import (
	"encoding/binary"
	"testing"
)

// rec is one linux_dirent64 record of name, padded to 8 bytes.
func rec(ino uint64, typ uint8, name string) []byte {
	n := (19 + len(name) + 1 + 7) &^ 7
	b := make([]byte, n)
	binary.NativeEndian.PutUint64(b[0:], ino)
	binary.NativeEndian.PutUint16(b[16:], uint16(n))
	b[18] = typ
	copy(b[19:], name)
	return b
}

// TestNextDirent: names come back NUL-terminated with their d_type; ".",
// "..", deleted records are skipped; a record running past the batch ends
// it.
func TestNextDirent(t *testing.T) {
	var buf []byte
	for _, r := range [][]byte{rec(2, 4, "."), rec(1, 4, ".."), rec(0, 8, "gone"), rec(5, 8, "a"), rec(6, 10, "..b")} {
		buf = append(buf, r...)
	}
	bad := rec(7, 8, "cut")
	binary.NativeEndian.PutUint16(bad[16:], uint16(len(bad)+8))
	buf = append(buf, bad...)
	var got []string
	var types []uint8
	for rest := buf; len(rest) > 0; {
		var name []byte
		var typ uint8
		name, typ, rest = NextDirent(rest)
		if name != nil {
			if name[len(name)-1] != 0 {
				t.Fatalf("%q: not NUL-terminated", name)
			}
			got = append(got, string(name[:len(name)-1]))
			types = append(types, typ)
		}
	}
	if len(got) != 2 || got[0] != "a" || got[1] != "..b" || types[0] != 8 || types[1] != 10 {
		t.Errorf("names %q, types %v; want [a ..b], [8 10]", got, types)
	}
}
