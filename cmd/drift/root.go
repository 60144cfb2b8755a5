package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nix-drift/drift/internal/buildinfo"
	"github.com/nix-drift/drift/internal/units"
	"github.com/spf13/cobra"
)

func newRootCmd(st Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "drift",
		Short: "Audit an impermanent NixOS root: what the next boot destroys, and why",
		Long: `drift audits NixOS machines whose root filesystem is wiped at every boot
("erase your darlings"). It walks the live root, classifies every path against
the mount table and the declared persistence (environment.persistence,
home.persistence, preservation.preserveAt), and reports what the next boot
would lose.`,
		SilenceErrors: true,
		SilenceUsage:  true,
		// drift --version prints what drift version prints.
		Version: buildinfo.Read().String(),
	}
	cmd.SetVersionTemplate("{{.Version}}\n")
	cmd.SetIn(st.In)
	cmd.SetOut(st.Out)
	cmd.SetErr(st.Err)
	cmd.AddCommand(newCheckCmd(st), newWipeCmd(st), newRootsCmd(st))
	cmd.AddCommand(newRestoreCmd(st), newDiffCmd(st), newAdoptCmd(st))
	cmd.AddCommand(newVersionCmd(st), newCompletionCmd(st), newManCmd(st))
	cmd.CompletionOptions.DisableDefaultCmd = true // drift completion is ours
	cmd.AddCommand(newSuggestCmd(st))
	cmd.AddCommand(newLintCmd(st))
	cmd.AddCommand(newPruneCmd(st))
	cmd.AddCommand(newRehearseCmd(st))
	// cobra's own suggestion is a multi-line error; drift's is one error
	// line and a hint (unknownCommand).
	cmd.DisableSuggestions = true
	cmd.SetHelpCommand(newHelpCmd())
	refuseEmptyIn(cmd)
	return cmd
}

// noArgs is cobra.NoArgs with drift's error (cobra's validators return
// untyped errors, "unknown command "X" for "drift check""): an argument
// the command does not take is named, with the command's usage line as
// the hint (usageError).
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError(cmd, fmt.Errorf("%s takes no argument %q", cmd.CommandPath(), args[0]))
	}
	return nil
}

// exactArgs is cobra.ExactArgs(n) with drift's error: how many arguments
// the command takes and how many it got, with its usage line as the hint.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError(cmd, fmt.Errorf("%s takes %s, got %d", cmd.CommandPath(), units.Plural(int64(n), "argument", "arguments"), len(args)))
		}
		return nil
	}
}

// usageError is err with cmd's usage line and help command as the hint.
func usageError(cmd *cobra.Command, err error) error {
	return withHint(err, "usage: "+cmd.UseLine()+" ("+cmd.CommandPath()+" --help)")
}

// argsError turns the error of running root with args (as given) into
// drift's where cobra's is about a first argument that names no command
// (root.Find fails only then: cobra's legacy check of a command without
// Args, the root): unknownCommand. Every command validates its own
// arguments (noArgs, exactArgs, or its own Args), so other errors are
// returned as they are.
func argsError(root *cobra.Command, args []string, err error) error {
	if err == nil || len(args) == 0 {
		return err
	}
	if target, _, ferr := root.Find(args); ferr != nil && target == root {
		return unknownCommand(root, args[0])
	}
	return err
}

// unknownCommand is the error for a first argument that names no command,
// with the commands it is close to as the hint: exit status 2.
func unknownCommand(root *cobra.Command, name string) error {
	err := fmt.Errorf("unknown command %q", name)
	// Two edits make a short name another command ("nope": wipe).
	root.SuggestionsMinimumDistance = 1
	if len(name) >= 5 {
		root.SuggestionsMinimumDistance = 2
	}
	if s := root.SuggestionsFor(name); len(s) > 0 {
		return withHint(err, "did you mean drift "+strings.Join(s, ", drift ")+"?")
	}
	return withHint(err, "drift --help lists the commands")
}

// newHelpCmd is drift help [COMMAND]: the help of a command, or an error
// (exit status 2) for a topic that is no command; cobra's own prints the
// usage and exits 0.
func newHelpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		Args:  cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			root := c.Root()
			target, rest, err := root.Find(args)
			if err != nil || target == nil || len(rest) > 0 {
				if len(args) == 0 {
					return errors.New("help: expected a command")
				}
				return unknownCommand(root, strings.Join(args, " "))
			}
			return target.Help()
		},
	}
}
