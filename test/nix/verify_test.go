package nixtest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
)

// verifyScenarios are the configurations whose every unit and script is
// checked: all of the module on the scripted initrd, systemd stage 1 with
// each onFailure, preservation with the journal timer.
var verifyScenarios = []struct{ name, settings, system string }{
	{"scripted", scenarios[0].settings, scenarios[0].system},
	{"systemd-stop", scenarios[1].settings, scenarios[1].system},
	{"systemd-continue", `{
	  enable = true;
	  auditOnShutdown = { enable = true; directory = "/persist/drift reports"; };
	  wipe = { enable = true; device = "/dev/disk/by-label/my root"; onFailure = "continue"; };
	}`, `{ boot.initrd.systemd.enable = true; }`},
	{"preservation-timer-journal", scenarios[3].settings, scenarios[3].system},
}

// generated is every unit and script of a scenario.
type generated struct {
	units   []unitFile // system units, then initrd units
	initrd  []string   // the names of the initrd's units among units
	scripts map[string]string
	// hooks are the scripted initrd's hooks (sh, sourced into stage 1).
	hooks map[string]string
}

func generate(t *testing.T, settings, system string) generated {
	t.Helper()
	v, err := evalModule(t, "--arg", "settings", settings, "--arg", "system", system)
	if err != nil {
		t.Fatal(err)
	}
	g := generated{scripts: map[string]string{}, hooks: map[string]string{}}
	at := func(path ...string) map[string]any {
		var m any = v["config"]
		for _, p := range path {
			mm, _ := m.(map[string]any)
			m = mm[p]
		}
		mm, _ := m.(map[string]any)
		return mm
	}
	add := func(m map[string]any, suffix string, initrd bool) {
		for _, n := range sortedKeys(m) {
			u, err := nixosUnit(n+suffix, m[n].(map[string]any), "/bin/bash")
			if err != nil {
				t.Fatal(err)
			}
			g.units = append(g.units, u)
			if initrd {
				g.initrd = append(g.initrd, u.Name)
			}
			for p, s := range u.Scripts {
				g.scripts[u.Name+" "+filepath.Base(p)] = s
			}
		}
	}
	add(at("systemd", "services"), ".service", false)
	add(at("systemd", "timers"), ".timer", false)
	add(at("boot", "initrd", "systemd", "services"), ".service", true)
	for _, k := range []string{"postDeviceCommands", "postResumeCommands"} {
		if h := at("boot", "initrd", k); h != nil {
			g.hooks[k] = h["content"].(string)
		}
	}
	// Activation scripts: snippets of NixOS's activate script (bash).
	acts := at("system", "activationScripts")
	for _, n := range sortedKeys(acts) {
		if text, ok := acts[n].(map[string]any)["text"].(string); ok {
			g.scripts["activation "+n] = "#!/bin/bash\nset -e\n" + text
		}
	}
	return g
}

// TestUnitsVerify: systemd-analyze verify (the machine's systemd) accepts
// every unit the module generates, written as NixOS writes it, with its
// job scripts and the drift binary at their store paths, under a root
// holding the machine's own units. Any message fails the test (an unknown
// key is only a warning to verify).
func TestUnitsVerify(t *testing.T) {
	needTool(t, "nix-instantiate")
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv(envRequire) == "1" {
			t.Fatalf("systemd-analyze not found and %s=1 (apt-get install systemd)", envRequire)
		}
		t.Skip("systemd-analyze not found (apt-get install systemd): the units are not verified")
	}
	units := "/usr/lib/systemd/system"
	if _, err := os.Stat(filepath.Join(units, "sysinit.target")); err != nil {
		testutil.SkipOrFatal(t, envRequire, fmt.Sprintf("%s has no sysinit.target: no systemd units to verify against", units))
	}
	for _, sc := range verifyScenarios {
		t.Run(sc.name, func(t *testing.T) {
			g := generate(t, sc.settings, sc.system)
			if len(g.units) == 0 {
				t.Fatal("no units")
			}
			root := t.TempDir()
			if err := os.MkdirAll(filepath.Join(root, "usr/lib/systemd"), 0o755); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command("cp", "-a", units, filepath.Join(root, "usr/lib/systemd")+"/").CombinedOutput(); err != nil {
				t.Fatalf("cp %s: %v\n%s", units, err, out)
			}
			drift := "/nix/store/00000000000000000000000000000000-drift-test/bin/drift"
			testutil.WriteFileMode(t, filepath.Join(root, drift), "#!/bin/sh\n", 0o755)
			var names []string
			for _, u := range g.units {
				u.install(t, root, filepath.Join(root, "etc/systemd/system"))
				names = append(names, u.Name)
			}
			cmd := exec.Command(sa, append([]string{"verify", "--root=" + root}, names...)...)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			err := cmd.Run()
			if err != nil || out.Len() > 0 {
				var text strings.Builder
				for _, u := range g.units {
					fmt.Fprintf(&text, "--- %s\n%s", u.Name, u.Text)
				}
				t.Errorf("systemd-analyze verify %s: %v\n%s\n%s", strings.Join(names, " "), err, out.String(), text.String())
			}
		})
	}
}

// TestScriptsShellcheck: shellcheck (every severity, as
// systemd.enableStrictShellChecks runs it through writeShellApplication:
// bash with errexit, nounset and pipefail) accepts every job script and
// activation script, and
// shellcheck -s sh accepts the scripted initrd's hook (busybox ash; its
// waitDevice and fail come from stage 1's script).
func TestScriptsShellcheck(t *testing.T) {
	needTool(t, "nix-instantiate")
	sc, err := exec.LookPath("shellcheck")
	if err != nil {
		if os.Getenv(envRequire) == "1" {
			t.Fatalf("shellcheck not found and %s=1 (apt-get install shellcheck)", envRequire)
		}
		t.Skip("shellcheck not found (apt-get install shellcheck): the scripts are not checked")
	}
	check := func(t *testing.T, name, shell, text string) {
		t.Helper()
		cmd := exec.Command(sc, "--shell="+shell, "--severity=style", "-")
		cmd.Stdin = strings.NewReader(text)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("shellcheck %s: %v\n%s\n%s", name, err, out, text)
		}
	}
	seen := 0
	for _, s := range append(verifyScenarios, struct{ name, settings, system string }{"scripted-continue",
		`{ enable = true; wipe = { enable = true; device = "/dev/vda2"; onFailure = "continue"; }; }`, `{ }`}) {
		t.Run(s.name, func(t *testing.T) {
			g := generate(t, s.settings, s.system)
			keys := make([]string, 0, len(g.scripts))
			for k := range g.scripts {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				text := strings.Replace(g.scripts[k], "set -e\n", "set -o errexit\nset -o nounset\nset -o pipefail\n", 1)
				check(t, k, "bash", text)
				seen++
			}
			for k, h := range g.hooks {
				check(t, k, "sh", "#!/bin/sh\n"+h)
				seen++
			}
		})
	}
	if seen < 6 {
		t.Errorf("%d scripts checked: the scenarios lost their scripts", seen)
	}
}
