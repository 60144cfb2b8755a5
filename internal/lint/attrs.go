package lint

import (
	"slices"
	"strings"

	"github.com/nix-drift/drift/internal/persist"
)

// removedStorageOptions are impermanence's removed per-path options.
var removedStorageOptions = map[string]string{
	"allowOther":             "real bind mounts replaced bindfs",
	"removePrefixDirectory":  "prefix directories were removed (home-manager v1)",
	"defaultDirectoryMethod": "real bind mounts replaced bindfs",
}

// storageKeys are the attributes a storage path or a users.<name> set may
// have, by module and level ("" storage path, "user").
var storageKeys = map[string][]string{
	"impermanence":      {"enable", "persistentStoragePath", "hideMounts", "allowTrash", "enableDebugging", "enableWarnings", "directories", "files", "users", "assertions", "allowOther", "removePrefixDirectory", "defaultDirectoryMethod"},
	"impermanence/user": {"directories", "files", "home", "assertions"},
	"home-manager":      {"enable", "persistentStoragePath", "hideMounts", "allowTrash", "enableDebugging", "enableWarnings", "directories", "files", "assertions", "allowOther", "removePrefixDirectory", "defaultDirectoryMethod"},
	"preservation":      {"persistentStoragePath", "directories", "files", "users", "commonMountOptions"},
	"preservation/user": {"username", "home", "directories", "files", "commonMountOptions", "homeMode", "homeGroup"},
}

// entryKeys are the attributes an entry may have, by module and kind.
var entryKeys = map[string][]string{
	"impermanence/directory": {"directory", "user", "group", "mode", "hideMount", "allowTrash", "persistentStoragePath", "method", "enableDebugging", "defaultPerms", "home", "dirPath"},
	"impermanence/file":      {"file", "parentDirectory", "method", "persistentStoragePath", "enableDebugging", "home", "filePath"},
	"impermanence/parent":    {"user", "group", "mode", "hideMount", "allowTrash", "persistentStoragePath", "directory", "dirPath", "defaultPerms", "home", "enableDebugging"},
	"preservation/directory": {"directory", "how", "user", "group", "mode", "configureParent", "parent", "mountOptions", "createLinkTarget", "inInitrd"},
	"preservation/file":      {"file", "how", "user", "group", "mode", "configureParent", "parent", "mountOptions", "createLinkTarget", "inInitrd"},
	"preservation/parent":    {"user", "group", "mode"},
}

// hiddenKeys are names entryKeys and storageKeys accept (the module sets
// them internally, or they are removed and reported by removed-option) but
// a "known:" hint does not suggest.
var hiddenKeys = map[string]bool{"dirPath": true, "filePath": true, "home": true, "defaultPerms": true,
	"enableDebugging": true, "assertions": true, "allowOther": true, "removePrefixDirectory": true, "defaultDirectoryMethod": true}

// visibleKeys are the names of known a user may write and a hint
// suggests (directory entries' method is removed).
func visibleKeys(known []string, dir bool) []string {
	var l []string
	for _, k := range known {
		if !hiddenKeys[k] && !(dir && k == "method") {
			l = append(l, k)
		}
	}
	return l
}

// attrs checks an entry's attributes: unknown names, modes, removed
// options.
func (ck *checker) attrs(e persist.Entry) {
	mod := e.Module
	if mod == "home-manager" {
		mod = "impermanence"
	}
	kind := "directory"
	if e.Kind == persist.File {
		kind = "file"
	}
	for _, a := range e.Attrs() {
		name, parentKey := a.Name, ""
		if i := strings.IndexByte(name, '.'); i >= 0 {
			parentKey, name = name[:i], name[i+1:]
		}
		if a.Removed {
			ck.add("removed-option", sev("removed-option"), a.Pos, e.Path, "",
				"%s sets `%s`, which current impermanence removed (evaluation fails)", subject(e), a.Name)
			continue
		}
		if name == "mode" && a.IsString {
			if msg := checkMode(a.Value, e.Module == "preservation"); msg != "" {
				ck.add("invalid-mode", sev("invalid-mode"), a.ValuePos, e.Path, "", "%s: mode %s %s", subject(e), qq(a.Value), msg)
			}
		}
		if parentKey == "" && name == "method" && e.Kind == persist.Dir && e.Module != "preservation" {
			ck.add("removed-option", sev("removed-option"), a.Pos, e.Path, "",
				"directory %s sets `method`, which current impermanence removed (real bind mounts replaced bindfs; evaluation fails)", q(e.Path))
			continue
		}
		if e.Evaluated {
			continue
		}
		set := mod + "/" + kind
		if parentKey != "" {
			if !slices.Contains(entryKeys[set], parentKey) {
				continue // the unknown parentKey itself is reported, once
			}
			set = mod + "/parent"
		}
		known := entryKeys[set]
		if known == nil || slices.Contains(known, name) {
			continue
		}
		what := "`" + a.Name + "`"
		visible := visibleKeys(known, e.Kind == persist.Dir || parentKey != "")
		hint := "fix the attribute's name; known: " + strings.Join(visible, ", ")
		if s := closest(name, visible); s != "" {
			full := s
			if parentKey != "" {
				full = parentKey + "." + s
			}
			hint = "did you mean `" + full + "`?"
		}
		ck.add("unknown-attribute", sev("unknown-attribute"), a.Pos, e.Path, hint,
			"%s has the attribute %s, which the %s module does not know", subject(e), what, e.Module)
	}
}

// closest returns the known name within edit distance 2 of s, "" if none.
func closest(s string, known []string) string {
	best, bd := "", 3
	for _, k := range known {
		if d := editDistance(s, k); d < bd {
			best, bd = k, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// malformed reports an entry without its directory/file attribute: as an
// unknown attribute when one of its attributes is a likely typo of it,
// else as a declaration error.
func (ck *checker) malformed(e persist.Entry) {
	key := "directory"
	if e.Kind == persist.File {
		key = "file"
	}
	n := len(ck.out)
	ck.attrs(e)
	for _, f := range ck.out[n:] {
		if f.Rule == "unknown-attribute" && strings.Contains(f.Hint, "`"+key+"`") {
			return
		}
	}
	ck.add("declaration", Error, e.Pos, "", "", "%s entry without a `%s` attribute (the module rejects it)", kindName(e), key)
}
