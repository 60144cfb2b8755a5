package knowledge

import (
	"path"
	"strings"
)

// EtcStaticLink reports whether p, a symbolic link to target on a NixOS
// root, is one NixOS activation makes in /etc from environment.etc at
// every boot and every switch: /etc/NAME → /etc/static/NAME, /etc/static
// being the current generation's etc in the Nix store (nixpkgs
// nixos/modules/system/etc/setup-etc.pl). Such a link holds no data: it
// is made again, and declaring it persisted is wrong (EtcManaged is the
// same fact read from a configuration, without a root).
func EtcStaticLink(p, target string) bool {
	if !strings.HasPrefix(p, "/etc/") || !path.IsAbs(target) {
		return false
	}
	t := path.Clean(target)
	return t == "/etc/static" || strings.HasPrefix(t, "/etc/static/")
}

// etcManaged are files NixOS modules write into /etc through
// environment.etc (a link into /etc/static, EtcStaticLink, or a copy
// where the entry has a mode), whenever the module is enabled; the value
// is the module, for messages. /etc/resolv.conf is environment.etc's with
// systemd-resolved, and written at every boot by resolvconf otherwise:
// either way it is made again.
var etcManaged = map[string]string{
	"/etc/ssh/sshd_config":               "services.openssh (nixos/modules/services/networking/ssh/sshd.nix)",
	"/etc/ssh/ssh_config":                "programs.ssh (nixos/modules/programs/ssh.nix)",
	"/etc/ssh/ssh_known_hosts":           "programs.ssh (nixos/modules/programs/ssh.nix)",
	"/etc/ssh/moduli":                    "services.openssh (nixos/modules/services/networking/ssh/sshd.nix)",
	"/etc/resolv.conf":                   "systemd-resolved or resolvconf (nixos/modules/config/resolvconf.nix, nixos/modules/system/boot/resolved.nix)",
	"/etc/nix/nix.conf":                  "nix.settings (nixos/modules/config/nix.nix)",
	"/etc/nix/registry.json":             "nix.registry (nixos/modules/config/nix-flakes.nix)",
	"/etc/hosts":                         "networking.hosts (nixos/modules/config/networking.nix)",
	"/etc/hostname":                      "networking.hostName (nixos/modules/tasks/network-interfaces.nix)",
	"/etc/nsswitch.conf":                 "system.nssModules (nixos/modules/config/nsswitch.nix)",
	"/etc/os-release":                    "system.nixos (nixos/modules/misc/version.nix)",
	"/etc/lsb-release":                   "system.nixos (nixos/modules/misc/version.nix)",
	"/etc/fstab":                         "fileSystems (nixos/modules/tasks/filesystems.nix)",
	"/etc/localtime":                     "time.timeZone (nixos/modules/config/locale.nix)",
	"/etc/profile":                       "environment (nixos/modules/programs/bash/bash.nix)",
	"/etc/bashrc":                        "programs.bash (nixos/modules/programs/bash/bash.nix)",
	"/etc/inputrc":                       "programs.bash (nixos/modules/programs/bash/bash.nix)",
	"/etc/zshrc":                         "programs.zsh (nixos/modules/programs/zsh/zsh.nix)",
	"/etc/zshenv":                        "programs.zsh (nixos/modules/programs/zsh/zsh.nix)",
	"/etc/shells":                        "environment.shells (nixos/modules/config/shells-environment.nix)",
	"/etc/login.defs":                    "security.loginDefs (nixos/modules/programs/shadow.nix)",
	"/etc/sudoers":                       "security.sudo (nixos/modules/security/sudo.nix)",
	"/etc/protocols":                     "networking (nixos/modules/config/networking.nix)",
	"/etc/services":                      "networking (nixos/modules/config/networking.nix)",
	"/etc/host.conf":                     "networking (nixos/modules/config/networking.nix)",
	"/etc/locale.conf":                   "i18n (nixos/modules/config/i18n.nix)",
	"/etc/vconsole.conf":                 "console (nixos/modules/config/console.nix)",
	"/etc/issue":                         "services.getty (nixos/modules/services/ttys/getty.nix)",
	"/etc/ssl/certs/ca-certificates.crt": "security.pki (nixos/modules/security/ca.nix)",
}

// EtcManaged is, for a path NixOS activation writes in /etc at every boot
// from environment.etc (EtcStaticLink: a link into /etc/static), what
// writes it: a NixOS module for the files modules commonly put there, or
// "environment.etc" for one of etc, the configuration's own names under
// environment.etc (persist.Config.EtcFiles, relative to /etc as written).
// "" for any other path.
func EtcManaged(p string, etc []string) string {
	if m, ok := etcManaged[p]; ok {
		return m
	}
	if rest, ok := strings.CutPrefix(p, "/etc/"); ok {
		for _, k := range etc {
			if path.Clean(strings.Trim(k, "/")) == rest {
				return "environment.etc"
			}
		}
	}
	return ""
}
