package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nix-drift/drift/internal/testutil"
)

// TestAdoptPreferLiveGivesTheCopyTheLiveDirectoryOwner: a persistent copy
// of a PostgreSQL data directory (/srv/postgresql here) made by hand as
// root holds the same bytes as the live data, but its directory 16 is root's 0755 where the live one is
// postgres's 0700 (PostgreSQL would not start on it). drift check says so
// and prints drift adopt --prefer live; run as printed, it gives the copy's
// directory the live owner and mode, reports that object, and drift check
// then reports nothing differing for the path.
func TestAdoptPreferLiveGivesTheCopyTheLiveDirectoryOwner(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return
	}
	extra := filepath.Join(s.dir, "pg.json")
	testutil.Must(t, os.WriteFile(extra, []byte(`{"persistentStoragePath": "/nix/persist", "directories": [ "/srv/postgresql" ]}`), 0o644))
	for _, d := range []string{"/srv/postgresql/16", storage + "/srv/postgresql/16"} {
		writeFile(t, s.M(d+"/PG_VERSION"), "16\n", 0o600)
		testutil.Must(t, os.Lchown(s.M(d+"/PG_VERSION"), 71, 71))
	}
	testutil.Must(t, os.Chmod(s.M("/srv/postgresql/16"), 0o700))
	testutil.Must(t, os.Lchown(s.M("/srv/postgresql/16"), 71, 71))
	testutil.Must(t, os.Chmod(s.M(storage+"/srv/postgresql/16"), 0o755))
	testutil.Must(t, os.Lchown(s.M(storage+"/srv/postgresql/16"), 0, 0))

	// differing returns what drift check reports differing for the path:
	// its warnings naming a difference there (another mode or owner in
	// the copy, a copy that differs), and its rows' --prefer live commands.
	differing := func() []string {
		t.Helper()
		_, stdout, stderr := s.driftAll("check", "--root", s.root, "--persist", s.declPath(), "--persist", extra, "--format", "json")
		var r struct {
			Warnings []string
			Items    []struct{ Path, AdoptPreferLive string }
		}
		if err := json.Unmarshal([]byte(stdout), &r); err != nil {
			t.Fatalf("drift check --format json: %v\n%s\n%s", err, stdout, stderr)
		}
		var out []string
		for _, w := range r.Warnings {
			if strings.Contains(w, "/srv/postgresql") && (strings.Contains(w, "in the copy (live") || strings.Contains(w, "differs")) {
				out = append(out, w)
			}
		}
		for _, it := range r.Items {
			if it.AdoptPreferLive != "" && strings.HasPrefix(it.Path, "/srv/postgresql") {
				out = append(out, it.Path+": "+it.AdoptPreferLive)
			}
		}
		return out
	}
	before := strings.Join(differing(), "\n")
	if !strings.Contains(before, "/srv/postgresql/16: mode 0755, uid 0, gid 0 in the copy") {
		t.Errorf("drift check does not report the copy's directory owner:\n%s", before)
	}

	args := []string{"adopt", "--root", s.root, "--persist", s.declPath(), "--persist", extra}
	code, stdout, stderr := s.driftAll(append(args, "/srv/postgresql")...)
	if code != 2 || !strings.Contains(stdout, "differs  "+s.M(storage+"/srv/postgresql/16")+" (mode 0700 here, 0755 there; owner 71:71 here, 0:0 there)") {
		t.Errorf("plain adopt: exit %d, want 2 naming the directory\n%s\n%s", code, stdout, stderr)
	}
	out := string(s.drift(0, append(args, "--prefer", "live", "/srv/postgresql")...))
	if !strings.Contains(out, "replace  "+s.M(storage+"/srv/postgresql/16")+" (mode 0700 here") {
		t.Errorf("adopt --prefer live does not report the directory:\n%s", out)
	}
	var st unix.Stat_t
	testutil.Must(t, unix.Lstat(s.M(storage+"/srv/postgresql/16"), &st))
	if st.Mode&0o7777 != 0o700 || st.Uid != 71 || st.Gid != 71 {
		t.Errorf("after --prefer live the copy's directory is %04o %d:%d, want 0700 71:71", st.Mode&0o7777, st.Uid, st.Gid)
	}
	if after := differing(); len(after) > 0 {
		t.Errorf("after adopt --prefer live drift check still reports the path differing:\n%s", strings.Join(after, "\n"))
	}
	s.drift(0, append(args, "/srv/postgresql")...)
}

// TestAdoptUserDirectoryIsTheUsers: a users.alice directory declared with
// only a mode (impermanence's users form) whose live data root made: the
// persistent directory adopt creates for it, and the home's copy it creates
// on the way, are alice's (uid and primary gid from the live /etc/passwd),
// as impermanence creates them; the dry run says so; what is inside keeps
// its own owner, and /nix/persist/home stays root's.
func TestAdoptUserDirectoryIsTheUsers(t *testing.T) {
	s := driftSystem(t)
	if s == nil {
		return
	}
	extra := filepath.Join(s.dir, "alice.json")
	testutil.Must(t, os.WriteFile(extra, []byte(`{"persistentStoragePath": "/nix/persist", "users": { "alice": { "home": "/home/alice", "directories": [ { "directory": "x", "mode": "0700" } ] } }}`), 0o644))
	f, err := os.OpenFile(s.M("/etc/passwd"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	testutil.Must(t, err)
	_, err = f.WriteString("alice:x:1000:100::/home/alice:/bin/sh\n")
	testutil.Must(t, err)
	testutil.Must(t, f.Close())
	writeFile(t, s.M("/home/alice/x/data"), "alice's", 0o644)
	base := []string{"adopt", "--root", s.root, "--persist", s.declPath(), "--persist", extra}

	dry := string(s.drift(0, append(base, "--dry-run", "/home/alice/x")...))
	t.Logf("dry run:\n%s", dry)
	for _, want := range []string{"as declared, not as live: owner 1000, group 100, mode 0700", "mkdir    " + s.M(storage+"/home/alice") + " (owner 1000:100, the user's"} {
		if !strings.Contains(dry, want) {
			t.Errorf("the dry run does not say %q:\n%s", want, dry)
		}
	}
	s.drift(0, append(base, "/home/alice/x")...)
	for p, want := range map[string]string{
		storage + "/home":              "0:0",
		storage + "/home/alice":        "1000:100",
		storage + "/home/alice/x":      "1000:100 0700",
		storage + "/home/alice/x/data": "0:0",
	} {
		var st unix.Stat_t
		testutil.Must(t, unix.Lstat(s.M(p), &st))
		got := fmt.Sprintf("%d:%d", st.Uid, st.Gid)
		if strings.Contains(want, " ") {
			got += fmt.Sprintf(" %04o", st.Mode&0o7777)
		}
		if got != want {
			t.Errorf("%s: %s, want %s", p, got, want)
		}
	}
}
