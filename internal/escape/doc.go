// Package escape makes file names and messages safe to print on a terminal
// or in JSON: no raw control, bidi or invalid byte ever gets through.
package escape
