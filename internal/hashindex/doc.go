// Package hashindex finds items of a slice by a key of theirs, holding only
// the items' indexes: an open-addressing hash table of 4 bytes a slot at a
// load of at most one half, where a Go map of the keys costs tens of bytes
// an item (a million declarations: 8 MiB, not 100).
package hashindex
