package report

import (
	"bytes"
	"testing"
	"time"
)

func TestProgress(t *testing.T) {
	t0 := time.Date(2026, 11, 29, 21, 0, 0, 0, time.UTC)
	clock := t0
	now := func() time.Time { return clock }
	var buf bytes.Buffer
	p := NewProgress(&buf, ProgressDelay, now)

	// Within the first second: nothing, however many calls.
	for _, d := range []time.Duration{0, 200 * time.Millisecond, 999 * time.Millisecond} {
		clock = t0.Add(d)
		p.Update(1000, 1<<20)
	}
	if buf.Len() != 0 {
		t.Fatalf("drew %q before the delay", buf.String())
	}
	clock = t0.Add(2 * time.Second)
	p.Update(50000, 3<<30)
	want := "\rdrift: scanned 50000 files (25000 files/s), 3.0 GiB\x1b[K"
	if buf.String() != want {
		t.Fatalf("drew %q, want %q", buf.String(), want)
	}
	buf.Reset()
	p.Done()
	if buf.String() != "\r\x1b[K" {
		t.Errorf("Done wrote %q, want the erase", buf.String())
	}
	buf.Reset()
	p.Update(60000, 0)
	p.Done()
	if buf.Len() != 0 {
		t.Errorf("after Done: %q", buf.String())
	}

	// A short scan: Done erases nothing it did not draw.
	p = NewProgress(&buf, ProgressDelay, now)
	p.Update(10, 10)
	p.Done()
	if buf.Len() != 0 {
		t.Errorf("short scan wrote %q", buf.String())
	}
}
