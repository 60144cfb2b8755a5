package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/jsonschema"
	"github.com/nix-drift/drift/internal/testutil"
)

// schemaOf names the published schema (docs/schema/NAME.json) of what
// drift args writes with --format json, "" when args do not ask for JSON.
func schemaOf(args []string) string {
	i := slices.Index(args, "--format")
	if len(args) == 0 || i < 0 || i+1 >= len(args) || args[i+1] != "json" {
		return ""
	}
	if args[0] != "prune" {
		return args[0]
	}
	switch {
	case len(args) > 1 && args[1] == "empty":
		return "prune-empty"
	case slices.Contains(args, "--list"):
		return "prune-list"
	case slices.Contains(args, "--undo"):
		return "prune-undo"
	}
	return "prune-run"
}

// validateJSON checks what drift args wrote on standard output against
// its published schema when args ask for JSON and something was written
// (a refusal before any output writes none): every drift JSON document
// the real-btrfs tests produce follows its schema.
func validateJSON(t *testing.T, args []string, stdout []byte) {
	t.Helper()
	name := schemaOf(args)
	if name == "" || len(stdout) == 0 {
		return
	}
	schema, err := os.ReadFile(filepath.Join("..", "..", "docs", "schema", name+".json"))
	if err != nil {
		t.Fatalf("drift %v: %v", args, err)
	}
	if err := jsonschema.Validate(schema, stdout); err != nil {
		t.Errorf("drift %v: against docs/schema/%s.json: %v", args, name, err)
	}
}

// TestSchemaOf: the schema each e2e call's JSON is checked against.
func TestSchemaOf(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"check", "--root", "/", "--format", "json"}, "check"},
		{[]string{"check", "--format", "table"}, ""},
		{[]string{"adopt", "--format", "json", "/srv"}, "adopt"},
		{[]string{"prune", "--format", "json"}, "prune-run"},
		{[]string{"prune", "--list", "--format", "json"}, "prune-list"},
		{[]string{"prune", "--undo", "all", "--format", "json"}, "prune-undo"},
		{[]string{"prune", "empty", "--older-than", "1d", "--format", "json"}, "prune-empty"},
		{[]string{"rehearse", "--format"}, ""},
	} {
		if got := schemaOf(c.args); got != c.want {
			t.Errorf("schemaOf(%q) = %q, want %q", c.args, got, c.want)
		}
	}
}

// TestWipeAndRootsJSONMatchSchema: drift roots and drift wipe (planned,
// then done) on a real btrfs filesystem write JSON their published schemas
// accept.
func TestWipeAndRootsJSONMatchSchema(t *testing.T) {
	if !driftChild(t) {
		return // the test ran in a private mount namespace
	}
	w := newWipeImage(t, "schema")
	testutil.Must(t, os.Mkdir(filepath.Join(w.top, "old_roots"), 0o755))
	w.subvol("old_roots/2026-10-1_08:00:00", time.Time{})
	w.subvol("old_roots/2026-11-9_08:00:00", time.Time{})
	w.subvol("root", time.Date(2026, 11, 29, 19, 0, 0, 0, time.UTC))
	now := "2026-11-29T20:00:00Z"
	for _, args := range [][]string{
		{"roots", "--top", w.top, "--now", now, "--format", "json"},
		{"wipe", "--device", w.dev, "--resume-device", "none", "--now", now, "--dry-run", "--format", "json"},
		{"wipe", "--device", w.dev, "--resume-device", "none", "--now", now, "--format", "json"},
	} {
		cmd := command(os.Getenv(envDrift), args...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("drift %v: %v: %s", args, err, stderr.String())
		}
		if stdout.Len() == 0 {
			t.Fatalf("drift %v: nothing on stdout", args)
		}
		validateJSON(t, args, stdout.Bytes())
	}
	if _, err := os.Stat(filepath.Join(w.top, "old_roots", "2026-10-1_08:00:00")); !os.IsNotExist(err) {
		t.Errorf("drift wipe left the expired old root: %v", err)
	}
}
