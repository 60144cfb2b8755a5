package nixtest

import (
	"bytes"
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

// copyFiles copies the named files (relative to from) into to.
func copyFiles(t *testing.T, from, to string, names ...string) {
	t.Helper()
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(from, n))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(to, n)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, n), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// stubFlakes lays out drift's flake (the files its evaluation reads) and the
// stub nixpkgs beside it, in a temporary directory.
func stubFlakes(t *testing.T) (flake, stub string) {
	t.Helper()
	root := repoRoot(t)
	dir := t.TempDir()
	flake, stub = filepath.Join(dir, "drift"), filepath.Join(dir, "nixpkgs")
	copyFiles(t, root, flake, "flake.nix", "nix/package.nix", "nix/module.nix", "internal/persist/projection.nix", "go.mod", "go.sum", "VERSION")
	copyFiles(t, "testdata/stub-nixpkgs", stub, "flake.nix", "pkgs.nix")
	copyFiles(t, "testdata", stub, "lib-stub.nix")
	if err := os.Rename(filepath.Join(stub, "lib-stub.nix"), filepath.Join(stub, "lib.nix")); err != nil {
		t.Fatal(err)
	}
	return flake, stub
}

// nixEval evaluates attr of the flake with nixpkgs replaced by the stub,
// applying apply (a Nix function) when not empty, and decodes the JSON.
func nixEval(t *testing.T, flake, stub, attr, apply string, into any) {
	t.Helper()
	nix := needTool(t, "nix")
	args := []string{"--extra-experimental-features", "nix-command flakes", "eval", "--json", "--impure",
		"--no-write-lock-file", "--override-input", "nixpkgs", "path:" + stub, "path:" + flake + "#" + attr}
	if apply != "" {
		args = append(args, "--apply", apply)
	}
	cmd := exec.Command(nix, args...)
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+t.TempDir()) // nix's fetcher and eval caches
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("nix eval %s: %v\n%s", attr, err, stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), into); err != nil {
		t.Fatalf("nix eval %s printed %q: %v", attr, stdout.String(), err)
	}
}

// recorded is what the stub's buildGoModule was given.
type recorded struct {
	Builder string `json:"_builder"`
	Name    string `json:"name"`
	OutPath string `json:"out"`
	Args    struct {
		Pname                    string            `json:"pname"`
		DoInstallCheck           bool              `json:"doInstallCheck"`
		VersionCheckProgramArg   string            `json:"versionCheckProgramArg"`
		NativeInstallCheckInputs []string          `json:"nativeInstallCheckInputs"`
		Version                  string            `json:"version"`
		Src                      string            `json:"src"`
		VendorHash               string            `json:"vendorHash"`
		SubPackages              []string          `json:"subPackages"`
		Env                      map[string]any    `json:"env"`
		Ldflags                  []string          `json:"ldflags"`
		NativeBuildInputs        []string          `json:"nativeBuildInputs"`
		PostInstall              string            `json:"postInstall"`
		DoCheck                  bool              `json:"doCheck"`
		Meta                     map[string]any    `json:"meta"`
		Extra                    map[string]string `json:"-"`
	} `json:"args"`
}

const recordApply = `d: { inherit (d) _builder name; out = d.outPath; args = d.args; }`

// TestFlake evaluates flake.nix for both Linux systems against the stub
// nixpkgs and checks what it asks of buildGoModule and what it exports.
func TestFlake(t *testing.T) {
	needTool(t, "nix")
	flake, stub := stubFlakes(t)
	wantHash := vendorHashInPackage(t)
	for _, system := range []string{"x86_64-linux", "aarch64-linux"} {
		t.Run(system, func(t *testing.T) {
			var d recorded
			nixEval(t, flake, stub, "packages."+system+".default", recordApply, &d)
			a := d.Args
			if d.Builder != "buildGoModule" {
				t.Errorf("built with %s, want buildGoModule", d.Builder)
			}
			if a.Pname != "drift" || a.Version != version(t) {
				t.Errorf("pname %q version %q, want drift %q (VERSION)", a.Pname, a.Version, version(t))
			}
			if a.VendorHash != wantHash || !regexp.MustCompile(`^sha256-[A-Za-z0-9+/]{43}=$`).MatchString(a.VendorHash) {
				t.Errorf("vendorHash %q, want the SRI hash in nix/package.nix (%q)", a.VendorHash, wantHash)
			}
			if !strings.HasPrefix(a.Src, "/nix/store/") {
				t.Errorf("src %q: not the flake's store path", a.Src)
			}
			if strings.Join(a.SubPackages, " ") != "cmd/drift" {
				t.Errorf("subPackages %q", a.SubPackages)
			}
			if fmt.Sprint(a.Env["CGO_ENABLED"]) != "0" {
				t.Errorf("env.CGO_ENABLED = %v, want 0 (a static binary for the initrd)", a.Env["CGO_ENABLED"])
			}
			for _, f := range []string{"-s", "-w", "-X github.com/nix-drift/drift/internal/buildinfo.version=" + a.Version} {
				if !slices.Contains(a.Ldflags, f) {
					t.Errorf("ldflags %q lack %q", a.Ldflags, f)
				}
			}
			for _, f := range a.Ldflags {
				if strings.Contains(f, "buildinfo.commit=") {
					t.Errorf("ldflags %q: a commit for a path: flake, which has no revision", a.Ldflags)
				}
			}
			if !slices.Contains(a.NativeBuildInputs, "install-shell-files") {
				t.Errorf("nativeBuildInputs %q lack installShellFiles", a.NativeBuildInputs)
			}
			for _, s := range []string{"$out/bin/drift man --dir man", "installManPage man/*.1", "installShellCompletion --cmd drift",
				"--bash <($out/bin/drift completion bash)", "--zsh <($out/bin/drift completion zsh)", "--fish <($out/bin/drift completion fish)"} {
				if !strings.Contains(a.PostInstall, s) {
					t.Errorf("postInstall lacks %q:\n%s", s, a.PostInstall)
				}
			}
			checkMeta(t, a.Meta)
			if !a.DoInstallCheck || a.VersionCheckProgramArg != "version" || !slices.Contains(a.NativeInstallCheckInputs, "version-check-hook") {
				t.Errorf("no version check after install (versionCheckHook, drift version): %v %q %q", a.DoInstallCheck, a.VersionCheckProgramArg, a.NativeInstallCheckInputs)
			}
			runPostInstall(t, a.PostInstall)

			var app struct{ Type, Program string }
			nixEval(t, flake, stub, "apps."+system+".default", "", &app)
			if app.Type != "app" || app.Program != d.OutPath+"/bin/drift" {
				t.Errorf("apps.%s.default = %+v, want the package's bin/drift (%s)", system, app, d.OutPath)
			}
		})
	}

	// The overlay adds drift to a package set as nix-drift, built the same
	// way, and leaves pkgs.drift (nixpkgs' terminal screensaver) alone.
	var ov recorded
	nixEval(t, flake, stub, "overlays.default",
		fmt.Sprintf(`o: let pkgs = import %s/pkgs.nix "aarch64-linux"; in (%s) (o pkgs pkgs).nix-drift`, stub, recordApply), &ov)
	if ov.Builder != "buildGoModule" || ov.Args.Pname != "drift" || ov.Args.VendorHash != wantHash {
		t.Errorf("overlays.default: %+v", ov)
	}
	var names []string
	nixEval(t, flake, stub, "overlays.default",
		fmt.Sprintf(`o: let pkgs = import %s/pkgs.nix "aarch64-linux"; in builtins.attrNames (o pkgs pkgs)`, stub), &names)
	if strings.Join(names, " ") != "nix-drift" {
		t.Errorf("overlays.default defines %q, want nix-drift alone (never pkgs.drift)", names)
	}

	// lib.drift (kept, though nix flake check calls lib an unknown output:
	// README) builds the same package for any package set.
	var lb recorded
	nixEval(t, flake, stub, "lib.drift",
		fmt.Sprintf(`f: let pkgs = import %s/pkgs.nix "x86_64-linux"; in (%s) (f pkgs)`, stub, recordApply), &lb)
	if lb.Builder != "buildGoModule" || lb.Args.Pname != "drift" || lb.Args.VendorHash != wantHash {
		t.Errorf("lib.drift: %+v", lb)
	}

	// The NixOS module imports nix/module.nix and defaults the package to
	// the flake's build for the system's own package set.
	var mod struct {
		Imports  []string
		Priority int
		Package  string
	}
	nixEval(t, flake, stub, "nixosModules.default", fmt.Sprintf(`m: let
	  pkgs = import %s/pkgs.nix "x86_64-linux";
	  r = m { lib = import %s/lib.nix; inherit pkgs; };
	  p = r.services.drift.package;
	in { imports = map toString r.imports; priority = p.priority; package = p.content.name; }`, stub, stub), &mod)
	if len(mod.Imports) != 1 || !strings.HasSuffix(mod.Imports[0], "/nix/module.nix") || mod.Priority != 1000 || mod.Package != "drift-"+version(t) {
		t.Errorf("nixosModules.default: %+v, want imports [.../nix/module.nix] and a mkDefault drift package", mod)
	}

	// nix flake check's checks, nix fmt's formatter, nix develop's shell.
	var checks []string
	nixEval(t, flake, stub, "checks.x86_64-linux", "builtins.attrNames", &checks)
	if strings.Join(checks, " ") != "module-continue module-scripted module-systemd module-units package" {
		t.Errorf("checks %q", checks)
	}
	var fmtr string
	nixEval(t, flake, stub, "formatter.x86_64-linux", "f: f.name", &fmtr)
	if fmtr != "nixfmt-tree" {
		t.Errorf("formatter %q, want nixfmt-tree", fmtr)
	}
	var shell []string
	nixEval(t, flake, stub, "devShells.x86_64-linux.default", "s: map (p: p.name) s._args.packages", &shell)
	for _, p := range []string{"go", "gopls", "btrfs-progs", "nix", "nixfmt", "shellcheck"} {
		if !slices.Contains(shell, p) {
			t.Errorf("devShells.default lacks %s: %q", p, shell)
		}
	}
}

// version is the version in VERSION, the one place it is written.
func version(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "VERSION"))
	if err != nil {
		t.Fatal(err)
	}
	v := strings.TrimSuffix(string(data), "\n")
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(v) {
		t.Fatalf("VERSION holds %q, want one line MAJOR.MINOR.PATCH", data)
	}
	return v
}

// checkMeta: the package's meta is what nixpkgs asks of a package.
func checkMeta(t *testing.T, meta map[string]any) {
	t.Helper()
	if meta["mainProgram"] != "drift" || meta["homepage"] != "https://github.com/nix-drift/drift" || meta["description"] == nil {
		t.Errorf("meta %v", meta)
	}
	if lic, _ := meta["license"].(map[string]any); lic == nil || lic["spdxId"] != "MIT" {
		t.Errorf("meta.license %v, want lib.licenses.mit", meta["license"])
	}
	if p := strs(meta["platforms"]); strings.Join(p, " ") != "x86_64-linux aarch64-linux" {
		t.Errorf("meta.platforms %q, want lib.platforms.linux", p)
	}
}

// TestPackageCallPackage: nix/package.nix is called with callPackage and
// nothing else, as nixpkgs would: the source is this repository's Go files
// (go.mod, go.sum, cmd, internal), the version VERSION's, no commit.
func TestPackageCallPackage(t *testing.T) {
	ni := needTool(t, "nix-instantiate")
	root := repoRoot(t)
	expr := fmt.Sprintf(`let
	  pkgs = import %s/test/nix/testdata/stub-nixpkgs/pkgs.nix "x86_64-linux";
	  d = pkgs.callPackage %s/nix/package.nix { };
	in { inherit (d) _builder meta; inherit (d.args) pname version ldflags; src = { inherit (d._src) root files; }; }`, root, root)
	dir := t.TempDir()
	copyFiles(t, "testdata", dir, "lib-stub.nix")
	// pkgs.nix imports ./lib.nix beside it.
	copyFiles(t, "testdata/stub-nixpkgs", dir, "pkgs.nix")
	if err := os.Rename(filepath.Join(dir, "lib-stub.nix"), filepath.Join(dir, "lib.nix")); err != nil {
		t.Fatal(err)
	}
	expr = strings.Replace(expr, root+"/test/nix/testdata/stub-nixpkgs/pkgs.nix", dir+"/pkgs.nix", 1)
	cmd := exec.Command(ni, "--eval", "--strict", "--json", "-E", expr)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("callPackage ./nix/package.nix { }: %v\n%s", err, stderr.String())
	}
	var d struct {
		Builder string         `json:"_builder"`
		Meta    map[string]any `json:"meta"`
		Pname   string         `json:"pname"`
		Version string         `json:"version"`
		Ldflags []string       `json:"ldflags"`
		Src     struct {
			Root  string   `json:"root"`
			Files []string `json:"files"`
		} `json:"src"`
	}
	if err := json.Unmarshal(out, &d); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	if d.Builder != "buildGoModule" || d.Pname != "drift" || d.Version != version(t) {
		t.Errorf("%s %s %s", d.Builder, d.Pname, d.Version)
	}
	want := []string{root + "/go.mod", root + "/go.sum", root + "/cmd", root + "/internal"}
	if d.Src.Root != root || !slices.Equal(d.Src.Files, want) {
		t.Errorf("src: root %s files %q, want %s and %q", d.Src.Root, d.Src.Files, root, want)
	}
	if !slices.Contains(d.Ldflags, "-X github.com/nix-drift/drift/internal/buildinfo.version="+version(t)) {
		t.Errorf("ldflags %q", d.Ldflags)
	}
	for _, f := range d.Ldflags {
		if strings.Contains(f, "commit=") {
			t.Errorf("ldflags %q: a commit without one given", d.Ldflags)
		}
	}
	checkMeta(t, d.Meta)
}

// runPostInstall runs the package's postInstall with bash against a real
// drift build, with installManPage and installShellCompletion replaced by
// functions that copy what they are given: the man pages and the three
// completion scripts must come out non-empty.
func runPostInstall(t *testing.T, script string) {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		testutil.SkipOrFatal(t, envRequire, "bash not found")
	}
	out := t.TempDir()
	if err := os.Mkdir(filepath.Join(out, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(driftBuild(t), filepath.Join(out, "bin", "drift")); err != nil {
		t.Fatal(err)
	}
	stubs := `
set -euo pipefail
installManPage() { for f; do mkdir -p "$out/share/man/man1"; cp "$f" "$out/share/man/man1/"; done; }
installShellCompletion() {
  local name=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --cmd) name=$2; shift 2 ;;
      --bash|--zsh|--fish) mkdir -p "$out/share/${1#--}"; cat "$2" > "$out/share/${1#--}/$name"; shift 2 ;;
      *) echo "installShellCompletion: unexpected $1" >&2; return 1 ;;
    esac
  done
}
`
	work := t.TempDir()
	cmd := exec.Command(bash, "-c", stubs+script)
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "out="+out, "SOURCE_DATE_EPOCH=315532800")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("postInstall: %v\n%s", err, msg)
	}
	for _, f := range []string{"share/man/man1/drift.1", "share/man/man1/drift-check.1", "share/man/man1/drift-wipe.1", "share/bash/drift", "share/zsh/drift", "share/fish/drift"} {
		if fi, err := os.Stat(filepath.Join(out, f)); err != nil || fi.Size() == 0 {
			t.Errorf("postInstall did not make %s: %v", f, err)
		}
	}
}
