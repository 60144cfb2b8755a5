package report

// SuggestRestores are the drift restore commands of the paths the last
// wipe took that the declarations Nix can spell stand for (Declares),
// quoted for a shell: suggest.Vanished.Restore with the declarations args
// name (SuggestModuleArgs: with the module once saved) in place of the
// audit's. Run once they are declared; --format nix prints them as
// comments.
func SuggestRestores(r *SuggestReport, args []string) []string {
	var out []string
	for _, s := range r.Suggestions {
		if _, ok := NixString(s.Path); !ok || !s.Declares() {
			continue
		}
		for _, v := range s.Vanished {
			if v.Restore == "" { // the copy holds it already
				continue
			}
			d := v.Vanished
			d.Decl = s.Path // as suggest.Vanished.Restore
			out = append(out, d.RestoreCommand(r.Root, args))
		}
	}
	return out
}
