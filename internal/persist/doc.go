// Package persist reads persistence declarations (impermanence's
// environment.persistence, home-manager's home.persistence, preservation's
// preservation.preserveAt) from nix eval JSON, raw entries and statically
// parsed .nix files, and normalises them to one model: a Set of Entry,
// with the other options drift lint's rules read (Config: users, mounts,
// stage 1 and the root's wipe) and the nixpkgs a flake.lock pins (Pin).
package persist
