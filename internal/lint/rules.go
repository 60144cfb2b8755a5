package lint

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/nix-drift/drift/internal/persist"
)

// Severity orders findings: Info < Warning < Error (persist's severities).
type Severity = persist.Severity

// Severities, re-exported.
const (
	Info    = persist.Info
	Warning = persist.Warning
	Error   = persist.Error
)

// ParseSeverity reads "error", "warning" or "info".
func ParseSeverity(s string) (Severity, error) {
	switch s {
	case "error":
		return Error, nil
	case "warning":
		return Warning, nil
	case "info":
		return Info, nil
	}
	return Info, fmt.Errorf("unknown severity %q (expected error, warning or info)", s)
}

// Rule describes one check. Severity is the usual one; a finding may be
// raised or lowered by what the files read say (etc-user-files is an error
// only with users.mutableUsers = false).
type Rule struct {
	ID       string
	Severity Severity
	// Summary is a one-line description; Hint the usual fix.
	Summary, Hint string
	// Source is where the rule comes from (module source, README, NixOS
	// manual, a reported failure).
	Source string
	// Off rules run only when named by --enable.
	Off bool
}

// registry is every rule, in the order the README documents them.
var registry = []Rule{
	// path shape
	{ID: "path-not-absolute", Severity: Error, Summary: "a system-wide entry is not an absolute path",
		Hint: "write it with a leading '/'", Source: "impermanence lib.nix concatPaths and the `path` type of classic impermanence; preservation requires absolute top-level paths"},
	{ID: "path-dot", Severity: Error, Summary: "a path has a '.' or '..' component",
		Hint: "write the path without '.' and '..'", Source: "impermanence lib.nix keeps '.' and '..' in dirPath; systemd refuses a non-normalised Where= (systemd.mount(5))"},
	{ID: "path-slashes", Severity: Warning, Summary: "a path has a double or trailing slash",
		Hint: "remove the extra '/'", Source: "impermanence lib.nix; classic impermanence keeps a trailing slash and misses duplicates written both ways"},
	{ID: "path-whitespace", Severity: Error, Summary: "a path starts or ends with white space",
		Hint: "remove the white space", Source: "the module persists a different path than the one meant"},
	{ID: "path-control", Severity: Error, Summary: "a path has a control character (a newline, a tab, another byte below 0x20, or 0x7f), an invisible one (a bidi override such as U+202E) or a byte that is not UTF-8",
		Hint: "remove it (a \\n or \\t in a Nix string is one)", Source: "fstab(5) and tmpfiles.d(5) are lines of fields: impermanence's bind mounts are fileSystems entries, written to /etc/fstab with only space and tab escaped, and preservation writes tmpfiles lines; a newline splits the line"},
	{ID: "user-path-absolute", Severity: Warning, Summary: "a user entry is written absolute; it is relative to the home",
		Hint: "drop the leading '/'", Source: "impermanence nixos.nix users.<name>: dirPath = concatPaths [home directory]"},
	// duplicates and overlap
	{ID: "duplicate", Severity: Error, Summary: "the same path is declared twice (after normalisation)",
		Hint: "keep one of them", Source: "impermanence nixos.nix duplicate-files/directories assertions (exact strings only); two bind mounts on one path hide each other"},
	{ID: "nested-directory", Severity: Warning, Summary: "a directory lies inside a persisted directory",
		Hint: "drop the inner entry (it is persisted already) or the outer one", Source: "no module checks nesting; the inner bind mount hides the outer copy"},
	{ID: "file-in-directory", Severity: Warning, Summary: "a file lies inside a persisted directory",
		Hint: "drop the file entry: the directory already persists it", Source: "impermanence nixos.nix: file services are not ordered after directory mounts, so the directory mount can hide the file"},
	{ID: "file-and-directory", Severity: Error, Summary: "one path is declared both as a file and as a directory",
		Hint: "keep the kind the path really is", Source: "impermanence has no check for it"},
	// pointless or harmful
	{ID: "persist-root", Severity: Error, Summary: "the whole root / is persisted",
		Hint: "persist specific directories instead", Source: "impermanence #295 and fix 69ecf31: / got mode 0700 and the machine could not boot"},
	{ID: "api-filesystem", Severity: Error, Summary: "a path on an API or runtime file system (/proc, /sys, /dev, /run) is persisted",
		Hint: "remove it: the kernel or systemd mounts a fresh file system there at every boot", Source: "impermanence #297 (systemd refuses a mount unit over /run)"},
	{ID: "not-ephemeral", Severity: Error, Summary: "a path that is not on the ephemeral root (/nix, /boot) is persisted",
		Hint: "remove it: it survives the wipe already", Source: "NixOS manual, file systems"},
	{ID: "inside-storage-path", Severity: Error, Summary: "a path inside a persistent storage path is persisted",
		Hint: "remove it: the storage path is persistent itself", Source: "a reported failure: /nix/persist/cache declared inside the storage path"},
	{ID: "persist-tmp", Severity: Warning, Summary: "/tmp is persisted",
		Hint: "remove it: /tmp is meant to be emptied at boot", Source: "NixOS boot.tmp.cleanOnBoot / boot.tmp.useTmpfs"},
	{ID: "broad-directory", Severity: Warning, Summary: "a very broad directory (/var, /var/lib, /usr, ~/.config, ~/.local) is persisted",
		Hint: "list the sub-directories that hold state instead", Source: "/var holds /var/run and caches; impermanence #53: all of ~/.config defeats the purpose"},
	{ID: "already-persistent", Severity: Warning, Summary: "a path is already persistent through the disk layout",
		Hint: "move its data from the persistent copy (mounted over it while declared) onto the file system mounted there, then remove it: that file system survives the wipe", Source: "disko / fileSystems: a mount other than / and tmpfs is not wiped"},
	// known breakage
	{ID: "etc-whole", Severity: Error, Summary: "all of /etc is persisted",
		Hint: "persist the files in /etc that hold state (machine-id, SSH host keys, …)", Source: "persists NixOS-generated state and hides activation output on first boot; /etc is needed for boot"},
	{ID: "etc-generated-dir", Severity: Warning, Summary: "a persisted directory holds files that NixOS activation creates",
		Hint: "persist the state files inside it instead, not the directory", Source: "/etc/ssh hides sshd_config; NixOS environment.etc"},
	{ID: "etc-managed", Severity: Warning, Summary: "a file NixOS activation writes in /etc from environment.etc (a link into /etc/static) is persisted",
		Hint: "remove the entry: NixOS makes it again at every boot; persist the state it names, not the file", Source: "nixos/modules/system/etc/setup-etc.pl: /etc/NAME -> /etc/static/NAME for every environment.etc entry"},
	{ID: "etc-user-files", Severity: Warning, Summary: "/etc/passwd, group, shadow, gshadow, subuid or subgid is persisted",
		Hint: "set users.mutableUsers = false and declare users and passwords in Nix", Source: "impermanence #122 (activation writes them first: \"A file already exists\") and #120 (passwd renames); error with mutableUsers = false"},
	{ID: "removed-option", Severity: Error, Summary: "an option current impermanence removed is set",
		Hint: "remove it", Source: "impermanence submodule-options.nix mkRemovedOptionModule: allowOther, removePrefixDirectory, defaultDirectoryMethod, directory method, users.<name>.home"},
	// missing state
	{ID: "missing-var-lib-nixos", Severity: Warning, Summary: "/var/lib/nixos (uid/gid maps) is not persisted",
		Hint: "persist the directory /var/lib/nixos", Source: "impermanence nixos.nix warning, #178"},
	{ID: "missing-machine-id", Severity: Warning, Summary: "/etc/machine-id is not persisted",
		Hint: "persist the file /etc/machine-id", Source: "impermanence README; the journal and systemd key state on the machine id"},
	{ID: "missing-systemd-timers", Severity: Info, Summary: "/var/lib/systemd/timers is not persisted",
		Hint: "persist /var/lib/systemd/timers so Persistent= timers know when they last ran", Source: "preservation docs (examples.md); systemd.timer(5) Persistent="},
	{ID: "missing-var-log", Severity: Warning, Summary: "/var/log is not persisted and is not a mount",
		Hint: "persist the directory /var/log", Source: "impermanence README; the journal of earlier boots is lost otherwise"},
	{ID: "missing-ssh-host-keys", Severity: Warning, Summary: "openssh is enabled but its host keys are not persisted",
		Hint: "persist /etc/ssh/ssh_host_ed25519_key and .pub (and rsa) as files, or point services.openssh.hostKeys into the storage path", Source: "impermanence flake test; impermanence #101"},
	{ID: "mutable-users", Severity: Warning, Summary: "users.mutableUsers is not false while the password files are not persisted",
		Hint: "set users.mutableUsers = false and declare passwords (hashedPasswordFile)", Source: "NixOS manual, User Management"},
	// entries
	{ID: "unknown-attribute", Severity: Error, Summary: "an entry or storage path has an attribute the module does not know",
		Hint: "fix the attribute's name", Source: "impermanence submodule-options.nix, preservation options.nix (the module system rejects unknown options)"},
	{ID: "invalid-mode", Severity: Error, Summary: "a mode is neither octal nor symbolic as chmod takes it (preservation: not octal)",
		Hint: "write an octal mode such as \"0700\"", Source: "impermanence create-directories.bash (mkdir --mode); preservation writes tmpfiles.d lines, which need octal"},
	// failures users reported
	{ID: "unit-name", Severity: Warning, Summary: "the systemd unit made for an entry gets an invalid name (over 255 bytes, or unescaped characters)",
		Hint: "persist a shorter or plainer parent directory", Source: "impermanence #195 (home-manager v1's bindMount-<path> service kept '+' and '=', which systemd refuses); systemd.unit(5): names up to 255 bytes of [A-Za-z0-9:_.\\-@]"},
	{ID: "deep-app-path", Severity: Warning, Summary: "a very deep path inside an application's directory in a home is persisted",
		Hint: "persist the application's top directory instead", Source: "a reported failure: a deep path in an application directory persisted instead of its top"},
	{ID: "early-reader", Severity: Error, Summary: "a path read before the persistence mounts exist points at a persisted path",
		Hint: "point it at the copy in the persistent storage path", Source: "sops-nix #167 and PR #509, README (impermanence: the key file in a persisted path available early); nixpkgs #148044; agenix (activation script)"},
	{ID: "lost-secret", Severity: Error, Summary: "a password file or secret key the system reads at boot lies on the wiped root and is not persisted: a lock-out",
		Hint: "keep it under a storage path and point the option there", Source: "nixpkgs update-users-groups.pl (a hashedPasswordFile that does not exist: a warning, and no password); sops-nix (sops.age.keyFile, sshKeyPaths, gnupg), agenix (age.identityPaths)"},
	{ID: "private-parent-mode", Severity: Error, Summary: "an entry below /var/lib/private without /var/lib/private declared 0700",
		Hint: "declare { directory = \"/var/lib/private\"; mode = \"0700\"; }", Source: "impermanence #254, #230 (systemd refuses DynamicUser state under a 0755 /var/lib/private)"},
	{ID: "secret-dir-mode", Severity: Warning, Summary: "a directory of secrets (.ssh, .gnupg) is persisted with a mode open to others",
		Hint: "set mode = \"0700\"", Source: "impermanence #139, #14"},
	// the wipe
	{ID: "wipe-not-run", Severity: Error, Summary: "the root's wipe does not run in the stage 1 the configuration uses (or nothing starts it)",
		Hint: "set services.drift.wipe.enable = true (and .device) instead: it generates the wipe for the stage 1 the system has", Source: "impermanence #320 (postResumeCommands rejected under systemd stage 1) and #119 (postDeviceCommands silently ignored); nixpkgs PR #435781 (systemd stage 1 the default from NixOS 26.05)"},
	{ID: "wipe-before-resume", Severity: Error, Summary: "the wipe runs before stage 1 attempts to resume from hibernation (error when a resume device or swap is configured)",
		Hint: "use services.drift.wipe (after the resume attempt in either stage 1); by hand: boot.initrd.postResumeCommands, or after = [ \"systemd-hibernate-resume.service\" \"local-fs-pre.target\" ]", Source: "impermanence #250; nixpkgs PR #240651 (postResumeCommands); systemd PR #26348, #26367"},
	{ID: "wipe-device-order", Severity: Error, Summary: "the wipe may run before the device holding the root exists: a unit not ordered after it (error) or only weakly (warning), a hook without waitDevice (warning)",
		Hint: "use services.drift.wipe, which waits for its device in either stage 1; by hand: requires and after the device unit (systemd), waitDevice DEVICE before the wipe (scripted)", Source: "nixpkgs stage-1-init.sh (waitDevice, called when mounting); systemd.unit(5) (After= orders only jobs in the transaction); systemd #24904 (initrd-root-device.target and the root device under an fstab root); bootup(7), Bootup in the initrd"},
	{ID: "wipe-after-root-mount", Severity: Error, Summary: "the wipe may run after the root is mounted (not before sysroot.mount, or in postMountCommands)",
		Hint: "use services.drift.wipe; by hand: before = [ \"sysroot.mount\" ], or boot.initrd.postResumeCommands", Source: "impermanence #231 (the system ran inside old_roots/…); bootup(7)"},
	{ID: "wipe-failure-unnoticed", Severity: Warning, Summary: "a failing wipe neither stops the boot nor is reported: the old root boots as if wiped",
		Hint: "use services.drift.wipe: a failed wipe stops the boot (wipe.onFailure = \"stop\") or leaves a mark drift check reports (\"continue\"); by hand: set -e or || fail (scripted), requiredBy = [ \"sysroot.mount\" ] or unitConfig.OnFailure (systemd)", Source: "review of impermanence PR #321 (wantedBy: a failed rollback boots a non-pristine root); nixpkgs stage-1-init.sh (hooks run without set -e); systemd.unit(5) Wants= vs Requires="},
	{ID: "wipe-twice", Severity: Error, Summary: "a hand-written wipe and services.drift.wipe are both defined",
		Hint: "remove the hand-written wipe: services.drift.wipe replaces it", Source: "nix/module.nix (services.drift.wipe)"},
	{ID: "wipe-subvol-not-root", Severity: Error, Summary: "drift wipe's --subvol (or services.drift.wipe.subvolume) is not the root fileSystems mounts: a subvolume mounted elsewhere (the Nix store, the persistent storage), or not the subvol= of fileSystems.\"/\"",
		Hint: "give --subvol (services.drift.wipe.subvolume) the subvol= of fileSystems.\"/\"", Source: "fileSystems.<path>.options subvol= (mount(8), btrfs(5)); docs/wipe.md"},
	{ID: "wipe-old-roots-storage", Severity: Error, Summary: "drift wipe's --old-roots (or services.drift.wipe.oldRoots) overlaps a subvolume fileSystems mounts elsewhere than / (the persistent storage, the Nix store): the root would be retired into it and what is named like an old root there deleted",
		Hint: "keep old roots in a directory of their own on the top level: the default of services.drift.wipe.oldRoots (old_roots)", Source: "fileSystems.<path>.options subvol= (mount(8), btrfs(5)); docs/wipe.md"},
	{ID: "wipe-subvolume-list", Severity: Error, Summary: "the wipe deletes what `btrfs subvolume list -o` lists, which on a path that is not a subvolume is the subvolumes beside it",
		Hint: "use services.drift.wipe: drift wipe deletes only verified subvolumes inside old_roots, nested ones deepest first", Source: "the impermanence README script and its copies; btrfs-subvolume(8) list -o"},
	{ID: "wipe-old-root-name", Severity: Warning, Summary: "the wipe names old roots by the root's mtime (stat %Y): names collide and do not sort by time",
		Hint: "use services.drift.wipe: drift wipe names old roots with a zero-padded day (names that sort by time), makes them unique (.1, .2), never moves a root inside another, and orders old roots by time", Source: "impermanence PR #267"},
	{ID: "wipe-expiry-mtime", Severity: Warning, Summary: "the wipe expires old roots by mtime (find -mtime): a root retired after a long uptime is deleted at once",
		Hint: "use services.drift.wipe: drift wipe never deletes the root it just retired and keeps the newest (wipe.keepMin)", Source: "impermanence #250 (problem 3) and PR #269"},
	// reading
	{ID: "syntax", Severity: Error, Summary: "an input is not valid Nix or JSON; it is not read (exit status 2)",
		Hint: "", Source: "the Nix language manual; RFC 8259 (JSON)"},
	{ID: "not-static", Severity: Warning, Summary: "a value cannot be read without Nix; its entries are not checked",
		Hint: "lint the evaluated configuration with --flake REF#HOST", Source: "drift's static reader"},
	{ID: "conditional", Severity: Info, Summary: "a declaration is conditional (lib.mkIf, lib.optionals); read as if the condition holds",
		Hint: "", Source: "drift's static reader", Off: true},
	{ID: "declaration", Severity: Warning, Summary: "a declaration the reader could not use (wrong type, missing attribute, no declarations at all)",
		Hint: "", Source: "drift's static reader; impermanence and preservation option types"},
}

// Rules returns every rule, in registry order.
func Rules() []Rule { return slices.Clone(registry) }

// LookupRule returns the rule with id.
func LookupRule(id string) (Rule, bool) {
	for _, r := range registry {
		if r.ID == id {
			return r, true
		}
	}
	return Rule{}, false
}

// Selection is the set of rules that run.
type Selection struct{ on map[string]bool }

// NewSelection starts from the rules on by default, turns off those in
// disable, then on those in enable; "all" names every rule. An unknown id
// is an error naming it.
func NewSelection(enable, disable []string) (*Selection, error) {
	s := &Selection{on: make(map[string]bool)}
	for _, r := range registry {
		s.on[r.ID] = !r.Off
	}
	set := func(ids []string, v bool) error {
		for _, id := range ids {
			for _, id := range strings.Split(id, ",") {
				id = strings.TrimSpace(id)
				if id == "all" {
					for k := range s.on {
						s.on[k] = v
					}
					continue
				}
				if _, ok := s.on[id]; !ok {
					return fmt.Errorf("unknown rule %q (drift lint --list-rules lists them)", id)
				}
				s.on[id] = v
			}
		}
		return nil
	}
	if err := set(disable, false); err != nil {
		return nil, err
	}
	if err := set(enable, true); err != nil {
		return nil, err
	}
	return s, nil
}

// On reports whether rule id runs. A nil Selection runs the defaults.
func (s *Selection) On(id string) bool {
	if s == nil {
		r, ok := LookupRule(id)
		return ok && !r.Off
	}
	return s.on[id]
}

// Enabled lists the ids that run, sorted.
func (s *Selection) Enabled() []string {
	var out []string
	for _, r := range registry {
		if s.On(r.ID) {
			out = append(out, r.ID)
		}
	}
	sort.Strings(out)
	return out
}
