package output

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nix-drift/drift/internal/lint"
	"github.com/nix-drift/drift/internal/persist"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// findings exercises what renderers must escape: a name with a space, a
// comma, a colon and a control byte, a message with a newline and a
// percent sign, a finding without a position (--flake output).
func findings() []lint.Finding {
	return []lint.Finding{
		{Rule: "etc-whole", Severity: lint.Error, Pos: persist.Pos{File: "hosts/a/persist.nix", Line: 11, Col: 7}, Path: "/etc",
			Message: "directory /etc persists NixOS-generated state", Hint: "persist the files in /etc that hold state"},
		{Rule: "path-slashes", Severity: lint.Warning, Pos: persist.Pos{File: "odd name, x:y\x1b.nix", Line: 2, Col: 3}, Path: "/var/log",
			Message: "directory \"/var/log/\" has a trailing slash\nsecond line 100%", Hint: "remove the extra '/'"},
		{Rule: "missing-systemd-timers", Severity: lint.Info, Pos: persist.Pos{File: ".#nixosConfigurations.h.config.environment.persistence"}, Path: "/var/lib/systemd/timers",
			Message: "/var/lib/systemd/timers is not persisted"},
	}
}

func render(t *testing.T, format string) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, format, findings(), Tool{Version: "test", InformationURI: "https://github.com/nix-drift/drift"}); err != nil {
		t.Fatalf("Write %s: %v", format, err)
	}
	return b.Bytes()
}

// TestGolden compares each format with testdata/golden.<format>
// (go test -update rewrites them).
func TestGolden(t *testing.T) {
	for _, f := range Formats {
		t.Run(f, func(t *testing.T) {
			got := render(t, f)
			name := filepath.Join("testdata", "golden."+f)
			if *update {
				if err := os.WriteFile(name, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s:\n%s", f, name, got)
			}
		})
	}
}

func TestTextAndGitHubShape(t *testing.T) {
	text := string(render(t, "text"))
	if !strings.HasPrefix(text, "hosts/a/persist.nix:11:7: error etc-whole: directory /etc persists") {
		t.Errorf("text does not start with file:line:col: severity rule: message:\n%s", text)
	}
	if strings.ContainsRune(text, 0x1b) {
		t.Error("text holds a raw ESC")
	}
	gh := string(render(t, "github"))
	lines := strings.Split(strings.TrimSuffix(gh, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("github: %d lines, want one per finding:\n%s", len(lines), gh)
	}
	for i, prefix := range []string{"::error file=hosts/a/persist.nix,line=11,col=7,title=drift etc-whole::",
		"::warning file=odd name%2C x%3Ay\\x1b.nix,line=2,col=3,title=drift path-slashes::directory \"/var/log/\" has a trailing slash%0Asecond line 100%25",
		"::notice file=.#nixosConfigurations.h.config.environment.persistence,title=drift missing-systemd-timers::"} {
		if !strings.HasPrefix(lines[i], prefix) {
			t.Errorf("github line %d:\n %s\nwant prefix\n %s", i, lines[i], prefix)
		}
	}
	var j jsonReport
	if err := json.Unmarshal(render(t, "json"), &j); err != nil {
		t.Fatal(err)
	}
	if j.Version != 1 || len(j.Findings) != 3 || j.Summary["error"] != 1 || j.Summary["warning"] != 1 || j.Summary["info"] != 1 {
		t.Errorf("json: %+v", j)
	}
	if err := Write(&bytes.Buffer{}, "yaml", nil, Tool{}); err == nil {
		t.Error("unknown format accepted")
	}
}

// TestSARIFSchema validates the SARIF output, with findings and empty,
// against the OASIS SARIF 2.1.0 schema (testdata, errata01), formats
// asserted.
func TestSARIFSchema(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "sarif-schema-2.1.0.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("sarif-schema-2.1.0.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	var empty bytes.Buffer
	if err := Write(&empty, "sarif", nil, Tool{}); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string][]byte{"findings": render(t, "sarif"), "empty": empty.Bytes()} {
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(inst); err != nil {
			t.Errorf("%s: SARIF output does not validate: %v", name, err)
		}
	}
	// The schema is really applied: a log without runs is refused.
	bad, _ := jsonschema.UnmarshalJSON(strings.NewReader(`{"version":"2.1.0"}`))
	if err := sch.Validate(bad); err == nil {
		t.Error("a log without runs validated")
	}
	bad, _ = jsonschema.UnmarshalJSON(strings.NewReader(`{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"message":{"text":"m"},"level":"fatal"}]}]}`))
	if err := sch.Validate(bad); err == nil {
		t.Error("a result with level fatal validated")
	}
}

// TestSARIFColumnsUTF16: SARIF states columnKind utf16CodeUnits and its
// columns count UTF-16 code units (é is 2 bytes and 1 unit, 😀 4 bytes and
// 2 units); json keeps Nix's byte column and writes < and > as they are.
func TestSARIFColumnsUTF16(t *testing.T) {
	src := []byte("{\n  # é😀\n  x = [ \"é😀\" \"/a<b>\" ];\n}\n")
	col := bytes.Index(src, []byte(`"/a<b>"`)) - bytes.LastIndexByte(src[:bytes.Index(src, []byte(`"/a<b>"`))], '\n')
	fs := []lint.Finding{{Rule: "path-slashes", Severity: lint.Warning, Pos: persist.Pos{File: "f.nix", Line: 3, Col: col}, Message: "m </a<b>>"}}
	var sarif, js bytes.Buffer
	if err := Write(&sarif, "sarif", fs, Tool{Sources: map[string][]byte{"f.nix": src}}); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Runs []struct {
			ColumnKind string `json:"columnKind"`
			Results    []struct {
				Locations []struct {
					PhysicalLocation struct {
						Region struct{ StartColumn int } `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(sarif.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	// `  x = [ "é😀" ` is 8 + 1 + 1 + 2 + 1 + 1 = 14 units before the string.
	if log.Runs[0].ColumnKind != "utf16CodeUnits" || log.Runs[0].Results[0].Locations[0].PhysicalLocation.Region.StartColumn != 15 {
		t.Errorf("byte column %d: SARIF %+v", col, log.Runs[0])
	}
	if err := Write(&js, "json", fs, Tool{}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(js.Bytes(), []byte(fmt.Sprintf(`"column": %d,`, col))) || !bytes.Contains(js.Bytes(), []byte(`m </a<b>>`)) {
		t.Errorf("json:\n%s", js.String())
	}
}

// TestSARIFColumnsManyFindings: the UTF-16 columns of many findings in one
// large file are computed in linear time (each finding used to rescan the
// file from its start: 100,000 findings in a 100,000-line file took
// minutes), and each is its own line's.
func TestSARIFColumnsManyFindings(t *testing.T) {
	const n = 100000
	var src bytes.Buffer
	fs := make([]lint.Finding, 0, n)
	for i := range n {
		fmt.Fprintf(&src, "  😀 \"/var/lib/d%d/\"\n", i)
		fs = append(fs, lint.Finding{Rule: "path-slashes", Severity: lint.Warning, Pos: persist.Pos{File: "f.nix", Line: i + 1, Col: 8}, Message: "m"})
	}
	start := time.Now()
	var out bytes.Buffer
	if err := Write(&out, "sarif", fs, Tool{Sources: map[string][]byte{"f.nix": src.Bytes()}}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("SARIF of %d findings took %v", n, d)
	}
	// `  😀 ` is 2 + 2 + 1 = 5 units (7 bytes) before the string.
	if got := bytes.Count(out.Bytes(), []byte(`"startColumn": 6`)); got != n {
		t.Errorf("%d of %d findings at UTF-16 column 6", got, n)
	}
}
