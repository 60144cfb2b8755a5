package hashindex

import "hash/maphash"

// Index holds indexes (0 to 2³¹-2) of the items of a slice the caller
// keeps, by the hash of each item's key. Its zero value is empty and
// ready. The caller hashes keys with HashString and Mix (seeded once per
// process, so no input can be written to collide) and says, through eq,
// whether an item has the key looked for. Not safe for concurrent use.
type Index struct {
	slots []int32 // index+1 of an item; 0 is empty
	n     int
}

var seed = maphash.MakeSeed()

// HashString hashes a key that is a string.
func HashString(s string) uint64 { return maphash.String(seed, s) }

// Mix combines the hash a of a key's first part with b, the hash of the
// rest or a number (a line, a column): every bit of both reaches every
// bit of the result, the low ones Index uses first included.
func Mix(a, b uint64) uint64 {
	h := a ^ (b + 0x9E3779B97F4A7C15 + a<<6 + a>>2)
	// MurmurHash3's 64-bit finaliser.
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// Len is the number of indexes added.
func (x *Index) Len() int { return x.n }

// Find returns the first index added with hash h for which eq is true,
// or -1. Expected time: constant.
func (x *Index) Find(h uint64, eq func(i int) bool) int {
	if x.n == 0 {
		return -1
	}
	mask := uint64(len(x.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := x.slots[i]
		if s == 0 {
			return -1
		}
		if eq(int(s - 1)) {
			return int(s - 1)
		}
	}
}

// Add records index i under hash h. hashOf gives the hash of an index
// added before (the table is rebuilt from them as it doubles). Which of
// several indexes added under one key Find returns is not defined: add a
// key once. Amortised time: constant.
func (x *Index) Add(h uint64, i int, hashOf func(i int) uint64) {
	if 2*(x.n+1) > len(x.slots) {
		x.resize(2*(x.n+1), hashOf)
	}
	x.put(h, int32(i+1))
	x.n++
}

// Reset empties x, keeping its table for the next indexes.
func (x *Index) Reset() {
	clear(x.slots)
	x.n = 0
}

// Grow makes room for n more indexes at once (hashOf as for Add): a table
// filled to a known size is allocated once, not doubled into.
func (x *Index) Grow(n int, hashOf func(i int) uint64) {
	if 2*(x.n+n) > len(x.slots) {
		x.resize(2*(x.n+n), hashOf)
	}
}

// resize rebuilds the table with at least min slots (a power of two).
func (x *Index) resize(min int, hashOf func(i int) uint64) {
	size := max(64, len(x.slots))
	for size < min {
		size *= 2
	}
	old := x.slots
	x.slots = make([]int32, size)
	for _, s := range old {
		if s != 0 {
			x.put(hashOf(int(s-1)), s)
		}
	}
}

func (x *Index) put(h uint64, s int32) {
	mask := uint64(len(x.slots) - 1)
	i := h & mask
	for x.slots[i] != 0 {
		i = (i + 1) & mask
	}
	x.slots[i] = s
}
