// Package report renders drift's results: a classified audit as a table
// (coloured or not), JSON, path lists or Prometheus text; a comparison of
// two trees (drift diff) as a table, JSON or marked paths; a wipe plan or a
// list of old roots as a table or JSON; a restore's dry-run plan and
// summary; and a scan's progress line on a terminal. It never walks a
// filesystem.
package report
