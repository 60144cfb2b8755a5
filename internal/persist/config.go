package persist

import (
	"github.com/nix-drift/drift/internal/persist/nix"
	"slices"
	"sort"
	"strings"

	"github.com/nix-drift/drift/internal/mounts"
)

// Tri is an option's value as far as a static read knows it.
type Tri uint8

const (
	// Unset: the files read do not set the option (its default applies).
	Unset Tri = iota
	// True and False: set to a literal boolean.
	True
	False
	// Unknown: set, but to something that cannot be read without Nix.
	Unknown
)

// Flag is a boolean option with where it was set (Pos is zero when Unset).
type Flag struct {
	Value Tri
	Pos   Pos
}

// Str is a string option value with its position.
type Str struct {
	Value string
	Pos   Pos
}

// User is one users.users.<name> as written.
type User struct {
	Name string
	Pos  Pos
	// HasUID is true when uid is set (to anything: a literal or config.ids…).
	HasUID bool
	// Group is the literal group ("" when not set or not literal).
	Group string
	// Home is the literal home ("" when not set, not literal or not
	// absolute), as written.
	Home string
	// System marks isSystemUser = true.
	System bool
	// HashedPasswordFile is users.users.<name>.hashedPasswordFile (or
	// passwordFile) when it is a literal string.
	HashedPasswordFile Str
}

// Group is one users.groups.<name> as written.
type Group struct {
	Name   string
	Pos    Pos
	HasGID bool
}

// Mount is a file system the configuration mounts: a NixOS
// fileSystems.<path> or a disko mountpoint, as the row of the mount table it
// makes (mounts.Mount, with MountPoint clean and absolute, FSType "" when not
// known, and Source fileSystems.<path>.device when it is a literal string —
// a bind mount's source directory, /dev/disk/by-label/nixos … — else ""; the
// other fields zero), and where it is declared.
type Mount struct {
	mounts.Mount
	Pos Pos
}

// Ephemeral reports whether the mount is wiped at boot: the root, or a tmpfs.
func (m Mount) Ephemeral() bool { return m.MountPoint == "/" || m.FSType == "tmpfs" }

// Config is what a .nix module sets besides the persistence declarations,
// read statically: the options drift lint's rules depend on (NixOS manual,
// "User Management"; impermanence's /var/lib/nixos warning, nixos.nix).
type Config struct {
	MutableUsers Flag // users.mutableUsers (NixOS default true)
	OpenSSH      Flag // services.openssh.enable
	TmpOnTmpfs   Flag // boot.tmp.useTmpfs
	Users        []User
	Groups       []Group
	FileSystems  []Mount
	// EtcFiles are the names under environment.etc (relative, as written).
	EtcFiles []string
	// SSHKeyPaths is sops.age.sshKeyPaths; SecretsForUsers is set when a
	// sops.secrets.<name>.neededForUsers is true (sops-nix then decrypts in
	// its secrets-for-users activation step, before the persistence mounts).
	SSHKeyPaths     []Str
	SecretsForUsers bool
	// HostKeyPaths are services.openssh.hostKeys[].path.
	HostKeyPaths []Str
	// Initrd is stage 1 and the root's wipe.
	Initrd Initrd
	// AgeKeyFile is sops.age.keyFile (sops-nix); AgeIdentityPaths are
	// age.identityPaths (agenix): the keys secrets are decrypted with.
	AgeKeyFile       Str
	AgeIdentityPaths []Str
	// GnupgHome is sops.gnupg.home and GnupgSSHKeyPaths
	// sops.gnupg.sshKeyPaths: sops-nix's GnuPG keys.
	GnupgHome        Str
	GnupgSSHKeyPaths []Str
	// Named are the other absolute paths options set to string literals
	// (services.x.passwordFile, sops.secrets.y.path, …; a static read
	// only), outside the persistence declarations, with the option's
	// dotted name.
	Named []Ref
	// Strings are the absolute paths inside the string literals of the
	// module, anywhere but in its persistence declarations, evaluated or
	// not (readStrings): a path in "token:/nix/persist/secrets/token" or
	// in an `or` default is named by the configuration, even where no
	// option can be read statically. Option is "".
	Strings []Ref
	// Partial are the values of options that could not be read
	// statically but are strings partly known (Path is the known text,
	// each part not known written ${…}: "/nix/persist/${…}"): what they
	// name may lie below a storage path (Set.Whole). Option is the
	// option's dotted name.
	Partial []Ref
	// TmpfilesLinks are the symbolic links systemd-tmpfiles makes at
	// boot (systemd.tmpfiles.rules L lines, systemd.tmpfiles.settings):
	// a link there is re-created, not lost.
	TmpfilesLinks []Link
	// Declared are the persistence declarations of the modules of the
	// system's configuration that Load read for their options only (not
	// among the declarations named with --persist or --flake): what the
	// configuration declares is in use whichever part of it a command was
	// given (Load).
	Declared []Entry
	// HomeManagerUsers are the names under home-manager.users (the
	// users home-manager's NixOS module manages: its activation, the
	// home-manager-NAME unit, runs at every boot and makes the links into
	// the user's home-files again), in the order read.
	HomeManagerUsers []string
	// guesses are the homes and groups of users the declarations read
	// took without users.users.<name> in their file (SettleHomes).
	guesses []userGuess
}

// Ref is a path an option of the configuration names: a file the system
// reads (a password file, a host key, a secret key) or a bind mount's
// source.
type Ref struct {
	// Option names the option ("users.users.alice.hashedPasswordFile").
	Option string
	// Path is the path as written, clean and absolute.
	Path string
	Pos  Pos
	// Secret marks a file the system reads at boot to let users log in
	// or to decrypt its secrets (a password file, a host key, a sops-nix
	// or agenix key): missing after the wipe, it locks users out. Loss
	// says, for such a file, what losing it does at the next boot, in
	// words every command that reports a lost secret uses (drift lint's
	// lost-secret, drift check's WHY, drift suggest's note): Secrets'
	// rule, "" for any other reference.
	Secret bool
	Loss   string
	// Early, for a secret, marks one read before the persistence mounts
	// exist (EarlyReader: user setup reads password files, sops-nix and
	// agenix decrypt with their keys in activation): a declaration of it
	// is mounted too late, so it is kept
	// by moving it onto a filesystem mounted in stage 1 and pointing the
	// option there (KeepHint), never by declaring it.
	Early bool
}

// KeepHint says how to keep the secret r across the wipe with storage,
// a storage path ("" when there is none): a copy under it, named by the
// option directly when r is read early (declaring it instead makes an
// early reader), else that or a declaration. quote renders a path in the
// hint (the caller's quoting).
func (r Ref) KeepHint(storage string, quote func(string) string) string {
	if storage == "" {
		return "keep it on a persistent filesystem and point " + r.Option + " at it"
	}
	copyAt := quote(strings.TrimSuffix(storage, "/") + r.Path)
	if r.Early {
		return "move it to " + copyAt + " and point " + r.Option + " there (" + storage + " mounted in stage 1: neededForBoot); declaring it instead makes it an early reader"
	}
	return "move it to " + copyAt + " and point " + r.Option + " there, or declare it in " + storage
}

// References lists the absolute paths c's options name, in the order of
// the fields: users' password files, SSH host keys, sops-nix and agenix key
// paths, fileSystems devices that are directories (bind mounts' sources,
// not /dev nodes), then the other options naming a path (Named), each
// reference once; options are attribute paths as Nix writes them
// (fileSystems."/srv/www".device: a name that is not an identifier quoted).
func (c *Config) References() []Ref {
	if c == nil {
		return nil
	}
	out := c.Secrets()
	for _, m := range c.FileSystems {
		if !strings.HasPrefix(m.Source, "/dev/") && strings.HasPrefix(m.Source, "/") {
			p, _ := cleanPath(m.Source)
			out = append(out, Ref{Option: "fileSystems." + nix.AttrName(m.MountPoint) + ".device", Path: p, Pos: m.Pos})
		}
	}
	// One reference, one rendering: a path the fields above list is not
	// listed again as the literal below them (services.openssh.hostKeys
	// and its .path, fileSystems."/srv/www".device at the entry and at
	// the string).
	for _, n := range c.Named {
		if !slices.ContainsFunc(out, func(r Ref) bool {
			return r.Path == n.Path && (r.Option == n.Option || strings.HasPrefix(n.Option, r.Option+"."))
		}) {
			out = append(out, n)
		}
	}
	return out
}

// Secrets lists the files c's options name that the system reads at boot
// to let users log in or to decrypt its secrets (Ref.Secret): users'
// password files (hashedPasswordFile, passwordFile), SSH host keys,
// sops-nix's keys (sops.age.keyFile, sops.age.sshKeyPaths, sops.gnupg.home,
// sops.gnupg.sshKeyPaths) and agenix's (age.identityPaths), in that order,
// clean and absolute.
func (c *Config) Secrets() []Ref {
	if c == nil {
		return nil
	}
	var out []Ref
	add := func(option, loss string, s Str) {
		if strings.HasPrefix(s.Value, "/") {
			p, _ := cleanPath(s.Value)
			out = append(out, Ref{Option: option, Path: p, Pos: s.Pos, Secret: true, Loss: loss, Early: EarlyReader(option) != ""})
		}
	}
	lockOut := lossLockOut
	if c.MutableUsers.Value == False {
		lockOut += lossNoOtherPassword
	}
	for _, u := range c.Users {
		add("users.users."+nix.AttrName(u.Name)+".hashedPasswordFile", lockOut, u.HashedPasswordFile)
	}
	for _, k := range c.HostKeyPaths {
		add("services.openssh.hostKeys", lossHostKey, k)
	}
	for _, k := range c.SSHKeyPaths {
		add("sops.age.sshKeyPaths", lossDecryption, k)
	}
	add("sops.age.keyFile", lossDecryption, c.AgeKeyFile)
	add("sops.gnupg.home", lossDecryption, c.GnupgHome)
	for _, k := range c.GnupgSSHKeyPaths {
		add("sops.gnupg.sshKeyPaths", lossDecryption, k)
	}
	for _, k := range c.AgeIdentityPaths {
		add("age.identityPaths", lossDecryption, k)
	}
	return out
}

// EarlyReader names what reads the file a secret option names during
// activation, before impermanence's bind mounts exist (a file below a
// declared directory is not there yet, only its persistent copy is), ""
// for an option read later: NixOS's user setup reads users' password
// files; sops-nix's install-secrets (an activation script) decrypts with
// sops.age.keyFile, sops.age.sshKeyPaths, sops.gnupg.home and
// sops.gnupg.sshKeyPaths; agenix's activation script with
// age.identityPaths. services.openssh.hostKeys are read by sshd, a
// service started after the mounts. Source: sops-nix's README (with
// impermanence, the key file must be a persisted path available early),
// agenix's activation scripts (agenixInstall, after specialfs only).
func EarlyReader(option string) string {
	switch {
	case strings.HasPrefix(option, "users.users."):
		return "NixOS's user setup"
	case strings.HasPrefix(option, "sops."):
		return "sops-nix's install-secrets"
	case strings.HasPrefix(option, "age."):
		return "agenix"
	}
	return ""
}

// What losing a secret does at the next boot (Ref.Loss): a password file
// (nixpkgs' update-users-groups.pl sets "!" for a hashedPasswordFile it
// cannot read), a key sops-nix or agenix decrypts with, a host key (sshd's
// keygen makes a new one).
const (
	lossLockOut         = "losing it locks users out at the next boot: NixOS's user setup gives the account no password (\"!\": password logins refused)"
	lossNoOtherPassword = ", and with users.mutableUsers = false there is no other password to log in with"
	lossDecryption      = "losing it breaks secret decryption at the next boot: the secrets it decrypts are not there (a secret for a user's password too: a lock-out)"
	lossHostKey         = "losing it makes the next boot generate a new SSH host key: every client refuses the changed key (and a secret encrypted to it is not decrypted)"
)

// Merge adds o to c: flags set in o win when c leaves them unset, lists
// are appended. A nil o adds nothing.
func (c *Config) Merge(o *Config) {
	if o == nil {
		return
	}
	for _, p := range [][2]*Flag{{&c.MutableUsers, &o.MutableUsers}, {&c.OpenSSH, &o.OpenSSH}, {&c.TmpOnTmpfs, &o.TmpOnTmpfs}} {
		if p[0].Value == Unset {
			*p[0] = *p[1]
		}
	}
	c.Users = append(c.Users, o.Users...)
	c.Groups = append(c.Groups, o.Groups...)
	c.FileSystems = append(c.FileSystems, o.FileSystems...)
	c.EtcFiles = append(c.EtcFiles, o.EtcFiles...)
	c.SSHKeyPaths = append(c.SSHKeyPaths, o.SSHKeyPaths...)
	c.SecretsForUsers = c.SecretsForUsers || o.SecretsForUsers
	c.HostKeyPaths = append(c.HostKeyPaths, o.HostKeyPaths...)
	c.Initrd.merge(&o.Initrd)
	if c.AgeKeyFile.Value == "" {
		c.AgeKeyFile = o.AgeKeyFile
	}
	c.AgeIdentityPaths = append(c.AgeIdentityPaths, o.AgeIdentityPaths...)
	if c.GnupgHome.Value == "" {
		c.GnupgHome = o.GnupgHome
	}
	c.GnupgSSHKeyPaths = append(c.GnupgSSHKeyPaths, o.GnupgSSHKeyPaths...)
	c.Named = append(c.Named, o.Named...)
	c.Declared = append(c.Declared, o.Declared...)
	c.Strings = append(c.Strings, o.Strings...)
	c.Partial = append(c.Partial, o.Partial...)
	c.TmpfilesLinks = append(c.TmpfilesLinks, o.TmpfilesLinks...)
	c.HomeManagerUsers = append(c.HomeManagerUsers, o.HomeManagerUsers...)
	c.guesses = append(c.guesses, o.guesses...)
}

// readConfig collects the Config of a module's config set, silently: what
// cannot be read is Unknown or left out.
func (r *reader) readConfig(cfg *nix.Value) *Config {
	c := &Config{}
	q := func(v *nix.Value, names ...string) *nix.Value {
		for _, n := range names {
			if v = r.quiet(v, n); v == nil {
				return nil
			}
		}
		return v
	}
	flag := func(v *nix.Value) Flag {
		switch {
		case v == nil:
			return Flag{}
		case v.Kind == nix.KindBool && v.Bool:
			return Flag{True, r.pos(v.Off)}
		case v.Kind == nix.KindBool:
			return Flag{False, r.pos(v.Off)}
		}
		return Flag{Unknown, r.pos(v.Off)}
	}
	str := func(v *nix.Value) (Str, bool) {
		if v == nil || v.Kind != nix.KindString {
			return Str{}, false
		}
		return Str{v.Str, r.pos(v.Off)}, true
	}
	c.MutableUsers = flag(q(cfg, "users", "mutableUsers"))
	c.OpenSSH = flag(q(cfg, "services", "openssh", "enable"))
	c.TmpOnTmpfs = flag(q(cfg, "boot", "tmp", "useTmpfs"))
	if uu := q(cfg, "users", "users"); uu != nil && uu.Kind == nix.KindAttrs {
		for _, name := range uu.Attrs.Keys {
			u := User{Name: name, Pos: r.pos(uu.Attrs.ByName[name].Off)}
			uv := r.quiet(uu, name)
			u.HasUID = r.quiet(uv, "uid") != nil
			if g, ok := str(r.quiet(uv, "group")); ok {
				u.Group = g.Value
			}
			if h, ok := str(r.quiet(uv, "home")); ok && strings.HasPrefix(h.Value, "/") {
				u.Home = h.Value
			}
			if s := r.quiet(uv, "isSystemUser"); s != nil && s.Kind == nix.KindBool {
				u.System = s.Bool
			}
			for _, k := range []string{"hashedPasswordFile", "passwordFile"} {
				if s, ok := str(r.quiet(uv, k)); ok {
					u.HashedPasswordFile = s
				}
			}
			c.Users = append(c.Users, u)
		}
	}
	if gg := q(cfg, "users", "groups"); gg != nil && gg.Kind == nix.KindAttrs {
		for _, name := range gg.Attrs.Keys {
			c.Groups = append(c.Groups, Group{Name: name, Pos: r.pos(gg.Attrs.ByName[name].Off),
				HasGID: r.quiet(r.quiet(gg, name), "gid") != nil})
		}
	}
	if fs := q(cfg, "fileSystems"); fs != nil && fs.Kind == nix.KindAttrs {
		for _, name := range fs.Attrs.Keys {
			c.FileSystems = append(c.FileSystems, r.mountOf(name, fs.Attrs.ByName[name].Off, r.quiet(fs, name), "fsType"))
		}
	}
	if etc := q(cfg, "environment", "etc"); etc != nil && etc.Kind == nix.KindAttrs {
		c.EtcFiles = append(c.EtcFiles, etc.Attrs.Keys...)
		sort.Strings(c.EtcFiles)
	}
	if l := q(cfg, "sops", "age", "sshKeyPaths"); l != nil && l.Kind == nix.KindList {
		for _, it := range r.src.List(l) {
			if s, ok := str(r.force(it)); ok {
				c.SSHKeyPaths = append(c.SSHKeyPaths, s)
			}
		}
	}
	if s, ok := str(q(cfg, "sops", "age", "keyFile")); ok {
		c.AgeKeyFile = s
	}
	strs := func(l *nix.Value) []Str {
		var out []Str
		if l != nil && l.Kind == nix.KindList {
			for _, it := range r.src.List(l) {
				if s, ok := str(r.force(it)); ok {
					out = append(out, s)
				}
			}
		}
		return out
	}
	c.AgeIdentityPaths = strs(q(cfg, "age", "identityPaths"))
	if s, ok := str(q(cfg, "sops", "gnupg", "home")); ok {
		c.GnupgHome = s
	}
	c.GnupgSSHKeyPaths = strs(q(cfg, "sops", "gnupg", "sshKeyPaths"))
	if ss := q(cfg, "sops", "secrets"); ss != nil && ss.Kind == nix.KindAttrs {
		for _, name := range ss.Attrs.Keys {
			if n := r.quiet(r.quiet(ss, name), "neededForUsers"); n != nil && n.Kind == nix.KindBool && n.Bool {
				c.SecretsForUsers = true
			}
		}
	}
	if l := q(cfg, "services", "openssh", "hostKeys"); l != nil && l.Kind == nix.KindList {
		for _, it := range r.src.List(l) {
			if s, ok := str(r.quiet(r.force(it), "path")); ok {
				c.HostKeyPaths = append(c.HostKeyPaths, s)
			}
		}
	}
	c.TmpfilesLinks = r.tmpfilesLinks(q(cfg, "systemd", "tmpfiles"))
	c.Initrd = r.readInitrd(cfg, flag)
	budget := maxNamedValues
	r.namedPaths(cfg, "", 0, &budget, c)
	return c
}

// tmpfilesLinks reads the L lines of tmpfiles (systemd.tmpfiles): the
// string literals of its rules list, and settings.<name>."<path>".<type>
// with a literal argument.
func (r *reader) tmpfilesLinks(tf *nix.Value) []Link {
	var out []Link
	if l := r.quiet(tf, "rules"); l != nil && l.Kind == nix.KindList {
		for _, it := range r.src.List(l) {
			if v := r.force(it); v != nil && v.Kind == nix.KindString {
				for _, line := range strings.Split(v.Str, "\n") {
					if k, ok := TmpfilesLink(line); ok {
						k.Pos = r.pos(v.Off)
						out = append(out, k)
					}
				}
			}
		}
	}
	settings := r.quiet(tf, "settings")
	if settings == nil || settings.Kind != nix.KindAttrs {
		return out
	}
	for _, name := range settings.Attrs.Keys {
		paths := r.quiet(settings, name)
		if paths == nil || paths.Kind != nix.KindAttrs {
			continue
		}
		for _, p := range paths.Attrs.Keys {
			types := r.quiet(paths, p)
			if types == nil || types.Kind != nix.KindAttrs {
				continue
			}
			for _, typ := range types.Attrs.Keys {
				arg := r.quiet(r.quiet(types, typ), "argument")
				if arg == nil || arg.Kind != nix.KindString {
					continue
				}
				if k, ok := TmpfilesSetting(p, typ, arg.Str); ok {
					k.Pos = r.pos(arg.Off)
					out = append(out, k)
				}
			}
		}
	}
	return out
}

// notOptions are the top-level options namedPaths does not look in: the
// persistence declarations themselves, and imports.
var notOptions = []string{"environment.persistence", "preservation", "home-manager", "imports"}

// maxNamedValues bounds how many values namedPaths looks at: a function
// that builds ever deeper sets (`let f = n: { x = f n; }; in f 1`) must not
// make it run for long.
const maxNamedValues = 20000

// namedPaths collects into c.Named every absolute path an option sets to a
// string, below v (whose dotted name is prefix), at most 12 levels
// down and *budget values in all: what the configuration names, so that
// drift never calls it stray. Store paths and "/" are left out. Silent:
// what cannot be read is skipped, except a string partly known (a
// KindUnknown with a Text holding a slash), which goes to c.Partial.
func (r *reader) namedPaths(v *nix.Value, prefix string, depth int, budget *int, c *Config) {
	if v == nil || depth > 12 || *budget <= 0 {
		return
	}
	*budget--
	switch v.Kind {
	case nix.KindString:
		if strings.HasPrefix(v.Str, "/") && !strings.HasPrefix(v.Str, "/nix/store") && !strings.ContainsAny(v.Str, " \n") {
			if p, _ := cleanPath(v.Str); p != "/" {
				c.Named = append(c.Named, Ref{Option: prefix, Path: p, Pos: r.pos(v.Off)})
			}
		}
	case nix.KindUnknown:
		if strings.Contains(v.Text, "/") {
			c.Partial = append(c.Partial, Ref{Option: prefix, Path: v.Text, Pos: r.pos(v.Off)})
		}
	case nix.KindList:
		for _, it := range r.src.List(v) {
			r.namedPaths(r.force(it), prefix, depth+1, budget, c)
		}
	case nix.KindAttrs:
		for _, k := range v.Attrs.Keys {
			name := nix.AttrName(k) // as Nix writes it: fileSystems."/srv/www".device
			if prefix != "" {
				name = prefix + "." + name
			}
			if slices.Contains(notOptions, name) {
				continue
			}
			r.namedPaths(r.quiet(v, k), name, depth+1, budget, c)
		}
	}
}

// mountOf reads a mount at name (the mount point, unless the value sets
// mountPoint/mountpoint) whose type is in typeKey; its options (the
// strings of the list `options`) joined by commas, as mountinfo has them.
func (r *reader) mountOf(name string, off int, v *nix.Value, typeKey string) Mount {
	m := Mount{Mount: mounts.Mount{MountPoint: name}, Pos: r.pos(off)}
	for _, k := range []string{"mountPoint", "mountpoint"} {
		if p := r.quiet(v, k); p != nil && p.Kind == nix.KindString {
			m.MountPoint = p.Str
		}
	}
	if t := r.quiet(v, typeKey); t != nil && t.Kind == nix.KindString {
		m.FSType = t.Str
	}
	if d := r.quiet(v, "device"); d != nil && d.Kind == nix.KindString {
		m.Source = d.Str
	}
	if l := r.quiet(v, "options"); l != nil && l.Kind == nix.KindList {
		var opts []string
		for _, it := range r.src.List(l) {
			if s := r.force(it); s != nil && s.Kind == nix.KindString {
				opts = append(opts, s.Str)
			}
		}
		m.Options = strings.Join(opts, ",")
	}
	if strings.HasPrefix(m.MountPoint, "/") {
		m.MountPoint, _ = cleanPath(m.MountPoint)
	}
	return m
}
