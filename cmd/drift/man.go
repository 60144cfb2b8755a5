package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// ManOptions are the flags of drift man.
type ManOptions struct {
	Dir string
}

func newManCmd(st Streams) *cobra.Command {
	opts := &ManOptions{}
	cmd := &cobra.Command{
		Use:   "man",
		Short: "Print the drift(1) man page, or write one page per command",
		Long: `Print the drift(1) man page (roff) on standard output, or, with --dir, write
drift.1 and one page per command (drift-check.1, drift-wipe.1, …) into DIR,
which must exist. The pages are generated from each command's help.

EXIT STATUS
  0  written
  2  error (DIR missing or not writable)`,
		Example: `  drift man | man -l -
  drift man --dir /usr/local/share/man/man1`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runMan(cmd.Root(), opts, st) },
	}
	cmd.Flags().StringVar(&opts.Dir, "dir", "", "write drift.1 and drift-COMMAND.1 into `DIR`")
	return cmd
}

// runMan renders root's man pages. Their date is SOURCE_DATE_EPOCH when set
// (cobra/doc reads it; a Nix build sets it), so a build is reproducible.
func runMan(root *cobra.Command, opts *ManOptions, st Streams) error {
	root.DisableAutoGenTag = true
	forEachCmd(root, func(c *cobra.Command) { c.Long = manText(c.Long) })
	hdr := &doc.GenManHeader{Title: "DRIFT", Section: "1", Source: "drift", Manual: "drift manual"}
	if opts.Dir == "" {
		return doc.GenMan(root, hdr, st.Out)
	}
	if fi, err := os.Stat(opts.Dir); err != nil {
		return fmt.Errorf("--dir: %w", err)
	} else if !fi.IsDir() {
		return fmt.Errorf("--dir %s: not a directory", opts.Dir)
	}
	return doc.GenManTree(root, hdr, opts.Dir)
}

func forEachCmd(c *cobra.Command, f func(*cobra.Command)) {
	f(c)
	for _, sub := range c.Commands() {
		forEachCmd(sub, f)
	}
}

// manText turns a command's help text, written for a terminal, into the
// Markdown that cobra/doc converts to roff: the indented blocks (category
// lists, EXIT STATUS) become preformatted blocks (indented four spaces, after
// a blank line) instead of paragraphs refilled into a mess. Everything else
// is left as it is.
func manText(long string) string {
	lines := strings.Split(long, "\n")
	var out []string
	inBlock := false
	for _, l := range lines {
		indented := strings.HasPrefix(l, "  ")
		if indented && !inBlock && len(out) > 0 && out[len(out)-1] != "" {
			out = append(out, "")
		}
		if indented {
			l = "  " + l
		}
		inBlock = indented || (inBlock && l == "")
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}
