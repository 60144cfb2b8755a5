package persist

import (
	"strings"
	"testing"
)

// WriteFor: new declarations are written for the module the configuration
// declares with, under the storage path they go to; a field report: drift
// suggest --format nix wrote impermanence's environment.persistence for a
// configuration that imports only preservation, an option nixos-rebuild
// does not know.
func TestWriteFor(t *testing.T) {
	read := func(src string) *Set {
		t.Helper()
		s, err := ParseNix([]byte(src), "c.nix", Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	const pres = `preservation.enable = true; preservation.preserveAt."/persistent".directories = [ "/var/log" "/var/lib/a" ];`
	const imp = `environment.persistence."/nix/persist".directories = [ "/srv" ];`
	for _, tt := range []struct {
		name, src, storage, want, note string
	}{
		{"preservation only", "{ " + pres + " }", "/persistent", Preservation, ""},
		{"preservation only, another storage path", "{ " + pres + " }", "/other", Preservation, ""},
		{"preservation, no entry", `{ preservation.enable = true; preservation.preserveAt."/persistent" = { }; }`, "/persistent", Preservation, ""},
		{"impermanence only", "{ " + imp + " }", "/nix/persist", Impermanence, ""},
		{"both, under impermanence's path", "{ " + pres + imp + " }", "/nix/persist", Impermanence,
			"both impermanence (1 entry) and preservation (2 entries): written for impermanence, the module of most entries under /nix/persist"},
		{"both, under preservation's path", "{ " + pres + imp + " }", "/persistent", Preservation, "written for preservation, the module of most entries under /persistent"},
		{"both, under neither", "{ " + pres + imp + " }", "/x", Preservation, "the module of most entries"},
		{"nothing", "{ }", "/nix/persist", Impermanence, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, note := read(tt.src).WriteFor(tt.storage)
			if got != tt.want || tt.note == "" && note != "" || !strings.Contains(note, tt.note) {
				t.Errorf("WriteFor(%s) = %s, %q; want %s, %q", tt.storage, got, note, tt.want, tt.note)
			}
		})
	}
	if got, _ := (*Set)(nil).WriteFor("/p"); got != Impermanence {
		t.Errorf("nil set: %s", got)
	}
}
