package persist

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func mountLines(ms []Mount) []string {
	var out []string
	for _, m := range ms {
		out = append(out, fmt.Sprintf("%s %s %s", m.MountPoint, m.FSType, m.Pos))
	}
	return out
}

func TestReadLayout(t *testing.T) {
	disko := `{
  disko.devices = {
    disk.main = {
      device = "/dev/vda";
      content = {
        type = "gpt";
        partitions.ESP.content = { type = "filesystem"; format = "vfat"; mountpoint = "/boot"; };
        partitions.root.content = {
          type = "btrfs";
          subvolumes = {
            "/root" = { mountpoint = "/"; };
            "/persist" = { mountpoint = "/nix/persist"; mountOptions = [ "noatime" ]; };
            "/log" = { mountpoint = "/var/log/"; };
          };
        };
      };
    };
    nodev."/tmp" = { fsType = "tmpfs"; };
  };
}
`
	ms, err := ReadLayout("disko.nix", strings.NewReader(disko))
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, "disko mounts", mountLines(ms), []string{
		"/  disko.nix:11:38",
		"/boot vfat disko.nix:7:87",
		"/nix/persist  disko.nix:12:41",
		"/tmp tmpfs disko.nix:18:11",
		"/var/log  disko.nix:13:37",
	})
	for _, m := range ms {
		if want := m.MountPoint == "/" || m.MountPoint == "/tmp"; m.Ephemeral() != want {
			t.Errorf("%s: Ephemeral() = %v", m.MountPoint, m.Ephemeral())
		}
	}

	js := `{"/":{"device":"none","fsType":"tmpfs","mountPoint":"/"},"/home":{"device":"/dev/vdb","fsType":"btrfs","mountPoint":"/home"}}`
	ms, err = ReadLayout("fs.json", strings.NewReader(js))
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, "JSON mounts", mountLines(ms), []string{"/ tmpfs fs.json:1:2", "/home btrfs fs.json:1:58"})

	nixos := `{ lib, ... }: { fileSystems."/srv" = lib.mkDefault { device = "/dev/vdc"; fsType = "xfs"; }; }`
	ms, err = ReadLayout("hw.nix", strings.NewReader(nixos))
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, "fileSystems", mountLines(ms), []string{"/srv xfs hw.nix:1:29"})

	for _, bad := range []struct{ name, data, want string }{
		{"x.json", `[1]`, "x.json:1:1: expected an object of mount points"},
		{"x.nix", "{ a = [ ; }", "x.nix:1:9: expected a list element"},
	} {
		if _, err := ReadLayout(bad.name, strings.NewReader(bad.data)); err == nil || !strings.HasPrefix(err.Error(), bad.want) {
			t.Errorf("%s: error %v, want %q", bad.data, err, bad.want)
		}
	}
}

// TestReadLayoutCycles: sets that refer to themselves, or that a function
// makes anew at every level, are not walked forever (the walk's bounds are
// maxLayoutDepth and maxLayoutSets). The time limit only catches a walk
// that never ends: 3 s was outrun once at load 30 on 2 cores.
func TestReadLayoutCycles(t *testing.T) {
	for _, src := range []string{
		`rec { a = { x = a; y = a; z = a; mountpoint = "/srv"; }; }`,
		`let f = n: { x = f n; y = f n; z = f n; mountpoint = "/srv"; }; in f 1`,
	} {
		start := time.Now()
		if _, err := ReadLayout("l.nix", strings.NewReader(src)); err != nil {
			t.Errorf("%s: %v", src, err)
		}
		if d := time.Since(start); d > 30*time.Second {
			t.Errorf("%s: took %v", src, d)
		}
	}
}
