package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/adopt"
	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/restore"
	"github.com/nix-drift/drift/internal/testutil"
)

// TestRowAdopt: a declared-unbacked row and a shadowed row below a declared
// path carry the drift adopt command that keeps them (in WHY and in the
// JSON adopt field, one command for them all after the table); a shadowed
// row nothing declares, or an unpersisted one, carries none; a system
// audited at another root gets --root.
func TestRowAdopt(t *testing.T) {
	a := audit()
	a.Decls.Entries = append(a.Decls.Entries, persist.Entry{Kind: persist.Dir, StoragePath: "/p", Path: "/etc/nixos"})
	a.Lost = append(a.Lost,
		&diff.Item{Path: "/etc/nixos/hidden file", Category: diff.Shadowed, Mode: fileMode, Decl: -1},
		&diff.Item{Path: "/var/log/under", Category: diff.Shadowed, Mode: fileMode, Decl: -1})
	want := map[string]string{
		"/srv/d":                 "drift adopt /srv/d",
		"/etc/nixos/hidden file": "drift adopt '/etc/nixos/hidden file'",
		"/var/log/under":         "",
		"/a":                     "",
	}
	for _, it := range a.Lost {
		if w, ok := want[it.Path]; ok {
			if got := RowAdopt(a, it); got != w {
				t.Errorf("RowAdopt(%q) = %q, want %q", it.Path, got, w)
			}
		}
	}
	var buf bytes.Buffer
	if err := Write(&buf, a, Options{Format: "table"}); err != nil {
		t.Fatal(err)
	}
	if all := "Keep the declared rows before the next boot: drift adopt /srv /etc/nixos"; !strings.Contains(buf.String(), all) {
		t.Errorf("the table does not end with %q:\n%s", all, buf.String())
	}
	buf.Reset()
	a.Root = "/mnt"
	if err := Write(&buf, a, Options{Format: "json"}); err != nil {
		t.Fatal(err)
	}
	var r struct {
		Items []struct{ Path, Why, Adopt string }
	}
	if err := json.Unmarshal(buf.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, it := range r.Items {
		w := want[it.Path]
		if w != "" {
			w = strings.Replace(w, "drift adopt", "drift adopt --root /mnt", 1)
			seen++
		}
		if it.Adopt != w || w != "" && !strings.HasSuffix(it.Why, "; keep it: "+w) {
			t.Errorf("JSON row %q: adopt %q, why %q; want %q", it.Path, it.Adopt, it.Why, w)
		}
	}
	if seen != 2 {
		t.Errorf("%d JSON rows with an adopt command, want 2: %s", seen, buf.String())
	}
}

// TestPendingSummarySaysWhatHappensWhere: the summary the activation
// guard prints says per path what the next boot does to the data the
// persistent copy lacks, from where adopt found it: not mounted yet on the
// wiped root, hidden now beneath a mount, or covered on a persistent
// filesystem (hidden, not deleted). It said "its bind mount hides them
// (the next wipe deletes them)" of a path not mounted at all, and of a
// covered home directory the wipe never touches (fresh-user finding).
func TestPendingSummarySaysWhatHappensWhere(t *testing.T) {
	copied := []restore.Outcome{{Action: restore.Copy, Result: &restore.Result{Items: []restore.Item{{Kind: restore.KindFile}}}}}
	res := &adopt.Result{Paths: []adopt.Path{
		{Path: "/var/lib/brand", Dest: "/persist/var/lib/brand", Ephemeral: "/", Outcomes: copied},
		{Path: "/etc/nixos", Dest: "/persist/etc/nixos", Ephemeral: "/", HiddenBy: "/etc/nixos", MountedNow: true, Outcomes: copied},
		{Path: "/home/alice/.ssh", Dest: "/persist/home/alice/.ssh", Covered: "/home", Outcomes: copied},
	}}
	var b strings.Builder
	if err := WriteAdopt(&b, "/", nil, res, AdoptDryRun, "summary"); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("summary:\n%s", b.String())
	}
	for i, want := range []string{"not mounted yet: the next boot mounts the copy over them, and the wipe deletes them",
		"the mount at /etc/nixos hides them now, and the next wipe deletes them",
		"on the persistent filesystem at /home, not in the copy: the next boot mounts the copy over them (hidden, not deleted)"} {
		if !strings.Contains(lines[i], want) || !strings.Contains(lines[i], "keep them: drift adopt "+res.Paths[i].Path) {
			t.Errorf("line %d %q lacks %q", i, lines[i], want)
		}
	}
	if strings.Contains(lines[0], "bind mount hides") || strings.Contains(lines[2], "deletes") {
		t.Errorf("summary says a mount hides what is not mounted, or the wipe deletes what is covered:\n%s", b.String())
	}
}

// TestRowAdoptNotWhereAdoptRefuses: below a declared path drift adopt
// refuses whatever it is asked (its storage path unusable, or the path a
// mount point of another filesystem: diff.Audit.Refusal), no row
// carries a drift adopt command and none follows the table: every command
// printed runs as printed (fresh-user finding: check printed "keep it:
// drift adopt … /var/lib/big" for a declared tmpfs mount point, and adopt
// exited 2).
func TestRowAdoptNotWhereAdoptRefuses(t *testing.T) {
	a := audit()
	a.Decls.Entries = append(a.Decls.Entries, persist.Entry{Kind: persist.Dir, StoragePath: "/q", Path: "/etc/nixos"})
	a.Lost = append(a.Lost, &diff.Item{Path: "/etc/nixos/hidden file", Category: diff.Shadowed, Mode: fileMode, Decl: -1})
	a.Unusable = map[string]string{"/p": "the persistent storage path /p is not usable: mount it first"}
	a.NotAdoptable = map[string]string{"/etc/nixos": "a mount point"}
	for _, it := range a.Lost {
		if got := RowAdopt(a, it); got != "" {
			t.Errorf("RowAdopt(%q) = %q, want none", it.Path, got)
		}
	}
	var buf bytes.Buffer
	if err := Write(&buf, a, Options{Format: "table"}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "drift adopt") {
		t.Errorf("a drift adopt command where adopt refuses:\n%s", buf.String())
	}
}

// TestKeptHiddenIsNotPreferPersistent: where adopt kept the copy's object
// without --prefer because the one read beneath the mount is hidden and
// stale (adopt.Path.KeptHidden), the table says so, and JSON counts it in
// keptHidden too (kept counts every object kept, as before): it said
// "kept (--prefer persistent)" of a run given no --prefer. A run given
// --prefer persistent still says that.
func TestKeptHiddenIsNotPreferPersistent(t *testing.T) {
	kept := []restore.Outcome{{Path: "/etc/nixos/hardware-configuration.nix", Dest: "/persist/etc/nixos/hardware-configuration.nix", Action: restore.Keep, Kind: restore.KindFile, DestKind: restore.KindFile}}
	for _, hidden := range []bool{true, false} {
		res := &adopt.Result{Paths: []adopt.Path{{Path: "/etc/nixos", Dest: "/persist/etc/nixos", Ephemeral: "/", HiddenBy: "/etc/nixos",
			MountedNow: true, KeptHidden: hidden, Outcomes: kept}}}
		var b strings.Builder
		if err := WriteAdopt(&b, "/", nil, res, AdoptDryRun, "table"); err != nil {
			t.Fatal(err)
		}
		said, other := "1 kept the copy's version (the one beneath the mount is hidden and stale)", "1 kept (--prefer persistent)"
		if !hidden {
			said, other = other, said
		}
		if !strings.Contains(b.String(), said) || strings.Contains(b.String(), other) {
			t.Errorf("hidden %v: table says not %q, or says %q:\n%s", hidden, said, other, b.String())
		}
		b.Reset()
		if err := WriteAdopt(&b, "/", nil, res, AdoptDryRun, "json"); err != nil {
			t.Fatal(err)
		}
		var r struct {
			Paths []struct {
				Counts struct{ Kept, KeptHidden int }
			}
		}
		if err := json.Unmarshal([]byte(b.String()), &r); err != nil {
			t.Fatal(err)
		}
		want := struct{ Kept, KeptHidden int }{1, 1}
		if !hidden {
			want.KeptHidden = 0
		}
		if len(r.Paths) != 1 || r.Paths[0].Counts != want {
			t.Errorf("hidden %v: JSON counts %+v, want %+v:\n%s", hidden, r.Paths, want, b.String())
		}
	}
}

// The refusal's hint declares the path for the module the configuration
// declares with (persist.Set.WriteFor): preservation's option for a
// preservation configuration, not impermanence's.
func TestAdoptDeclarationModule(t *testing.T) {
	for _, tt := range []struct {
		e    adopt.UndeclaredError
		want string
	}{
		{adopt.UndeclaredError{Path: "/srv/a", Storage: "/nix/persist", Module: persist.Impermanence}, `environment.persistence."/nix/persist".directories = [ "/srv/a" ];`},
		{adopt.UndeclaredError{Path: "/etc/k", Storage: "/persistent", File: true, Module: persist.Preservation}, `preservation.preserveAt."/persistent".files = [ "/etc/k" ];`},
	} {
		if got, ok := AdoptDeclaration(&tt.e); !ok || got != tt.want {
			t.Errorf("AdoptDeclaration(%+v) = %q %v, want %q", tt.e, got, ok, tt.want)
		}
	}
}

// TestAdoptUnseenSaysWhatToRun: an undeclared path a persistent mount
// shows, with drift not looking beneath the mount (adopt.Path.Unseen),
// is said so with what to run: without --mountinfo, the adopt on the
// live mount table (the flag and its file taken out of the command);
// with --root-subvol none (not among the flags a command carries), the
// adopt without it. Neither says the path is not on a wiped filesystem.
func TestAdoptUnseenSaysWhatToRun(t *testing.T) {
	for _, c := range []struct{ unseen, why, how string }{
		{"--mountinfo", "with a mount table read from --mountinfo drift cannot look beneath the mounts", "run it with the live mount table: drift adopt --root /mnt --persist /p.nix /var/log/x"},
		{"--root-subvol none", "with --root-subvol none drift does not look beneath the mounts", "run it without --root-subvol none: drift adopt --root /mnt --persist /p.nix /var/log/x"},
	} {
		args := []string{"--persist", "/p.nix"}
		if c.unseen == "--mountinfo" {
			args = append(args, "--mountinfo", "/m")
		}
		res := &adopt.Result{Paths: []adopt.Path{{Path: "/var/log/x", Persistent: "/var/log", Unseen: c.unseen, Ephemeral: "/"}}}
		var b bytes.Buffer
		testutil.Must(t, WriteAdopt(&b, "/mnt", args, res, AdoptDryRun, "table"))
		out := b.String()
		for _, want := range []string{c.why, c.how, "mount --bind /mnt /mnt/beneath", "look at /mnt/beneath/var/log/x"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: output lacks %q:\n%s", c.unseen, want, out)
			}
		}
		if strings.Contains(out, "not on a wiped filesystem") {
			t.Errorf("%s: says not on a wiped filesystem:\n%s", c.unseen, out)
		}
	}
}
