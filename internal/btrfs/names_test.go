package btrfs

import (
	"slices"
	"testing"
	"time"
)

func TestParseName(t *testing.T) {
	utc := time.UTC
	for _, tc := range []struct {
		in   string
		want time.Time
		seq  int
		bad  bool
	}{
		{in: "2026-11-5_09:03:07", want: time.Date(2026, 11, 5, 9, 3, 7, 0, utc)},
		{in: "2026-11-05_09:03:07", want: time.Date(2026, 11, 5, 9, 3, 7, 0, utc)},
		{in: "2026-11-10_00:00:00", want: time.Date(2026, 11, 10, 0, 0, 0, 0, utc)},
		{in: "2026-1-9_23:59:59", want: time.Date(2026, 1, 9, 23, 59, 59, 0, utc)},
		{in: "2025-03-9_07:58:11.1", want: time.Date(2025, 3, 9, 7, 58, 11, 0, utc), seq: 1},
		{in: "2025-03-9_07:58:11.12", want: time.Date(2025, 3, 9, 7, 58, 11, 0, utc), seq: 12},
		{in: "2026-02-30_00:00:00", bad: true},
		{in: "2026-11-5_9:03:07", bad: true},
		{in: "2026-11-5_09:03:07.0", bad: true},
		{in: "2026-11-5_09:03:07.01", bad: true},
		{in: "2026-11-5_09:03:07.", bad: true},
		{in: "2026-11-5_09:03:07x", bad: true},
		{in: "2026-11-5 09:03:07", bad: true},
		{in: "2026-11-123_09:03:07", bad: true},
		{in: "root", bad: true},
		{in: "", bad: true},
		{in: "-2026-11-5_09:03:07", bad: true},
		{in: "2026-+1-5_09:03:07", bad: true},
	} {
		n, err := ParseName(tc.in, utc)
		if tc.bad {
			if err == nil {
				t.Errorf("ParseName(%q) = %v, want an error", tc.in, n)
			}
			continue
		}
		if err != nil || !n.Time.Equal(tc.want) || n.Seq != tc.seq {
			t.Errorf("ParseName(%q) = %v, %d, %v; want %v, %d", tc.in, n.Time, n.Seq, err, tc.want, tc.seq)
		}
	}
}

// TestFormatNamePadsTheDay: drift wipe's names pad the day (and month), so
// they sort by time and drift lint's wipe-old-root-name, which warns about
// the seed's unpadded day, has nothing to say of them; ParseName reads them
// back, as it reads the seed's.
func TestFormatNamePadsTheDay(t *testing.T) {
	for _, tc := range []struct {
		t    time.Time
		seq  int
		want string
	}{
		{time.Date(2026, 11, 5, 9, 3, 7, 999, time.UTC), 0, "2026-11-05_09:03:07"},
		{time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC), 0, "2026-01-10_00:00:00"},
		{time.Date(2025, 3, 9, 7, 58, 11, 0, time.UTC), 2, "2025-03-09_07:58:11.2"},
	} {
		got := FormatName(tc.t, tc.seq)
		if got != tc.want {
			t.Errorf("FormatName(%v, %d) = %q, want %q", tc.t, tc.seq, got, tc.want)
		}
		n, err := ParseName(got, time.UTC)
		if err != nil || !n.Time.Equal(tc.t.Truncate(time.Second)) || n.Seq != tc.seq {
			t.Errorf("ParseName(FormatName) round trip of %q: %v %v", got, n, err)
		}
	}
}

// TestSortOldRoots: real time, never string order (2026-11-10 after
// 2026-11-9); the suffix orders a collision; unparsable names by creation
// time.
func TestSortOldRoots(t *testing.T) {
	mk := func(name string, otime time.Time) OldRoot {
		r := OldRoot{Name: name, OTime: otime}
		r.resolveTime(time.UTC)
		return r
	}
	base := time.Date(2026, 11, 9, 12, 0, 0, 0, time.UTC)
	roots := []OldRoot{
		mk("2026-11-10_08:00:00", time.Time{}),
		mk("2026-11-9_08:00:00.1", time.Time{}),
		mk("2026-11-9_08:00:00", time.Time{}),
		mk("manual-backup", base), // created 2026-11-9 12:00
		mk("2026-11-09_07:00:00", time.Time{}),
		mk("2026-10-31_23:59:59", time.Time{}),
	}
	SortOldRoots(roots)
	var got []string
	for _, r := range roots {
		got = append(got, r.Name)
	}
	want := []string{"2026-10-31_23:59:59", "2026-11-09_07:00:00", "2026-11-9_08:00:00", "2026-11-9_08:00:00.1", "manual-backup", "2026-11-10_08:00:00"}
	if !slices.Equal(got, want) {
		t.Errorf("order = %q\nwant    %q", got, want)
	}
}

// TestRetirementTakesTheSeedsSpellingOfATime: a root retired at a moment
// an old root of the seed's script already names in its spelling
// (2026-12-7_03:00:00) gets the collision suffix, never a second name for
// the same moment (--from would find both).
func TestRetirementTakesTheSeedsSpellingOfATime(t *testing.T) {
	at := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	p := &Plan{Options: Options{OldRoots: "old_roots", Subvol: "root", Now: at.Add(time.Hour), Location: time.UTC}}
	retirement(p, []OldRoot{{Name: "2026-12-7_03:00:00", Parsed: true}}, nil, Subvolume{ID: 300}, at)
	if len(p.Steps) != 1 || p.Steps[0].To != "old_roots/2026-12-07_03:00:00.1" {
		t.Errorf("steps %+v, want the root retired to old_roots/2026-12-07_03:00:00.1", p.Steps)
	}
}
