package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/nix-drift/drift/internal/lint"
	"github.com/nix-drift/drift/internal/lint/output"
	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/report"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
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
home-manager's home.persistence in its current and v1 forms, preservation's
preservation.preserveAt) and report mistakes at file:line:col. .nix files are
read statically, without Nix; .json files are nix eval output; a DIR is walked
for .nix files (symlinks are never followed; hidden directories are skipped);
- reads standard input. --flake REF#HOST evaluates the host with nix (no
positions, but the real list).

The files named on the command line (and --flake) are one configuration; in
a walked DIR, the .nix files below each of its sub-directories are one (so
drift lint hosts/ lints hosts/a/** and hosts/b/** each on its own), and the
files directly in DIR another. Rules that look for missing state
(/var/lib/nixos, /etc/machine-id, …) run for a configuration that declares a
system-wide storage path.

--layout FILE names the disk layout: a disko .nix file (read statically) or
nix eval --json …config.fileSystems. A path on a mount that is neither / nor
a tmpfs is already persistent. fileSystems set in the files read count too.

A comment on the line before a finding's line (or at the end of that line)
suppresses it:

  # drift-lint: disable=nested-directory
  "/var/lib/app/cache"

disable=all suppresses every rule there. drift lint --list-rules lists the
rules; see the README for each one's reason and source.

Formats: text ("file:line:col: severity rule: message", then "  hint: …"),
json, github (workflow commands that annotate a pull request), sarif (2.1.0,
for code scanning). A summary goes to stderr unless --quiet.

EXIT STATUS
  0  no finding at or above --fail-on (default error)
  1  findings at or above --fail-on
  2  an input could not be read (missing, unreadable, malformed: the error
     names file:line:col); the findings of the other inputs are still printed`,
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
	f.BoolVar(&opts.ListRules, "list-rules", false, "list the rules (id, severity, default, summary) and exit")
	f.BoolVarP(&opts.Quiet, "quiet", "q", false, "print no summary on stderr")
	return cmd
}

// lintInput is one file read for drift lint.
type lintInput struct {
	name  string
	group string // configuration: "" for the command line, else a directory
	data  []byte
	quiet bool
}

// readErrors are the inputs that could not be read; main prints each.
type readErrors []error

func (e readErrors) Error() string {
	var s []string
	for _, err := range e {
		s = append(s, err.Error())
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
	if n := slices.Index(args, "-"); n >= 0 && slices.Index(args[n+1:], "-") >= 0 {
		return errors.New("-: standard input can be read only once")
	}
	var layout []persist.Mount
	for _, l := range opts.Layout {
		ms, err := persist.ReadLayout(l, nil)
		if err != nil {
			return fmt.Errorf("--layout: %w", err)
		}
		layout = append(layout, ms...)
	}
	inputs, errs := collectLintInputs(args, st.In)
	popts := persist.Options{Homes: homes}
	groups := map[string]*lint.Config{}
	var order []string
	group := func(g string) *lint.Config {
		c, ok := groups[g]
		if !ok {
			c = &lint.Config{Layout: layout, Sources: map[string][]byte{}, Quiet: map[string]bool{}}
			groups[g] = c
			order = append(order, g)
		}
		return c
	}
	files := 0
	for _, in := range inputs {
		s, err := persist.Read(in.name, bytes.NewReader(in.data), popts)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		files++
		c := group(in.group)
		c.Sets = append(c.Sets, s)
		name := in.name
		if name == "-" {
			name = "<stdin>"
		}
		c.Sources[name] = in.data
		c.Quiet[name] = in.quiet
	}
	if opts.Flake != "" {
		s, err := persist.EvalFlake(ctx, opts.Flake, popts)
		if err != nil {
			errs = append(errs, fmt.Errorf("--flake: %w", err))
		} else {
			files++
			c := group("")
			c.Sets = append(c.Sets, s)
		}
	}
	var findings []lint.Finding
	for _, g := range order {
		findings = append(findings, lint.Check(*groups[g], sel)...)
	}
	lint.Sort(findings)
	if err := output.Write(st.Out, opts.Format, findings, output.Tool{InformationURI: "https://github.com/nix-drift/drift"}); err != nil {
		return err
	}
	if !opts.Quiet {
		fmt.Fprintf(st.Err, "drift lint: %s, %s, %s in %s\n",
			report.Plural(int64(lint.Count(findings, lint.Error)), "error", "errors"),
			report.Plural(int64(lint.Count(findings, lint.Warning)-lint.Count(findings, lint.Error)), "warning", "warnings"),
			report.Plural(int64(len(findings)-lint.Count(findings, lint.Warning)), "info", "infos"),
			report.Plural(int64(files), "input", "inputs"))
	}
	if len(errs) > 0 {
		return readErrors(errs)
	}
	if lint.Count(findings, failOn) > 0 {
		return errFindings
	}
	return nil
}

// collectLintInputs reads the named files, standard input for "-", and the
// .nix files below named directories (regular files only: a symlink is
// never followed, hidden directories are skipped). A walked file's group is
// hostGroup's.
func collectLintInputs(args []string, stdin io.Reader) ([]lintInput, []error) {
	var ins []lintInput
	var errs []error
	for _, a := range args {
		if a == "-" {
			data, err := readLimited("-", stdin)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			ins = append(ins, lintInput{name: "-", data: data})
			continue
		}
		fi, err := os.Stat(a)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !fi.IsDir() {
			if !fi.Mode().IsRegular() {
				errs = append(errs, fmt.Errorf("%s: not a regular file", report.Escape(a)))
				continue
			}
			data, err := readRegular(a, false)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			ins = append(ins, lintInput{name: a, data: data})
			continue
		}
		var walked []lintInput
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				errs = append(errs, err)
				if d != nil && d.IsDir() && p != a {
					return fs.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				if p != a && strings.HasPrefix(d.Name(), ".") {
					return fs.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() || !strings.HasSuffix(d.Name(), ".nix") {
				return nil
			}
			data, err := readRegular(p, true)
			if err != nil {
				errs = append(errs, err)
				return nil
			}
			walked = append(walked, lintInput{name: p, group: hostGroup(a, p), data: data, quiet: true})
			return nil
		})
		if err != nil {
			errs = append(errs, err)
		}
		sort.SliceStable(walked, func(i, j int) bool { return walked[i].name < walked[j].name })
		ins = append(ins, walked...)
	}
	return ins, errs
}

// hostGroup is the configuration a walked file belongs to: the first
// directory below the walked root (hosts/a for hosts/a/modules/x.nix), or
// the root itself for a file directly in it.
func hostGroup(root, p string) string {
	rel, err := filepath.Rel(root, p)
	if err != nil {
		return filepath.Dir(p)
	}
	if i := strings.IndexByte(rel, filepath.Separator); i >= 0 {
		return filepath.Join(root, rel[:i])
	}
	return root
}

// maxLintInput caps one input's size; declaration files are small.
const maxLintInput = 64 << 20

// readRegular reads a regular file (never a FIFO or a device: checked
// once open, which O_NONBLOCK keeps from hanging). With nofollow, a
// symlink at its last component is refused (O_NOFOLLOW): a walk never
// follows one.
func readRegular(name string, nofollow bool) ([]byte, error) {
	flags := os.O_RDONLY | unix.O_NONBLOCK
	if nofollow {
		flags |= unix.O_NOFOLLOW
	}
	f, err := os.OpenFile(name, flags, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", report.Escape(name))
	}
	return readLimited(name, f)
}

func readLimited(name string, r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxLintInput+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", report.Escape(name), err)
	}
	if len(data) > maxLintInput {
		return nil, fmt.Errorf("%s: larger than %d MiB: not a declaration file", report.Escape(name), maxLintInput>>20)
	}
	return data, nil
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
