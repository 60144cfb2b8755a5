package hashindex

import (
	"fmt"
	"testing"
)

// TestFindAdd: every key added is found at its first index, keys never
// added are not, across the table's growth; duplicates keep the first.
func TestFindAdd(t *testing.T) {
	var keys []string
	var x Index
	hashOf := func(i int) uint64 { return HashString(keys[i]) }
	for i := range 5000 {
		k := fmt.Sprint("/var/lib/d", i%3000) // 2000 repeats
		keys = append(keys, k)
		eq := func(j int) bool { return keys[j] == k }
		j := x.Find(HashString(k), eq)
		switch {
		case i < 3000 && j != -1:
			t.Fatalf("key %q found at %d before it was added", k, j)
		case i >= 3000 && j != i-3000:
			t.Fatalf("key %q found at %d, want %d", k, j, i-3000)
		}
		if j < 0 {
			x.Add(HashString(k), i, hashOf)
		}
	}
	if x.Len() != 3000 {
		t.Errorf("Len %d, want 3000", x.Len())
	}
	if j := x.Find(HashString("/nowhere"), func(int) bool { return false }); j != -1 {
		t.Errorf("a key never added found at %d", j)
	}
}

// TestMixOrder: Mix tells the parts of a key apart by position.
func TestMixOrder(t *testing.T) {
	a, b := HashString("/a"), HashString("/b")
	if Mix(a, b) == Mix(b, a) {
		t.Error("Mix(a, b) == Mix(b, a)")
	}
}

// TestMixSpreads: keys that differ only in a number's high bits (the same
// message and column on other lines) do not share their low bits, which
// would make Index quadratic.
func TestMixSpreads(t *testing.T) {
	msg := HashString("directory /a is declared twice")
	low := map[uint64]bool{}
	for line := range 1000 {
		low[Mix(msg, uint64(line)<<32|3)&1023] = true
	}
	if len(low) < 500 {
		t.Errorf("1000 lines: %d distinct low 10 bits, want most of 1024", len(low))
	}
}

// TestGrow: a table grown for n holds n indexes without rebuilding, and
// what was in it is still found.
func TestGrow(t *testing.T) {
	keys := []string{"/a", "/b"}
	hashOf := func(i int) uint64 { return HashString(keys[i]) }
	var x Index
	x.Add(hashOf(0), 0, hashOf)
	x.Grow(1000, hashOf)
	size := len(x.slots)
	if size < 2002 {
		t.Fatalf("%d slots after Grow(1000), want at least 2002", size)
	}
	for i := 1; i < 1001; i++ {
		if i > 1 {
			keys = append(keys, fmt.Sprint("/k", i))
		}
		x.Add(hashOf(i), i, hashOf)
	}
	if len(x.slots) != size {
		t.Errorf("the table was rebuilt: %d slots, was %d", len(x.slots), size)
	}
	if j := x.Find(HashString("/a"), func(j int) bool { return keys[j] == "/a" }); j != 0 {
		t.Errorf("/a found at %d after Grow, want 0", j)
	}
}
