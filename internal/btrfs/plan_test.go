package btrfs

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestDecisionJSON: the moment an old root's age counts from is a timestamp
// ("ageFrom"), its age in whole days a number ("ageDays"); no "age" holding
// a timestamp.
func TestDecisionJSON(t *testing.T) {
	n := time.Date(2026, 11, 29, 20, 0, 0, 0, time.UTC)
	r := OldRoot{Name: FormatName(n.Add(-day(40)), 0), Kind: KindSubvolume, ID: 257}
	r.resolveTime(time.UTC)
	p := &Plan{Options: Options{Now: n, KeepDays: 30, KeepMin: 0, Location: time.UTC}, OldRoots: []Decision{{OldRoot: r}}}
	p.decide(false)
	b, err := json.Marshal(p.OldRoots[0])
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{`"ageFrom":"2026-10-20T20:00:00Z"`, `"ageDays":40`} {
		if !strings.Contains(s, want) {
			t.Errorf("JSON %s lacks %s", s, want)
		}
	}
	if strings.Contains(s, `"age":`) {
		t.Errorf("JSON %s still has \"age\"", s)
	}
}

// DeleteAt: the seed's rule, 31 whole days after the time in the name.
func TestDeleteAt(t *testing.T) {
	at := time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)
	if got, want := DeleteAt(at, 30), time.Date(2026, 12, 11, 9, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("DeleteAt = %v, want %v", got, want)
	}
}

// TestPlanMarksThePreviousRoot: drift roots marks as the previous boot's
// root the one PickOldRoot's latest and drift check take (PastBoot): not
// the root now (Retired, in a preview), not one dated after now.
func TestPlanMarksThePreviousRoot(t *testing.T) {
	n := time.Date(2026, 12, 7, 18, 0, 0, 0, time.UTC)
	mk := func(name string, retired bool) Decision {
		r := OldRoot{Name: name, Path: "old_roots/" + name, Kind: KindSubvolume}
		r.resolveTime(time.UTC)
		return Decision{OldRoot: r, Retired: retired}
	}
	p := &Plan{Options: Options{Now: n, KeepDays: 30, Location: time.UTC, Preview: true}, OldRoots: []Decision{
		mk("2026-12-6_09:00:00", false), mk("2026-12-7_17:54:58", false), mk("2026-12-31_23:59:59", false), mk("2026-12-7_17:59:00", true),
	}}
	p.decide(false)
	var marked []string
	for _, d := range p.OldRoots {
		if d.Previous {
			marked = append(marked, d.Name)
		}
	}
	if len(marked) != 1 || marked[0] != "2026-12-7_17:54:58" {
		t.Errorf("previous %q, want 2026-12-7_17:54:58 alone", marked)
	}
}

// TestAgeWhySaysTheOneRule: drift roots said "48 days old (more than 30)"
// beside "younger than 31 whole days" (one rule in two words, a fresh
// user could not tell them apart) and "1 days old". Kept and deleted by
// age now say the age in whole days and the --keep-days bound the same
// way, a day singular.
func TestAgeWhySaysTheOneRule(t *testing.T) {
	n := time.Date(2026, 12, 7, 18, 0, 0, 0, time.UTC)
	mk := func(name string) Decision {
		r := OldRoot{Name: name, Path: "old_roots/" + name, Kind: KindSubvolume}
		r.resolveTime(time.UTC)
		return Decision{OldRoot: r}
	}
	p := &Plan{Options: Options{Now: n, KeepDays: 0, Location: time.UTC}, OldRoots: []Decision{
		mk("2026-10-20_08:00:00"), mk("2026-12-6_09:00:00"), mk("2026-12-7_17:00:00"),
	}}
	p.decide(false)
	want := []string{"48 whole days old: more than 0 (--keep-days)", "1 whole day old: more than 0 (--keep-days)", "0 whole days old: not more than 0 (--keep-days)"}
	for i, d := range p.OldRoots {
		if d.Why != want[i] {
			t.Errorf("%s: %q, want %q", d.Name, d.Why, want[i])
		}
	}
	p = &Plan{Options: Options{Now: n, KeepDays: 30, KeepMin: 0, Location: time.UTC}, OldRoots: []Decision{mk("2026-11-9_10:00:00"), mk("2026-12-7_17:00:00")}}
	p.decide(false)
	for i, w := range []string{"28 whole days old: not more than 30 (--keep-days)", "0 whole days old: not more than 30 (--keep-days)"} {
		if got := p.OldRoots[i].Why; got != w {
			t.Errorf("%s: %q, want %q", p.OldRoots[i].Name, got, w)
		}
	}
}
