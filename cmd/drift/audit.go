package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/mounts"
	"github.com/nix-drift/drift/internal/report"
)

// auditFlags are the flags of the audit drift check and drift suggest both
// run: where the mount table comes from, what else is wiped, what to
// ignore, how to look under mount points and where the old roots are.
type auditFlags struct {
	Mountinfo   string
	Ephemeral   []string
	Ignore      []string
	IgnoreFiles []string
	Quiet       bool
	Verbose     bool
	Workers     int
	RootSubvol  string
	OldRoots    string
}

// add defines the flags on cmd; oldRootsHelp says what --old-roots is for
// in that command.
func (a *auditFlags) add(cmd *cobra.Command, oldRootsHelp string) {
	f := cmd.Flags()
	f.StringVar(&a.Mountinfo, "mountinfo", "", "read the mount table from `FILE` instead of /proc/self/mountinfo")
	f.StringArrayVar(&a.Ephemeral, "ephemeral", nil, "also treat the filesystem mounted at `MOUNTPOINT` as wiped at boot (repeatable)")
	f.StringArrayVar(&a.Ignore, "ignore", nil, "ignore lost paths matching `GLOB` (/-anchored path, or a name pattern; repeatable)")
	f.StringArrayVar(&a.IgnoreFiles, "ignore-file", nil, "read ignore globs from `FILE`, one per line, # comments (repeatable)")
	f.BoolVarP(&a.Quiet, "quiet", "q", false, "print no warnings on stderr")
	f.BoolVarP(&a.Verbose, "verbose", "v", false, "say where declarations, mounts and old roots came from")
	f.IntVar(&a.Workers, "workers", 0, fmt.Sprintf("walker threads (0: automatic; at most %d)", maxWorkers))
	f.StringVar(&a.RootSubvol, "root-subvol", "auto", "how to look under mount points on the root: auto (a detached clone of the mount, else the root subvolume through the top level), a subvolume `PATH` in the top level (/root, /@), or none")
	f.StringVar(&a.OldRoots, "old-roots", "auto", oldRootsHelp)
	completeKeywords(cmd, "root-subvol", []string{"auto", "none"}, pathNone)
	completeKeywords(cmd, "old-roots", []string{"auto", "none"}, pathDir)
}

// prepare checks the flags against each other and reads what the walk
// needs besides the declarations: the mount table of root (--mountinfo or
// the live one) and the ignore rules (--ignore, --ignore-file). Errors name
// the flag.
func (a *auditFlags) prepare(root string) (*mounts.Table, *diff.Ignore, error) {
	if err := checkWorkers(a.Workers); err != nil {
		return nil, nil, err
	}
	if a.Mountinfo != "" && a.RootSubvol != "auto" && a.RootSubvol != "none" {
		return nil, nil, fmt.Errorf("--root-subvol %s: needs the live mount table, not --mountinfo", a.RootSubvol)
	}
	table, err := loadMounts(root, a.Mountinfo)
	if err != nil {
		return nil, nil, err
	}
	ig := &diff.Ignore{}
	for _, g := range a.Ignore {
		if err := ig.Add(g, "--ignore"); err != nil {
			return nil, nil, err
		}
	}
	for _, f := range a.IgnoreFiles {
		if err := ig.AddFile(f); err != nil {
			return nil, nil, fmt.Errorf("--ignore-file: %w", err)
		}
	}
	return table, ig, nil
}

// progress starts the progress line of a walk on st.Err when it is a
// terminal and --quiet is off, shown once the walk has run for after; it
// returns the callback for diff.Config.Progress (nil: none) and the
// function that erases the line when the walk is over.
func (a *auditFlags) progress(st Streams, after time.Duration) (func(visited, bytes int64), func()) {
	if !st.ErrIsTerminal || a.Quiet {
		return nil, func() {}
	}
	// Never on stdout, never into a pipe or a file.
	p := report.NewProgress(st.Err, after, time.Now)
	return p.Update, p.Done
}

// sayOldRoots passes on the note of the search for old roots: a warning
// when --old-roots names a directory (not auto or none) and none was found
// there (the user asked for one), a --verbose line otherwise.
func (a *auditFlags) sayOldRoots(st Streams, warn func(string, ...any), note string, noneFound bool) {
	switch {
	case note == "":
	case noneFound && a.OldRoots != "auto" && a.OldRoots != "none":
		warn("--old-roots %s: %s", a.OldRoots, note)
	case a.Verbose:
		fmt.Fprintf(st.Err, "drift: %s\n", report.Escape(note))
	}
}
