package adopt

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/restore"
)

// demo copies the demo system (fixtures/demo: /srv, /etc and /root
// declared, not mounted, on the wiped root) and builds its model from
// the fixture's mount table and declarations.
func demo(t *testing.T) *audit.Model {
	t.Helper()
	fix, err := filepath.Abs("../../fixtures/demo")
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(t.TempDir(), "root")
	if out, err := exec.Command("cp", "-a", filepath.Join(fix, "root"), root).CombinedOutput(); err != nil {
		t.Fatalf("cp -a: %v\n%s", err, out)
	}
	m, err := audit.Build(context.Background(), audit.Options{Root: root, Persist: []string{filepath.Join(fix, "impermanence.nix")},
		Mountinfo: filepath.Join(fix, "mountinfo"), RootSubvol: "none", OldRoots: "none"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

// TestPendingAndDryRun: the declared paths with data and no persistent
// copy are pending; a dry run plans /srv's copy whole and writes nothing.
func TestPendingAndDryRun(t *testing.T) {
	m := demo(t)
	pending := Pending(m)
	if !slices.Contains(pending, "/srv") || slices.Contains(pending, "/var/spool") {
		t.Errorf("Pending = %q, want /srv (it holds data) and not /var/spool", pending)
	}
	res, err := Run(context.Background(), m, Options{Paths: []string{"/srv/"}, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	p := res.Paths[0]
	if p.Path != "/srv" || p.Dest != "/nix/persist/srv" || p.Decl.Path != "/srv" || p.Ephemeral != "/" || p.HiddenBy != "" {
		t.Errorf("plan %+v", p)
	}
	if len(p.Outcomes) != 1 || p.Outcomes[0].Action != restore.Copy || p.Outcomes[0].Result == nil || len(p.Outcomes[0].Result.Items) < 3 {
		t.Fatalf("outcomes %+v, want /srv copied whole", p.Outcomes)
	}
	if _, err := os.Lstat(filepath.Join(m.Root, "nix/persist/srv")); err == nil {
		t.Error("the dry run wrote the persistent copy")
	}
}

// TestAdoptCopiesAndLeavesLiveData: /srv is copied into /nix/persist/srv
// with its files' bytes; the live data stays; a second run finds every
// object the same; an undeclared path is refused with where its
// declaration would go.
func TestAdoptCopiesAndLeavesLiveData(t *testing.T) {
	m := demo(t)
	if _, err := Run(context.Background(), m, Options{Paths: []string{"/srv"}}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"srv/www/index.html", "srv/data/app.sqlite"} {
		live, err1 := os.ReadFile(filepath.Join(m.Root, f))
		copied, err2 := os.ReadFile(filepath.Join(m.Root, "nix/persist", f))
		if err1 != nil || err2 != nil || string(live) != string(copied) {
			t.Errorf("%s: live %v, copy %v; the bytes differ or are missing", f, err1, err2)
		}
	}
	res, err := Run(context.Background(), m, Options{Paths: []string{"/srv"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range res.Paths[0].Outcomes {
		if o.Action != restore.Same {
			t.Errorf("second run: %s is %s, want same", o.Path, o.Action)
		}
	}
	_, err = Run(context.Background(), m, Options{Paths: []string{"/opt/thing"}, DryRun: true})
	var ue *UndeclaredError
	if !errors.As(err, &ue) || ue.Path != "/opt/thing" || ue.Storage != "/nix/persist" {
		t.Errorf("undeclared path: %v, want an UndeclaredError naming /nix/persist", err)
	}
}

// A path declared as a file that is a directory on the live system (the
// tester's /etc/typemismatch, its inner file "not declared" in check) is
// refused with the reason, nothing written: copied, the directory would be
// the file's persistent copy, which the next boot could not mount.
func TestAdoptRefusesDirectoryDeclaredAsFile(t *testing.T) {
	fix, err := filepath.Abs("../../fixtures/demo")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	for _, d := range []string{"opt/typemismatch", "nix/persist"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "opt/typemismatch/inner"), []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	nix := filepath.Join(dir, "p.nix")
	if err := os.WriteFile(nix, []byte(`{ environment.persistence."/nix/persist".files = [ "/opt/typemismatch" ]; }`), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := audit.Build(context.Background(), audit.Options{Root: root, Persist: []string{nix},
		Mountinfo: filepath.Join(fix, "mountinfo"), RootSubvol: "none", OldRoots: "none"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	for _, dry := range []bool{true, false} {
		_, err = Run(context.Background(), m, Options{Paths: []string{"/opt/typemismatch"}, DryRun: dry})
		var ke *KindError
		if !errors.As(err, &ke) || !strings.Contains(err.Error(), "declared as a file but is a directory") {
			t.Errorf("dry run %v: %v, want a KindError", dry, err)
		}
	}
	if _, err := os.Lstat(filepath.Join(root, "nix/persist/opt")); err == nil {
		t.Error("something was written into the persistent storage path")
	}
}

// A field report: drift adopt of /etc/resolv.conf and
// /etc/ssh/sshd_config, declared as files and links NixOS activation
// makes into /etc/static, copied the links into persistent storage. They
// hold no data: adopt refuses them, saying why, and writes nothing; a
// --pending run does not offer them (check does not count them lost).
func TestAdoptRefusesEtcStaticLinks(t *testing.T) {
	fix, err := filepath.Abs("../../fixtures/demo")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	if err := os.MkdirAll(filepath.Join(root, "etc/ssh"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "nix/persist"), 0o755); err != nil {
		t.Fatal(err)
	}
	for p, target := range map[string]string{"etc/resolv.conf": "/etc/static/resolv.conf", "etc/ssh/sshd_config": "/etc/static/ssh/sshd_config"} {
		if err := os.Symlink(target, filepath.Join(root, p)); err != nil {
			t.Fatal(err)
		}
	}
	nix := filepath.Join(dir, "p.nix")
	if err := os.WriteFile(nix, []byte(`{ environment.persistence."/nix/persist".files = [ "/etc/resolv.conf" "/etc/ssh/sshd_config" ]; }`), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := audit.Build(context.Background(), audit.Options{Root: root, Persist: []string{nix},
		Mountinfo: filepath.Join(fix, "mountinfo"), RootSubvol: "none", OldRoots: "none"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	if pending := Pending(m); len(pending) > 0 {
		t.Errorf("Pending = %q, want nothing (links activation makes)", pending)
	}
	for _, p := range []string{"/etc/resolv.conf", "/etc/ssh/sshd_config"} {
		for _, dry := range []bool{true, false} {
			_, err = Run(context.Background(), m, Options{Paths: []string{p}, DryRun: dry})
			var ee *EtcLinkError
			if !errors.As(err, &ee) || ee.Path != p || !strings.Contains(err.Error(), "NixOS activation makes at every boot") {
				t.Errorf("adopt %s (dry run %v): %v, want an EtcLinkError", p, dry, err)
			}
		}
	}
	if _, err := os.Lstat(filepath.Join(root, "nix/persist/etc")); err == nil {
		t.Error("something was written into the persistent storage path")
	}
}
