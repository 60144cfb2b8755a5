package adopt

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/restore"
	"github.com/nix-drift/drift/internal/testutil"
	"golang.org/x/sys/unix"
)

// declaredDemo is demo with /srv declared with an owner and mode, as
// { directory = "/srv"; user = "995"; group = "996"; mode = "0700"; }.
func declaredDemo(t *testing.T) *audit.Model {
	t.Helper()
	m := demo(t)
	nix := filepath.Join(t.TempDir(), "p.nix")
	testutil.Must(t, os.WriteFile(nix, []byte(`{ environment.persistence."/nix/persist".directories = [ { directory = "/srv"; user = "995"; group = "996"; mode = "0700"; } ]; }`), 0o644))
	fix, err := filepath.Abs("../../fixtures/demo")
	testutil.Must(t, err)
	m2, err := audit.Build(context.Background(), audit.Options{Root: m.Root, Persist: []string{nix}, Mountinfo: filepath.Join(fix, "mountinfo"), RootSubvol: "none", OldRoots: "none"})
	testutil.Must(t, err)
	t.Cleanup(m2.Close)
	return m2
}

func items(p Path) []restore.Item {
	var out []restore.Item
	for _, o := range p.Outcomes {
		if o.Result != nil {
			out = append(out, o.Result.Items...)
		}
	}
	return out
}

// TestDryRunPlanIsWhatTheRunDoes: the objects a dry run lists, with their
// mode and owner, are those the run then reports and writes; the top
// directory of a declaration with user, group and mode shows them in the
// plan as on the disk after the run. The plan said "dir 0755 0:0" where
// the run made 0700 995:996 (fresh-user finding).
func TestDryRunPlanIsWhatTheRunDoes(t *testing.T) {
	if os.Geteuid() != 0 {
		testutil.SkipOrFatal(t, testutil.RequireHost, "chown to the declared owner needs root")
	}
	m := declaredDemo(t)
	dry, err := Run(context.Background(), m, Options{Paths: []string{"/srv"}, DryRun: true})
	testutil.Must(t, err)
	plan := items(dry.Paths[0])
	if len(plan) == 0 || plan[0].Dest != "/nix/persist/srv" || plan[0].Mode != 0o700 || plan[0].UID != 995 || plan[0].GID != 996 {
		t.Fatalf("plan %+v, want /nix/persist/srv first, 0700 995:996", plan)
	}
	res, err := Run(context.Background(), m, Options{Paths: []string{"/srv"}})
	testutil.Must(t, err)
	if done := items(res.Paths[0]); !reflect.DeepEqual(done, plan) {
		t.Errorf("run %+v\nplan %+v", done, plan)
	}
	for _, it := range plan {
		var st unix.Stat_t
		testutil.Must(t, unix.Lstat(filepath.Join(m.Root, it.Dest), &st))
		if it.Kind != restore.KindSymlink && (st.Mode&0o7777 != it.Mode || st.Uid != it.UID || st.Gid != it.GID) {
			t.Errorf("%s: %04o %d:%d on the disk, planned %04o %d:%d", it.Dest, st.Mode&0o7777, st.Uid, st.Gid, it.Mode, it.UID, it.GID)
		}
	}
}

// TestRefusedPlanCountsWhatItWouldCopy: a refusal (a differing object, no
// --prefer) still plans the missing objects beside it, so its listing and
// counts are what the run with a side chosen copies. It said "would copy 0
// files (0 B)" right under "copy …/data (missing)" (fresh-user finding).
func TestRefusedPlanCountsWhatItWouldCopy(t *testing.T) {
	m := demo(t)
	testutil.Must(t, os.MkdirAll(filepath.Join(m.Root, "nix/persist/srv/www"), 0o755))
	testutil.Must(t, os.WriteFile(filepath.Join(m.Root, "nix/persist/srv/www/index.html"), []byte("older\n"), 0o644))
	res, err := Run(context.Background(), m, Options{Paths: []string{"/srv"}, DryRun: true})
	var ce *restore.ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("err %v, want a refusal", err)
	}
	var missing []restore.Outcome
	for _, o := range res.Paths[0].Outcomes {
		if o.Action == restore.Copy {
			missing = append(missing, o)
		}
	}
	if len(missing) == 0 {
		t.Fatal("no missing object planned beside the differing one")
	}
	for _, o := range missing {
		if o.Result == nil || len(o.Result.Items) == 0 {
			t.Errorf("%s: refused plan lists no object to copy", o.Dest)
		}
	}
	live, err := Run(context.Background(), m, Options{Paths: []string{"/srv"}, DryRun: true, Prefer: PreferPersistent})
	testutil.Must(t, err)
	var want []restore.Item
	for _, o := range live.Paths[0].Outcomes {
		if o.Action == restore.Copy && o.Result != nil {
			want = append(want, o.Result.Items...)
		}
	}
	var got []restore.Item
	for _, o := range missing {
		got = append(got, o.Result.Items...)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("refused plan %+v\nwith --prefer persistent %+v", got, want)
	}
}

// TestUndeclaredOnPersistentFilesystemNeedsNoDeclaration: a path no
// declaration covers on a filesystem the wipe keeps (/nix/store on the
// /nix subvolume) is not refused with a declaration to add: it survives as
// it is, and adopt says so; one on the wiped root is still refused. adopt
// /nix/store said "declare it, e.g. …directories = [ "/nix/store" ]"
// (fresh-user finding).
func TestUndeclaredOnPersistentFilesystemNeedsNoDeclaration(t *testing.T) {
	m := demo(t)
	res, err := Run(context.Background(), m, Options{Paths: []string{"/nix/store"}})
	testutil.Must(t, err)
	if p := res.Paths[0]; p.Persistent != "/nix" || p.Dest != "" || len(p.Outcomes) != 0 {
		t.Errorf("/nix/store: %+v, want on the persistent mount at /nix, nothing adopted", p)
	}
	_, err = Run(context.Background(), m, Options{Paths: []string{"/opt/thing"}, DryRun: true})
	var ue *UndeclaredError
	if !errors.As(err, &ue) {
		t.Errorf("/opt/thing on the wiped root: %v, want an UndeclaredError", err)
	}
}
