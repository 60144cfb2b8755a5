package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Set at link time by builds that have no VCS metadata (a Nix build's source
// is a store path, not a git checkout):
//
//	go build -ldflags "-X github.com/nix-drift/drift/internal/buildinfo.version=1.2.0 \
//	  -X github.com/nix-drift/drift/internal/buildinfo.commit=<sha>"
//
// The flake sets both. An empty value means "take it from
// debug.ReadBuildInfo".
var (
	version string
	commit  string
)

// Info is what drift version prints.
type Info struct {
	// Module is the main module's path (github.com/nix-drift/drift).
	Module string `json:"module"`
	// Version is the module version: a tag (v1.2.0), a pseudo-version, or
	// "(devel)" for a build from a checkout without a tag, "unknown" when
	// the binary carries no build information.
	Version string `json:"version"`
	// Commit is the VCS revision (vcs.revision, 40 hex digits) or "" when
	// the build recorded none (go build -buildvcs=false, a source tree
	// without .git).
	Commit string `json:"commit,omitempty"`
	// CommitTime is vcs.time (RFC 3339), "" when unknown.
	CommitTime string `json:"commitTime,omitempty"`
	// Modified is vcs.modified: the tree had uncommitted changes.
	Modified bool `json:"modified,omitempty"`
	// GoVersion is the toolchain that built the binary ("go1.26.8").
	GoVersion string `json:"goVersion"`
	// Platform is GOOS/GOARCH.
	Platform string `json:"platform"`
}

// Read returns the running binary's Info: debug.ReadBuildInfo, with the
// link-time version and commit taking precedence when set.
func Read() Info {
	bi, ok := debug.ReadBuildInfo()
	return from(bi, ok, version, commit)
}

// from builds Info from a build-info record (ok false: none) and the
// link-time overrides; split from Read for tests.
func from(bi *debug.BuildInfo, ok bool, version, commit string) Info {
	in := Info{Module: "github.com/nix-drift/drift", Version: "unknown", GoVersion: runtime.Version(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if ok && bi != nil {
		if bi.Main.Path != "" {
			in.Module = bi.Main.Path
		}
		if bi.Main.Version != "" {
			in.Version = bi.Main.Version
		}
		if bi.GoVersion != "" {
			in.GoVersion = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				in.Commit = s.Value
			case "vcs.time":
				in.CommitTime = s.Value
			case "vcs.modified":
				in.Modified = s.Value == "true"
			}
		}
	}
	if version != "" {
		in.Version = version
	}
	if commit != "" {
		in.Commit, in.CommitTime, in.Modified = commit, "", false
	}
	return in
}

// String is the one-line form: "drift VERSION (commit SHA[, modified]) GO
// PLATFORM"; the commit part reads "no commit recorded" when unknown.
func (in Info) String() string {
	c := "no commit recorded"
	if in.Commit != "" {
		c = "commit " + in.Commit
		if in.Modified {
			c += ", modified"
		}
	}
	return "drift " + in.Version + " (" + c + ") " + in.GoVersion + " " + in.Platform
}
