// Package safefile opens and reads the files drift reads as input, by
// path or beneath a root (through internal/fsys): a regular file or
// nothing (a FIFO, socket or device is an error naming it, at once, never
// a hang), read up to a size cap, and reads that stop when their context
// is done.
package safefile
