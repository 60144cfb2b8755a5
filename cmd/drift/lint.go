package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/nix-drift/drift/internal/lint"
	"github.com/nix-drift/drift/internal/lint/input"
	"github.com/nix-drift/drift/internal/lint/output"
	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/units"
	"github.com/spf13/cobra"
)

// errFindings is returned by drift lint when findings reach --fail-on:
// exit status 1.
var errFindings = errors.New("findings at or above --fail-on")

// LintOptions are the flags of drift lint.
type LintOptions struct {
	Flake     string
	Layout    []string
	Homes     []string
	Format    string
	FailOn    string
	Enable    []string
	Disable   []string
	ListRules bool
	Quiet     bool
}

func newLintCmd(st Streams) *cobra.Command {
	opts := &LintOptions{}
	cmd := &cobra.Command{
		Use:   "lint [FILE|DIR]...",
		Short: "Lint persistence declarations for CI, with positions, no live root needed",
		Long: `Read persistence declarations (impermanence's environment.persistence,
home-manager's home.persistence, preservation's preservation.preserveAt) and
the wipe's set-up, and report mistakes at file:line:col, with no running
system: a check for CI.

FILE is a .nix file (read statically, without Nix), nix eval JSON, or - for
standard input; a DIR is walked for .nix files, each host directory (one
holding configuration.nix, hosts/NAME, machines/NAME) a configuration of its
own; relative imports are followed. --flake REF#HOST evaluates a host with
nix; --layout names the disk layout (disko .nix, or fileSystems JSON).

A comment on the line before a finding's line (or at its end) suppresses it:
  # drift-lint: disable=nested-directory
--list-rules lists the rules. Formats: text, json, github (pull-request
annotations), sarif (code scanning).

More, with every rule's reason and source: docs/lint.md in drift's repository.

EXIT STATUS
  0  no finding at or above --fail-on (default error)
  1  findings at or above --fail-on
  2  an input could not be read (the error names file:line:col), or a named
     directory holds no .nix file; the other inputs' findings are printed
  130, 143  interrupted by SIGINT or SIGTERM (a second signal exits at once)`,
		Example: `  drift lint /etc/nixos/impermanence.nix
  drift lint hosts/ --format github
  drift lint --flake .#myhost --format sarif > drift.sarif
  drift lint persist.nix --layout disko.nix --fail-on warning
  drift lint persist.nix --disable missing-systemd-timers --enable conditional`,
		RunE: func(cmd *cobra.Command, args []string) error { return runLint(cmd.Context(), opts, args, st) },
	}
	f := cmd.Flags()
	f.StringVar(&opts.Flake, "flake", "", "also lint the host evaluated with nix from `REF#HOST`")
	f.StringArrayVar(&opts.Layout, "layout", nil, "disk layout: a disko .nix `FILE` or nix eval JSON of fileSystems (repeatable)")
	f.StringArrayVar(&opts.Homes, "home", nil, "home directory of a user for users.<name> entries, `NAME=PATH` (repeatable; default /home/NAME)")
	formatFlag(cmd, &opts.Format, "text", output.Formats)
	f.StringVar(&opts.FailOn, "fail-on", "error", "exit 1 when a finding has this `SEVERITY` or a higher one: error, warning or info")
	completeValues(cmd, "fail-on", []string{"error", "warning", "info"})
	f.StringArrayVar(&opts.Enable, "enable", nil, "run `RULE` too (repeatable, comma-separated; all for every rule)")
	f.StringArrayVar(&opts.Disable, "disable", nil, "do not run `RULE` (repeatable, comma-separated; all for every rule; --enable wins)")
	ruleIDs := []string{"all"}
	for _, r := range lint.Rules() {
		ruleIDs = append(ruleIDs, r.ID)
	}
	completeList(cmd, "enable", ruleIDs)
	completeList(cmd, "disable", ruleIDs)
	f.BoolVar(&opts.ListRules, "list-rules", false, "list the rules (id, severity, default, summary) and exit")
	f.BoolVarP(&opts.Quiet, "quiet", "q", false, "print no summary on stderr")
	return cmd
}

// readErrors are the inputs that could not be read; main prints each, and
// the hint of each that has one below it (main's printError looks at one
// error only, and not into this list).
type readErrors []error

func (e readErrors) Error() string {
	var s []string
	for _, err := range e {
		line := err.Error()
		if h, ok := err.(*hintError); ok && h.hint != "" {
			line += "\ndrift: hint: " + h.hint
		}
		s = append(s, line)
	}
	return strings.Join(s, "\ndrift: error: ")
}

func runLint(ctx context.Context, opts *LintOptions, args []string, st Streams) error {
	if opts.ListRules {
		return listRules(st.Out)
	}
	if !slices.Contains(output.Formats, opts.Format) {
		return fmt.Errorf("--format %q: expected one of %s", opts.Format, strings.Join(output.Formats, ", "))
	}
	failOn, err := lint.ParseSeverity(opts.FailOn)
	if err != nil {
		return fmt.Errorf("--fail-on: %w", err)
	}
	sel, err := lint.NewSelection(opts.Enable, opts.Disable)
	if err != nil {
		return withHint(err, "drift lint --list-rules lists the rule ids")
	}
	homes, err := parseHomes(opts.Homes)
	if err != nil {
		return err
	}
	if len(args) == 0 && opts.Flake == "" {
		return withHint(errors.New("nothing to lint"), "name .nix or .json files, a directory, - for stdin, or --flake REF#HOST")
	}
	if err := stdinOnce(append(flagInputs("", args...), flagInputs("--layout", opts.Layout...)...)); err != nil {
		return err
	}
	var layout []persist.Mount
	for _, l := range opts.Layout {
		ms, err := persist.ReadLayout(l, nil)
		if err != nil {
			return fmt.Errorf("--layout: %w", err)
		}
		layout = append(layout, ms...)
	}
	configs, files, errs, err := input.Load(ctx, args, input.Options{Stdin: st.In, Layout: layout, Persist: persist.Options{Homes: homes}, Flake: opts.Flake})
	if err != nil {
		return err
	}
	for i, err := range errs {
		if _, ok := err.(*input.FlakeModulesError); ok {
			errs[i] = withHint(err, "name the host with --flake REF#HOST (evaluated with Nix), or the files or directory of its modules")
		} else if _, ok := err.(*input.EmptyDirError); ok {
			errs[i] = withHint(err, "symlinks inside a named directory are not followed and hidden directories are skipped; name the files, or the directory that holds them")
		} else if h := pipeHint(err, ""); h != "" {
			errs[i] = withHint(err, h)
		}
	}
	for _, c := range configs {
		c.MaxPerRule = lint.DefaultMaxPerRule
	}
	findings, err := lint.CheckAll(ctx, configs, sel)
	if err != nil {
		return err
	}
	sources := map[string][]byte{}
	for _, c := range configs {
		maps.Copy(sources, c.Sources)
	}
	if err := output.Write(st.Out, opts.Format, findings, output.Tool{InformationURI: "https://github.com/nix-drift/drift", Sources: sources}); err != nil {
		return err
	}
	// With no input read there is no summary to give: only the errors.
	if !opts.Quiet && (files > 0 || len(errs) == 0) {
		fmt.Fprintf(st.Err, "drift lint: %s, %s, %s in %s\n",
			units.Plural(int64(lint.Count(findings, lint.Error)), "error", "errors"),
			units.Plural(int64(lint.Count(findings, lint.Warning)-lint.Count(findings, lint.Error)), "warning", "warnings"),
			units.Plural(int64(len(findings)-lint.Count(findings, lint.Warning)), "info", "infos"),
			units.Plural(int64(files), "input", "inputs"))
	}
	if len(errs) > 0 {
		return readErrors(errs)
	}
	if lint.Count(findings, failOn) > 0 {
		return errFindings
	}
	return nil
}

func listRules(w io.Writer) error {
	var b strings.Builder
	for _, r := range lint.Rules() {
		state := "on"
		if r.Off {
			state = "off"
		}
		fmt.Fprintf(&b, "%-24s %-8s %-4s %s\n", r.ID, r.Severity, state, r.Summary)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
