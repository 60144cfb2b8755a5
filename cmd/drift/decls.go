package main

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/nix-drift/drift/internal/audit"
	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/knowledge"
	"github.com/nix-drift/drift/internal/persist"
	"github.com/spf13/cobra"
)

// declFlags are the flags naming the system a command works on and its
// persistence declarations: --root, --persist, --flake, --home (drift check
// and drift restore).
type declFlags struct {
	Root    string
	Persist []string
	Flake   string
	Homes   []string
}

// add defines the flags on cmd; rootUsage is --root's help.
func (d *declFlags) add(cmd *cobra.Command, rootUsage string) {
	f := cmd.Flags()
	f.StringVar(&d.Root, "root", "/", rootUsage)
	f.StringArrayVar(&d.Persist, "persist", nil, "declarations: a .nix file, nix eval JSON, a raw entry as JSON, or - for stdin (repeatable)")
	f.StringVar(&d.Flake, "flake", "", "evaluate declarations with nix from `REF#HOST`")
	f.StringArrayVar(&d.Homes, "home", nil, "home directory of a user for users.<name> entries, `NAME=PATH` (repeatable; default /home/NAME)")
}

// resolve checks the flags (--persist - at most once, stdinOnce; --root
// an existing directory, --home NAME=/path) and returns --root absolute
// and clean, and the homes.
func (d *declFlags) resolve() (root string, homes map[string]string, err error) {
	if err := stdinOnce(flagInputs("--persist", d.Persist...)); err != nil {
		return "", nil, err
	}
	root, err = filepath.Abs(d.Root)
	if err != nil {
		return "", nil, err
	}
	root = filepath.Clean(root)
	if fi, err := os.Stat(root); err != nil {
		return "", nil, fmt.Errorf("--root: %w", err)
	} else if !fi.IsDir() {
		return "", nil, fmt.Errorf("--root %s: not a directory", root)
	}
	homes, err = parseHomes(d.Homes)
	if err != nil {
		return "", nil, err
	}
	return root, homes, nil
}

// printDiagnostic prints d, with its hint, when it is a warning or worse
// or verbose is set.
// diagError says s is a diagnostic of the declarations of severity
// error: an entry left out, what drift reports may rest on it (an empty
// set: "not an impermanent root"), so --quiet does not hide it.
func diagError(s audit.Said) bool {
	return s.Diagnostic != nil && s.Diagnostic.Severity >= persist.Error
}

func printDiagnostic(st Streams, d persist.Diagnostic, verbose bool) {
	if d.Severity >= persist.Warning || verbose {
		fmt.Fprintf(st.Err, "drift: %s\n", escape.Text(d.String()))
		if d.Hint != "" {
			fmt.Fprintf(st.Err, "drift: hint: %s\n", escape.Text(d.Hint))
		}
	}
}

// parseHomes reads --home NAME=PATH, once for every command that takes it
// (check, suggest, adopt, restore, prune, lint): PATH absolute, and neither
// / nor a directory holding the system's state (knowledge.CheckHome), cleaned.
func parseHomes(specs []string) (map[string]string, error) {
	homes := map[string]string{}
	for _, s := range specs {
		name, dir, ok := strings.Cut(s, "=")
		if !ok || name == "" || !strings.HasPrefix(dir, "/") {
			return nil, fmt.Errorf("--home %q: expected NAME=/absolute/path", s)
		}
		if err := knowledge.CheckHome(dir); err != nil {
			return nil, fmt.Errorf("--home %s: %w", s, err)
		}
		homes[name] = path.Clean(dir)
	}
	return homes, nil
}
