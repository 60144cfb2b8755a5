// Package report renders a classified audit as a table, JSON, or path lists.
// It never walks a filesystem.
package report
