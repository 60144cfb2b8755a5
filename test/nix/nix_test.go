package nixtest

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/persist"
	"github.com/nix-drift/drift/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// envRequire makes a missing nix-instantiate a failure instead of a skip
// (.ci/run sets it).
const envRequire = "DRIFT_REQUIRE_NIX"

// repoRoot is the repository's top directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	r, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// needTool returns the path of a Nix tool, or skips the test saying why
// (fails when DRIFT_REQUIRE_NIX=1).
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv(envRequire) == "1" {
			t.Fatalf("%s not found and %s=1 (apt-get install nix-bin)", name, envRequire)
		}
		t.Skipf("%s not found: the Nix files are not evaluated (apt-get install nix-bin; %s=1 makes this a failure)", name, envRequire)
	}
	return p
}

// nixFiles lists the repository's .nix files (fixtures and test data
// included), relative to root.
func nixFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "vendor") {
			return fs.SkipDir
		}
		if d.Type().IsRegular() && strings.HasSuffix(p, ".nix") {
			rel, _ := filepath.Rel(root, p)
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestNixParse: every .nix file of the repository parses, except the
// persist package's deliberately malformed test inputs.
func TestNixParse(t *testing.T) {
	ni := needTool(t, "nix-instantiate")
	root := repoRoot(t)
	files := nixFiles(t, root)
	for _, must := range []string{"flake.nix", "nix/module.nix", "nix/package.nix", "test/nix/testdata/eval-module.nix"} {
		found := false
		for _, f := range files {
			found = found || f == must
		}
		if !found {
			t.Errorf("%s not found among the .nix files", must)
		}
	}
	for _, f := range files {
		if strings.HasPrefix(f, "internal/persist/testdata/") {
			continue // parser test inputs, some malformed on purpose
		}
		out, err := exec.Command(ni, "--parse", filepath.Join(root, f)).CombinedOutput()
		if err != nil {
			t.Errorf("nix-instantiate --parse %s: %v\n%s", f, err, out)
		}
	}
}

// evalModule evaluates nix/module.nix through testdata/eval-module.nix
// with settings and system (Nix expressions) and returns the JSON result.
func evalModule(t *testing.T, args ...string) (map[string]any, error) {
	t.Helper()
	ni := needTool(t, "nix-instantiate")
	cmd := exec.Command(ni, append([]string{"--eval", "--strict", "--json", "testdata/eval-module.nix"}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%v: %s", err, stderr.String())
	}
	var v map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &v); err != nil {
		t.Fatalf("nix-instantiate printed %q: %v", stdout.String(), err)
	}
	return v, nil
}

// impermanence is config.environment.persistence as impermanence's module
// evaluates it, with one removed-option placeholder that throws.
const impermanence = `{
  "/nix/persist" = {
    enable = true; persistentStoragePath = "/nix/persist"; hideMounts = true;
    directories = [ { directory = "/var/lib/nixos"; dirPath = "/var/lib/nixos"; persistentStoragePath = "/nix/persist"; user = "root"; group = "root"; mode = "0755"; } ];
    files = [ { file = "/etc/machine-id"; filePath = "/etc/machine-id"; persistentStoragePath = "/nix/persist"; parentDirectory = { user = "root"; group = "root"; mode = "0755"; }; } ];
    users = { };
    allowOther = throw "removed option";
  };
}`

// scenarios are the module configurations whose generated text is held
// against golden files.
var scenarios = []struct {
	name, settings, system string
	noPostResume           bool
}{
	{name: "scripted", settings: `{
	  enable = true;
	  auditOnShutdown.enable = true;
	  timer.enable = true;
	  prometheus.textfileDir = "/var/lib/node-exporter";
	  extraCheckArgs = [ "--ignore" "/var/cache" ];
	  wipe = { enable = true; device = "/dev/disk/by-partlabel/disk-main-root"; keepDays = 14; };
	}`, system: `{ environment.persistence = ` + impermanence + `; }`},
	{name: "systemd", settings: `{
	  enable = true;
	  wipe = { enable = true; device = "/dev/disk/by-partlabel/disk-main-root"; keepDays = 14; blank = "root-blank"; };
	}`, system: `{ boot.initrd.systemd.enable = true; environment.persistence = ` + impermanence + `; }`},
	// nixpkgs before 23.11: no postResumeCommands.
	{name: "scripted-old-nixpkgs", settings: `{ enable = true; wipe = { enable = true; device = "/dev/vda2"; }; }`, system: `{ }`, noPostResume: true},
	{name: "preservation-timer-journal", settings: `{ enable = true; timer.enable = true; auditOnShutdown.enable = true; }`, system: `{
	  preservation = { enable = true; preserveAt."/state" = {
	    commonMountOptions = [ "x-gvfs-hide" ];
	    directories = [ { directory = "/var/lib/systemd"; how = "bindmount"; user = "root"; group = "root"; mode = "0755"; } ];
	    files = [ ]; users = { }; }; };
	}`},
	{name: "disabled", settings: `{ wipe.enable = true; }`, system: `{ }`},
	// A failed wipe lets the boot go on, with a mark.
	{name: "systemd-continue", settings: `{
	  enable = true;
	  wipe = { enable = true; device = "/dev/vda2"; onFailure = "continue"; };
	}`, system: `{ boot.initrd.systemd.enable = true; }`},
	// NixOS 23.11 with systemd stage 1: systemd 254, whose resume unit is
	// systemd-hibernate-resume@<device>.service.
	{name: "systemd-254", settings: `{ enable = true; wipe = { enable = true; device = "/dev/vda2"; }; }`, system: `{
	  boot.initrd.systemd = { enable = true; package = { version = "254.6"; }; };
	  boot.resumeDevice = "/dev/disk/by-uuid/63e2fe76-b072";
	}`},
}

func TestModuleGolden(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			args := []string{"--arg", "settings", sc.settings, "--arg", "system", sc.system}
			if sc.noPostResume {
				args = append(args, "--arg", "hasPostResume", "false")
			}
			v, err := evalModule(t, args...)
			if err != nil {
				t.Fatal(err)
			}
			got := render(v)
			golden := filepath.Join("testdata", "golden", sc.name+".txt")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("generated text differs from %s (go test -update rewrites it):\n%s", golden, got)
			}
		})
	}
}

// TestModuleFacts asserts the properties the golden files show, so that a
// rewrite with -update cannot hide a wrong ordering: the wipe's place in
// each initrd, the declarations file drift reads, the metrics file.
func TestModuleFacts(t *testing.T) {
	get := func(sc int) map[string]any {
		s := scenarios[sc]
		args := []string{"--arg", "settings", s.settings, "--arg", "system", s.system}
		if s.noPostResume {
			args = append(args, "--arg", "hasPostResume", "false")
		}
		v, err := evalModule(t, args...)
		if err != nil {
			t.Fatal(err)
		}
		return v["config"].(map[string]any)
	}
	at := func(v any, path ...string) any {
		for _, p := range path {
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[p]
		}
		return v
	}

	// Scripted initrd: after the resume attempt (C11), never in
	// postDeviceCommands, with the binary copied into the initrd.
	sc := get(0)
	initrd := at(sc, "boot", "initrd").(map[string]any)
	if _, ok := initrd["postDeviceCommands"]; ok {
		t.Error("scripted: the wipe is in postDeviceCommands, which runs before the resume (C11)")
	}
	hook, _ := at(initrd, "postResumeCommands", "content").(string)
	const driftBin = "/nix/store/00000000000000000000000000000000-drift-test/bin/drift"
	if !strings.Contains(hook, driftBin+" wipe --device /dev/disk/by-partlabel/disk-main-root") || !strings.Contains(hook, "--keep-days 14") {
		t.Errorf("scripted: postResumeCommands = %q", hook)
	}
	if strings.Contains(hook, "screensaver") {
		t.Errorf("scripted: nixpkgs' pkgs.drift (a screensaver) is the wiper: %q", hook)
	}
	if w := strings.Index(hook, "waitDevice"); w < 0 || w > strings.Index(hook, driftBin+" wipe") {
		t.Errorf("scripted: the wipe does not wait for its device first: %q", hook)
	}
	if at(initrd, "postResumeCommands", "_order") != 1500.0 {
		t.Error("scripted: the hook is not mkAfter (it must come after a LUKS unlock in the same hook)")
	}
	if !strings.Contains(initrd["extraUtilsCommands"].(string), "copy_bin_and_libs /nix/store/00000000000000000000000000000000-drift-test/bin/drift") {
		t.Errorf("scripted: drift not copied into the initrd: %v", initrd["extraUtilsCommands"])
	}
	if at(initrd, "systemd") != nil {
		t.Error("scripted: systemd stage 1 units defined too")
	}
	var decl map[string]any
	if err := json.Unmarshal([]byte(at(sc, "environment", "etc", "drift/declarations.json", "text").(string)), &decl); err != nil {
		t.Fatal(err)
	}
	if _, ok := at(decl, "/nix/persist").(map[string]any)["allowOther"]; ok {
		t.Error("declarations.json: the throwing placeholder was not dropped")
	}
	// drift reads what the module writes, as its default declarations.
	for i, want := range map[int]string{0: "/nix/persist:/var/lib/nixos /nix/persist:/etc/machine-id", 3: "/state:/var/lib/systemd"} {
		text := at(get(i), "environment", "etc", "drift/declarations.json", "text").(string)
		root := t.TempDir()
		if err := os.MkdirAll(filepath.Join(root, "etc/drift"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, persist.DeclarationsFile), []byte(text), 0o444); err != nil {
			t.Fatal(err)
		}
		set, _, err := persist.Discover(root, persist.Options{})
		if err != nil {
			t.Fatalf("%s: drift cannot read the declarations: %v", scenarios[i].name, err)
		}
		var got []string
		for _, e := range set.Entries {
			got = append(got, e.StoragePath+":"+e.Path)
		}
		if strings.Join(got, " ") != want {
			t.Errorf("%s: drift reads %q from declarations.json, want %q", scenarios[i].name, got, want)
		}
		for _, d := range set.Diagnostics {
			if d.Severity >= persist.Warning {
				t.Errorf("%s: declarations.json: %s", scenarios[i].name, d)
			}
		}
	}

	metrics := at(sc, "systemd", "services", "drift-check", "script").(string)
	if !strings.Contains(metrics, "drift check --quiet --format prom --ignore /var/cache") || !strings.Contains(metrics, `mv "$tmp" "$dir/drift.prom"`) {
		t.Errorf("metrics script: %q", metrics)
	}

	// systemd stage 1: after the device and the resume, before sysroot.mount,
	// and no scripted hook (stage-1-init.sh is not in that initrd).
	sd := get(1)
	initrd = at(sd, "boot", "initrd").(map[string]any)
	for _, k := range []string{"postResumeCommands", "postDeviceCommands", "extraUtilsCommands"} {
		if _, ok := initrd[k]; ok {
			t.Errorf("systemd: scripted %s defined (it would never run)", k)
		}
	}
	unit := at(initrd, "systemd", "services", "drift-wipe").(map[string]any)
	dev := `dev-disk-by\x2dpartlabel-disk\x2dmain\x2droot.device`
	want := map[string][]string{
		"requires": {dev},
		"after":    {dev, "systemd-hibernate-resume.service", "local-fs-pre.target"},
		"before":   {"sysroot.mount"},
		"wantedBy": {"initrd.target"},
	}
	for k, w := range want {
		if got := strs(unit[k]); strings.Join(got, " ") != strings.Join(w, " ") {
			t.Errorf("systemd: %s = %q, want %q", k, got, w)
		}
	}
	if at(unit, "serviceConfig", "RemainAfterExit") != true {
		t.Error("systemd: not RemainAfterExit (a later transaction could start the wipe again after sysroot.mount)")
	}
	if at(unit, "unitConfig", "DefaultDependencies") != false {
		t.Error("systemd: DefaultDependencies not off (it would order the unit after sysinit, too late)")
	}
	if got := strs(at(initrd, "systemd", "storePaths")); len(got) != 1 || got[0] != driftBin {
		t.Errorf("systemd: storePaths = %q", got)
	}
	// A failed wipe stops the boot: sysroot.mount requires the wipe (the
	// un-wiped root is never mounted) and the emergency shell starts.
	if got := strs(unit["requiredBy"]); strings.Join(got, " ") != "sysroot.mount" {
		t.Errorf("systemd: requiredBy = %q, want sysroot.mount (a failed wipe must fail the root's mount)", got)
	}
	if got := strs(at(unit, "unitConfig", "OnFailure")); strings.Join(got, " ") != "emergency.target" || at(unit, "unitConfig", "OnFailureJobMode") != "replace-irreversibly" {
		t.Errorf("systemd: OnFailure %q, OnFailureJobMode %v", got, at(unit, "unitConfig", "OnFailureJobMode"))
	}
	if got, want := at(unit, "serviceConfig", "ExecStart"), `"`+driftBin+`" "wipe" "--device" "/dev/disk/by-partlabel/disk-main-root" "--subvol" "root" "--old-roots" "old_roots" "--keep-days" "14" "--keep-min" "1" "--blank" "root-blank"`; got != want {
		t.Errorf("systemd: ExecStart = %v, want %s", got, want)
	}
	// With onFailure = "continue": nothing requires the wipe, and its
	// script leaves the mark.
	cont := at(get(5), "boot", "initrd", "systemd", "services", "drift-wipe").(map[string]any)
	if cont["requiredBy"] != nil || at(cont, "unitConfig", "OnFailure") != nil || at(cont, "serviceConfig", "ExecStart") != nil {
		t.Errorf("continue: %v", cont)
	}
	if script, _ := cont["script"].(string); !strings.Contains(script, "> /run/drift/wipe-failed") || !strings.Contains(script, "> /dev/kmsg") {
		t.Errorf("continue: the script leaves no mark: %q", script)
	}

	// The periodic check and the shutdown audit: idle priority, no
	// network, no new privileges; the audit holds a shutdown 60 s at most.
	for _, name := range []string{"drift-check", "drift-audit-shutdown"} {
		sc := at(sc, "systemd", "services", name, "serviceConfig").(map[string]any)
		for k, want := range map[string]any{"Nice": 19.0, "IOSchedulingClass": "idle", "PrivateNetwork": true, "NoNewPrivileges": true} {
			if sc[k] != want {
				t.Errorf("%s: %s = %v, want %v", name, k, sc[k], want)
			}
		}
	}
	if got := at(sc, "systemd", "services", "drift-audit-shutdown", "serviceConfig", "TimeoutStopSec"); got != 60.0 {
		t.Errorf("audit: TimeoutStopSec = %v, want 60", got)
	}
	if got := at(sc, "systemd", "tmpfiles", "settings", "drift", "/var/lib/node-exporter", "d"); got == nil {
		t.Errorf("metrics: no tmpfiles rule for the textfile directory: %v", at(sc, "systemd", "tmpfiles"))
	}

	// systemd 254 (NixOS 23.11): also after the resume unit's instance for
	// boot.resumeDevice; 255 and later have no such unit.
	resumeAt := `systemd-hibernate-resume@dev-disk-by\x2duuid-63e2fe76\x2db072.service`
	unit254 := at(get(6), "boot", "initrd", "systemd", "services", "drift-wipe")
	if got, want := strings.Join(strs(at(unit254, "after")), " "), "dev-vda2.device systemd-hibernate-resume.service local-fs-pre.target "+resumeAt; got != want {
		t.Errorf("systemd 254: after = %q, want %q", got, want)
	}
	for version, want := range map[string]bool{"254.6": true, "253": true, "255": false, "256.8": false} {
		v, err := evalModule(t, "--arg", "settings", scenarios[6].settings, "--arg", "system",
			fmt.Sprintf(`{ boot.initrd.systemd = { enable = true; package = { version = %q; }; }; boot.resumeDevice = "/dev/disk/by-uuid/63e2fe76-b072"; }`, version))
		if err != nil {
			t.Fatal(err)
		}
		after := strs(at(v["config"], "boot", "initrd", "systemd", "services", "drift-wipe", "after"))
		if got := slices.Contains(after, resumeAt); got != want {
			t.Errorf("systemd %s: after %q, want the instance %s: %v", version, after, resumeAt, want)
		}
	}

	// The shutdown audit: not restarted by a switch (its preStop would
	// audit a reboot that is not happening), and no audit on any stop but
	// a shutdown's.
	audit := at(sc, "systemd", "services", "drift-audit-shutdown").(map[string]any)
	if audit["restartIfChanged"] != false {
		t.Errorf("audit: restartIfChanged = %v, want false (nixos-rebuild switch would run the audit)", audit["restartIfChanged"])
	}
	stop, _ := audit["preStop"].(string)
	if g, c := strings.Index(stop, `if [ "$state" != stopping ]; then`), strings.Index(stop, "drift check"); g < 0 || c < 0 || g > c || !strings.Contains(stop, "state=$(systemctl is-system-running || true)") {
		t.Errorf("audit: preStop does not skip the audit when the system is not stopping:\n%s", stop)
	}

	// Old nixpkgs: postDeviceCommands (drift wipe checks the resume device).
	old := at(get(2), "boot", "initrd").(map[string]any)
	if _, ok := old["postDeviceCommands"]; !ok {
		t.Errorf("old nixpkgs: no postDeviceCommands fallback: %v", old)
	}

	// Disabled: nothing at all.
	if d := get(4); len(d) != 0 {
		t.Errorf("disabled: config %v", d)
	}
}

// TestModuleRejects: the stub checks the settings as the module system
// would (the messages are nixpkgs'); the module's assertions catch missing
// values.
func TestModuleRejects(t *testing.T) {
	notType := func(opt, typ string) string {
		return "A definition for option `services.drift." + opt + "' is not of type `" + typ + "'"
	}
	for _, tt := range []struct{ settings, system, want string }{
		{`{ enable = true; wipe.devise = "/dev/vda2"; }`, `{ }`, "The option `services.drift.wipe.devise' does not exist."},
		{`{ enable = true; wipe.keepDays = "14"; }`, `{ }`, notType("wipe.keepDays", "unsigned integer, meaning >=0")},
		{`{ enable = true; wipe.keepDays = -5; }`, `{ }`, notType("wipe.keepDays", "unsigned integer, meaning >=0")},
		{`{ enable = true; wipe.keepMin = -1; }`, `{ }`, notType("wipe.keepMin", "unsigned integer, meaning >=0")},
		{`{ enable = true; auditOnShutdown.keep = 0; }`, `{ }`, notType("auditOnShutdown.keep", "positive integer, meaning >0")},
		{`{ enable = true; auditOnShutdown.timeout = 0; }`, `{ }`, notType("auditOnShutdown.timeout", "positive integer, meaning >0")},
		{`{ enable = true; prometheus.textfileDir = "node exporter/textfile"; }`, `{ }`, notType("prometheus.textfileDir", "null or absolute path")},
		{`{ enable = true; auditOnShutdown.directory = "persist"; }`, `{ }`, notType("auditOnShutdown.directory", "null or absolute path")},
		{`{ enable = true; persistentStoragePath = "persist"; }`, `{ }`, notType("persistentStoragePath", "null or absolute path")},
		{`{ enable = true; wipe = { enable = true; device = "LABEL=root"; }; }`, `{ }`, notType("wipe.device", "null or absolute path")},
		{`{ enable = true; wipe.subvolume = "/root"; }`, `{ }`, notType("wipe.subvolume", "path relative to the btrfs top level")},
		{`{ enable = true; wipe.onFailure = "ignore"; }`, `{ }`, notType("wipe.onFailure", `one of "stop", "continue"`)},
		{`{ enable = true; timer.onCalendar = ""; }`, `{ }`, notType("timer.onCalendar", "non-empty string")},
	} {
		_, err := evalModule(t, "--arg", "settings", tt.settings, "--arg", "system", tt.system)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.settings, err, tt.want)
		}
	}
	for _, tt := range []struct{ settings, system, want string }{
		{`{ enable = true; wipe.enable = true; }`, `{ }`, "services.drift.wipe.enable needs services.drift.wipe.device"},
		{`{ enable = true; auditOnShutdown.enable = true; }`, `{ }`, "services.drift.auditOnShutdown needs services.drift.persistentStoragePath"},
		{`{ enable = true; wipe = { enable = true; device = "/srv/disk.img"; }; }`, `{ boot.initrd.systemd.enable = true; }`, "must be a /dev path under systemd stage 1"},
	} {
		v, err := evalModule(t, "--arg", "settings", tt.settings, "--arg", "system", tt.system)
		if err != nil {
			t.Fatalf("%s: %v", tt.settings, err)
		}
		if got := strs(v["failedAssertions"]); len(got) != 1 || !strings.Contains(got[0], tt.want) {
			t.Errorf("%s: failed assertions %q, want %q", tt.settings, got, tt.want)
		}
	}
}

// TestModuleNoPackage: without the flake's module, services.drift.package
// has no default (nixpkgs' pkgs.drift is a terminal screensaver): the
// evaluation stops on an assertion that says what to set, and nothing the
// module generates names pkgs.drift.
func TestModuleNoPackage(t *testing.T) {
	v, err := evalModule(t, "--arg", "settings", `{ enable = true; }`, "--arg", "system", `{ }`, "--arg", "withPackage", "false", "--arg", "assertionsOnly", "true")
	if err != nil {
		t.Fatal(err)
	}
	got := strs(v["failedAssertions"])
	if len(got) != 1 || !strings.Contains(got[0], "services.drift.package is not set") || !strings.Contains(got[0], "pkgs.nix-drift") || !strings.Contains(got[0], "nixosModules.default") {
		t.Errorf("failed assertions %q, want one saying what to set services.drift.package to", got)
	}
	// Accessing the package (as building the system would, were the
	// assertions not checked first) names the option, never the screensaver.
	_, err = evalModule(t, "--arg", "settings", `{ enable = true; wipe = { enable = true; device = "/dev/vda2"; }; }`, "--arg", "system", `{ }`, "--arg", "withPackage", "false")
	if err == nil || !strings.Contains(err.Error(), "The option `services.drift.package' was accessed but has no value defined") {
		t.Errorf("wipe without a package: %v, want the option named", err)
	}
}

// TestDeviceUnitName: the module's device unit name is what systemd-escape
// --path gives (the unit systemd makes for the device node).
func TestDeviceUnitName(t *testing.T) {
	needTool(t, "nix-instantiate")
	se, err := exec.LookPath("systemd-escape")
	if err != nil {
		testutil.SkipOrFatal(t, envRequire, "systemd-escape not found: the device unit names are checked against the golden files only")
	}
	for _, dev := range []string{
		"/dev/disk/by-partlabel/disk-main-root",
		"/dev/vda2",
		"/dev/mapper/crypted",
		"//dev//disk/by-label/my disk/",
		"/dev/disk/by-id/nvme-Samsung_SSD_980_1TB_S64ANS0T+x@y",
		"/dev/disk/by-uuid/.hidden-uuid",
	} {
		v, err := evalModule(t, "--arg", "settings", fmt.Sprintf(`{ enable = true; wipe = { enable = true; device = %q; }; }`, dev),
			"--arg", "system", `{ boot.initrd.systemd.enable = true; }`)
		if err != nil {
			t.Fatalf("%s: %v", dev, err)
		}
		unit := v["config"].(map[string]any)["boot"].(map[string]any)["initrd"].(map[string]any)["systemd"].(map[string]any)["services"].(map[string]any)["drift-wipe"].(map[string]any)
		got := strs(unit["requires"])[0]
		out, err := exec.Command(se, "--path", "--suffix=device", dev).Output()
		if err != nil {
			t.Fatalf("systemd-escape %q: %v", dev, err)
		}
		if want := strings.TrimSpace(string(out)); got != want {
			t.Errorf("%q: unit %q, systemd-escape says %q", dev, got, want)
		}
	}
	// The resume unit of systemd 254, named after boot.resumeDevice.
	resume := "/dev/disk/by-uuid/63e2fe76-b072"
	v, err := evalModule(t, "--arg", "settings", scenarios[6].settings, "--arg", "system",
		fmt.Sprintf(`{ boot.initrd.systemd = { enable = true; package.version = "254.6"; }; boot.resumeDevice = %q; }`, resume))
	if err != nil {
		t.Fatal(err)
	}
	after := strs(v["config"].(map[string]any)["boot"].(map[string]any)["initrd"].(map[string]any)["systemd"].(map[string]any)["services"].(map[string]any)["drift-wipe"].(map[string]any)["after"])
	out, err := exec.Command(se, "--path", "--template=systemd-hibernate-resume@.service", resume).Output()
	if err != nil {
		t.Fatalf("systemd-escape %q: %v", resume, err)
	}
	if want := strings.TrimSpace(string(out)); !slices.Contains(after, want) {
		t.Errorf("systemd 254: after %q, systemd-escape names the resume unit %q", after, want)
	}
}

// strs converts a JSON list of strings.
func strs(v any) []string {
	l, _ := v.([]any)
	var out []string
	for _, x := range l {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

// render writes the module's config as text to compare with a golden file:
// each systemd unit as the unit file NixOS would write (its ordering lines
// included), each script and hook, the declarations file, then everything
// else as indented JSON.
func render(v map[string]any) string {
	var b strings.Builder
	cfg, _ := v["config"].(map[string]any)
	if fa := strs(v["failedAssertions"]); len(fa) > 0 {
		fmt.Fprintf(&b, "FAILED ASSERTIONS:\n%s\n\n", strings.Join(fa, "\n"))
	}
	take := func(m map[string]any, path ...string) any {
		for i, p := range path {
			if m == nil {
				return nil
			}
			if i == len(path)-1 {
				x := m[p]
				delete(m, p)
				return x
			}
			m, _ = m[p].(map[string]any)
		}
		return nil
	}
	units := func(title string, m any) {
		mm, _ := m.(map[string]any)
		for _, name := range sortedKeys(mm) {
			fmt.Fprintf(&b, "=== %s.%s ===\n", title, name)
			b.WriteString(unitText(mm[name].(map[string]any)))
			b.WriteString("\n")
		}
	}
	units("systemd.services", take(cfg, "systemd", "services"))
	units("systemd.timers", take(cfg, "systemd", "timers"))
	units("boot.initrd.systemd.services", take(cfg, "boot", "initrd", "systemd", "services"))
	for _, k := range []string{"postDeviceCommands", "postResumeCommands", "extraUtilsCommands"} {
		if x := take(cfg, "boot", "initrd", k); x != nil {
			fmt.Fprintf(&b, "=== boot.initrd.%s ===\n", k)
			if m, ok := x.(map[string]any); ok {
				fmt.Fprintf(&b, "(order %v)\n%s\n", m["_order"], m["content"])
			} else {
				fmt.Fprintf(&b, "%s\n", x)
			}
		}
	}
	scripts, _ := take(cfg, "system", "activationScripts").(map[string]any)
	for _, name := range sortedKeys(scripts) {
		sc, _ := scripts[name].(map[string]any)
		fmt.Fprintf(&b, "=== system.activationScripts.%s ===\n(deps %s)\n", name, strings.Join(strs(sc["deps"]), " "))
		if text, ok := sc["text"].(string); ok {
			fmt.Fprintf(&b, "%s\n", text)
		}
	}
	if x, ok := take(cfg, "environment", "etc", "drift/declarations.json").(map[string]any); ok {
		var pretty bytes.Buffer
		json.Indent(&pretty, []byte(x["text"].(string)), "", "  ")
		fmt.Fprintf(&b, "=== /etc/drift/declarations.json ===\n%s\n\n", pretty.String())
	}
	prune(cfg)
	rest, _ := json.MarshalIndent(cfg, "", "  ")
	fmt.Fprintf(&b, "=== rest of config ===\n%s\n", rest)
	return b.String()
}

// unitText renders a NixOS unit definition like systemd-lib does: the list
// options as space-separated [Unit] and [Install] lines, unitConfig and
// serviceConfig/timerConfig keys as they are, then the scripts.
func unitText(u map[string]any) string {
	var b strings.Builder
	b.WriteString("[Unit]\n")
	if d, ok := u["description"]; ok {
		fmt.Fprintf(&b, "Description=%s\n", d)
	}
	for _, k := range []struct{ opt, key string }{{"after", "After"}, {"before", "Before"}, {"requires", "Requires"}, {"wants", "Wants"}, {"conflicts", "Conflicts"}} {
		if l := strs(u[k.opt]); len(l) > 0 {
			fmt.Fprintf(&b, "%s=%s\n", k.key, strings.Join(l, " "))
		}
	}
	if r, ok := u["restartIfChanged"]; ok {
		fmt.Fprintf(&b, "X-RestartIfChanged=%v\n", r)
	}
	section := func(m any) {
		mm, _ := m.(map[string]any)
		for _, k := range sortedKeys(mm) {
			switch x := mm[k].(type) {
			case []any:
				fmt.Fprintf(&b, "%s=%s\n", k, strings.Join(strs(x), " "))
			default:
				fmt.Fprintf(&b, "%s=%v\n", k, x)
			}
		}
	}
	section(u["unitConfig"])
	for _, k := range []string{"serviceConfig", "timerConfig"} {
		if m, ok := u[k]; ok {
			if k == "serviceConfig" {
				b.WriteString("[Service]\n")
			} else {
				b.WriteString("[Timer]\n")
			}
			section(m)
		}
	}
	if p := strs(u["path"]); len(p) > 0 {
		fmt.Fprintf(&b, "path=%s\n", strings.Join(p, " "))
	}
	if l := strs(u["wantedBy"]); len(l) > 0 {
		fmt.Fprintf(&b, "[Install]\nWantedBy=%s\n", strings.Join(l, " "))
	}
	for _, k := range []string{"script", "preStop"} {
		if s, ok := u[k].(string); ok {
			fmt.Fprintf(&b, "--- %s ---\n%s", k, s)
		}
	}
	known := map[string]bool{"description": true, "after": true, "before": true, "requires": true, "wants": true, "conflicts": true,
		"unitConfig": true, "serviceConfig": true, "timerConfig": true, "path": true, "wantedBy": true, "script": true, "preStop": true,
		"restartIfChanged": true}
	for _, k := range sortedKeys(u) {
		if !known[k] {
			fmt.Fprintf(&b, "UNRENDERED %s=%v\n", k, u[k])
		}
	}
	return b.String()
}

// prune drops the empty maps left after rendering.
func prune(m map[string]any) {
	for k, v := range m {
		if mm, ok := v.(map[string]any); ok {
			prune(mm)
			if len(mm) == 0 {
				delete(m, k)
			}
		}
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
