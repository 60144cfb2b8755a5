package report

// SuggestRestores are the drift restore commands of the paths the last
// wipe took that the declarations Nix can spell stand for (Declares)
// (suggest.Vanished.Restore, quoted for a shell): run once they are
// declared. --format nix prints them as comments.
func SuggestRestores(r *SuggestReport) []string { return suggestRestores(r, nil) }

// suggestRestores is SuggestRestores with the declarations named by args
// in place of the audit's (nil: as suggest built them).
func suggestRestores(r *SuggestReport, args []string) []string {
	var out []string
	for _, s := range r.Suggestions {
		if _, ok := NixString(s.Path); !ok || !s.Declares() {
			continue
		}
		for _, v := range s.Vanished {
			switch {
			case v.Restore == "": // the copy holds it already
			case args == nil:
				out = append(out, v.Restore)
			default:
				d := v.Vanished
				d.Decl = s.Path // as suggest.Vanished.Restore
				out = append(out, d.RestoreCommand(r.Root, args))
			}
		}
	}
	return out
}
