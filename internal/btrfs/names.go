package btrfs

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// NameLayout is the format of the old-root names drift wipe gives, as a
// Go layout: month and day zero-padded ("2026-11-05_09:03:07"), so that
// names sort by time as strings do (drift lint's wipe-old-root-name warns
// about the seed script's `date "+%Y-%m-%-d_%H:%M:%S"`, whose unpadded day
// puts 2026-11-9 after 2026-11-10). ParseName reads both, so old roots the
// seed's script named keep working beside drift wipe's.
const NameLayout = "2006-01-02_15:04:05"

// Name is a parsed old-root name: the moment it records (the retired root's
// mtime, second resolution) and its collision suffix.
type Name struct {
	// Time is the moment in the name, in the location it was parsed in.
	Time time.Time
	// Seq is the collision suffix: 0 for none, N for ".N" (two roots retired with
	// the same mtime, to the second, would otherwise collide).
	Seq int
}

// String formats n as FormatName does.
func (n Name) String() string { return FormatName(n.Time, n.Seq) }

// FormatName returns the old-root name for t (formatted with NameLayout in
// t's location, truncated to the second) and the collision suffix seq: ""
// for 0, ".N" for N > 0.
func FormatName(t time.Time, seq int) string {
	s := t.Format(NameLayout)
	if seq > 0 {
		s += "." + strconv.Itoa(seq)
	}
	return s
}

// ParseName parses an old-root name in loc: YYYY-MM-D_hh:mm:ss (the seed's
// format), with the month and day zero-padded or not, optionally followed by
// a collision suffix ".N" (N ≥ 1, no leading zero). It fails on anything
// else, including dates that do not exist (2026-02-30) and trailing text.
func ParseName(s string, loc *time.Location) (Name, error) {
	bad := func(why string) (Name, error) {
		return Name{}, fmt.Errorf("old-root name %q: %s (want YYYY-MM-D_hh:mm:ss[.N])", s, why)
	}
	stamp, suffix, hasSuffix := strings.Cut(s, ".")
	seq := 0
	if hasSuffix {
		n, err := strconv.Atoi(suffix)
		if err != nil || n < 1 || suffix[0] == '0' || suffix[0] == '+' {
			return bad("bad collision suffix")
		}
		seq = n
	}
	date, clock, ok := strings.Cut(stamp, "_")
	if !ok {
		return bad("no _ between date and time")
	}
	d := strings.Split(date, "-")
	c := strings.Split(clock, ":")
	if len(d) != 3 || len(c) != 3 {
		return bad("not a date and a time")
	}
	num := func(f string, minLen, maxLen int) (int, bool) {
		if len(f) < minLen || len(f) > maxLen || !isDigits(f) {
			return 0, false
		}
		n, _ := strconv.Atoi(f)
		return n, true
	}
	var v [6]int
	for i, f := range []struct {
		s        string
		min, max int
	}{{d[0], 4, 4}, {d[1], 1, 2}, {d[2], 1, 2}, {c[0], 2, 2}, {c[1], 2, 2}, {c[2], 2, 2}} {
		n, ok := num(f.s, f.min, f.max)
		if !ok {
			return bad("not a number where one belongs")
		}
		v[i] = n
	}
	t := time.Date(v[0], time.Month(v[1]), v[2], v[3], v[4], v[5], 0, loc)
	if t.Year() != v[0] || int(t.Month()) != v[1] || t.Day() != v[2] || t.Hour() != v[3] || t.Minute() != v[4] || t.Second() != v[5] {
		return bad("no such date or time")
	}
	return Name{Time: t, Seq: seq}, nil
}
