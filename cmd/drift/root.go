package main

import (
	"github.com/nix-drift/drift/internal/buildinfo"
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
	return cmd
}
