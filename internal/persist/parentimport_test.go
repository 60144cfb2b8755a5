package persist

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
)

// TestParentDirectoryImportIsRead: a static import of a parent
// directory's module (imports = [ ../persist.nix ] in hosts/a.nix) is
// read when the file is named with --persist, as nixos-rebuild reads it:
// its declarations count and nothing warns (it was "not followed",
// outside the named file's directory). What lies outside the system's
// root is still never read, and discovery, which reads /etc/nixos only,
// warns at the import's file:line:col, saying why and that its
// declarations are not read.
func TestParentDirectoryImportIsRead(t *testing.T) {
	root := t.TempDir()
	host := filepath.Join(root, "etc/nixos/hosts/a.nix")
	testutil.WriteFile(t, host, "{ ... }: {\n  imports = [ ../persist.nix ];\n}\n")
	testutil.WriteFile(t, filepath.Join(root, "etc/nixos/persist.nix"), `{ environment.persistence."/nix/persist".directories = [ "/var/lib/a" ]; }`)
	set, sources, err := Load(context.Background(), root, []string{host}, "", nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(set.Entries, func(e Entry) bool { return e.Path == "/var/lib/a" }) || !slices.Contains(sources, filepath.Join(root, "etc/nixos/persist.nix")) {
		t.Errorf("../persist.nix not read: entries %v, sources %q", briefs(set), sources)
	}
	if slices.ContainsFunc(set.Diagnostics, func(d Diagnostic) bool { return d.Code == "not-static" }) {
		t.Errorf("a warning about an import that was read: %q", diags(set))
	}

	// Beyond the system's root: not read, the warning names the import.
	testutil.WriteFile(t, filepath.Join(root, "../outside.nix"), `{ environment.persistence."/nix/persist".directories = [ "/var/lib/out" ]; }`)
	testutil.WriteFile(t, host, "{ ... }: {\n  imports = [ ../../../../outside.nix ];\n}\n")
	set, _, err = Load(context.Background(), root, []string{host}, "", nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(set.Entries, func(e Entry) bool { return e.Path == "/var/lib/out" }) {
		t.Errorf("a module outside the system's root was read: %v", briefs(set))
	}
	if !hasDiag(set, host+":2:15: warning: imports: ../../../../outside.nix is not followed (outside the tree", "and outside "+root, "the declarations and options in it are not read") {
		t.Errorf("no warning naming the import outside the root: %q", diags(set))
	}

	// Discovery: configuration.nix's ../foo.nix is outside /etc/nixos.
	testutil.WriteFile(t, host, "{ }")
	conf := filepath.Join(root, "etc/nixos/configuration.nix")
	testutil.WriteFile(t, conf, "{ ... }: {\n  imports = [ ../foo.nix ];\n  environment.persistence.\"/nix/persist\".directories = [ \"/var/log\" ];\n}\n")
	testutil.WriteFile(t, filepath.Join(root, "etc/foo.nix"), `{ environment.persistence."/nix/persist".directories = [ "/var/lib/foo" ]; }`)
	set, _, err = Load(context.Background(), root, nil, "", nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !hasDiag(set, conf+":2:15: warning: imports: ../foo.nix is not followed (outside the tree", "the declarations and options in it are not read") {
		t.Errorf("discovery: no warning naming ../foo.nix at its place: %q", diags(set))
	}
	if strings.Contains(strings.Join(briefs(set), "\n"), "/var/lib/foo") {
		t.Errorf("discovery counted a module it warns it did not read: %v", briefs(set))
	}
}
