package main

import "github.com/nix-drift/drift/internal/prune"

// The four documents drift prune --format json writes (docs/schema/prune-*.json),
// each with the schema version every drift JSON output has.

// pruneRunJSON is a run of drift prune (moved, or planned with --dry-run).
type pruneRunJSON struct {
	Schema  string          `json:"$schema"`
	Version int             `json:"version"`
	DryRun  bool            `json:"dryRun"`
	Batches []prune.Batch   `json:"batches"`
	Refused []prune.Refusal `json:"refused"`
}

// pruneListJSON is drift prune --list: the batches of the quarantine.
type pruneListJSON struct {
	Schema  string        `json:"$schema"`
	Version int           `json:"version"`
	Batches []prune.Batch `json:"batches"`
}

// pruneUndoJSON is drift prune --undo: what was put back.
type pruneUndoJSON struct {
	Schema  string         `json:"$schema"`
	Version int            `json:"version"`
	DryRun  bool           `json:"dryRun"`
	Undone  []prune.Undone `json:"undone"`
}

// pruneEmptyJSON is drift prune empty: the batches emptied by age.
type pruneEmptyJSON struct {
	Schema  string          `json:"$schema"`
	Version int             `json:"version"`
	DryRun  bool            `json:"dryRun"`
	Emptied []prune.Emptied `json:"emptied"`
}
