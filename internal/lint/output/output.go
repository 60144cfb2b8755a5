package output

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"unicode/utf16"

	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/jsonschema"
	"github.com/nix-drift/drift/internal/lint"
)

// Formats are the names Write takes.
var Formats = []string{"text", "json", "github", "sarif"}

// Tool describes drift for SARIF's tool.driver.
type Tool struct {
	Version        string
	InformationURI string
	// Sources are the inputs' contents by file name (lint.Config.Sources):
	// SARIF counts columns in UTF-16 code units (columnKind
	// utf16CodeUnits, which drift states on the run), findings count
	// bytes as Nix does; a finding in a file not here keeps its byte
	// column.
	Sources map[string][]byte
}

// Write renders findings in format:
//
//   - text: one line per finding, "file:line:col: severity rule: message"
//     (the position shortened to what is known), then "  hint: …" when the
//     finding has a hint. File names and messages are escaped (escape.Name,
//     escape.Text, a newline as \n): no raw control characters.
//   - json: {"version": 1, "findings": [{file, line, column, rule,
//     severity, message, hint, path}], "summary": {"error": n, "warning": n,
//     "info": n}}; line and column are 0 when unknown. Fields are only
//     added in later versions, never renamed.
//   - github: GitHub Actions workflow commands (::error, ::warning,
//     ::notice) with file, line, col and title properties, which annotate
//     the pull request's diff.
//   - sarif: a SARIF 2.1.0 log with one run whose tool.driver lists every
//     rule, for GitHub code scanning and other SARIF readers; its columns
//     are UTF-16 code units (columnKind utf16CodeUnits), converted from
//     the byte columns with tool.Sources.
//
// text, json and github keep byte columns (as Nix and Go's tools count).
//
// An unknown format is an error; nothing is written then.
func Write(w io.Writer, format string, fs []lint.Finding, tool Tool) error {
	switch format {
	case "text":
		return writeText(w, fs)
	case "json":
		return writeJSON(w, fs)
	case "github":
		return writeGitHub(w, fs)
	case "sarif":
		return writeSARIF(w, fs, tool)
	}
	return fmt.Errorf("unknown format %q (expected %s)", format, strings.Join(Formats, ", "))
}

func position(f lint.Finding) string {
	p := f.Pos
	p.File = escape.Name(p.File)
	return p.String()
}

func writeText(w io.Writer, fs []lint.Finding) error {
	var b strings.Builder
	for _, f := range fs {
		if pos := position(f); pos != "" {
			b.WriteString(pos)
			b.WriteString(": ")
		}
		fmt.Fprintf(&b, "%s %s: %s\n", f.Severity, f.Rule, oneLine(f.Message))
		if f.Hint != "" {
			fmt.Fprintf(&b, "  hint: %s\n", oneLine(f.Hint))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// oneLine is escape.Text (newlines written as \n): one finding,
// one line.
func oneLine(s string) string { return escape.Text(s) }

type jsonFinding struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
	Hint     string `json:"hint,omitempty"`
	Path     string `json:"path,omitempty"`
}

type jsonReport struct {
	Schema   string         `json:"$schema"`
	Version  int            `json:"version"`
	Findings []jsonFinding  `json:"findings"`
	Summary  map[string]int `json:"summary"`
}

func writeJSON(w io.Writer, fs []lint.Finding) error {
	r := jsonReport{Schema: jsonschema.ID("lint"), Version: 1, Findings: []jsonFinding{}, Summary: map[string]int{"error": 0, "warning": 0, "info": 0}}
	for _, f := range fs {
		r.Findings = append(r.Findings, jsonFinding{File: f.Pos.File, Line: f.Pos.Line, Column: f.Pos.Col,
			Rule: f.Rule, Severity: f.Severity.String(), Message: f.Message, Hint: f.Hint, Path: escape.Name(f.Path)})
		r.Summary[f.Severity.String()]++
	}
	return encode(w, r)
}

// ghData escapes a workflow command's message; ghProp a property value
// (GitHub's toolkit: escapeData and escapeProperty).
func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func ghProp(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

func writeGitHub(w io.Writer, fs []lint.Finding) error {
	var b strings.Builder
	for _, f := range fs {
		cmd := "notice"
		switch f.Severity {
		case lint.Error:
			cmd = "error"
		case lint.Warning:
			cmd = "warning"
		}
		props := []string{}
		if f.Pos.File != "" {
			props = append(props, "file="+ghProp(escape.Text(f.Pos.File)))
		}
		if f.Pos.Line > 0 {
			props = append(props, fmt.Sprintf("line=%d", f.Pos.Line))
		}
		if f.Pos.Col > 0 {
			props = append(props, fmt.Sprintf("col=%d", f.Pos.Col))
		}
		props = append(props, "title="+ghProp("drift "+f.Rule))
		msg := escape.Lines(f.Message)
		if f.Hint != "" {
			msg += "\nhint: " + escape.Lines(f.Hint)
		}
		fmt.Fprintf(&b, "::%s %s::%s\n", cmd, strings.Join(props, ","), ghData(msg))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// SARIF 2.1.0 (OASIS), the parts drift fills in.
type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool       sarifTool     `json:"tool"`
		ColumnKind string        `json:"columnKind"`
		Results    []sarifResult `json:"results"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name           string      `json:"name"`
		Version        string      `json:"version,omitempty"`
		InformationURI string      `json:"informationUri,omitempty"`
		Rules          []sarifRule `json:"rules"`
	}
	sarifRule struct {
		ID                   string       `json:"id"`
		ShortDescription     sarifMessage `json:"shortDescription"`
		FullDescription      sarifMessage `json:"fullDescription"`
		Help                 sarifMessage `json:"help"`
		DefaultConfiguration sarifConfig  `json:"defaultConfiguration"`
	}
	sarifConfig struct {
		Level   string `json:"level"`
		Enabled bool   `json:"enabled"`
	}
	sarifMessage struct {
		Text string `json:"text"`
	}
	sarifResult struct {
		RuleID    string          `json:"ruleId"`
		RuleIndex int             `json:"ruleIndex"`
		Level     string          `json:"level"`
		Message   sarifMessage    `json:"message"`
		Locations []sarifLocation `json:"locations,omitempty"`
	}
	sarifLocation struct {
		PhysicalLocation sarifPhysical `json:"physicalLocation"`
	}
	sarifPhysical struct {
		ArtifactLocation sarifArtifact `json:"artifactLocation"`
		Region           *sarifRegion  `json:"region,omitempty"`
	}
	sarifArtifact struct {
		URI string `json:"uri"`
	}
	sarifRegion struct {
		StartLine   int `json:"startLine"`
		StartColumn int `json:"startColumn,omitempty"`
	}
)

func sarifLevel(s lint.Severity) string {
	switch s {
	case lint.Error:
		return "error"
	case lint.Warning:
		return "warning"
	}
	return "note"
}

// fileURI makes a file name a SARIF uri-reference: a relative path stays
// relative (resolved against the repository root by code scanning), an
// absolute one becomes file://; every byte a URI cannot hold is
// percent-encoded.
func fileURI(name string) string {
	u := url.URL{Path: filepath.ToSlash(name)}
	if filepath.IsAbs(name) {
		u.Scheme = "file"
		return u.String()
	}
	s := u.EscapedPath()
	if i := strings.IndexByte(s, ':'); i >= 0 && !strings.Contains(s[:i], "/") {
		s = "./" + s // a first segment with ':' would read as a scheme
	}
	return s
}

func writeSARIF(w io.Writer, fs []lint.Finding, tool Tool) error {
	rules := lint.Rules()
	index := make(map[string]int, len(rules))
	d := sarifDriver{Name: "drift", Version: tool.Version, InformationURI: tool.InformationURI}
	for i, r := range rules {
		index[r.ID] = i
		help := r.Hint
		if help == "" {
			help = r.Summary
		}
		d.Rules = append(d.Rules, sarifRule{ID: r.ID,
			ShortDescription:     sarifMessage{r.Summary},
			FullDescription:      sarifMessage{r.Summary + ". Source: " + r.Source + "."},
			Help:                 sarifMessage{help},
			DefaultConfiguration: sarifConfig{Level: sarifLevel(r.Severity), Enabled: !r.Off}})
	}
	run := sarifRun{Tool: sarifTool{Driver: d}, ColumnKind: "utf16CodeUnits", Results: []sarifResult{}}
	cols := &utf16Cols{sources: tool.Sources, starts: map[string][]int{}}
	for _, f := range fs {
		msg := f.Message
		if f.Hint != "" {
			msg += " (hint: " + f.Hint + ")"
		}
		res := sarifResult{RuleID: f.Rule, RuleIndex: index[f.Rule], Level: sarifLevel(f.Severity), Message: sarifMessage{msg}}
		if f.Pos.File != "" {
			loc := sarifLocation{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: fileURI(f.Pos.File)}}}
			if f.Pos.Line > 0 {
				loc.PhysicalLocation.Region = &sarifRegion{StartLine: f.Pos.Line, StartColumn: cols.col(f.Pos.File, f.Pos.Line, f.Pos.Col)}
			}
			res.Locations = []sarifLocation{loc}
		}
		run.Results = append(run.Results, res)
	}
	log := sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}}
	return encode(w, log)
}

// encode writes v as indented JSON, leaving <, > and & as they are
// (json.Marshal's \u003c is valid but unreadable in a path or message),
// and no character that is not printable raw (escape.JSON).
func encode(w io.Writer, v any) error {
	enc := json.NewEncoder(escape.JSONWriter(w))
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// utf16Cols converts byte columns to UTF-16 ones in Tool.Sources, indexing
// each file's line starts once: many findings in one large file would
// otherwise each rescan it from its start.
type utf16Cols struct {
	sources map[string][]byte
	starts  map[string][]int
}

// col converts the 1-based byte column col of line (1-based) in file to a
// 1-based column in UTF-16 code units: a character outside the Basic
// Multilingual Plane counts 2, any other character 1, an invalid byte 1.
// Without the file's source (or past its end) col is returned unchanged.
func (u *utf16Cols) col(file string, line, col int) int {
	data := u.sources[file]
	if data == nil || col < 1 {
		return col
	}
	starts, ok := u.starts[file]
	if !ok {
		starts = []int{0}
		for i, c := range data {
			if c == '\n' {
				starts = append(starts, i+1)
			}
		}
		u.starts[file] = starts
	}
	if line > len(starts) {
		return col
	}
	start := starts[max(line, 1)-1]
	end := start + col - 1
	if end > len(data) {
		return col
	}
	n := 0
	for _, r := range string(data[start:end]) {
		n += utf16.RuneLen(r)
	}
	return n + 1
}
