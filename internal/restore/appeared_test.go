package restore

import (
	"context"
	"errors"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nix-drift/drift/internal/testutil"
)

// TestAppearedDuringTheCopyHintFitsTheFlags: a destination that another
// writer makes while drift restore copies (here, before the copy is read
// back) refuses the rename; with --force given, the hint said "--force
// replaces it" (field case: drift restore --force and drift adopt
// --prefer live on one copy at once). The hint names --force only when it
// was not given; with it, it says to run again.
func TestAppearedDuringTheCopyHintFitsTheFlags(t *testing.T) {
	tryClone = func(int, int) (bool, error) { return false, nil }
	defer func() { tryClone = clone }()
	defer func() { beforeReadBack = nil }()
	for _, force := range []bool{false, true} {
		from, live := t.TempDir(), t.TempDir()
		testutil.Tree(t, from, "f /srv/app/a alpha\n")
		beforeReadBack = func(dir int, tmp string) {
			testutil.Must(t, unix.Mkdirat(dir, "app", 0o755)) // the other writer's
		}
		_, err := Run(context.Background(), Request{From: from, Path: "/srv/app", Root: live, Dest: "/p/srv/app", SyncOnce: true, Verify: true, Force: force})
		var h *HintError
		if !errors.Is(err, ErrExists) || !errors.As(err, &h) {
			t.Fatalf("force %v: %v, want ErrExists with a hint", force, err)
		}
		if force && (strings.Contains(h.Hint, "--force replaces") || !strings.Contains(h.Hint, "run drift restore --force again")) {
			t.Errorf("with --force: hint %q", h.Hint)
		}
		if !force && !strings.Contains(h.Hint, "--force replaces it") {
			t.Errorf("without --force: hint %q", h.Hint)
		}
	}
}
