package lint

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/persist"
)

// errPos is the "f.nix:line:col: " prefix every read error must carry.
var errPos = regexp.MustCompile(`^f\.nix:\d+:\d+: `)

// FuzzLint reads arbitrary input as a .nix module (and as a disk layout)
// and lints it: never a panic, never longer than 5 s, every read error
// placed at f.nix:line:col, every finding with a known rule, a severity
// and a message.
func FuzzLint(f *testing.F) {
	for _, s := range []string{
		sys(`"/srv" "/srv/x" "/run" "var/x" "/etc"`, `"/etc/shadow" "/srv/y"`, `users.users.u = { group = "g"; };`, `services.openssh.enable = true;`),
		user(`"/.ssh" ".gnupg" { directoy = "x"; mode = "9"; }`),
		`{ home.persistence."/p/home/u" = { allowOther = true; directories = [ { directory = "a+b"; method = "bindfs"; } ]; }; }`,
		`{ preservation.preserveAt."/p".users.u = { home = "/h"; directories = [ { directory = "d"; how = "symlink"; mode = "u=rwx"; } ]; }; }`,
		"let d = [ ''/srv/''${x}'' ''/a'''b'' ]; in { environment.persistence.\"/p\".directories = d ++ [ \"${y}\" ]; }",
		`{ lib, ... }: { environment.persistence."/p" = lib.mkIf c (lib.mkMerge [ { directories = lib.optionals c [ "/a" ]; } ]); }`,
		"{ disko.devices.disk.d.content.partitions.p.content = { type = \"filesystem\"; format = \"ext4\"; mountpoint = \"/srv\"; }; }",
		"rec { a = { x = a; y = a; mountpoint = \"/srv\"; }; }", "let f = n: { x = f n; y = f n; }; in f 1",
		strings.Repeat("a.", 5000) + "a = 1;",
		wipeFixture("seed-unset.nix"), wipeFixture("unit-device.nix"), wipeFixture("unit-after-mount.nix"),
		`{ boot.initrd.systemd.services.r = { unitConfig = { After = 1; Requires = [ 2 ]; }; serviceConfig.ExecStart = [ 3 "-x" ]; wantedBy = "x"; }; swapDevices = [ 1 ]; boot.initrd.postMountCommands = 3; }`,
		strings.Repeat("[", 2000), `"unterminated`, "''unterminated ''$", "{ a = \"${", "# drift-lint: disable=all\n{}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		done := make(chan struct{})
		var fs []Finding
		var err error
		go func() {
			defer close(done)
			var s *persist.Set
			s, err = persist.ParseNix(data, "f.nix", persist.Options{Homes: map[string]string{"u": "/home/u"}})
			if err != nil {
				return
			}
			layout, lerr := persist.ReadLayout("f.nix", bytes.NewReader(data))
			if lerr != nil {
				err = lerr
				return
			}
			sel, _ := NewSelection([]string{"all"}, nil)
			fs = Check(Config{Sets: []*persist.Set{s}, Layout: layout, Sources: map[string][]byte{"f.nix": data}}, sel)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("lint took over 5s on %q", data)
		}
		if err != nil {
			if !errPos.MatchString(err.Error()) {
				t.Fatalf("error without position: %v", err)
			}
			return
		}
		for _, f := range fs {
			if _, ok := LookupRule(f.Rule); !ok || f.Message == "" || f.Pos.File != "f.nix" {
				t.Fatalf("bad finding: %+v", f)
			}
		}
	})
}
