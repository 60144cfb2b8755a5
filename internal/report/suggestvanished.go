package report

import "github.com/nix-drift/drift/internal/suggest"

// SuggestRestores are the drift restore commands of the paths the last
// wipe took that the Persist suggestions Nix can spell stand for
// (suggest.Vanished.Restore, quoted for a shell): run once they are
// declared. --format nix prints them as comments.
func SuggestRestores(r *SuggestReport) []string {
	var out []string
	for _, s := range r.Suggestions {
		if _, ok := NixString(s.Path); !ok || s.Action != suggest.Persist {
			continue
		}
		for _, v := range s.Vanished {
			out = append(out, v.Restore)
		}
	}
	return out
}
