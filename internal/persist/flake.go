package persist

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// projection is the --apply function of EvalFlake (spec §2): it drops only
// impermanence's removed-option placeholders, and only when their value
// throws, so that current impermanence serialises; every other error goes
// through.
//
//go:embed projection.nix
var projection string

// EvalFlake evaluates ref, "FLAKEREF#HOST", with Nix and reads the host's
// config.environment.persistence:
//
//	nix --extra-experimental-features 'nix-command flakes' eval --json \
//	  --no-write-lock-file \
//	  FLAKEREF#nixosConfigurations.HOST.config.environment.persistence \
//	  --apply <projection>
//
// (--no-write-lock-file: an audit must not rewrite the user's flake.lock).
//
// and parses the output with ParseJSON. Entries and diagnostics are placed
// at Pos{File: "FLAKEREF#nixosConfigurations.HOST…"} without line numbers.
// Errors: ref without "#HOST"; nix not on PATH (ErrNoNix, whose message
// says to use --persist FILE instead); nix failing (the error includes its
// stderr); ctx cancelled. Only impermanence is evaluated: home-manager's
// and preservation's options are not.
func EvalFlake(ctx context.Context, ref string, opts Options) (*Set, error) {
	args, attr, err := flakeArgs(ref)
	if err != nil {
		return nil, err
	}
	nix, err := exec.LookPath("nix")
	if err != nil {
		return nil, ErrNoNix
	}
	cmd := exec.CommandContext(ctx, nix, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("nix eval %s: %w", attr, ctx.Err())
		}
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			return nil, fmt.Errorf("nix eval %s: %w", attr, err)
		}
		return nil, fmt.Errorf("nix eval %s: %w:\n%s", attr, err, msg)
	}
	s, err := ParseJSON(stdout.Bytes(), attr, opts)
	if err != nil {
		return nil, fmt.Errorf("nix eval %s printed unexpected output: %w", attr, err)
	}
	s.unplace(attr)
	return s, nil
}

// unplace sets every position in s to file, without line and column (nix
// eval prints one line: its columns mean nothing to the user).
func (s *Set) unplace(file string) {
	at := Pos{File: file}
	for _, es := range [][]Entry{s.Entries, s.Duplicates, s.Malformed} {
		for i := range es {
			es[i].Pos = at
			for j := range es[i].Attrs {
				es[i].Attrs[j].Pos, es[i].Attrs[j].ValuePos = at, at
			}
		}
	}
	for i := range s.Diagnostics {
		s.Diagnostics[i].Pos = at
	}
	for i := range s.Options {
		s.Options[i].Pos, s.Options[i].ValuePos = at, at
	}
	for i := range s.Storage {
		s.Storage[i].Pos = at
	}
}

// flakeArgs builds nix's arguments for ref "FLAKEREF#HOST" and returns the
// evaluated attribute as well.
func flakeArgs(ref string) (args []string, attr string, err error) {
	i := strings.LastIndexByte(ref, '#')
	if i < 0 || i == len(ref)-1 {
		return nil, "", fmt.Errorf("flake reference %q: expected FLAKEREF#HOST, e.g. /etc/nixos#myhost", ref)
	}
	flake, host := ref[:i], ref[i+1:]
	if flake == "" {
		flake = "."
	}
	if strings.ContainsAny(host, "\"\\$") || strings.HasPrefix(host, "-") {
		return nil, "", errors.New("flake reference " + fmt.Sprintf("%q", ref) + ": invalid host name")
	}
	attr = flake + "#nixosConfigurations." + attrName(host) + ".config.environment.persistence"
	return []string{"--extra-experimental-features", "nix-command flakes",
		"eval", "--json", "--no-write-lock-file", attr, "--apply", projection}, attr, nil
}
