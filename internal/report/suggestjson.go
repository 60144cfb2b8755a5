package report

import (
	"bufio"
	"slices"
	"time"

	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/jsonschema"
	"github.com/nix-drift/drift/internal/knowledge"
	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/suggest"
)

// drift suggest --format json (docs/schema/suggest.json).

// jsonBootSecret is a boot secret (persist.Ref with Secret set): the
// option naming it, its path, what losing it does, and whether it is read
// before the persistence mounts exist.
type jsonBootSecret struct {
	Option string `json:"option"`
	Path   string `json:"path"`
	Loss   string `json:"loss"`
	Early  bool   `json:"early"`
}

type jsonSuggestion struct {
	Rank        int        `json:"rank"`
	Action      string     `json:"action"`
	Path        string     `json:"path"`
	PathBase64  string     `json:"pathBase64,omitempty"`
	Type        string     `json:"type"`
	Entries     int64      `json:"entries"`
	Bytes       int64      `json:"bytes"`
	Mtime       string     `json:"mtime,omitempty"`
	Boots       int        `json:"boots"`
	Seen        int        `json:"seen"`
	Changed     int        `json:"changed"`
	Score       int        `json:"score"`
	Confidence  string     `json:"confidence"`
	Note        string     `json:"note"`
	Knowledge   *jsonFact  `json:"knowledge"`
	Evidence    []string   `json:"evidence"`
	Holds       []jsonHeld `json:"holds,omitempty"`
	StoragePath string     `json:"storagePath"`
	User        string     `json:"user,omitempty"`
	Relative    string     `json:"relative,omitempty"`
	Attrs       *jsonAttrs `json:"attrs"`
	LivePath    string     `json:"livePath,omitempty"`
	IgnoreRule  string     `json:"ignoreRule,omitempty"`
	// Adopt is the drift adopt command that copies a path to persist into
	// its persistent copy once declared.
	Adopt  string   `json:"adopt,omitempty"`
	UsedBy []string `json:"usedBy,omitempty"`
	// BootSecrets are the boot secrets a Persist suggestion stands for
	// (suggest.Suggestion.Secrets): with early set, it is no declaration
	// to make (no adopt; the note says how to keep it).
	BootSecrets []jsonBootSecret `json:"bootSecrets,omitempty"`
	// Vanished are the paths the last wipe destroyed that it stands for
	// (suggest.Suggestion.Vanished).
	Vanished []jsonSuggestVanished `json:"vanished,omitempty"`
}

// jsonSuggestVanished is a path the last wipe destroyed that a suggestion
// to persist stands for (suggest.Vanished).
type jsonSuggestVanished struct {
	Path       string `json:"path"`
	PathBase64 string `json:"pathBase64,omitempty"`
	// OldRoot holds it (still); Restore, once the path is declared, puts
	// it into the persistent copy.
	OldRoot string `json:"oldRoot"`
	Restore string `json:"restore"`
}

type jsonLeft struct {
	Reason   string   `json:"reason"`
	Count    int      `json:"count"`
	Examples []string `json:"examples"`
	// Paths are every one of the Count paths, in path order (pathx.Compare),
	// escaped as Examples are: what a script matches (Examples, the first
	// few, are what the text names).
	Paths []string `json:"paths"`
	// Adopt, AdoptPreferLive and AdoptPreferPersistent are LeftAdopt's
	// commands, as drift check --format json gives them for a row.
	Adopt                 string `json:"adopt,omitempty"`
	AdoptPreferLive       string `json:"adoptPreferLive,omitempty"`
	AdoptPreferPersistent string `json:"adoptPreferPersistent,omitempty"`
	// KeepByHand is LeftByHand's copies.
	KeepByHand string `json:"keepByHand,omitempty"`
}

type jsonFact struct {
	Path   string `json:"path"`
	What   string `json:"what"`
	Source string `json:"source"`
	User   string `json:"user,omitempty"`
	Group  string `json:"group,omitempty"`
	Mode   string `json:"mode,omitempty"`
}

func factJSON(f *knowledge.Fact) *jsonFact {
	return &jsonFact{Path: f.Path, What: f.What, Source: f.Source, User: f.User, Group: f.Group, Mode: f.Mode}
}

type jsonHeld struct {
	Path       string    `json:"path"`
	PathBase64 string    `json:"pathBase64,omitempty"`
	Knowledge  *jsonFact `json:"knowledge"`
}

type jsonAttrs struct {
	User  string `json:"user,omitempty"`
	Group string `json:"group,omitempty"`
	Mode  string `json:"mode,omitempty"`
}

// jsonSuggestReport is drift suggest --format json (docs/schema/suggest.json).
type jsonSuggestReport struct {
	Schema      string           `json:"$schema"`
	Version     int              `json:"version"`
	Root        string           `json:"root"`
	StoragePath string           `json:"storagePath"`
	Boots       int              `json:"boots"`
	OldRoots    []string         `json:"oldRoots"`
	Suggestions []jsonSuggestion `json:"suggestions"`
	Left        []jsonLeft       `json:"left"`
	Warnings    []string         `json:"warnings"`
}

func writeSuggestJSON(w *bufio.Writer, r *SuggestReport) error {
	out := jsonSuggestReport{Schema: jsonschema.ID("suggest"), Version: SchemaVersion, Root: r.Root, StoragePath: r.StoragePath, Boots: r.Boots, OldRoots: r.OldRoots, Suggestions: []jsonSuggestion{}, Left: []jsonLeft{}, Warnings: []string{}}
	for _, w := range r.Warnings {
		out.Warnings = append(out.Warnings, escape.Name(w.Message))
	}
	for _, l := range r.Left {
		jl := jsonLeft{Reason: escape.Name(l.Reason), Count: l.Count, Examples: []string{}}
		jl.Adopt, jl.AdoptPreferLive, jl.AdoptPreferPersistent = LeftAdopt(r, l)
		jl.KeepByHand = LeftByHand(r, l)
		for _, p := range l.Examples {
			jl.Examples = append(jl.Examples, escape.Name(p))
		}
		paths := slices.Clone(l.Paths)
		slices.SortFunc(paths, pathx.Compare)
		jl.Paths = make([]string, len(paths))
		for i, p := range paths {
			jl.Paths[i] = escape.Name(p)
		}
		out.Left = append(out.Left, jl)
	}
	if out.OldRoots == nil {
		out.OldRoots = []string{}
	}
	for _, s := range r.Suggestions {
		j := jsonSuggestion{Rank: s.Rank, Action: string(s.Action), Type: typeName(&s), Entries: s.Entries, Bytes: s.Bytes,
			Boots: s.Boots, Seen: s.Seen, Changed: s.Changed, Score: s.Score, Confidence: s.Confidence, Note: escape.Text(s.Note(escape.Name)),
			Evidence: s.Evidence, StoragePath: s.StoragePath, User: s.User}
		j.Path, j.PathBase64 = jsonPath(s.Path)
		if s.Mtime > 0 {
			j.Mtime = time.Unix(0, s.Mtime).UTC().Format(time.RFC3339)
		}
		if s.User != "" {
			j.Relative = escape.Name(s.Rel)
		}
		if s.LivePath != "" {
			j.LivePath = escape.Name(s.LivePath)
		}
		if s.Action == suggest.Ignore {
			j.IgnoreRule = escape.Name(IgnoreRule(s.Path))
		}
		if s.Declares() && !s.OnlyVanished() {
			j.Adopt = AdoptCommand(r.Root, r.Args, s.Path)
		}
		for _, b := range s.Secrets {
			j.BootSecrets = append(j.BootSecrets, jsonBootSecret{Option: escape.Name(b.Option), Path: escape.Name(b.Path), Loss: b.Loss, Early: b.Early})
		}
		for _, v := range s.Vanished {
			jv := jsonSuggestVanished{OldRoot: escape.Name(v.Root), Restore: v.Restore}
			jv.Path, jv.PathBase64 = jsonPath(v.Path)
			j.Vanished = append(j.Vanished, jv)
		}
		for _, u := range s.UsedBy {
			j.UsedBy = append(j.UsedBy, escape.Name(u))
		}
		if j.Evidence == nil {
			j.Evidence = []string{}
		}
		for _, h := range s.Holds {
			jh := jsonHeld{Knowledge: factJSON(h.Fact)}
			jh.Path, jh.PathBase64 = jsonPath(h.Path)
			j.Holds = append(j.Holds, jh)
		}
		if s.Fact != nil {
			j.Knowledge = factJSON(s.Fact)
		}
		if s.Attrs != nil {
			j.Attrs = &jsonAttrs{User: s.Attrs.User, Group: s.Attrs.Group, Mode: s.Attrs.Mode}
		}
		out.Suggestions = append(out.Suggestions, j)
	}
	return writeIndentedJSON(w, out)
}
