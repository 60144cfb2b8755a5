package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestSuggestAgreesWithCheckOnABindMountNothingMakesAgain: data on
// persistent storage bind-mounted now at a path no declaration, no
// fileSystems and no /etc/fstab line mounts again (machine without its
// fstab: /var/lib/postgresql) is unmounted to drift check, and drift
// suggest says the same of its copy: declare it, or it is no longer
// mounted after the next boot — not "nothing to do" (issue 12, fresh-user
// tester). With the fstab line making the mount again, nothing to do.
func TestSuggestAgreesWithCheckOnABindMountNothingMakesAgain(t *testing.T) {
	_, args := machine(t, false)
	_, out, errs := runDrift(t, append([]string{"check"}, args...)...)
	if !strings.Contains(out, "/var/lib/postgresql") || !strings.Contains(out, "unmounted") {
		t.Fatalf("drift check does not call /var/lib/postgresql unmounted:\n%s\n%s", out, errs)
	}
	note := noteOf(t, "/nix/persist/var/lib/postgresql", args)
	if !strings.Contains(note, "declare /var/lib/postgresql") || !strings.Contains(note, "next boot") || strings.Contains(note, "nothing to do") {
		t.Errorf("drift suggest's note on the mounted copy: %q, want: declare it, or it is no longer mounted after the next boot", note)
	}
	_, args = machine(t, true)
	if note := noteOf(t, "/nix/persist/var/lib/postgresql", args); !strings.Contains(note, "nothing to do") {
		t.Errorf("with /etc/fstab mounting it again: %q, want nothing to do", note)
	}
}

// noteOf is the note of drift suggest's row for p (suggest --format json
// with args), "" when there is none.
func noteOf(t *testing.T, p string, args []string) string {
	t.Helper()
	code, out, errs := runDrift(t, append([]string{"suggest", "--format", "json"}, args...)...)
	if code > 1 {
		t.Fatalf("drift suggest: exit %d\n%s", code, errs)
	}
	var doc struct {
		Suggestions []struct{ Path, Note string }
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	for _, s := range doc.Suggestions {
		if s.Path == p {
			return s.Note
		}
	}
	return ""
}
