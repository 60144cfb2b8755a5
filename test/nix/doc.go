// Package nixtest tests the Nix side of drift without nixpkgs: every .nix
// file parses, nix/module.nix evaluates against a stub lib into the golden
// unit and script text, flake.nix evaluates against a stub nixpkgs, and
// nix/package.nix's vendorHash matches go.mod and go.sum.
package nixtest
