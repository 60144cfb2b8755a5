package persist

import (
	"encoding/json"
	"fmt"
	"testing"
)

func linkLines(ls []Link) []string {
	var out []string
	for _, l := range ls {
		out = append(out, fmt.Sprintf("%s -> %s @%s", l.Path, l.Target, l.Pos))
	}
	return out
}

// TestTmpfilesLinksAreRead: the links systemd-tmpfiles makes at boot are
// part of the configuration's facts, in both forms (the rules' lines and
// settings), so that the classification knows them (a fresh-user test:
// "L+ /etc/nixos - - - - /nix/persist/nixos-config" was called lost,
// "nothing re-creates it"). Lines of other types, specifiers and the
// default target are left out.
func TestTmpfilesLinksAreRead(t *testing.T) {
	src := `{ ... }: {
  systemd.tmpfiles.rules = [
    "L+ /etc/nixos - - - - /nix/persist/nixos-config"
    "d /var/lib/x 0755 root root -"
    "L /root/.ssh/%h - - - - /x"
    "L /etc/default - - - - -"
    "L!  \"/etc/with space\"  -  -  -  -  rel/target"
  ];
  systemd.tmpfiles.settings."10-links"."/etc/machine-id"."L+".argument = "/nix/persist/etc/machine-id";
  systemd.tmpfiles.settings."10-links"."/var/lib/y".d.mode = "0755";
}
`
	s, err := ParseNix([]byte(src), "f.nix", Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, "links", linkLines(s.Config.TmpfilesLinks), []string{
		"/etc/nixos -> /nix/persist/nixos-config @f.nix:3:5",
		"/etc/with space -> rel/target @f.nix:7:5",
		"/etc/machine-id -> /nix/persist/etc/machine-id @f.nix:9:74",
	})
}

// TestTmpfilesLinksFromTheEvaluation: the flake's projection gives the
// same links (rules and settings) as the static read.
func TestTmpfilesLinksFromTheEvaluation(t *testing.T) {
	var out flakeOutput
	err := json.Unmarshal([]byte(`{"tmpfilesRules":["L+ /etc/nixos - - - - /nix/persist/nixos-config","d /x - - - -"],
		"tmpfilesSettings":{"10-links":{"/etc/machine-id":{"L+":"/nix/persist/etc/machine-id","d":null}}}}`), &out)
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, "links", linkLines(out.tmpfilesLinks("h")), []string{
		"/etc/nixos -> /nix/persist/nixos-config @h.systemd.tmpfiles.rules",
		`/etc/machine-id -> /nix/persist/etc/machine-id @h.systemd.tmpfiles.settings."10-links"`,
	})
}

// TestWipeBlankIsKnown: the blank snapshot the wipe makes the root from
// is a configuration fact (services.drift.wipe.blank, or --blank in the
// stage-1 wipe command), so that the classification knows what the wipe
// brings back.
func TestWipeBlankIsKnown(t *testing.T) {
	for src, want := range map[string]string{
		`{ services.drift.wipe = { enable = true; blank = "root-blank"; }; }`:                                "root-blank @f.nix:1:50",
		`{ boot.initrd.postDeviceCommands = "drift wipe --device /dev/vda2 --blank root-blank || true"; }`:   "root-blank @f.nix:1:36",
		`{ boot.initrd.postDeviceCommands = "'/nix/store/x-drift/bin/drift' 'wipe' '--blank=blank/root'"; }`: "blank/root @f.nix:1:36",
		`{ boot.initrd.postDeviceCommands = "btrfs subvolume delete /mnt/root; echo --blank x"; }`:           " @",
	} {
		s, err := ParseNix([]byte(src), "f.nix", Options{})
		if err != nil {
			t.Fatal(err)
		}
		b := s.Config.Initrd.WipeBlank()
		if got := b.Value + " @" + b.Pos.String(); got != want {
			t.Errorf("%s: %q, want %q", src, got, want)
		}
	}
}
