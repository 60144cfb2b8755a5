package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// CompletionOptions are the flags of drift completion.
type CompletionOptions struct {
	NoDescriptions bool
}

// completionShells are the shells drift completion writes scripts for.
var completionShells = []string{"bash", "zsh", "fish"}

func newCompletionCmd(st Streams) *cobra.Command {
	opts := &CompletionOptions{}
	cmd := &cobra.Command{
		Use:   "completion bash|zsh|fish",
		Short: "Print a shell completion script",
		Long: `Print the completion script for a shell on standard output. Commands,
flags and the values of flags that take a fixed set (--format, --color,
--to) complete; flags that take keywords besides a path (--old-roots
auto|none|DIR, --root-subvol, --from, --resume-device) complete the
keywords, then paths once what is typed begins none of them.

  bash  source <(drift completion bash)
        or: drift completion bash > /etc/bash_completion.d/drift
        (needs the bash-completion package)
  zsh   drift completion zsh > "${fpath[1]}/_drift"
        (with compinit enabled)
  fish  drift completion fish > ~/.config/fish/completions/drift.fish

The Nix package installs all three.

EXIT STATUS
  0  printed
  2  error (an unknown shell)`,
		Example: `  source <(drift completion bash)
  drift completion zsh > ~/.zfunc/_drift
  drift completion fish --no-descriptions > ~/.config/fish/completions/drift.fish`,
		Args:      exactArgs(1),
		ValidArgs: completionShells,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCompletion(cmd.Root(), args[0], opts, st)
		},
	}
	cmd.Flags().BoolVar(&opts.NoDescriptions, "no-descriptions", false, "complete without descriptions (zsh, fish)")
	return cmd
}

// runCompletion writes root's completion script for shell. It takes the
// root command because the script describes the whole command tree.
func runCompletion(root *cobra.Command, shell string, opts *CompletionOptions, st Streams) error {
	desc := !opts.NoDescriptions
	switch shell {
	case "bash":
		return root.GenBashCompletionV2(st.Out, desc)
	case "zsh":
		if desc {
			return root.GenZshCompletion(st.Out)
		}
		return root.GenZshCompletionNoDesc(st.Out)
	case "fish":
		return root.GenFishCompletion(st.Out, desc)
	}
	return fmt.Errorf("completion %q: expected one of bash, zsh, fish", shell)
}
