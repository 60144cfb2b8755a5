package main

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
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
	return cmd
}

// cobraUnknown is cobra's error for an argument a command does not take:
// "unknown command "ARG" for "drift SUB"" (SUB empty: no command by that
// name).
var cobraUnknown = regexp.MustCompile(`^unknown command "((?:[^"\\]|\\.)*)" for "drift( .+)?"$`)

// cobraCount is cobra.ExactArgs' error.
var cobraCount = regexp.MustCompile(`^accepts (\d+) arg\(s\), received (\d+)$`)

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// argsError turns cobra's errors about the arguments of root (args, as
// given) into drift's: a first argument that names no command is
// unknownCommand; an argument a command does not take, or a wrong number
// of them, names the command and gives its usage line as the hint. Other
// errors are returned as they are.
func argsError(root *cobra.Command, args []string, err error) error {
	var he *hintError
	if err == nil || errors.As(err, &he) || len(args) == 0 {
		return err
	}
	if m := cobraUnknown.FindStringSubmatch(err.Error()); m != nil {
		if m[2] == "" {
			return unknownCommand(root, args[0])
		}
		arg, uerr := strconv.Unquote(`"` + m[1] + `"`)
		if uerr != nil {
			arg = m[1]
		}
		err = fmt.Errorf("drift%s takes no argument %q", m[2], arg)
	}
	target, _, ferr := root.Find(args)
	if ferr != nil || target == root {
		return err
	}
	if m := cobraCount.FindStringSubmatch(err.Error()); m != nil {
		err = fmt.Errorf("drift %s takes %s, got %s", target.Name(), units.Plural(int64(atoi(m[1])), "argument", "arguments"), m[2])
	} else if !strings.HasPrefix(err.Error(), "drift ") && !strings.HasPrefix(err.Error(), "requires ") {
		return err
	}
	return withHint(err, "usage: "+target.UseLine()+" (drift "+target.Name()+" --help)")
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
