// Command drift audits an impermanent NixOS root: it tells, before a reboot,
// which files the next boot destroys and why.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/nix-drift/drift/internal/report"
	"golang.org/x/term"
)

// Streams are the standard streams a command runs with; tests replace them.
type Streams struct {
	In       io.Reader
	Out, Err io.Writer
	// ErrIsTerminal is true when Err is a terminal (progress goes there);
	// OutIsTerminal when Out is (--color auto colours only then).
	ErrIsTerminal bool
	OutIsTerminal bool
}

// errLost is returned by a command whose report found something at risk:
// exit status 1.
var errLost = errors.New("something would be lost")

// exitBrokenPipe is the exit status of a command whose output reader went
// away (EPIPE): 128+SIGPIPE, what a shell reports for a death by SIGPIPE.
const exitBrokenPipe = 128 + int(syscall.SIGPIPE)

// hintError carries a hint printed after the error.
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }

func withHint(err error, hint string) error { return &hintError{err: err, hint: hint} }

func main() {
	// A check's heap only grows during the walk (the lost set is kept until
	// the report is written), so the default GOGC=100 collects again and
	// again at 4, 8, 16… MB, each time scanning everything kept so far. At
	// 400 a 1,000,000-entry check runs 25% faster at the same peak RSS
	// (measured: 2.2 s -> 1.7 s, 400 MB either way). GOGC in the
	// environment still wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	os.Exit(mainRun())
}

// mainRun runs drift with the process's arguments and streams and returns the
// exit status: 0 nothing at risk, 1 something at risk, 2 error.
func mainRun() int {
	// A reader that goes away (drift wipe … | head -1) must not kill drift
	// by SIGPIPE before its deferred cleanups (the private top-level mount
	// and its directory): ignored, a write fails with EPIPE instead, and run
	// exits quietly with the status a SIGPIPE death has.
	signal.Ignore(syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st := Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, ErrIsTerminal: term.IsTerminal(int(os.Stderr.Fd())),
		OutIsTerminal: term.IsTerminal(int(os.Stdout.Fd()))}
	return run(ctx, os.Args[1:], st)
}

// run is main without the process: the one place where errors become exit
// statuses and messages.
func run(ctx context.Context, args []string, st Streams) int {
	cmd := newRootCmd(st)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errLost), errors.Is(err, errFindings):
		return 1
	case errors.Is(err, syscall.EPIPE):
		return exitBrokenPipe
	}
	fmt.Fprintf(st.Err, "drift: error: %s\n", report.SafeText(err.Error()))
	var h *hintError
	if errors.As(err, &h) && h.hint != "" {
		fmt.Fprintf(st.Err, "drift: hint: %s\n", report.SafeText(h.hint))
	}
	return 2
}
