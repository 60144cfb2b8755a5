package persist

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/nix-drift/drift/internal/persist/nix"
	"os/exec"
	"sort"
	"strings"
	"time"

	"github.com/nix-drift/drift/internal/mounts"
)

// projection projects a map of persistent storage paths (spec §2): it
// drops only impermanence's removed-option placeholders, and only when
// their value throws, so that current impermanence serialises; every other
// error goes through. nix/module.nix applies it too.
//
//go:embed projection.nix
var projection string

// configProjection projects a host's config onto what drift lint reads
// (config-projection.nix says what and how), given projection: the
// persistence maps through it, the other options guarded so that a module
// the host does not import gives null, never a failed evaluation.
//
//go:embed config-projection.nix
var configProjection string

// flakeApply is EvalFlake's --apply function.
var flakeApply = "(" + configProjection + ")\n(" + projection + ")"

// flakeOutput is projection.nix's result.
type flakeOutput struct {
	Persistence  json.RawMessage            `json:"persistence"`
	Preservation json.RawMessage            `json:"preservation"`
	HomeManager  map[string]json.RawMessage `json:"homeManager"`
	FileSystems  map[string]struct {
		MountPoint *string  `json:"mountPoint"`
		FSType     *string  `json:"fsType"`
		Device     *string  `json:"device"`
		Options    []string `json:"options"`
	} `json:"fileSystems"`
	SopsKeyFile      *string  `json:"sopsKeyFile"`
	SopsSSHKeyPaths  []string `json:"sopsSshKeyPaths"`
	AgeIdentityPaths []string `json:"ageIdentityPaths"`
	MutableUsers     *bool    `json:"mutableUsers"`
	OpenSSHEnable    *bool    `json:"opensshEnable"`
	HostKeys         []string `json:"hostKeys"`
	TmpfilesRules    []string `json:"tmpfilesRules"`
	// TmpfilesSettings: name, path, type, argument.
	TmpfilesSettings map[string]map[string]map[string]*string `json:"tmpfilesSettings"`
	Users            map[string]struct {
		HasUID             *bool   `json:"hasUid"`
		Group              *string `json:"group"`
		Home               *string `json:"home"`
		HashedPasswordFile *string `json:"hashedPasswordFile"`
		IsSystemUser       *bool   `json:"isSystemUser"`
	} `json:"users"`
	Groups map[string]struct {
		HasGID *bool `json:"hasGid"`
	} `json:"groups"`
	TmpOnTmpfs *bool        `json:"tmpOnTmpfs"`
	Initrd     *flakeInitrd `json:"initrd"`
}

// NixError is a failed nix run: Msg ("nix eval ATTR: exit status 1"),
// then what nix wrote on stderr (Output, several lines, as nix wrote them).
type NixError struct {
	Msg    string
	Err    error
	Output string
}

// Error is "MSG:\nOUTPUT".
func (e *NixError) Error() string { return e.Msg + ":\n" + e.Output }
func (e *NixError) Unwrap() error { return e.Err }

// EvalFlake evaluates ref, "FLAKEREF#HOST", with Nix and reads the host's
// configuration:
//
//	nix --extra-experimental-features 'nix-command flakes' eval --json \
//	  --no-write-lock-file \
//	  FLAKEREF#nixosConfigurations.HOST.config --apply <flakeApply>
//
// (--no-write-lock-file: an audit must not rewrite the user's flake.lock).
//
// It reads environment.persistence (impermanence), preservation.preserveAt
// (when preservation.enable), home-manager.users.<name>.home.persistence,
// and the options drift lint's rules depend on into Set.Config:
// fileSystems (mount point, fsType), users.mutableUsers,
// services.openssh.enable and hostKeys[].path, users.users.<name> (uid set,
// group, home, hashedPasswordFile, isSystemUser), users.groups.<name> (gid
// set), boot.tmp.useTmpfs (or boot.tmpOnTmpfs), and stage 1 with the
// root's wipe (Config.Initrd: boot.initrd.systemd.enable, the shell hooks,
// boot.initrd.systemd.services, boot.resumeDevice, resume= in
// boot.kernelParams, swapDevices, services.drift.wipe.enable,
// system.nixos.release). Entries, options and
// diagnostics are placed at Pos{File: "FLAKEREF#nixosConfigurations.HOST.
// config.<option>"} without line numbers.
// Errors: ref without "#HOST"; nix not on PATH (ErrNoNix, whose message
// says to use --persist FILE instead); nix failing (the error includes its
// stderr); output that is not the projection's; ctx cancelled.
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
		return nil, &NixError{Msg: fmt.Sprintf("nix eval %s: %v", attr, err), Err: err, Output: msg}
	}
	s, err := readFlakeOutput(stdout.Bytes(), attr, opts)
	if err != nil {
		return nil, fmt.Errorf("nix eval %s printed unexpected output: %w", attr, err)
	}
	return s, nil
}

// readFlakeOutput reads projection.nix's JSON; attr is the evaluated
// config's attribute ("….config").
func readFlakeOutput(data []byte, attr string, opts Options) (*Set, error) {
	var out flakeOutput
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("expected drift's projection of the configuration: %w", err)
	}
	set := &Set{}
	part := func(raw json.RawMessage, name string, o Options, read func([]byte, string, Options) (*Set, error)) error {
		if len(raw) == 0 || string(raw) == "null" {
			return nil
		}
		s, err := read(raw, name, o)
		if err != nil {
			return err
		}
		s.unplace(name)
		set.Merge(s)
		return nil
	}
	if err := part(out.Persistence, attr+".environment.persistence", opts, ParseJSON); err != nil {
		return nil, err
	}
	if err := part(out.Preservation, attr+".preservation", opts, ParseJSON); err != nil {
		return nil, err
	}
	users := make([]string, 0, len(out.HomeManager))
	for u := range out.HomeManager {
		users = append(users, u)
	}
	sort.Strings(users)
	for _, u := range users {
		home := DefaultHome(u)
		if uu, ok := out.Users[u]; ok && uu.Home != nil && strings.HasPrefix(*uu.Home, "/") {
			home = *uu.Home
		}
		if h, ok := opts.Homes[u]; ok {
			home = h
		}
		read := func(data []byte, name string, o Options) (*Set, error) {
			return parseHomeManagerJSON(data, name, u, home, o)
		}
		if err := part(out.HomeManager[u], attr+".home-manager.users."+nix.AttrName(u)+".home.persistence", opts, read); err != nil {
			return nil, err
		}
	}
	c := &Config{}
	flag := func(b *bool, name string) Flag {
		switch {
		case b == nil:
			return Flag{}
		case *b:
			return Flag{True, Pos{File: attr + "." + name}}
		}
		return Flag{False, Pos{File: attr + "." + name}}
	}
	c.MutableUsers = flag(out.MutableUsers, "users.mutableUsers")
	c.OpenSSH = flag(out.OpenSSHEnable, "services.openssh.enable")
	c.TmpOnTmpfs = flag(out.TmpOnTmpfs, "boot.tmp.useTmpfs")
	for _, k := range out.HostKeys {
		c.HostKeyPaths = append(c.HostKeyPaths, Str{k, Pos{File: attr + ".services.openssh.hostKeys"}})
	}
	c.TmpfilesLinks = out.tmpfilesLinks(attr)
	for _, name := range sortedKeys(out.FileSystems) {
		fs := out.FileSystems[name]
		m := Mount{Mount: mounts.Mount{MountPoint: name}, Pos: Pos{File: attr + ".fileSystems." + nix.AttrName(name)}}
		if fs.MountPoint != nil {
			m.MountPoint = *fs.MountPoint
		}
		if fs.FSType != nil {
			m.FSType = *fs.FSType
		}
		if fs.Device != nil {
			m.Source = *fs.Device
		}
		m.Options = strings.Join(fs.Options, ",")
		if strings.HasPrefix(m.MountPoint, "/") {
			m.MountPoint, _ = cleanPath(m.MountPoint)
		}
		c.FileSystems = append(c.FileSystems, m)
	}
	if out.SopsKeyFile != nil {
		c.AgeKeyFile = Str{*out.SopsKeyFile, Pos{File: attr + ".sops.age.keyFile"}}
	}
	for _, k := range out.SopsSSHKeyPaths {
		c.SSHKeyPaths = append(c.SSHKeyPaths, Str{k, Pos{File: attr + ".sops.age.sshKeyPaths"}})
	}
	for _, k := range out.AgeIdentityPaths {
		c.AgeIdentityPaths = append(c.AgeIdentityPaths, Str{k, Pos{File: attr + ".age.identityPaths"}})
	}
	for _, name := range sortedKeys(out.Users) {
		uu := out.Users[name]
		u := User{Name: name, Pos: Pos{File: attr + ".users.users." + nix.AttrName(name)}}
		u.HasUID = uu.HasUID != nil && *uu.HasUID
		if uu.Group != nil {
			u.Group = *uu.Group
		}
		if uu.Home != nil && strings.HasPrefix(*uu.Home, "/") {
			u.Home = *uu.Home
		}
		u.System = uu.IsSystemUser != nil && *uu.IsSystemUser
		if uu.HashedPasswordFile != nil {
			u.HashedPasswordFile = Str{*uu.HashedPasswordFile, Pos{File: u.Pos.File + ".hashedPasswordFile"}}
		}
		c.Users = append(c.Users, u)
	}
	for _, name := range sortedKeys(out.Groups) {
		g := out.Groups[name]
		c.Groups = append(c.Groups, Group{Name: name, Pos: Pos{File: attr + ".users.groups." + nix.AttrName(name)}, HasGID: g.HasGID != nil && *g.HasGID})
	}
	c.Initrd = out.Initrd.initrd(attr)
	c.HomeManagerUsers = users
	set.Config = c
	return set, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// parseHomeManagerJSON reads user's evaluated home.persistence (a map of
// storage paths), entries relative to home.
func parseHomeManagerJSON(data []byte, name, user, home string, opts Options) (*Set, error) {
	src := nix.NewSource(name, data, false)
	v, err := decodeJSON(src)
	if err != nil {
		return nil, err
	}
	if v.Kind != nix.KindAttrs {
		return nil, fmt.Errorf("%s: expected an object of persistent storage paths, got %s", src.Pos(v.Off), jsonKind(v))
	}
	r := newReader(src, opts, nil)
	r.homeManagerMap(v, "home.persistence", user, home)
	return r.set, nil
}

// unplace sets every position in s to file, without line and column (nix
// eval prints one line: its columns mean nothing to the user).
func (s *Set) unplace(file string) {
	at := Pos{File: file}
	for i := range s.Duplicates {
		d := &s.Duplicates[i]
		d.pos = placeOf(at)
		if d.at != nil {
			a := *d.at // a copy: other records may share the array
			for j := range a {
				a[j] = placeOf(at)
			}
			d.at = &a
		}
	}
	for _, es := range [][]Entry{s.Entries, s.Malformed} {
		for i := range es {
			es[i].Pos = at
			as := es[i].Attrs()
			for j := range as {
				as[j].Pos, as[j].ValuePos = at, at
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
	attr = flake + "#nixosConfigurations." + nix.AttrName(host) + ".config"
	return []string{"--extra-experimental-features", "nix-command flakes",
		"eval", "--json", "--no-write-lock-file", attr, "--apply", flakeApply}, attr, nil
}

// tmpfilesLinks are the L lines of the evaluated systemd.tmpfiles (rules,
// then settings by name, path and type).
func (out *flakeOutput) tmpfilesLinks(attr string) []Link {
	var links []Link
	for _, r := range out.TmpfilesRules {
		for _, line := range strings.Split(r, "\n") {
			if k, ok := TmpfilesLink(line); ok {
				k.Pos = Pos{File: attr + ".systemd.tmpfiles.rules"}
				links = append(links, k)
			}
		}
	}
	for _, name := range sortedKeys(out.TmpfilesSettings) {
		paths := out.TmpfilesSettings[name]
		for _, p := range sortedKeys(paths) {
			for _, typ := range sortedKeys(paths[p]) {
				if arg := paths[p][typ]; arg != nil {
					if k, ok := TmpfilesSetting(p, typ, *arg); ok {
						k.Pos = Pos{File: attr + ".systemd.tmpfiles.settings." + nix.AttrName(name)}
						links = append(links, k)
					}
				}
			}
		}
	}
	return links
}
