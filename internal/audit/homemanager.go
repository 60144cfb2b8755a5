package audit

import (
	"path"
	"slices"

	"github.com/nix-drift/drift/internal/knowledge"
	"github.com/nix-drift/drift/internal/persist"
)

// homeManagerHomes are the homes of the users home-manager's NixOS module
// manages (persist.Config.HomeManagerUsers, in every file of the
// configuration read, or the flake evaluated), sorted, each once: for
// each, its home in Homes (--home, the declarations'), else its
// users.users.<name>.home in the configuration, else /root or
// /home/NAME, NixOS's default; never a home knowledge.CheckHome refuses
// (/, /var/lib: Homes leaves them out too), whose user has no home then.
// None when no configuration was read: a link into home-manager's
// home-files is then lost, not Recreated (diff.Config.HomeManagerHomes).
func (m *Model) homeManagerHomes() []string {
	c := m.Decls.Config
	if c == nil {
		return nil
	}
	var out []string
	for _, u := range c.HomeManagerUsers {
		h, ok := m.homes[u]
		if !ok {
			h = userHome(c, u)
		}
		if h = path.Clean(h); knowledge.CheckHome(h) == nil { // the rule Homes follows
			out = append(out, h)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// userHome is users.users.<u>.home in c, else NixOS's default.
func userHome(c *persist.Config, u string) string {
	for _, x := range c.Users {
		if x.Name == u && x.Home != "" {
			return x.Home
		}
	}
	return persist.DefaultHome(u)
}
