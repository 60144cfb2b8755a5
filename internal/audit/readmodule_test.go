package audit

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/testutil"
)

// TestReadModuleReadsNoModuleAgain: drift suggest reads each module of its
// earlier rounds (persist-suggested.nix, not imported) as --persist FILE
// would be read, with the system's configuration for what is in use.
// It ran a whole persist.Load per module: every module of the
// configuration (4 here, 100 KiB each) read and parsed again, once per
// earlier module. Model.ReadModule reads with the parses of the
// configuration the model read: only the earlier module itself is read
// (rchar of /proc/self/io, the bytes read(2) returned: under 100 KiB; a
// Load without the model's parses reads over 400 KiB), and what it
// declares is the same.
func TestReadModuleReadsNoModuleAgain(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	pad := "\n# " + strings.Repeat("x", 100<<10) + "\n"
	write := func(rel, text string) { testutil.WriteFile(t, filepath.Join(root, "etc/nixos", rel), text+pad) }
	write("configuration.nix", `{ ... }: { imports = [ ./hardware-configuration.nix ./persist.nix ./users.nix ]; }`)
	write("hardware-configuration.nix", `{ ... }: { fileSystems."/".fsType = "tmpfs"; }`)
	write("persist.nix", `{ environment.persistence."/nix/persist".directories = [ "/var/lib/nixos" ]; }`)
	write("users.nix", `{ ... }: { users.users.alice = { isNormalUser = true; home = "/srv/alice"; }; }`)
	earlier := filepath.Join(root, "etc/nixos/persist-suggested.nix")
	testutil.WriteFile(t, earlier, `{ environment.persistence."/nix/persist".users.alice.directories = [ "notes" ]; }`)
	testutil.WriteFile(t, filepath.Join(dir, "mountinfo"), testMountinfo)
	testutil.Must(t, os.MkdirAll(filepath.Join(root, "nix/persist"), 0o755))
	m, err := Build(context.Background(), Options{Root: root, Mountinfo: filepath.Join(dir, "mountinfo"), OldRoots: "none", Ephemeral: []string{"/"}, Need: NeedMounts})
	testutil.Must(t, err)
	t.Cleanup(m.Close)

	before := rchar(t)
	set, err := m.ReadModule(context.Background(), earlier)
	read := rchar(t) - before
	testutil.Must(t, err)
	fresh := rchar(t)
	alone, _, err := persist.Load(context.Background(), root, []string{earlier}, "", nil, persist.Options{})
	freshRead := rchar(t) - fresh
	testutil.Must(t, err)

	if len(set.Entries) != 1 || set.Entries[0].Path != "/srv/alice/notes" || len(alone.Entries) != 1 || alone.Entries[0].Path != set.Entries[0].Path {
		t.Errorf("declared %v, alone %v; want /srv/alice/notes (users.users.alice.home of the configuration)", set.Entries, alone.Entries)
	}
	t.Logf("ReadModule read %d bytes, a Load on its own %d", read, freshRead)
	if read >= 100<<10 {
		t.Errorf("ReadModule read %d bytes: the configuration's modules again", read)
	}
	if freshRead < 400<<10 {
		t.Errorf("a Load on its own read %d bytes: the test reads no configuration", freshRead)
	}
}

// rchar is the bytes this process's read(2) calls returned so far
// (/proc/self/io).
func rchar(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/io")
	testutil.Must(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "rchar: "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			testutil.Must(t, err)
			return n
		}
	}
	t.Fatal("no rchar in /proc/self/io")
	return 0
}
