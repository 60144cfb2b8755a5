package rehearse

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/nix-drift/drift/internal/diff"
	"github.com/nix-drift/drift/internal/safefile"
)

// Report is one kept shutdown report: its file name and its rows.
type Report struct {
	// Name is the file's name (shutdown-2026-12-07T05:52:29.123456789Z.json).
	Name  string
	Items []Row
}

// Row is one row of a report (drift check's JSON items): what the wipe
// after that shutdown would have destroyed.
type Row struct {
	// Path is raw bytes (pathBase64 decoded when present).
	Path       string `json:"path"`
	PathBase64 string `json:"pathBase64"`
	Category   string `json:"category"`
	Type       string `json:"type"`
	Entries    int64  `json:"entries"`
	Bytes      int64  `json:"bytes"`
	Mode       string `json:"mode"`
	Mtime      string `json:"mtime"`
	// History is against the previous boot's root (new, changed, same;
	// mixed: a directory some entries of which are new or changed), ""
	// when that report compared with none.
	History string `json:"history"`
}

// fingerprint is what says whether a row changed between two reports.
func (r *Row) fingerprint() string {
	return fmt.Sprintf("%s %s %d %d %s", r.Type, r.Mode, r.Entries, r.Bytes, r.Mtime)
}

// maxReport bounds a report's size (a million rows are about 300 MB).
const maxReport = 1 << 30

// Read reads the last n reports (by name: shutdown-<UTC time>.json, the
// auditOnShutdown service's names, sort in time order) in dir, oldest
// first. latest.json (a copy of the newest) and other files are not
// read. A report that cannot be read or is not drift check's JSON
// version 1 is skipped with a warning naming it; the names of those
// skipped after the last one read (the newest) are returned in Newer, for
// the verdict to say it rests on an older report. A directory with .json
// files but none named shutdown-*.json gets a warning naming them and the
// expected names. Errors: dir cannot be read.
func Read(dir string, n int) (*Reports, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading the shutdown reports: %w", err)
	}
	return read(dir, ents, n), nil
}

// ReadDefault is Read of the directory where the shutdown audit keeps its
// reports by default: there, a directory that does not exist yet is no
// error but no report (no shutdown has been audited), with a warning that
// says how reports come to be written; the verdict is then "not ready".
// Errors: dir exists and cannot be read.
func ReadDefault(dir string, n int) (*Reports, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return &Reports{Warnings: []diff.Warning{{Kind: diff.WarnUnreadable, Path: dir, Message: fmt.Sprintf("no shutdown reports: %s does not exist; services.drift.wipe.rehearse (or auditOnShutdown.enable) writes one there at every shutdown, or name their directory with --reports", dir)}}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the shutdown reports: %w", err)
	}
	return read(dir, ents, n), nil
}

func read(dir string, ents []os.DirEntry, n int) *Reports {
	var names, others []string
	for _, e := range ents {
		name := e.Name()
		switch {
		case strings.HasPrefix(name, "shutdown-") && strings.HasSuffix(name, ".json"):
			names = append(names, name)
		case strings.HasSuffix(name, ".json") && name != "latest.json":
			others = append(others, name)
		}
	}
	out := &Reports{}
	if len(names) == 0 && len(others) > 0 {
		shown := others[:min(len(others), 3)]
		more := ""
		if len(others) > len(shown) {
			more = fmt.Sprintf(" and %d more", len(others)-len(shown))
		}
		out.Warnings = append(out.Warnings, diff.Warning{Kind: diff.WarnUnreadable, Path: dir, Message: fmt.Sprintf("%s holds no shutdown report (expected names shutdown-<UTC time>.json, as services.drift.auditOnShutdown writes them), but %s%s: not read", dir, strings.Join(shown, ", "), more)})
	}
	slices.Sort(names)
	if n > 0 && len(names) > n {
		names = names[len(names)-n:]
	}
	for _, name := range names {
		r, err := readReport(filepath.Join(dir, name))
		if err != nil {
			out.Warnings = append(out.Warnings, diff.Warning{Kind: diff.WarnUnreadable, Path: name, Message: fmt.Sprintf("shutdown report %s skipped: %v", filepath.Join(dir, name), err)})
			out.Newer = append(out.Newer, name)
			continue
		}
		r.Name = name
		out.Read = append(out.Read, *r)
		out.Newer = nil
	}
	return out
}

// Reports is what Read found: the reports read, oldest first; Newer, the
// names of reports newer than the last one read that could not be read;
// and the warnings.
type Reports struct {
	Read     []Report
	Newer    []string
	Warnings []diff.Warning
}

func readReport(name string) (*Report, error) {
	f, st, err := safefile.Open(name, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st.Size > maxReport {
		return nil, fmt.Errorf("larger than %d bytes", maxReport)
	}
	var doc struct {
		Version *int  `json:"version"`
		Items   []Row `json:"items"`
	}
	dec := json.NewDecoder(f)
	if err := dec.Decode(&doc); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("not JSON at byte %d: %v", se.Offset, err)
		}
		return nil, fmt.Errorf("not drift check's JSON: %v", err)
	}
	if doc.Version == nil || *doc.Version != 1 {
		return nil, errors.New("not drift check --format json version 1 (expected \"version\": 1)")
	}
	for i := range doc.Items {
		it := &doc.Items[i]
		if it.PathBase64 != "" {
			raw, err := base64.StdEncoding.DecodeString(it.PathBase64)
			if err != nil {
				return nil, fmt.Errorf("items[%d].pathBase64: %v", i, err)
			}
			it.Path = string(raw)
		}
		if !strings.HasPrefix(it.Path, "/") {
			return nil, fmt.Errorf("items[%d].path %q: expected an absolute path", i, it.Path)
		}
	}
	return &Report{Items: doc.Items}, nil
}
