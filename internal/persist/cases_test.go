package persist

import "testing"

// TestDeclarationsOfFieldCases: declarations that failed users in the
// field (user files in subdirectories of a home, unusual characters,
// home-manager v1's storage path holding the home, a file listed in
// directories), each as a module file, read to the entries the modules
// make, byte for byte.
func TestDeclarationsOfFieldCases(t *testing.T) {
	tests := []struct {
		name, nix string
		want      []string
		check     func(t *testing.T, s *Set)
	}{{
		name: "user files in subdirectories of the home (C02)",
		nix: `{ environment.persistence."/nix/persist".users.alice.files = [
    "topfile" ".zsh/history-extra"
  ]; }`,
		want: []string{
			"file /home/alice/topfile @/nix/persist alice:users:0755 owner=alice impermanence",
			"file /home/alice/.zsh/history-extra @/nix/persist alice:users:0755 owner=alice impermanence",
		},
		check: func(t *testing.T, s *Set) {
			e, ok := s.Covering("/home/alice/.zsh/history-extra")
			if !ok || e.Kind != File || e.Source() != "/nix/persist/home/alice/.zsh/history-extra" {
				t.Errorf("Covering = %+v, %v", e, ok)
			}
			if e, ok := s.Covering("/home/alice/.zsh"); ok {
				t.Errorf("the parent of a declared file is not covered: %+v", e)
			}
		},
	}, {
		name: "non-ASCII, whitespace and special characters, bytes kept (C05)",
		nix: `{ environment.persistence."/nix/persist".users.alice.directories = [
    "المستندات"                 # Arabic "documents"
    "VirtualBox VMs"
    ".mozilla/firefox/p1/storage/default/moz-extension+++0f0f^userContextId=4294967295/idb/"
  ]; }`,
		want: []string{
			"dir /home/alice/المستندات @/nix/persist alice:users:0755 owner=alice impermanence",
			"dir /home/alice/VirtualBox VMs @/nix/persist alice:users:0755 owner=alice impermanence",
			"dir /home/alice/.mozilla/firefox/p1/storage/default/moz-extension+++0f0f^userContextId=4294967295/idb @/nix/persist alice:users:0755 owner=alice impermanence",
		},
		check: func(t *testing.T, s *Set) {
			if got, want := s.Entries[0].Path, "/home/alice/\u0627\u0644\u0645\u0633\u062a\u0646\u062f\u0627\u062a"; got != want {
				t.Errorf("bytes changed: %q, want %q", got, want)
			}
			if got := s.Entries[1].Pos.String(); got != "decl.nix:3:5" {
				t.Errorf("pos = %s", got)
			}
			if e, ok := s.Covering("/home/alice/VirtualBox VMs/vm1.vdi"); !ok || e.Source() != "/nix/persist/home/alice/VirtualBox VMs" {
				t.Errorf("Covering = %+v, %v", e, ok)
			}
		},
	}, {
		name: "home-manager v1: storage path holds the home, bindfs and symlink directories (C22)",
		nix: `{ ... }: {
  home-manager.users.alice.home.persistence."/nix/persist/home/alice" = {
    directories = [ "Music" { directory = ".local/share/Steam"; method = "symlink"; } ];
    allowOther = false;
  };
}`,
		want: []string{
			"dir /home/alice/Music @/nix/persist alice::0755 method=bindfs owner=alice home-manager",
			"dir /home/alice/.local/share/Steam @/nix/persist alice::0755 method=symlink owner=alice home-manager",
		},
		check: func(t *testing.T, s *Set) {
			if got := s.Entries[0].Source(); got != "/nix/persist/home/alice/Music" {
				t.Errorf("source = %s", got)
			}
			if got := s.Entries[1].Source(); got != "/nix/persist/home/alice/.local/share/Steam" {
				t.Errorf("source = %s", got)
			}
		},
	}, {
		name: "a file listed in directories is a directory; method symlink on a user file (C23)",
		nix: `{
  environment.persistence."/nix/persist" = {
    directories = [ "/etc/wpa_supplicant.conf" ];
    users.alice.files = [ { file = ".local/share/recently-used.xbel"; method = "symlink"; } ];
  };
}`,
		want: []string{
			"dir /etc/wpa_supplicant.conf @/nix/persist root:root:0755 impermanence",
			"file /home/alice/.local/share/recently-used.xbel @/nix/persist alice:users:0755 method=symlink owner=alice impermanence",
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustNix(t, tt.nix, Options{})
			wantLines(t, "entries", briefs(s), tt.want)
			if len(s.Diagnostics) != 0 {
				t.Errorf("diagnostics: %q", diags(s))
			}
			if tt.check != nil {
				tt.check(t, s)
			}
		})
	}
}

// The home-manager v1 form where the storage path does not end with the
// home, and removePrefixDirectory.
func TestHomeManagerV1Sources(t *testing.T) {
	s := mustNix(t, `{
  home-manager.users.bob.home.persistence."/persist/bob" = {
    removePrefixDirectory = true;
    directories = [ "games/Steam" ];
    files = [ "shell/.bashrc" ];
  };
}`, Options{})
	wantLines(t, "entries", briefs(s), []string{
		"dir /home/bob/Steam @/persist/bob bob::0755 method=bindfs owner=bob src=/persist/bob/games/Steam home-manager",
		"file /home/bob/.bashrc @/persist/bob bob::0755 method=symlink owner=bob src=/persist/bob/shell/.bashrc home-manager",
	})
}
