package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"time"

	"github.com/spf13/cobra"

	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/escape"
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
	// CPUProfile (hidden flag) is where a Go CPU profile of the run goes
	// (for performance reports; "": none).
	CPUProfile string
}

// add defines the flags on cmd; oldRootsHelp says what --old-roots is for
// in that command.
func (a *auditFlags) add(cmd *cobra.Command, oldRootsHelp string) {
	f := cmd.Flags()
	f.StringVar(&a.Mountinfo, "mountinfo", "", "read the mount table from `FILE` instead of /proc/self/mountinfo (- for stdin)")
	f.StringArrayVar(&a.Ephemeral, "ephemeral", nil, "also treat the filesystem mounted at `MOUNTPOINT` as wiped at boot (repeatable)")
	f.StringArrayVar(&a.Ignore, "ignore", nil, "ignore lost paths matching `GLOB` (/-anchored path, or a name pattern; repeatable)")
	f.StringArrayVar(&a.IgnoreFiles, "ignore-file", nil, "read ignore globs from `FILE`, one per line, # comments (repeatable; - for stdin)")
	f.BoolVarP(&a.Quiet, "quiet", "q", false, "print no warnings on stderr (errors still, those in the declarations too)")
	f.BoolVarP(&a.Verbose, "verbose", "v", false, "say where declarations, mounts and old roots came from")
	f.IntVar(&a.Workers, "workers", 0, fmt.Sprintf("walker threads (0: automatic; at most %d)", maxWorkers))
	f.StringVar(&a.RootSubvol, "root-subvol", "auto", "how to look under mount points on the root: auto (a detached clone of the mount, else the root subvolume through the top level), a subvolume `PATH` in the top level (/root, /@), or none")
	f.StringVar(&a.OldRoots, "old-roots", "auto", oldRootsHelp)
	f.StringVar(&a.CPUProfile, "cpuprofile", "", "write a Go CPU profile to `FILE` (for performance reports)")
	_ = f.MarkHidden("cpuprofile")
	completeKeywords(cmd, "root-subvol", []string{"auto", "none"}, pathNone)
	completeKeywords(cmd, "old-roots", []string{"auto", "none"}, pathDir)
}

// options checks the flags (and d's, declFlags.resolve) against each
// other and returns the audit.Options they make; the command adds its own.
// Errors name the flag.
func (a *auditFlags) options(ctx context.Context, d *declFlags, st Streams) (audit.Options, error) {
	if err := checkWorkers(a.Workers); err != nil {
		return audit.Options{}, err
	}
	ins := append(flagInputs("--persist", d.Persist...), flagInputs("--mountinfo", a.Mountinfo)...)
	if err := stdinOnce(append(ins, flagInputs("--ignore-file", a.IgnoreFiles...)...)); err != nil {
		return audit.Options{}, err
	}
	root, homes, err := d.resolve()
	if err != nil {
		return audit.Options{}, err
	}
	ig, err := ignoreRules(ctx, a.Ignore, a.IgnoreFiles, st.In)
	if err != nil {
		return audit.Options{}, err
	}
	return audit.Options{Root: root, Persist: d.Persist, Flake: d.Flake, Stdin: st.In, Homes: homes,
		Mountinfo: a.Mountinfo, Ephemeral: a.Ephemeral, Ignore: ig, Workers: a.Workers,
		RootSubvol: a.RootSubvol, OldRoots: a.OldRoots, Say: a.say(st)}, nil
}

// profile starts the CPU profile --cpuprofile names, if any; call stop
// when the command is done. Errors name the flag.
func (a *auditFlags) profile() (stop func(), err error) {
	if a.CPUProfile == "" {
		return func() {}, nil
	}
	f, err := os.Create(a.CPUProfile)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// ignoreRules reads --ignore GLOB and --ignore-file FILE (drift check,
// suggest, diff …; - reads stdin, which stdinOnce let it); errors name the
// flag, and ctx's error is returned as it is.
func ignoreRules(ctx context.Context, globs, files []string, stdin io.Reader) (*diff.Ignore, error) {
	ig := &diff.Ignore{}
	for _, g := range globs {
		if err := ig.Add(g, "--ignore"); err != nil {
			return nil, err
		}
	}
	for _, f := range files {
		var err error
		if f == "-" {
			err = ig.AddStream(ctx, stdin, stdinName)
		} else {
			err = ig.AddFile(f)
		}
		if err != nil && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil {
			return nil, fmt.Errorf("--ignore-file: %w", err)
		}
	}
	return ig, nil
}

// say renders what the audit says on the way (audit.Said) on st.Err:
// notes with --verbose; unless --quiet, warnings and the declarations'
// diagnostics (as printDiagnostic does); their errors always (diagError:
// --quiet never hides an error).
func (a *auditFlags) say(st Streams) func(audit.Said) {
	return func(s audit.Said) {
		switch {
		case s.Note:
			if a.Verbose {
				fmt.Fprintf(st.Err, "drift: %s\n", escape.Name(s.Message))
			}
		case diagError(s):
			printDiagnostic(st, *s.Diagnostic, a.Verbose)
		case a.Quiet:
		case s.Diagnostic != nil:
			printDiagnostic(st, *s.Diagnostic, a.Verbose)
		default:
			printWarning(st, s.Warning)
		}
	}
}

// printWarning prints w on st.Err, escaped.
func printWarning(st Streams, w diff.Warning) {
	fmt.Fprintf(st.Err, "drift: warning: %s\n", escape.Name(w.Message))
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

// build is audit.Build with the progress line of the walk on st.Err (see
// progress), erased when the model is complete or the build fails. Close
// the Model when done.
func (a *auditFlags) build(ctx context.Context, st Streams, o audit.Options, after time.Duration) (*audit.Model, error) {
	var end func()
	o.Progress, end = a.progress(st, after)
	defer end()
	return audit.Build(ctx, o)
}
