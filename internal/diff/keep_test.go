package diff

import (
	"slices"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/persist"
)

// TestKeep: what keeps each kind of lost path, the declared path drift
// adopt takes, and that AdoptDecl (drift check's adopt commands) agrees:
// a declared path whose copy differs anywhere below it needs a side
// chosen for all its paths; a refused declaration gives adopt's refusal;
// what lies beneath a mount point or where the next boot mounts another
// filesystem, outside every declaration, has no command.
func TestKeep(t *testing.T) {
	a := &Audit{
		Decls: &persist.Set{Entries: []persist.Entry{
			{Kind: persist.Dir, StoragePath: "/persist", Path: "/srv/clean"},
			{Kind: persist.Dir, StoragePath: "/persist", Path: "/srv/half"},
			{Kind: persist.Dir, StoragePath: "/gone", Path: "/srv/refused"},
			{Kind: persist.Dir, StoragePath: "/persist", Path: "/var/lib/meta"},
		}},
		Unusable:        map[string]string{"/gone": "/gone is not mounted"},
		CopiedOtherMeta: []string{"/var/lib/meta/same-bytes"},
	}
	item := func(p string, c Category, copy CopyState) *Item {
		return &Item{Path: p, Category: c, Decl: -1, Copy: copy}
	}
	cases := []struct {
		it   *Item
		keep Keep
		what string
	}{
		{item("/etc/stray", Unpersisted, 0), KeepDeclare, ""},
		{item("/srv/clean/a", DeclaredUnbacked, CopyMissing), KeepAdopt, "/srv/clean"},
		{item("/srv/clean/b", Covered, CopyMissing), KeepAdopt, "/srv/clean"},
		{item("/srv/clean/c", Shadowed, 0), KeepAdopt, "/srv/clean"},
		{item("/srv/half/a", DeclaredUnbacked, CopyMissing), KeepChoose, "/srv/half"},
		{item("/srv/half/b", DeclaredUnbacked, CopyDiffers), KeepCopyBack, "/srv/half"},
		{item("/var/lib/meta/new", DeclaredUnbacked, CopyMissing), KeepChoose, "/var/lib/meta"},
		{item("/srv/refused/x", DeclaredUnbacked, CopyMissing), KeepRefused, "/gone is not mounted"},
		{item("/run/leftover", Covered, 0), KeepRemounted, ""},
		{item("/home/beneath", Shadowed, 0), KeepBeneath, ""},
		{item("/opt/old", Unmounted, 0), KeepRedeclare, ""},
		{item("/tmp/x", Ignored, 0), 0, ""},
	}
	for _, tc := range cases {
		a.Lost = append(a.Lost, tc.it) // all of them before the first Keep (Differing)
	}
	for _, tc := range cases {
		it := tc.it
		k, what := a.Keep(it)
		if k != tc.keep || what != tc.what {
			t.Errorf("%s (%s): %v %q, want %v %q", it.Path, it.Category, k, what, tc.keep, tc.what)
		}
		d, ok := a.AdoptDecl(it)
		if adopts := k == KeepAdopt || k == KeepChoose || k == KeepCopyBack; ok != adopts || adopts && d != what {
			t.Errorf("%s: AdoptDecl %q %v, Keep %v %q", it.Path, d, ok, k, what)
		}
		if k != 0 && k.Why() == "" {
			t.Errorf("%v: no Why", k)
		}
	}
	want := map[string][]string{"/srv/half": {"/srv/half/b"}, "/var/lib/meta": {"/var/lib/meta/same-bytes"}}
	if got := a.Differing(); len(got) != len(want) || !slices.Equal(got["/srv/half"], want["/srv/half"]) || !slices.Equal(got["/var/lib/meta"], want["/var/lib/meta"]) {
		t.Errorf("Differing: %v, want %v", got, want)
	}
}

// TestKeepWhyMountBindSaysWhichRoot: a reason that gives mount --bind /
// to look beneath the mounts (KeepBeneath, KeepHidden; drift suggest's
// reasons name no path of the audited system) says that for a system
// audited at --root DIR the directory is DIR: run as printed after drift
// suggest --root DIR, mount --bind / showed the host's root, not DIR's.
func TestKeepWhyMountBindSaysWhichRoot(t *testing.T) {
	n := 0
	for k := KeepDeclare; k <= KeepCopyBack; k++ {
		w := k.Why()
		if !strings.Contains(w, "mount --bind / ") {
			continue
		}
		n++
		if !strings.Contains(w, "--root DIR with DIR in place of /") {
			t.Errorf("%s: %q gives mount --bind / without saying what to bind for --root DIR", k, w)
		}
	}
	if n < 2 {
		t.Errorf("%d reasons give mount --bind /, want KeepBeneath's and KeepHidden's", n)
	}
}

// TestKeepBeneathWhyAgreesWithOnePath: KeepBeneath's reason said "no
// declaration keeps them … drift check lists them; to reach them", and
// drift rehearse prints it for one path ("drift suggest leaves it to you:
// … keeps them"). Its words now hold for one path and for many.
func TestKeepBeneathWhyAgreesWithOnePath(t *testing.T) {
	w := " " + KeepBeneath.Why() + " "
	for _, plural := range []string{" them ", " them;", " them,", " they "} {
		if strings.Contains(w, plural) {
			t.Errorf("KeepBeneath.Why says %q, wrong for one path: %s", strings.TrimSpace(plural), w)
		}
	}
	if !strings.Contains(w, "no declaration keeps what lies there") {
		t.Errorf("KeepBeneath.Why lost what it says: %s", w)
	}
}

// TestKeepWhyHoldsForOnePathAndEveryWipedFilesystem: drift rehearse
// prints a Keep's reason for one path ("drift suggest leaves it to you:
// …"), and KeepAdopt's said "the persistent copy lacks them … drift adopt
// copies them into it", KeepRemounted's "no declaration keeps them; look
// at them now", KeepChoose's and KeepRefused's "their declaration". No
// reason says they, them or their now. KeepBeneath's and KeepRemounted's
// said "on the wiped root" of what may lie on another wiped filesystem
// (an ephemeral /home): they name a wiped filesystem, the root or another.
func TestKeepWhyHoldsForOnePathAndEveryWipedFilesystem(t *testing.T) {
	for k := KeepDeclare; k <= KeepCopyBack; k++ {
		w := " " + strings.NewReplacer(";", " ", ",", " ", ":", " ", "(", " ", ")", " ").Replace(k.Why()) + " "
		for _, plural := range []string{" them ", " they ", " their "} {
			if strings.Contains(w, plural) {
				t.Errorf("%s: the reason says %q, wrong for one path: %s", k, strings.TrimSpace(plural), k.Why())
			}
		}
	}
	for _, k := range []Keep{KeepBeneath, KeepRemounted} {
		if w := k.Why(); strings.Contains(w, "on the wiped root") || !strings.HasPrefix(w, "on a wiped filesystem (the root, or another the next boot wipes)") {
			t.Errorf("%s: %s", k, w)
		}
	}
}
