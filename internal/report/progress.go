package report

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/nix-drift/drift/internal/units"
)

// ProgressDelay is how long a scan runs before Progress shows anything: a
// check that ends sooner never draws (and so never flickers) a progress
// line.
const ProgressDelay = time.Second

// Progress draws a one-line scan progress display on a terminal: nothing
// for the first Delay, then "drift: scanned N files (R files/s), SIZE",
// rewritten in place (carriage return, erase to end of line). Done erases
// it. The caller decides whether w is a terminal: a Progress must never be
// given a pipe or a file. Update and Done may be called from any goroutine.
type Progress struct {
	w     io.Writer
	delay time.Duration
	now   func() time.Time
	start time.Time

	mu    sync.Mutex
	shown bool
	done  bool
}

// NewProgress returns a Progress drawing on w after delay (ProgressDelay
// for the default), timed by now (time.Now; tests pass a fake clock). The
// scan is taken to start now.
func NewProgress(w io.Writer, delay time.Duration, now func() time.Time) *Progress {
	return &Progress{w: w, delay: delay, now: now, start: now()}
}

// Update shows visited entries and the apparent size of the regular files
// among them (bytes), once the scan has run for longer than the delay.
func (p *Progress) Update(visited, bytes int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	el := p.now().Sub(p.start)
	if p.done || el < p.delay {
		return
	}
	rate := int64(0)
	if el > 0 {
		rate = int64(float64(visited) / el.Seconds())
	}
	fmt.Fprintf(p.w, "\rdrift: scanned %d files (%d files/s), %s\x1b[K", visited, rate, units.Bytes(bytes))
	p.shown = true
}

// Done erases the line, when one was drawn; later Updates draw nothing.
func (p *Progress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
	p.done, p.shown = true, false
}
