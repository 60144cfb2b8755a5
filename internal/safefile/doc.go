// Package safefile opens and reads the files drift reads as input: a
// regular file or nothing (a FIFO, socket or device is an error naming it,
// at once, never a hang), and reads that stop when their context is done.
package safefile
