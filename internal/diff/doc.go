// Package diff classifies scanned entries of a root against the mount table
// and the persistence declarations into the categories of what the next
// boot loses (docs/how-it-works.md, Categories), says what keeps each lost
// path (Audit.Keep: a declaration, drift adopt, or what to do by hand),
// and compares two trees path by path, by content (drift diff). It never
// prints.
package diff
