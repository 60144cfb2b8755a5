package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/nix-drift/drift/internal/testutil"
)

// ciGood and ciBad are declarations drift lint passes (a warning at most)
// and fails (etc-whole, an error).
const (
	ciGood = `{ ... }:
{
  environment.persistence."/nix/persist" = {
    directories = [ "/var/lib/nixos" "/var/log" "/var/lib/systemd/coredump" "/var/lib/systemd/timers" ];
    files = [ "/etc/machine-id" ];
  };
}
`
	ciBad = `{
  environment.persistence."/nix/persist".directories = [ "/etc" ];
}
`
)

// ciPage returns docs/ci.md.
func ciPage(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "docs", "ci.md"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// workflow is the part of a GitHub Actions workflow docs/ci.md's examples
// use.
type workflow struct {
	Name        string            `yaml:"name"`
	On          []string          `yaml:"on"`
	Permissions map[string]string `yaml:"permissions"`
	Jobs        map[string]struct {
		RunsOn string `yaml:"runs-on"`
		Steps  []struct {
			Uses string            `yaml:"uses"`
			Run  string            `yaml:"run"`
			With map[string]string `yaml:"with"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

// TestDocsCIWorkflowsRun: each GitHub workflow of docs/ci.md is valid YAML
// with the keys GitHub reads (nothing misspelt: unknown keys fail), its
// actions pinned to a major version, its go install naming this module's
// command and go.mod's Go; and its drift steps run, offline, on a
// repository with a hosts/ directory: --format github prints workflow
// commands, --format sarif a SARIF 2.1.0 log.
func TestDocsCIWorkflowsRun(t *testing.T) {
	gomod, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	module := regexp.MustCompile(`(?m)^module (\S+)`).FindSubmatch(gomod)[1]
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(gomod)[1]

	repo := t.TempDir()
	if err := os.MkdirAll(filepath.Join(repo, "hosts", "myhost"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, "hosts", "myhost", "configuration.nix"), []byte(ciBad), 0o644); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, block := range fencedBlocks(ciPage(t), "yaml") {
		if !strings.Contains(block, "jobs:") {
			continue
		}
		n++
		var w workflow
		dec := yaml.NewDecoder(strings.NewReader(block))
		dec.KnownFields(true)
		if err := dec.Decode(&w); err != nil {
			t.Errorf("docs/ci.md: workflow %d: %v\n%s", n, err, block)
			continue
		}
		if w.Name == "" || len(w.On) == 0 || len(w.Jobs) == 0 {
			t.Errorf("docs/ci.md: workflow %d lacks a name, triggers or jobs", n)
		}
		for id, job := range w.Jobs {
			if job.RunsOn == "" || len(job.Steps) == 0 {
				t.Errorf("docs/ci.md: workflow %q, job %s: no runs-on or no steps", w.Name, id)
			}
			ran := false
			for _, st := range job.Steps {
				switch {
				case (st.Uses == "") == (st.Run == ""):
					t.Errorf("docs/ci.md: workflow %q: a step with both or neither of uses and run", w.Name)
				case st.Uses != "":
					if !regexp.MustCompile(`^[\w.-]+/[\w./-]+@v\d+$`).MatchString(st.Uses) {
						t.Errorf("docs/ci.md: workflow %q: uses %q is not OWNER/ACTION@vN", w.Name, st.Uses)
					}
					if strings.HasPrefix(st.Uses, "actions/setup-go@") && st.With["go-version"] != string(goVersion) {
						t.Errorf("docs/ci.md: workflow %q: go-version %q, go.mod says %s", w.Name, st.With["go-version"], goVersion)
					}
					if strings.Contains(st.Uses, "upload-sarif") && st.With["sarif_file"] == "" {
						t.Errorf("docs/ci.md: workflow %q: upload-sarif without sarif_file", w.Name)
					}
				case strings.HasPrefix(st.Run, "go install "):
					if want := "go install " + string(module) + "/cmd/drift@latest"; st.Run != want {
						t.Errorf("docs/ci.md: workflow %q: %q, want %q", w.Name, st.Run, want)
					}
				case strings.HasPrefix(st.Run, "drift "):
					ran = true
					ciRunStep(t, repo, w.Name, st.Run)
				default:
					t.Errorf("docs/ci.md: workflow %q: a run step this test does not know: %q", w.Name, st.Run)
				}
			}
			if !ran {
				t.Errorf("docs/ci.md: workflow %q, job %s runs no drift", w.Name, id)
			}
		}
	}
	if n < 2 {
		t.Errorf("docs/ci.md: %d workflows found, want the annotations one and the SARIF one", n)
	}
}

// ciRunStep runs a workflow's drift step in repo, as the runner's shell
// would: "drift ARGS [> FILE] [|| true]". The declarations in repo have an
// error, so drift lint exits 1.
func ciRunStep(t *testing.T, repo, name, run string) {
	t.Helper()
	line, orTrue := strings.CutSuffix(run, " || true")
	line, file, redirect := strings.Cut(line, " > ")
	if strings.ContainsAny(line, "|;&$<>'\"`") || strings.ContainsAny(file, " |;&$") {
		t.Errorf("docs/ci.md: workflow %q: %q: more shell than this test runs", name, run)
		return
	}
	cmd := exec.Command("drift", strings.Fields(line)[1:]...) // the test binary, as testscript put it on PATH
	cmd.Dir = repo
	out, err := cmd.Output()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", run, err)
	}
	if code != 1 {
		t.Errorf("docs/ci.md: workflow %q: %s: exit %d on an error finding, want 1 (the job fails%s)", name, run, code,
			map[bool]string{true: ", or || true keeps it going", false: ""}[orTrue])
	}
	format := ""
	if f := regexp.MustCompile(`--format (\w+)`).FindStringSubmatch(line); f != nil {
		format = f[1]
	}
	switch format {
	case "github":
		if redirect {
			t.Errorf("docs/ci.md: workflow %q: workflow commands written to a file, not to the log", name)
		}
		if !regexp.MustCompile(`(?m)^::error file=hosts/myhost/configuration.nix,line=\d+,col=\d+,title=drift etc-whole::`).Match(out) {
			t.Errorf("docs/ci.md: workflow %q: %s: no ::error annotation for etc-whole:\n%s", name, run, out)
		}
	case "sarif":
		if !redirect {
			t.Errorf("docs/ci.md: workflow %q: the SARIF log is not written to the file uploaded", name)
		}
		var log struct {
			Version string `json:"version"`
			Runs    []struct {
				Results []struct {
					RuleID string `json:"ruleId"`
				} `json:"results"`
			} `json:"runs"`
		}
		if err := json.Unmarshal(out, &log); err != nil || log.Version != "2.1.0" || len(log.Runs) != 1 || len(log.Runs[0].Results) == 0 {
			t.Errorf("docs/ci.md: workflow %q: %s: not a SARIF 2.1.0 log with results (%v):\n%s", name, run, err, out)
		}
	default:
		t.Errorf("docs/ci.md: workflow %q: %s: a format this test does not know", name, run)
	}
}

// TestDocsPreCommitHookRuns: the pre-commit hook of docs/ci.md, installed
// in a git repository, lets a commit of good declarations through (exit
// 0: three hosts declaring the same paths, one with a space and one not
// ASCII in its name), and of no .nix file; it stops one whose staged .nix
// file has an error (exit 1, the finding named). The pre-commit
// framework's configuration is valid YAML that runs the same command when
// a .nix file is staged.
func TestDocsPreCommitHookRuns(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		testutil.SkipOrFatal(t, testutil.RequireHost, "git not installed")
	}
	page := ciPage(t)
	var hook string
	for _, b := range fencedBlocks(page, "sh") {
		if strings.HasPrefix(b, "#!/bin/sh") {
			hook = b
		}
	}
	if hook == "" {
		t.Fatal("docs/ci.md has no sh block starting with #!/bin/sh (the pre-commit hook)")
	}
	repo := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = repo
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v: %s", args, err, out)
		}
	}
	git("init", "-q")
	git("config", "user.email", "test@example.org")
	git("config", "user.name", "test")
	hookPath := filepath.Join(repo, ".git", "hooks", "pre-commit")
	if err := os.WriteFile(hookPath, []byte(hook), 0o755); err != nil {
		t.Fatal(err)
	}
	runHook := func(want int, wantOut string) {
		t.Helper()
		cmd := exec.Command(hookPath)
		cmd.Dir = repo
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != want || !strings.Contains(string(out), wantOut) {
			t.Errorf("pre-commit hook: exit %d, want %d, output without %q:\n%s", code, want, wantOut, out)
		}
	}
	write := func(name, text string) {
		t.Helper()
		p := filepath.Join(repo, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("README", "no nix here\n")
	git("add", "README")
	runHook(0, "")
	write("hosts/myhost/configuration.nix", ciGood)
	git("add", ".")
	runHook(0, "")
	write("hosts/my host/configuration.nix", ciGood)
	write("hosts/hôte/configuration.nix", ciGood)
	git("add", ".")
	runHook(0, "") // three hosts declaring the same paths: no duplicate
	git("commit", "-q", "--no-verify", "-m", "hosts")
	runHook(0, "") // nothing staged
	write("hosts/other/configuration.nix", ciBad)
	runHook(0, "") // not staged yet: no lint
	git("add", ".")
	runHook(1, "hosts/other/configuration.nix:2:")

	var cfg struct {
		Repos []struct {
			Repo  string `yaml:"repo"`
			Hooks []struct {
				ID       string `yaml:"id"`
				Name     string `yaml:"name"`
				Entry    string `yaml:"entry"`
				Language string `yaml:"language"`
				Files    string `yaml:"files"`
				PassFile *bool  `yaml:"pass_filenames"`
			} `yaml:"hooks"`
		} `yaml:"repos"`
	}
	found := false
	for _, b := range fencedBlocks(page, "yaml") {
		if !strings.HasPrefix(b, "repos:") {
			continue
		}
		found = true
		dec := yaml.NewDecoder(strings.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil {
			t.Fatalf("docs/ci.md: .pre-commit-config.yaml: %v", err)
		}
	}
	if !found || len(cfg.Repos) != 1 || len(cfg.Repos[0].Hooks) != 1 {
		t.Fatalf("docs/ci.md: no .pre-commit-config.yaml with one local hook: %+v", cfg)
	}
	h := cfg.Repos[0].Hooks[0]
	if cfg.Repos[0].Repo != "local" || h.Language != "system" || h.Entry != "drift lint ." || h.PassFile == nil || *h.PassFile {
		t.Errorf("docs/ci.md: the pre-commit hook is not a local system hook running drift lint . without file names: %+v", cfg.Repos[0])
	}
	files, err := regexp.Compile(h.Files)
	if err != nil {
		t.Fatalf("docs/ci.md: files: %v", err)
	}
	for name, want := range map[string]bool{"hosts/a/configuration.nix": true, "flake.lock": false, "x.nix.orig": false} {
		if files.MatchString(name) != want {
			t.Errorf("docs/ci.md: files %q matches %s: %v, want %v", h.Files, name, !want, want)
		}
	}
}
