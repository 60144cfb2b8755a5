// Package report renders drift's results: a classified audit as a table,
// JSON, or path lists, and a wipe plan or a list of old roots as a table or
// JSON. It never walks a filesystem.
package report
