package report

// SuggestRestores are the drift restore commands of the paths the last
// wipe took that the declarations Nix can spell stand for (Declares)
// (suggest.Vanished.Restore, quoted for a shell): run once they are
// declared. --format nix prints them as comments.
func SuggestRestores(r *SuggestReport) []string {
	var out []string
	for _, s := range r.Suggestions {
		if _, ok := NixString(s.Path); !ok || !s.Declares() {
			continue
		}
		for _, v := range s.Vanished {
			if v.Restore != "" { // the copy holds it already
				out = append(out, v.Restore)
			}
		}
	}
	return out
}
