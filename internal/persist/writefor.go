package persist

import "fmt"

// The NixOS modules new declarations can be written for: impermanence's
// environment.persistence and preservation's preservation.preserveAt.
const (
	Impermanence = "impermanence"
	Preservation = "preservation"
)

// WriteFor is the module new declarations under the storage path storage
// are written for, so that they take effect in the configuration s holds
// (drift suggest --format nix, adopt's refusal hint; a declaration for a
// module the configuration does not import is an unknown option, and
// nixos-rebuild refuses it). It is the NixOS module (Impermanence or
// Preservation) of most entries under storage; with none there, of most
// entries; with no entry, of the storage paths declared; impermanence when
// there are none, or on a tie. home-manager's entries (a user's own
// module) are not counted. note is "" unless s declares with both: then it
// says which one was chosen and why, for the reader of what is written. s
// may be nil.
func (s *Set) WriteFor(storage string) (module, note string) {
	var under, all, paths [2]int // [impermanence, preservation]
	idx := func(m string) int {
		switch m {
		case Impermanence:
			return 0
		case Preservation:
			return 1
		}
		return -1
	}
	if s != nil {
		for _, e := range s.Entries {
			if e.Origin == nil {
				continue
			}
			if i := idx(e.Module); i >= 0 {
				all[i]++
				if e.StoragePath == storage {
					under[i]++
				}
			}
		}
		for _, sp := range s.Storage {
			if i := idx(sp.Module); i >= 0 {
				paths[i]++
			}
		}
	}
	counts, why := under, "most entries under "+storage
	switch {
	case under[0]+under[1] > 0:
	case all[0]+all[1] > 0:
		counts, why = all, "most entries"
	default:
		counts, why = paths, "most storage paths"
	}
	module = Impermanence
	if counts[1] > counts[0] {
		module = Preservation
	}
	if (all[0] > 0 || paths[0] > 0) && (all[1] > 0 || paths[1] > 0) {
		if counts[0] == counts[1] {
			why = "a tie: impermanence is the default"
		} else {
			why = "the module of " + why
		}
		entries := func(n int) string {
			if n == 1 {
				return "1 entry"
			}
			return fmt.Sprintf("%d entries", n)
		}
		note = fmt.Sprintf("the configuration declares with both impermanence (%s) and preservation (%s): written for %s, %s", entries(all[0]), entries(all[1]), module, why)
	}
	return module, note
}
