// Package persist reads persistence declarations (impermanence's
// environment.persistence, home-manager's home.persistence, preservation's
// preservation.preserveAt) from nix eval JSON, raw entries and statically
// parsed .nix files, and normalises them to one model: a Set of Entry.
package persist
