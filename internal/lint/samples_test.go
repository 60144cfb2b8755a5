package lint

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/persist"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// sampleDir holds real module output and the host files it came from
// (a copy of shared/samples/nix-eval).
const sampleDir = "../persist/testdata/nix-eval"

func lintFile(t *testing.T, name string) []Finding {
	t.Helper()
	p := filepath.Join(sampleDir, name)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s, err := persist.Read(name, bytes.NewReader(data), persist.Options{})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return Check(Config{Sets: []*persist.Set{s}, Sources: map[string][]byte{name: data}}, nil)
}

func render(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "%s: %s %s: %s\n", f.Pos, f.Severity, f.Rule, f.Message)
	}
	return b.String()
}

// TestSamplesGolden lints the real nix eval output and the host files it
// came from; testdata/samples.golden holds the findings (-update rewrites).
func TestSamplesGolden(t *testing.T) {
	var b strings.Builder
	for _, n := range []string{"impermanence.host.nix", "impermanence-classic.json", "impermanence-current.json", "preservation.host.nix", "preservation.json"} {
		fmt.Fprintf(&b, "== %s\n%s", n, render(lintFile(t, n)))
	}
	golden := filepath.Join("testdata", "samples.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("findings differ from %s:\n%s", golden, b.String())
	}
}

// ruleSet renders findings as "rule path" (or "rule" alone), without
// positions: what a host file and its evaluation should agree on.
func ruleSet(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, strings.TrimSpace(f.Rule+" "+f.Path))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestSamplesAgree: each JSON sample lints to the findings its host file
// deserves. They agree rule for rule and path for path, except where the
// JSON cannot know: the host file's users and groups (missing-var-lib-nixos
// is a warning instead of the host's error, the same rule and path) and
// users.mutableUsers (mutable-users needs the .nix file; the impermanence
// host persists /etc, which holds /etc/shadow, so it is quiet there too).
func TestSamplesAgree(t *testing.T) {
	want := map[string][]string{
		"impermanence": {
			"etc-whole /etc",
			"file-in-directory /etc/machine-id",
			"file-in-directory /etc/nix/id_rsa",
			"missing-systemd-timers /var/lib/systemd/timers",
			"missing-var-lib-nixos /var/lib/nixos",
			"path-slashes /var/log",
		},
		"preservation": {
			"invalid-mode /var/lib/colord",
			"missing-systemd-timers /var/lib/systemd/timers",
			"secret-dir-mode /root/.ssh",
		},
	}
	for host, jsons := range map[string][]string{
		"impermanence": {"impermanence-classic.json", "impermanence-current.json"},
		"preservation": {"preservation.json"},
	} {
		hostFs := lintFile(t, host+".host.nix")
		got := slices.DeleteFunc(ruleSet(hostFs), func(s string) bool { return s == "mutable-users" })
		if !slices.Equal(got, want[host]) {
			t.Errorf("%s.host.nix:\n got %q\nwant %q", host, got, want[host])
		}
		if f, ok := find(hostFs, "missing-var-lib-nixos", "/var/lib/nixos"); host == "impermanence" && (!ok || f.Severity != Error || !strings.Contains(f.Message, "1 user / 1 group have no fixed id (colord)")) {
			t.Errorf("impermanence.host.nix: missing-var-lib-nixos %+v", f)
		}
		for _, j := range jsons {
			if got := ruleSet(lintFile(t, j)); !slices.Equal(got, want[host]) {
				t.Errorf("%s:\n got %q\nwant %q", j, got, want[host])
			}
		}
	}
	if got := ruleSet(lintFile(t, "preservation.host.nix")); !slices.Contains(got, "mutable-users") {
		t.Errorf("preservation.host.nix: no mutable-users finding: %q", got)
	}
}
