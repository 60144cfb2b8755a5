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
	"strings"
	"syscall"

	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/persist"
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
	// A soft limit keeps that from growing the heap past what the design
	// allows (peak RSS under 300 MiB at 1,000,000 entries): near it the
	// collector runs more often instead (a check with a previous root
	// writing 290,000 rows: 400 MB -> see scripts/bench.sh HISTORY=1).
	// Not lower: a check with a previous root keeps about 170 MB live
	// after its walk of 1,000,000 lost paths, and at 224 MiB the
	// collector then ran 3 more times over it (1.6 s of CPU, gctrace) for
	// the last 25 MB the history and the report allocate; at 240 MiB it
	// runs once (peak RSS 231 -> 236 MiB). GOMEMLIMIT in the environment
	// still wins.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(240 << 20)
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
	ctx, stop := interruptContext(func(code int) {
		// The command may be cut anywhere (mid-record on a stalled pipe):
		// say so, as the first signal's safe stop does.
		fmt.Fprintf(os.Stderr, "drift: interrupted by %s\n", signalName(syscall.Signal(code-128)))
		os.Exit(code)
	})
	defer stop()
	st := Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, ErrIsTerminal: term.IsTerminal(int(os.Stderr.Fd())),
		OutIsTerminal: term.IsTerminal(int(os.Stdout.Fd()))}
	return run(ctx, os.Args[1:], st)
}

// interrupted is the cause of the context cancelled by a SIGINT or SIGTERM.
type interrupted struct{ sig syscall.Signal }

func (i interrupted) Error() string { return "interrupted by " + signalName(i.sig) }

// exitStatus is what a shell reports for a death by the signal: 128+n
// (130 for SIGINT, 143 for SIGTERM).
func (i interrupted) exitStatus() int { return 128 + int(i.sig) }

func signalName(s syscall.Signal) string {
	if s == syscall.SIGTERM {
		return "SIGTERM"
	}
	return "SIGINT"
}

// interruptContext returns a context that the first SIGINT or SIGTERM
// cancels (cause: interrupted), so a command stops at its next safe point
// and runs its cleanups: drift wipe between two steps (each one rename or
// subvolume ioctl, resumable by running it again), drift restore by
// removing its temporary copy (the destination is only ever replaced by
// one rename), drift lint between inputs and inside long reads. A second
// signal calls exit at once with 128+signal: what a user pressing Ctrl-C
// again asks for. The atomic steps stay atomic even then (a rename either
// happened or did not); only a temporary copy may be left behind, which
// the next run clears or ignores (the top level's mount is detached, gone
// with the process).
func interruptContext(exit func(int)) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		first := true
		for {
			select {
			case <-done:
				return
			case s := <-ch:
				sig, _ := s.(syscall.Signal)
				if first {
					first = false
					cancel(interrupted{sig})
					continue
				}
				exit(128 + int(sig))
			}
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(done)
		cancel(nil)
	}
}

// run is main without the process: the one place where errors become exit
// statuses and messages.
func run(ctx context.Context, args []string, st Streams) int {
	cmd := newRootCmd(st)
	cmd.SetArgs(args)
	return exitStatus(ctx, argsError(cmd, args, cmd.ExecuteContext(ctx)), st.Err)
}

// exitStatus prints err (unless it is one of the statuses that are not
// errors) and returns the documented exit status for it: 0, 1 (errLost,
// errFindings: the report is complete), 2, 141 (EPIPE), or 128+signal when
// a SIGINT or SIGTERM cut the command short (ctx's cause is interrupted).
// A command that finished before the signal keeps its own status.
func exitStatus(ctx context.Context, err error, stderr io.Writer) int {
	var intr interrupted
	finished := err == nil || errors.Is(err, errLost) || errors.Is(err, errFindings)
	if !finished && errors.As(context.Cause(ctx), &intr) {
		// "context canceled" says nothing the user does not know; any
		// other error (a step that failed before) is still printed.
		if !errors.Is(err, context.Canceled) {
			printError(stderr, err)
		}
		fmt.Fprintf(stderr, "drift: %s\n", intr.Error())
		return intr.exitStatus()
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errLost), errors.Is(err, errFindings):
		return 1
	case errors.Is(err, syscall.EPIPE):
		return exitBrokenPipe
	}
	printError(stderr, err)
	return 2
}

// printError prints err and its hint, if any, each on one line escaped
// (escape.Text: a newline in a name is \n, never a line of its own); the
// output of a failed nix run follows on lines of its own, indented.
func printError(w io.Writer, err error) {
	var re readErrors
	if errors.As(err, &re) {
		for _, e := range re {
			printError(w, e)
		}
		return
	}
	msg, output := err.Error(), ""
	var ne *persist.NixError
	if errors.As(err, &ne) {
		if m, ok := strings.CutSuffix(msg, ":\n"+ne.Output); ok {
			msg, output = m+":", ne.Output
		}
	}
	fmt.Fprintf(w, "drift: error: %s\n", escape.Text(msg))
	if output != "" {
		for _, l := range strings.Split(escape.Lines(output), "\n") {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
	var h *hintError
	var ah *audit.HintError
	switch {
	case errors.As(err, &h) && h.hint != "":
		fmt.Fprintf(w, "drift: hint: %s\n", escape.Text(h.hint))
	case errors.As(err, &ah) && ah.Hint != "":
		fmt.Fprintf(w, "drift: hint: %s\n", escape.Text(ah.Hint))
	case strings.HasPrefix(msg, "--") && pipeHint(err, flagOf(msg)) != "":
		fmt.Fprintf(w, "drift: hint: %s\n", escape.Text(pipeHint(err, flagOf(msg))))
	}
}
