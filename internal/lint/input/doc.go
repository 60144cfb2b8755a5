// Package input reads what drift lint is given — named files, standard
// input, the .nix files below named directories, and the relative imports
// they make — into configurations (lint.Config), one per host, each with
// the nixpkgs pinned by the flake.lock above its files.
package input
