package adopt

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/testutil"
	"golang.org/x/sys/unix"
)

// btrfsNS runs a test that mounts a btrfs image in a private mount
// namespace (testutil.Namespace: the test binary re-executed under
// unshare, every mount dying with it), only with DRIFT_REQUIRE_BTRFS.
var btrfsNS = testutil.Namespace{Child: "DRIFT_ADOPT_CHILD", Dir: "DRIFT_ADOPT_DIR", Require: "DRIFT_REQUIRE_BTRFS", Timeout: 2 * time.Minute}

// TestAdoptSaysSubvolumesArePlainInTheCopy: /var/lib/machines holds two
// live btrfs subvolumes (vm1 and vm1/inner, as systemd-nspawn makes);
// drift adopt copies them into the persistent copy as plain directories,
// so that a snapshot of the persistent subvolume (a btrbk or snapper
// backup) holds their data, where a nested subvolume would be an empty
// directory. It said nothing of them: now one note names both and why,
// dry run or not, and the copy's directories are plain ones with the
// files in them.
func TestAdoptSaysSubvolumesArePlainInTheCopy(t *testing.T) {
	if !btrfsNS.IsChild(t) {
		btrfsNS.Prepare(t, "real-btrfs tests", "mount", "umount", "mkfs.btrfs", "btrfs")
		btrfsNS.Run(t)
		return
	}
	dir := os.Getenv("DRIFT_ADOPT_DIR")
	root := btrfsNS.NewBtrfs(t, "root")
	run := func(name string, args ...string) {
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
	}
	testutil.Must(t, os.MkdirAll(filepath.Join(root, "var/lib/machines"), 0o755))
	testutil.Must(t, os.MkdirAll(filepath.Join(root, "nix/persist"), 0o755))
	run("btrfs", "subvolume", "create", filepath.Join(root, "var/lib/machines/vm1"))
	run("btrfs", "subvolume", "create", filepath.Join(root, "var/lib/machines/vm1/inner"))
	testutil.Must(t, os.WriteFile(filepath.Join(root, "var/lib/machines/vm1/inner/data"), []byte("data\n"), 0o644))
	mi := filepath.Join(dir, "mountinfo")
	testutil.Must(t, os.WriteFile(mi, []byte("22 1 0:31 /root / rw - btrfs /dev/vda2 rw,subvol=/root\n28 22 0:31 /persist /nix/persist rw - btrfs /dev/vda2 rw,subvol=/persist\n"), 0o644))
	decl := filepath.Join(dir, "p.json")
	testutil.Must(t, os.WriteFile(decl, []byte(`{"persistentStoragePath": "/nix/persist", "directories": ["/var/lib/machines"]}`), 0o644))
	m, err := audit.Build(context.Background(), audit.Options{Root: root, Persist: []string{decl}, Mountinfo: mi, RootSubvol: "none", OldRoots: "none"})
	testutil.Must(t, err)
	t.Cleanup(m.Close)
	for _, dry := range []bool{true, false} {
		res, err := Run(context.Background(), m, Options{Paths: []string{"/var/lib/machines"}, DryRun: dry})
		testutil.Must(t, err)
		want := fmt.Sprintf("/var/lib/machines/vm1, /var/lib/machines/vm1/inner: btrfs subvolumes on the live system, %s as plain directories (in the persistent storage %s: a snapshot of it, as backups take, would leave a nested subvolume out); their files are all there",
			map[bool]string{true: "would be copied", false: "copied"}[dry], filepath.Join(root, "nix/persist"))
		if len(res.Notes) != 1 || res.Notes[0] != want {
			t.Errorf("dry run %v: notes %q, want one: %q", dry, res.Notes, want)
		}
	}
	for _, p := range []string{"vm1", "vm1/inner"} {
		var st, parent unix.Stat_t
		testutil.Must(t, unix.Lstat(filepath.Join(root, "nix/persist/var/lib/machines", p), &st))
		testutil.Must(t, unix.Lstat(filepath.Dir(filepath.Join(root, "nix/persist/var/lib/machines", p)), &parent))
		if st.Dev != parent.Dev {
			t.Errorf("%s in the copy is a subvolume, want a plain directory", p)
		}
	}
	if got := read(t, filepath.Join(root, "nix/persist/var/lib/machines/vm1/inner/data")); got != "data\n" {
		t.Errorf("the copy's vm1/inner/data: %q", got)
	}
}
