package audit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/safefile"
	"golang.org/x/sys/unix"
)

// wipeFailureWarning is the warning for the mark at path (ok false when
// there is none): the wipe failed at this boot, or the mark is unreadable.
func wipeFailureWarning(path string) (w diff.Warning, ok bool) {
	msg, err := wipeFailure(path)
	switch {
	case err != nil:
		return diff.Warning{Kind: diff.WarnWipe, Path: "/", Message: fmt.Sprintf("the boot's wipe may have failed: %v", err)}, true
	case msg != "":
		return diff.Warning{Kind: diff.WarnWipe, Path: "/", Message: fmt.Sprintf("the wipe failed at this boot (%s, says %s): the root was not rolled back", msg, path)}, true
	}
	return diff.Warning{}, false
}

// wipeFailedMark is where the NixOS module's stage-1 wipe
// (services.drift.wipe with onFailure = "continue") leaves the failure of
// the boot's drift wipe: a one-line file in /run, which both initrds carry
// into the booted system. Build reports it (the first warning) when it
// checks the wipe of the running system (Options.CheckWipe, Root /, the
// live mount table). A variable for tests.
var wipeFailedMark = "/run/drift/wipe-failed"

// wipeFailure reads the mark at path: its first line (at most 256 bytes),
// "" when there is no mark. Errors: the path is not a regular file (a
// symbolic link is not followed) or cannot be read.
func wipeFailure(path string) (string, error) {
	f, _, err := safefile.Open(path, unix.O_NOFOLLOW)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	defer f.Close()
	buf, err := io.ReadAll(io.LimitReader(f, 256))
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	line, _, _ := bytes.Cut(buf, []byte("\n"))
	if s := strings.TrimSpace(string(line)); s != "" {
		return s, nil
	}
	return "failed", nil
}
