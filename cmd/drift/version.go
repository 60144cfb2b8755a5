package main

import (
	"encoding/json"
	"fmt"

	"github.com/nix-drift/drift/internal/buildinfo"
	"github.com/nix-drift/drift/internal/jsonschema"
	"github.com/spf13/cobra"
)

// VersionOptions are the flags of drift version.
type VersionOptions struct {
	Format string
}

func newVersionCmd(st Streams) *cobra.Command {
	opts := &VersionOptions{}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print drift's version, commit and Go version",
		Long: `Print the module version (a tag, a pseudo-version, or (devel)), the VCS
commit the binary was built from (with ", modified" when the tree had
uncommitted changes), and the Go toolchain and platform, as recorded in the
binary (runtime/debug.ReadBuildInfo). Builds without VCS metadata (the Nix
package) set the version and commit at link time.

More, with examples: docs/version.md in drift's repository.

EXIT STATUS
  0  printed
  2  error`,
		Example: `  drift version
  drift version --format json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runVersion(opts, st) },
	}
	formatFlag(cmd, &opts.Format, "text", versionFormats)
	return cmd
}

// versionFormats lists the values --format takes for drift version.
var versionFormats = []string{"text", "json"}

// versionJSON is drift version --format json (docs/schema/version.json): the
// build information, naming its schema. Its "version" is drift's own.
type versionJSON struct {
	Schema string `json:"$schema"`
	buildinfo.Info
}

func runVersion(opts *VersionOptions, st Streams) error {
	in := buildinfo.Read()
	switch opts.Format {
	case "text":
		_, err := fmt.Fprintln(st.Out, in.String())
		return err
	case "json":
		b, err := json.MarshalIndent(versionJSON{jsonschema.ID("version"), in}, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(st.Out, "%s\n", b)
		return err
	}
	return fmt.Errorf("--format %q: expected text or json", opts.Format)
}
