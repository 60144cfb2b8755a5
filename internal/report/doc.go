// Package report renders drift's results: a classified audit as a table,
// JSON, or path lists, a comparison of two trees (drift diff) as a table,
// JSON or marked paths, and a wipe plan or a list of old roots as a table or
// JSON. It never walks a filesystem.
package report
