package prune

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/nix-drift/drift/internal/suggest"
)

// Dir is the quarantine's directory in a persistent storage path: strays
// of /nix/persist go to /nix/persist/.drift-quarantine/ID/N. It is
// drift's own: never a stray itself.
const Dir = suggest.QuarantineDir

// manifestName is a batch's manifest file, in the batch's directory.
const manifestName = "manifest.json"

// manifestVersion is the format version of the manifest written.
const manifestVersion = 1

// Object is one stray of a batch: what was (or is to be) moved, and
// where it came from.
type Object struct {
	// N names the object in the batch's directory (ID/N).
	N int `json:"n"`
	// Path is the original path, absolute inside the audited root
	// ("/nix/persist/var/lib/old-app", raw bytes); LivePath the path it
	// would have been declared as ("/var/lib/old-app").
	Path     string `json:"path"`
	LivePath string `json:"livePath"`
	// PathBase64 holds Path's raw bytes (standard base64) when they are
	// not UTF-8: JSON would carry them as U+FFFD, and two names differing
	// only in invalid bytes would become one. Read back, it is Path.
	PathBase64 string `json:"pathBase64,omitempty"`
	// Type is "file", "dir", "symlink" or "other".
	Type string `json:"type"`
	// Entries counts the paths at and below Path; Bytes sums the apparent
	// sizes of its regular files; Mtime is the newest modification time
	// among them (RFC 3339), when planned.
	Entries int64     `json:"entries"`
	Bytes   int64     `json:"bytes"`
	Mtime   time.Time `json:"mtime"`
	// Reason says why it was a stray.
	Reason string `json:"reason"`
	// MountedUntil is the live path it was bind-mounted at until the last
	// boot, when the model says so (audit.Model.MountedUntilAt: only the
	// empty mount point in the previous boot's root and nothing there now,
	// or on another persistent filesystem only the empty mount point
	// there now); "" otherwise.
	MountedUntil string `json:"mountedUntil,omitempty"`
	// Dev and Ino identify the object when planned: a move refuses an
	// object that is no longer the one planned.
	Dev uint64 `json:"dev"`
	Ino uint64 `json:"ino"`
}

// name is the object's name in the batch's directory.
func (o *Object) name() string { return strconv.Itoa(o.N) }

// Manifest is a batch's record, written (atomically, synced) before its
// first move.
type Manifest struct {
	Version int `json:"version"`
	// ID names the batch (its directory under Dir): the UTC time of the
	// prune, 20261207T055230Z, with -2, -3 … when taken.
	ID string `json:"id"`
	// StoragePath is the persistent storage path the objects lay in.
	StoragePath string `json:"storagePath"`
	// Created is when the batch was made: the age drift prune empty
	// counts from.
	Created time.Time `json:"created"`
	// Declarations names what the declarations were read from.
	Declarations []string `json:"declarations"`
	Objects      []Object `json:"objects"`
}

func decodeManifest(data []byte, where string) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: not a drift quarantine manifest: %w", where, err)
	}
	if m.Version != manifestVersion || m.ID == "" {
		return nil, fmt.Errorf("%s: manifest version %d, id %q: expected version %d and an id", where, m.Version, m.ID, manifestVersion)
	}
	for i, o := range m.Objects {
		if o.N != i+1 || o.Path == "" {
			return nil, fmt.Errorf("%s: object %d: expected n %d and a path", where, i, i+1)
		}
		if o.PathBase64 != "" {
			raw, err := base64.StdEncoding.DecodeString(o.PathBase64)
			if err != nil || len(raw) == 0 || raw[0] != '/' {
				return nil, fmt.Errorf("%s: object %d: pathBase64 %q: expected the base64 of an absolute path", where, i+1, o.PathBase64)
			}
			m.Objects[i].Path = string(raw)
		}
	}
	return &m, nil
}

// rawBase64 is p's bytes in standard base64 when they are not UTF-8, ""
// when they are (JSON carries p as it is then).
func rawBase64(p string) string {
	if utf8.ValidString(p) {
		return ""
	}
	return base64.StdEncoding.EncodeToString([]byte(p))
}
