// Package persist reads persistence declarations (impermanence's
// environment.persistence, home-manager's home.persistence, preservation's
// preservation.preserveAt) from nix eval JSON, raw entries and statically
// parsed .nix files, and normalises them to one model: a Set of Entry,
// with the other options drift lint's rules read (Config: users, mounts,
// stage 1 and the root's wipe) and the nixpkgs a flake.lock pins (Pin).
// A configuration is read one way: a .nix file with the modules it imports
// (ReadBeneath), and, by Load, with the machine's own configuration for
// the options naming what is in use (Set.Whole says whether it was whole).
// Each module is read and parsed once per command (Parses).
package persist
