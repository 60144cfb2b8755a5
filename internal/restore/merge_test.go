package restore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nix-drift/drift/internal/partial"
	"github.com/nix-drift/drift/internal/testutil"
)

// mergeSystem is a source tree at /srv/half and a half-migrated copy of it
// in /nix/persist/srv/half: one file the same, one differing, one missing,
// a symlink with another target, a directory missing whole.
func mergeSystem(t *testing.T) (from, live string) {
	t.Helper()
	from, live = t.TempDir(), t.TempDir()
	w := func(p, content string) {
		t.Helper()
		testutil.Must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		testutil.Must(t, os.WriteFile(p, []byte(content), 0o644))
	}
	src, dst := filepath.Join(from, "srv/half"), filepath.Join(live, "nix/persist/srv/half")
	w(src+"/same", "same")
	w(dst+"/same", "same")
	w(src+"/diff", "live")
	w(dst+"/diff", "persistent")
	w(src+"/missing", "only live")
	w(src+"/newdir/inner", "inner")
	testutil.Must(t, os.Symlink("a", src+"/link"))
	testutil.Must(t, os.Symlink("b", dst+"/link"))
	w(dst+"/only-persistent", "stays")
	return from, live
}

func mergeReq(from, live string, onDiffer Action) Request {
	return Request{From: from, Path: "/srv/half", Root: live, Dest: "/nix/persist/srv/half", Base: "/nix/persist", Merge: true, OnDiffer: onDiffer, SyncOnce: true}
}

func actions(out []Outcome) string {
	var s []string
	for _, o := range out {
		s = append(s, strings.TrimPrefix(o.Path, "/srv/half/")+"="+string(o.Action))
	}
	return strings.Join(s, " ")
}

// TestMergeRefusesDiffering: objects that differ, with no side chosen,
// refuse the merge before anything is written; the plan says which.
func TestMergeRefusesDiffering(t *testing.T) {
	from, live := mergeSystem(t)
	out, err := Merge(context.Background(), mergeReq(from, live, ""))
	var ce *ConflictError
	if !errors.As(err, &ce) || len(ce.Differs) != 2 {
		t.Fatalf("Merge: %v, want a ConflictError with 2 objects", err)
	}
	if got, want := actions(out), "diff=differs link=differs missing=copy newdir=copy same=same"; got != want {
		t.Errorf("plan %q, want %q", got, want)
	}
	if _, err := os.Lstat(filepath.Join(live, "nix/persist/srv/half/missing")); err == nil {
		t.Error("missing was copied although the merge was refused")
	}
}

// TestMergePrefer: Replace puts the live objects in place, Keep leaves the
// persistent ones; either way the missing ones are copied, the same ones
// and what only the destination holds are left alone.
func TestMergePrefer(t *testing.T) {
	for _, tc := range []struct {
		on         Action
		diff, link string
	}{{Replace, "live", "a"}, {Keep, "persistent", "b"}} {
		from, live := mergeSystem(t)
		out, err := Merge(context.Background(), mergeReq(from, live, tc.on))
		if err != nil {
			t.Fatalf("%s: %v", tc.on, err)
		}
		if got := actions(out); !strings.Contains(got, "diff="+string(tc.on)) {
			t.Errorf("%s: %q", tc.on, got)
		}
		dst := filepath.Join(live, "nix/persist/srv/half")
		for p, want := range map[string]string{"diff": tc.diff, "missing": "only live", "newdir/inner": "inner", "same": "same", "only-persistent": "stays"} {
			if b, err := os.ReadFile(filepath.Join(dst, p)); err != nil || string(b) != want {
				t.Errorf("%s: %s holds %q, %v; want %q", tc.on, p, b, err, want)
			}
		}
		if l, _ := os.Readlink(filepath.Join(dst, "link")); l != tc.link {
			t.Errorf("%s: link -> %q, want %q", tc.on, l, tc.link)
		}
		names, _ := os.ReadDir(dst)
		for _, n := range names {
			if strings.Contains(n.Name(), partial.Mark) {
				t.Errorf("%s: temporary %s left", tc.on, n.Name())
			}
		}
	}
}

// TestRemoveStale: a temporary copy whose process is gone is removed
// before the next copy; one of a live process (ours) is not.
func TestRemoveStale(t *testing.T) {
	from, live := mergeSystem(t)
	dst := filepath.Join(live, "nix/persist/srv/half")
	dead := filepath.Join(dst, ".missing"+partial.Mark+"999999999-0123456789ab")
	mine := filepath.Join(dst, ".missing"+partial.Mark+"1-0123456789ab") // pid 1 is alive
	testutil.Must(t, os.MkdirAll(filepath.Join(dead, "sub"), 0o755))
	testutil.Must(t, os.WriteFile(mine, nil, 0o644))
	if _, err := Merge(context.Background(), mergeReq(from, live, Keep)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(dead); err == nil {
		t.Error("the dead process's partial copy was left")
	}
	if _, err := os.Lstat(mine); err != nil {
		t.Errorf("a live process's partial copy was removed: %v", err)
	}
}

// TestMergeClearsPartialCopiesOfObjectsNoLongerCopied: a partial copy a
// killed run left for an object the source no longer holds (the rerun
// copies nothing of that name, so Run's own clearing never sees it) is
// removed by the next Merge that compares its directory; a dry run and a
// refusal leave it.
func TestMergeClearsPartialCopiesOfObjectsNoLongerCopied(t *testing.T) {
	from, live := mergeSystem(t)
	dst := filepath.Join(live, "nix/persist/srv/half")
	left := filepath.Join(dst, ".vanished"+partial.Mark+"999999999-0123456789ab")
	testutil.Must(t, os.MkdirAll(filepath.Join(left, "sub"), 0o755))
	for _, req := range []Request{
		func() Request { r := mergeReq(from, live, Keep); r.DryRun = true; return r }(),
		mergeReq(from, live, ""), // refused: diff and link differ
	} {
		_, err := Merge(context.Background(), req)
		if _, serr := os.Lstat(left); serr != nil {
			t.Errorf("dry run %v (err %v): the partial copy was removed", req.DryRun, err)
		}
	}
	if _, err := Merge(context.Background(), mergeReq(from, live, Keep)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(left); err == nil {
		t.Error("the partial copy of an object no longer copied was left")
	}
}

// TestMergeKeepsHardLinksAcrossObjects: a file with names in objects that
// Merge copies separately (a missing file, a directory missing whole, a
// file inside a directory both sides have) is copied once: its other names
// in the copy are hard links to it, not files of their own.
func TestMergeKeepsHardLinksAcrossObjects(t *testing.T) {
	from, live := mergeSystem(t)
	src, dst := filepath.Join(from, "srv/half"), filepath.Join(live, "nix/persist/srv/half")
	testutil.Must(t, os.Link(src+"/missing", src+"/newdir/twin"))
	testutil.Must(t, os.MkdirAll(src+"/both", 0o755))
	testutil.Must(t, os.MkdirAll(dst+"/both", 0o755))
	testutil.Must(t, os.Link(src+"/missing", src+"/both/third"))
	if _, err := Merge(context.Background(), mergeReq(from, live, Keep)); err != nil {
		t.Fatal(err)
	}
	var first os.FileInfo
	for _, n := range []string{"missing", "newdir/twin", "both/third"} {
		fi, err := os.Lstat(filepath.Join(dst, n))
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = fi
		} else if !os.SameFile(first, fi) {
			t.Errorf("%s is a file of its own, want a hard link to missing", n)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "both/third")); string(b) != "only live" {
		t.Errorf("both/third holds %q", b)
	}
}

// TestMergeSameBytesOtherMetadataDiffers: a persistent copy with the same
// bytes but another mode, owner or extended attributes is not "the same"
// (a secret 0600 here would come back 0644 at the next boot): it is
// refused without a side chosen, and with the live side chosen it is
// replaced, metadata and all.
func TestMergeSameBytesOtherMetadataDiffers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, live, persistent string)
		why    string
	}{
		{"mode", func(t *testing.T, l, p string) { testutil.Must(t, os.Chmod(l, 0o600)) }, "mode 0600 here, 0644 there"},
		{"owner", func(t *testing.T, l, p string) {
			if os.Geteuid() != 0 {
				testutil.SkipOrFatal(t, testutil.RequireHost, "chown needs root")
			}
			testutil.Must(t, os.Lchown(l, 999, 998))
		}, "owner 999:998 here, 0:0 there"},
		{"xattr", func(t *testing.T, l, p string) {
			if err := setUserXattr(l, "user.drift-test", "x"); err != nil {
				testutil.SkipOrFatal(t, testutil.RequireHost, fmt.Sprintf("no user xattrs here: %v", err))
			}
		}, "other extended attributes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			from, live := mergeSystem(t)
			src, dst := filepath.Join(from, "srv/half/same"), filepath.Join(live, "nix/persist/srv/half/same")
			tc.change(t, src, dst)
			out, err := Merge(context.Background(), mergeReq(from, live, ""))
			var ce *ConflictError
			if !errors.As(err, &ce) || len(ce.Differs) != 3 {
				t.Fatalf("Merge: %v, want a ConflictError with 3 objects", err)
			}
			for _, o := range out {
				if strings.HasSuffix(o.Path, "/same") && (o.Action != Differs || !strings.Contains(o.Why, tc.why)) {
					t.Errorf("same: %s (%s), want differs with %q", o.Action, o.Why, tc.why)
				}
			}
			if _, err := Merge(context.Background(), mergeReq(from, live, Replace)); err != nil {
				t.Fatal(err)
			}
			if why, err := differMetaPaths(src, dst); err != nil || why != "" {
				t.Errorf("after --prefer live: %q, %v; want the live metadata", why, err)
			}
		})
	}
}

func setUserXattr(p, name, val string) error {
	return unix.Lsetxattr(p, name, []byte(val), 0)
}

// differMetaPaths is differMeta on two paths.
func differMetaPaths(a, b string) (string, error) {
	var sa, sb unix.Stat_t
	if err := unix.Lstat(a, &sa); err != nil {
		return "", err
	}
	if err := unix.Lstat(b, &sb); err != nil {
		return "", err
	}
	da, err := unix.Open(filepath.Dir(a), unix.O_DIRECTORY|unix.O_RDONLY, 0)
	if err != nil {
		return "", err
	}
	defer unix.Close(da)
	db, err := unix.Open(filepath.Dir(b), unix.O_DIRECTORY|unix.O_RDONLY, 0)
	if err != nil {
		return "", err
	}
	defer unix.Close(db)
	return differMeta(da, filepath.Base(a), &sa, db, filepath.Base(b), &sb)
}

// TestMergeDirectoryMetadataDiffers: a directory present on both sides
// whose own mode or owner differs (the copy of /var/lib/postgresql/16
// root:root, live postgres's) is an outcome like a file's: refused without
// a side chosen, given the live metadata in place with Replace (after which
// a plain Merge finds nothing differing), left with Keep. At the top, the
// fields the declaration sets (Request.Top) are not compared.
func TestMergeDirectoryMetadataDiffers(t *testing.T) {
	setup := func() (string, string, string) {
		from, live := mergeSystem(t)
		src, dst := filepath.Join(from, "srv/half/16"), filepath.Join(live, "nix/persist/srv/half/16")
		for _, d := range []string{src, dst} {
			testutil.Must(t, os.MkdirAll(d, 0o755))
			testutil.Must(t, os.WriteFile(d+"/PG_VERSION", []byte("16\n"), 0o600))
		}
		testutil.Must(t, os.Remove(filepath.Join(from, "srv/half/diff")))
		testutil.Must(t, os.Remove(filepath.Join(from, "srv/half/link")))
		testutil.Must(t, os.Chmod(src, 0o700))
		if os.Geteuid() == 0 {
			testutil.Must(t, os.Lchown(src, 71, 71))
			testutil.Must(t, os.Lchown(src+"/PG_VERSION", 71, 71))
			testutil.Must(t, os.Lchown(dst+"/PG_VERSION", 71, 71))
		}
		// The top differs in mode only, which the declaration states.
		testutil.Must(t, os.Chmod(filepath.Join(from, "srv/half"), 0o750))
		return from, live, dst
	}
	req := func(from, live string, on Action) Request {
		r := mergeReq(from, live, on)
		r.Top = &Owner{UID: -1, GID: -1, Mode: 0o755}
		return r
	}
	from, live, dst := setup()
	out, err := Merge(context.Background(), req(from, live, ""))
	var ce *ConflictError
	if !errors.As(err, &ce) || len(ce.Differs) != 1 || ce.Differs[0].Path != "/srv/half/16" || !MetadataOnly(ce.Differs[0]) {
		t.Fatalf("Merge: %v (plan %s), want a refusal naming /srv/half/16 only, metadata only", err, actions(out))
	}
	if !strings.Contains(ce.Error(), "mode 0700 here, 0755 there") {
		t.Errorf("refusal %q does not say how the directory differs", ce.Error())
	}

	out, err = Merge(context.Background(), req(from, live, Replace))
	if err != nil {
		t.Fatalf("Replace: %v", err)
	}
	if got := actions(out); !strings.Contains(got, "16=replace") {
		t.Errorf("Replace plan %q lacks 16=replace", got)
	}
	var st unix.Stat_t
	testutil.Must(t, unix.Lstat(dst, &st))
	if st.Mode&0o7777 != 0o700 || (os.Geteuid() == 0 && (st.Uid != 71 || st.Gid != 71)) {
		t.Errorf("after Replace the copy's directory is %04o %d:%d, want the live 0700 (71:71 as root)", st.Mode&0o7777, st.Uid, st.Gid)
	}
	out, err = Merge(context.Background(), req(from, live, ""))
	if err != nil {
		t.Fatalf("Merge after Replace: %v (plan %s), want nothing differing", err, actions(out))
	}

	from, live, dst = setup()
	if _, err := Merge(context.Background(), req(from, live, Keep)); err != nil {
		t.Fatalf("Keep: %v", err)
	}
	testutil.Must(t, unix.Lstat(dst, &st))
	if st.Mode&0o7777 != 0o755 {
		t.Errorf("after Keep the copy's directory is %04o, want its own 0755", st.Mode&0o7777)
	}
}

// TestMergeOutcomeSaysWhichIsNewer: a differing object's outcome carries
// both modification times, and DestNewer says the destination's is the
// newer one: drift adopt --dry-run showed only the sizes, and following
// --prefer live overwrote a persistent copy modified after the live file
// (field case: /etc/adjtime).
func TestMergeOutcomeSaysWhichIsNewer(t *testing.T) {
	from, live := mergeSystem(t)
	ten := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	testutil.Must(t, os.Chtimes(filepath.Join(from, "srv/half/diff"), ten, ten))
	testutil.Must(t, os.Chtimes(filepath.Join(live, "nix/persist/srv/half/diff"), ten.Add(time.Hour), ten.Add(time.Hour)))
	for _, on := range []Action{"", Replace, Keep} {
		req := mergeReq(from, live, on)
		req.DryRun = true
		out, _ := Merge(context.Background(), req)
		for _, o := range out {
			if strings.HasSuffix(o.Path, "/diff") && (o.Mtime != ten.UnixNano() || o.DestMtime != ten.Add(time.Hour).UnixNano() || !o.DestNewer()) {
				t.Errorf("%q: %+v, want both times, the destination newer", on, o)
			}
			if strings.HasSuffix(o.Path, "/same") && (o.Mtime != 0 || o.DestNewer()) {
				t.Errorf("%q: the same object has times: %+v", on, o)
			}
		}
	}
}
