package audit

// PruneArgs are the flags of an audit (diff.Audit.Args) drift prune takes:
// all but --mountinfo and its value (prune moves data: it reads the live
// mount table, and refuses --mountinfo). The drift prune commands check
// and suggest print carry them (escape.DriftCommand).
func PruneArgs(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		if args[i] == "--mountinfo" {
			i++
			continue
		}
		out = append(out, args[i])
	}
	return out
}
