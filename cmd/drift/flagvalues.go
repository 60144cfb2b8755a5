package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Every flag that takes a fixed set of values, or keywords besides a path,
// has its values registered here, so that the scripts of drift completion
// offer them (cobra's RegisterFlagCompletionFunc; the scripts call
// drift __complete).

// formatFlag defines --format on cmd: one of formats, def by default. Its
// help lists them and the shell completes them.
func formatFlag(cmd *cobra.Command, p *string, def string, formats []string) {
	cmd.Flags().StringVar(p, "format", def, "output format: "+strings.Join(formats, ", "))
	completeValues(cmd, "format", formats)
}

// completeValues makes the shell complete the flag name of cmd with values
// and nothing else (no file names).
func completeValues(cmd *cobra.Command, name string, values []string) {
	_ = cmd.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
}

// completeList makes the shell complete the flag name of cmd, which takes
// a comma-separated list of values: after "a,b," it offers "a,b,VALUE" for
// each value, so the shell's own prefix match keeps working.
func completeList(cmd *cobra.Command, name string, values []string) {
	_ = cmd.RegisterFlagCompletionFunc(name, func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		done := toComplete[:strings.LastIndexByte(toComplete, ',')+1]
		out := make([]string, 0, len(values))
		for _, v := range values {
			out = append(out, done+v)
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	})
}

// pathKind is what the path a flag takes besides its keywords names on
// this machine.
type pathKind int

const (
	// pathNone: no local path (a subvolume path inside the top level).
	pathNone pathKind = iota
	// pathFile: a file or device.
	pathFile
	// pathDir: a directory.
	pathDir
)

// completeKeywords makes the shell complete the flag name of cmd with the
// keywords (auto, none…) the word typed so far begins, else — a word
// that begins none, like "/" — with the paths of kind.
func completeKeywords(cmd *cobra.Command, name string, keywords []string, kind pathKind) {
	_ = cmd.RegisterFlagCompletionFunc(name, func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		var match []string
		for _, k := range keywords {
			if strings.HasPrefix(k, toComplete) {
				match = append(match, k)
			}
		}
		switch {
		case len(match) > 0 || kind == pathNone:
			return match, cobra.ShellCompDirectiveNoFileComp
		case kind == pathDir:
			return nil, cobra.ShellCompDirectiveFilterDirs
		}
		return nil, cobra.ShellCompDirectiveDefault
	})
}

// maxWorkers bounds --workers: threads beyond it only cost memory (each
// has its buffers) and descriptors (measured: 100,000 workers took 3 times
// as long and 15 times the memory of the default).
const maxWorkers = 1024

// checkWorkers validates --workers: 0 (automatic) up to maxWorkers.
func checkWorkers(n int) error {
	if n < 0 || n > maxWorkers {
		return fmt.Errorf("--workers %d: expected 0 (automatic) or a number of threads up to %d", n, maxWorkers)
	}
	return nil
}

// refuseEmptyIn makes every command below root refuse a string flag given
// an empty value (refuseEmpty).
func refuseEmptyIn(root *cobra.Command) {
	for _, c := range root.Commands() {
		refuseEmpty(c)
		refuseEmptyIn(c)
	}
}

// refuseEmpty makes cmd refuse a string flag given an empty value (--undo
// "", --undo=, --root=, --persist ""), before its arguments are read: to
// drift "" means the flag left out (prune --undo: no undo, a real prune;
// wipe --blank: no blank snapshot; --root: the current directory, so check
// --root= audited /), so a script's --undo "$ID" or --root "$DIR" with the
// variable unset would silently do something else. cobra's
// Flags().Changed tells given-empty from not-given.
func refuseEmpty(cmd *cobra.Command) {
	args := cmd.Args
	cmd.Args = func(cmd *cobra.Command, a []string) error {
		if err := emptyFlag(cmd); err != nil {
			return err
		}
		if args == nil {
			return nil
		}
		return args(cmd, a)
	}
}

// emptyFlag is the error for the first flag of cmd (in name order) given
// an empty value, a repeatable one included; nil when none is.
func emptyFlag(cmd *cobra.Command) error {
	var err error
	cmd.Flags().Visit(func(f *pflag.Flag) {
		empty := f.Value.Type() == "string" && f.Value.String() == ""
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			empty = slices.Contains(sv.GetSlice(), "")
		}
		if !empty || err != nil {
			return
		}
		def := ""
		if f.DefValue != "" && f.DefValue != "[]" {
			def = " (" + f.DefValue + ")"
		}
		err = withHint(fmt.Errorf("--%s \"\": an empty value (an unset shell variable?), refused rather than read as the flag left out: nothing done", f.Name),
			fmt.Sprintf("give --%s a value, or leave it out for its default%s", f.Name, def))
	})
	return err
}
