package nixtest

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
)

// TestModuleScriptsRun runs the scripts the module generates — the
// shutdown audit (preStop) and the metrics timer's service — with bash -e
// (as NixOS runs them), a real drift build on PATH, and extraCheckArgs
// pointing drift at the demo system: the reports are kept and pruned, the
// journal line is right, and drift.prom is written whole and valid.
func TestModuleScriptsRun(t *testing.T) {
	needTool(t, "nix-instantiate")
	bash, err := exec.LookPath("bash")
	if err != nil {
		testutil.SkipOrFatal(t, envRequire, "bash not found")
	}
	if _, err := exec.LookPath("jq"); err != nil {
		if os.Getenv(envRequire) == "1" {
			t.Fatalf("jq not found and %s=1 (apt-get install jq): the shutdown audit's summary line is not tested", envRequire)
		}
		t.Skip("jq not found (apt-get install jq): the shutdown audit's summary line is not tested")
	}
	root := repoRoot(t)
	bin := t.TempDir()
	if err := os.Symlink(driftBuild(t), filepath.Join(bin, "drift")); err != nil {
		t.Fatal(err)
	}
	demo := filepath.Join(root, "fixtures/demo")
	tmp := t.TempDir()
	audit, prom := filepath.Join(tmp, "persist/var/lib/drift/shutdown"), filepath.Join(tmp, "textfile")
	if err := os.Mkdir(prom, 0o755); err != nil {
		t.Fatal(err)
	}
	settings := fmt.Sprintf(`{
	  enable = true;
	  auditOnShutdown = { enable = true; directory = %q; keep = 2; };
	  timer.enable = true;
	  prometheus.textfileDir = %q;
	  extraCheckArgs = [ "--root" %q "--mountinfo" %q "--persist" %q "--ignore-file" %q ];
	}`, audit, prom, demo+"/root", demo+"/mountinfo", demo+"/impermanence.nix", demo+"/ignore")
	v, err := evalModule(t, "--arg", "settings", settings, "--arg", "system", "{ }")
	if err != nil {
		t.Fatal(err)
	}
	services := v["config"].(map[string]any)["systemd"].(map[string]any)["services"].(map[string]any)
	// systemctl is-system-running as systemd answers it: "stopping" while
	// shutting down (exit status 1: not "running").
	stub := "#!/bin/sh\n[ \"$1\" = is-system-running ] || exit 2\necho \"$SYSTEM_STATE\"\n[ \"$SYSTEM_STATE\" = running ]\n"
	if err := os.WriteFile(filepath.Join(bin, "systemctl"), []byte(stub), 0o755); err != nil {
		t.Fatal(err)
	}
	state := "stopping"
	run := func(script string) string {
		t.Helper()
		// As systemd.enableStrictShellChecks runs them (writeShellApplication).
		cmd := exec.Command(bash, "-e", "-u", "-o", "pipefail", "-c", script)
		cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "SYSTEM_STATE="+state)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("script failed: %v\n%s\nscript:\n%s", err, out, script)
		}
		return string(out)
	}

	preStop := services["drift-audit-shutdown"].(map[string]any)["preStop"].(string)
	var line string
	for i := 0; i < 3; i++ {
		line = run(preStop)
	}
	want := regexp.MustCompile(`^drift: 20 paths \(\d+ bytes\) lost at this reboot: 4 declared-unbacked, 2 unmounted, 14 unpersisted; report: ` +
		regexp.QuoteMeta(audit) + `/shutdown-\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z\.json \(drift restore brings a path back from the old root\)\n$`)
	if !want.MatchString(line) {
		t.Errorf("journal line %q, want %s", line, want)
	}
	reports, _ := filepath.Glob(filepath.Join(audit, "shutdown-*.json"))
	if len(reports) != 2 {
		t.Errorf("%d reports kept, want 2 (keep = 2): %q", len(reports), reports)
	}
	if strings.Contains(line, "report: ") && len(reports) == 2 && !strings.Contains(line, reports[1]) {
		t.Errorf("journal line names %q, not the newest report %s", line, reports[1])
	}
	var latest struct {
		Version int `json:"version"`
		Summary struct {
			Lost struct{ Entries int } `json:"lost"`
		} `json:"summary"`
		Items []struct {
			Path, Category string
			Entries        int
		} `json:"items"`
	}
	data, err := os.ReadFile(filepath.Join(audit, "latest.json"))
	if err != nil || json.Unmarshal(data, &latest) != nil || latest.Version != 1 || latest.Summary.Lost.Entries != 20 {
		t.Errorf("latest.json: %v, version %d, %d paths lost, want 1 and 20", err, latest.Version, latest.Summary.Lost.Entries)
	}
	// The 20 paths (14 unpersisted) the counts above and below say, row by
	// row: a change of the demo names the row that changed.
	var rows []string
	for _, it := range latest.Items {
		rows = append(rows, fmt.Sprintf("%s %s %d", it.Path, it.Category, it.Entries))
	}
	if missing, extra := setDiff(demoRows, rows), setDiff(rows, demoRows); len(missing)+len(extra) > 0 {
		t.Errorf("latest.json's rows (path category entries): missing %q, not expected %q", missing, extra)
	}
	if left, _ := filepath.Glob(filepath.Join(audit, "*.tmp")); len(left) > 0 {
		t.Errorf("temporary files left: %q", left)
	}

	// A stop that is not a shutdown's (systemctl stop, the unit removed by
	// nixos-rebuild switch): no audit, no report, no "lost at this reboot".
	for _, state = range []string{"running", "degraded", "starting"} {
		line = run(preStop)
		if line != "drift: stopped while the system is "+state+", not shutting down: no audit\n" {
			t.Errorf("system %s: journal line %q", state, line)
		}
		if again, _ := filepath.Glob(filepath.Join(audit, "shutdown-*.json")); !slices.Equal(again, reports) {
			t.Errorf("system %s: reports %q, want %q untouched", state, again, reports)
		}
	}

	metrics := services["drift-check"].(map[string]any)["script"].(string)
	run(metrics)
	text, err := os.ReadFile(filepath.Join(prom, "drift.prom"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(text), `drift_lost_files{category="unpersisted"} 14`+"\n") {
		t.Errorf("drift.prom, want 14 unpersisted (the unpersisted rows of %q):\n%s", demoRows, text)
	}
	if fi, _ := os.Stat(filepath.Join(prom, "drift.prom")); fi.Mode().Perm() != 0o644 {
		t.Errorf("drift.prom mode %v, want 0644 (node_exporter reads it)", fi.Mode().Perm())
	}
	if ents, _ := os.ReadDir(prom); len(ents) != 1 {
		t.Errorf("textfile directory holds %d files, want drift.prom alone", len(ents))
	}
	if pt, err := exec.LookPath("promtool"); err == nil {
		cmd := exec.Command(pt, "check", "metrics")
		cmd.Stdin = strings.NewReader(string(text))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool check metrics: %v\n%s", err, out)
		}
	} else if os.Getenv("DRIFT_REQUIRE_PROMTOOL") == "1" {
		t.Errorf("promtool not found and DRIFT_REQUIRE_PROMTOOL=1: drift.prom is not checked (apt-get install prometheus)")
	}
}

// demoRows are the rows drift check gives the demo system with its
// ignore file (path, category, entries): 20 paths, 14 of them unpersisted
// (/opt 1, /usr/local 3, /var/cache 4, /var/db 4, /var/tmp 2).
var demoRows = []string{
	"/opt unpersisted 1",
	"/opt/old-app unmounted 2",
	"/srv/data declared-unbacked 2",
	"/srv/www declared-unbacked 2",
	"/usr/local unpersisted 3",
	"/var/cache unpersisted 4",
	"/var/db unpersisted 4",
	"/var/tmp unpersisted 2",
}

// setDiff is what a holds that b does not, in a's order.
func setDiff(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// TestInitrdHookArgs runs the scripted initrd's hook with sh, waitDevice,
// drift and stage 1's fail replaced by functions that print what they get
// (the store path of drift replaced by the function's name, /dev/kmsg and
// /run/drift by files of a temporary directory): a device name with a
// space, a quote and a dollar reaches drift wipe as one argument,
// unchanged, after waitDevice got it. A wipe that fails writes the kernel
// log line and the mark, then stops the boot (fail) unless onFailure is
// "continue".
func TestInitrdHookArgs(t *testing.T) {
	needTool(t, "nix-instantiate")
	sh, err := exec.LookPath("sh")
	if err != nil {
		testutil.SkipOrFatal(t, envRequire, "sh not found")
	}
	dev := `/dev/disk/by-label/it's a $root`
	for _, tt := range []struct {
		onFailure string
		status    int
		failed    bool
	}{{"stop", 0, false}, {"stop", 2, true}, {"continue", 2, false}, {"continue", 0, false}} {
		name := fmt.Sprintf("%s/exit%d", tt.onFailure, tt.status)
		v, err := evalModule(t, "--arg", "settings", fmt.Sprintf(`{ enable = true; wipe = { enable = true; device = %q; blank = "blank"; onFailure = %q; }; }`, dev, tt.onFailure), "--arg", "system", "{ }")
		if err != nil {
			t.Fatal(err)
		}
		hook := v["config"].(map[string]any)["boot"].(map[string]any)["initrd"].(map[string]any)["postResumeCommands"].(map[string]any)["content"].(string)
		tmp := t.TempDir()
		hook = strings.NewReplacer("/nix/store/00000000000000000000000000000000-drift-test/bin/drift", "drift",
			"/dev/kmsg", tmp+"/kmsg", "/run/drift", tmp+"/run/drift").Replace(hook)
		stubs := fmt.Sprintf("waitDevice() { printf 'wait[%%s]\\n' \"$@\"; }\ndrift() { printf 'arg[%%s]\\n' \"$@\"; return %d; }\nfail() { echo FAIL; }\n", tt.status)
		out, err := exec.Command(sh, "-c", stubs+hook).Output()
		if err != nil {
			t.Fatalf("%s: hook: %v\n%s", name, err, out)
		}
		want := "wait[" + dev + "]\n" + strings.Join([]string{"arg[wipe]", "arg[--device]", "arg[" + dev + "]", "arg[--subvol]", "arg[root]",
			"arg[--old-roots]", "arg[old_roots]", "arg[--keep-days]", "arg[30]", "arg[--keep-min]", "arg[1]", "arg[--blank]", "arg[blank]"}, "\n") + "\n"
		if tt.failed {
			want += "FAIL\n"
		}
		if string(out) != want {
			t.Errorf("%s: hook ran:\n%s\nwant:\n%s", name, out, want)
		}
		mark, merr := os.ReadFile(filepath.Join(tmp, "run/drift/wipe-failed"))
		kmsg, _ := os.ReadFile(filepath.Join(tmp, "kmsg"))
		if tt.status == 0 {
			if merr == nil || len(kmsg) > 0 {
				t.Errorf("%s: a wipe that worked left a mark %q or a kernel log line %q", name, mark, kmsg)
			}
			continue
		}
		if string(mark) != fmt.Sprintf("drift wipe exit status %d\n", tt.status) {
			t.Errorf("%s: mark %q (%v)", name, mark, merr)
		}
		if want := fmt.Sprintf("<2>drift: drift wipe failed (exit status %d): the root subvolume was not rolled back\n", tt.status); string(kmsg) != want {
			t.Errorf("%s: kernel log %q, want %q", name, kmsg, want)
		}
	}
}

// TestActivationGuardRuns runs the activation guard's script as the module
// generates it (bash -e, the store path of drift replaced by a real build)
// against the demo system: it names the declared directory whose data has
// no persistent copy, with the command that keeps it, and changes nothing;
// with activationGuard.adopt, against a copy of the demo system, it copies
// that data into the persistent copy. A failing drift never fails the
// script (the activation goes on).
func TestActivationGuardRuns(t *testing.T) {
	needTool(t, "nix-instantiate")
	bash, err := exec.LookPath("bash")
	if err != nil {
		testutil.SkipOrFatal(t, envRequire, "bash not found")
	}
	drift := driftBuild(t)
	demo := filepath.Join(repoRoot(t), "fixtures/demo")
	guard := func(root string, adopt bool, extra ...string) string {
		t.Helper()
		args := fmt.Sprintf("%q %q %q %q %q %q", "--root", root, "--mountinfo", demo+"/mountinfo", "--persist", demo+"/impermanence.nix")
		for _, a := range extra {
			args += fmt.Sprintf(" %q", a)
		}
		settings := fmt.Sprintf(`{ enable = true; activationGuard.adopt = %v; extraCheckArgs = [ %s ]; }`, adopt, args)
		v, err := evalModule(t, "--arg", "settings", settings, "--arg", "system", "{ }")
		if err != nil {
			t.Fatal(err)
		}
		script := v["config"].(map[string]any)["system"].(map[string]any)["activationScripts"].(map[string]any)["driftActivationGuard"].(map[string]any)["text"].(string)
		script = strings.ReplaceAll(script, "/nix/store/00000000000000000000000000000000-drift-test/bin/drift", drift)
		// The declarations of this configuration (system = { }: none), a
		// store file that nix-instantiate --eval names but does not write.
		decls := filepath.Join(t.TempDir(), "drift-declarations.json")
		if err := os.WriteFile(decls, []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
		script = regexp.MustCompile(`/nix/store/[0-9a-z]{32}-drift-declarations\.json`).ReplaceAllString(script, decls)
		out, err := exec.Command(bash, "-e", "-c", script).CombinedOutput()
		if err != nil {
			t.Fatalf("the guard failed: %v\n%s\nscript:\n%s", err, out, script)
		}
		return string(out)
	}
	copyOf := filepath.Join(demo, "root/nix/persist/srv")
	out := guard(demo+"/root", false)
	// The command it names carries the guard's declarations and flags, so
	// it runs as printed.
	keep := "keep them: drift adopt --root " + demo + "/root --persist "
	if !strings.Contains(out, "drift: /srv holds ") || !strings.Contains(out, keep) || !strings.HasSuffix(out, " /srv\n") {
		t.Errorf("the guard says %q, want a line on /srv with %q…, ending /srv", out, keep)
	}
	if _, err := os.Lstat(copyOf); err == nil {
		t.Errorf("the dry-run guard made %s", copyOf)
	}
	if out := guard(demo+"/root", false, "--no-such-flag"); !strings.Contains(out, "the activation goes on") {
		t.Errorf("a failing drift: the guard says %q", out)
	}

	// adopt = true, on a copy of the demo system.
	sys := filepath.Join(t.TempDir(), "root")
	if out, err := exec.Command("cp", "-a", demo+"/root", sys).CombinedOutput(); err != nil {
		t.Fatalf("cp -a: %v\n%s", err, out)
	}
	out = guard(sys, true)
	if !strings.Contains(out, "drift: adopted /srv: ") {
		t.Errorf("the adopting guard says %q", out)
	}
	want, _ := os.ReadDir(filepath.Join(sys, "srv"))
	got, err := os.ReadDir(filepath.Join(sys, "nix/persist/srv"))
	if err != nil || len(got) != len(want) || len(want) == 0 {
		t.Errorf("after the adopting guard, %s holds %d entries (%v), want the %d of /srv", filepath.Join(sys, "nix/persist/srv"), len(got), err, len(want))
	}
}
