package buildinfo

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestFrom(t *testing.T) {
	bi := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/nix-drift/drift", Version: "v1.2.0"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "6f67e6c0000000000000000000000000000000aa"},
			{Key: "vcs.time", Value: "2026-11-29T21:00:00Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	tests := []struct {
		name            string
		bi              *debug.BuildInfo
		ok              bool
		version, commit string
		want            string
	}{
		{"vcs", bi, true, "", "", "drift v1.2.0 (commit 6f67e6c0000000000000000000000000000000aa, modified) go1.26.8 "},
		{"ldflags win", bi, true, "1.3.0", "abc123", "drift 1.3.0 (commit abc123) go1.26.8 "},
		{"no vcs", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/nix-drift/drift", Version: "(devel)"}}, true, "", "",
			"drift (devel) (no commit recorded) go1.26.8 "},
		{"no build info", nil, false, "", "", "drift unknown (no commit recorded) " + runtime.Version() + " "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := from(tt.bi, tt.ok, tt.version, tt.commit).String()
			if !strings.HasPrefix(got, tt.want) || !strings.HasSuffix(got, runtime.GOOS+"/"+runtime.GOARCH) {
				t.Errorf("got %q, want %q + platform", got, tt.want)
			}
		})
	}
}

// TestRead: the test binary has build information (its Go version at least).
func TestRead(t *testing.T) {
	in := Read()
	if in.GoVersion != runtime.Version() || in.Module == "" {
		t.Errorf("Read() = %+v", in)
	}
}
