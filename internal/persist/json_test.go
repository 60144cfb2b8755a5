package persist

import (
	"strings"
	"testing"
)

// The sample host (samples/nix-eval/impermanence.host.nix) as both eras
// evaluate it. Era differences that do not survive normalisation: classic
// keeps "/var/log/" in dirPath (cleaned here), repeats bird's entries in the
// top-level lists (counted once here) and has no file `method`.
var sampleHost = []string{
	"dir /etc @/nix/persist root:root:0755 impermanence",
	"dir /var/lib/colord @/nix/persist colord:colord:u=rwx,g=rx,o= impermanence",
	"dir /var/log @/nix/persist root:root:0755 impermanence",
	"file /etc/machine-id @/nix/persist root:root:0755 impermanence",
	"file /etc/nix/id_rsa @/nix/persist root:root:u=rwx,g=,o= impermanence",
	"dir /home/bird/Downloads @/nix/persist bird:users:0755 owner=bird impermanence",
	"dir /home/bird/.ssh @/nix/persist bird:users:0700 owner=bird impermanence",
	"file /home/bird/.screenrc @/nix/persist bird:users:0755 owner=bird impermanence",
}

func TestSampleJSONEras(t *testing.T) {
	for _, name := range []string{"impermanence-classic.json", "impermanence-current.json"} {
		t.Run(name, func(t *testing.T) {
			s, err := ReadFile(samplePath(t, name), Options{})
			if err != nil {
				t.Fatal(err)
			}
			wantLines(t, "entries", briefs(s), sampleHost)
			if len(s.Diagnostics) != 0 {
				t.Errorf("diagnostics: %q", diags(s))
			}
			// Positions point into the JSON file at the dirPath/filePath value.
			if p := s.Entries[0].Pos; p.Line == 0 || !strings.HasSuffix(p.File, name) {
				t.Errorf("pos = %v", p)
			}
		})
	}
}

func TestJSONNormalised(t *testing.T) {
	tests := []struct {
		name, json string
		opts       Options
		want       []string
		diag       []string // substrings of one diagnostic each
	}{{
		name: "classic dedupe: users' entries repeated at top level are counted once, as the user's",
		json: `{"/p":{"enable":true,"persistentStoragePath":"/p",
		  "directories":[{"dirPath":"/home/a/x","home":"/home/a","user":"a","group":"users","mode":"0755","persistentStoragePath":"/p"},
		                 {"dirPath":"/srv","home":null,"user":"root","group":"root","mode":"0755","persistentStoragePath":"/p"}],
		  "files":[],
		  "users":{"a":{"home":"/home/a","directories":[{"dirPath":"/home/a/x","home":"/home/a","user":"a","group":"users","mode":"0755","persistentStoragePath":"/p"}],"files":[]}}}}`,
		want: []string{"dir /srv @/p root:root:0755 impermanence", "dir /home/a/x @/p a:users:0755 owner=a impermanence"},
	}, {
		name: "enable=false dropped",
		json: `{"/p":{"enable":false,"directories":[{"dirPath":"/x","persistentStoragePath":"/p"}],"files":[],"users":{}},
		        "/q":{"enable":true,"directories":[{"dirPath":"/y","persistentStoragePath":"/q","user":"root","group":"root","mode":"0755"}],"files":[],"users":{}}}`,
		want: []string{"dir /y @/q root:root:0755 impermanence"},
		diag: []string{`"/p".enable = false`},
	}, {
		name: "keyed on each entry's own persistentStoragePath, not the attribute name",
		json: `{"main":{"persistentStoragePath":"/persist","directories":[
		  {"dirPath":"/a","persistentStoragePath":"/persist","user":"root","group":"root","mode":"0755"},
		  {"dirPath":"/b","persistentStoragePath":"/backup","user":"root","group":"root","mode":"0755"}],"files":[]}}`,
		want: []string{"dir /a @/persist root:root:0755 impermanence", "dir /b @/backup root:root:0755 impermanence"},
	}, {
		name: "paths cleaned lexically; '..' kept and reported",
		json: `{"/p":{"directories":[{"dirPath":"//srv///double/./x/"},{"dirPath":"/var/lib/../lib/dotdot"}],"files":[{"filePath":"/etc/a","method":"symlink"}]}}`,
		want: []string{"dir /srv/double/x @/p :: impermanence", "dir /var/lib/../lib/dotdot @/p :: impermanence", "file /etc/a @/p root:root:0755 method=symlink impermanence"},
		diag: []string{"x.json:1:68: error:", `contains '..'`},
	}, {
		name: "home-manager v1 JSON: owner and home from the storage path",
		json: `{"/persistent/home/talyz":{"allowOther":false,"defaultDirectoryMethod":"bindfs","directories":[{"directory":"Downloads","method":"bindfs"},{"directory":"Games","method":"symlink"}],"enable":true,"files":[".screenrc"],"persistentStoragePath":"/persistent/home/talyz","removePrefixDirectory":false}}`,
		want: []string{
			"dir /home/talyz/Downloads @/persistent talyz::0755 method=bindfs owner=talyz home-manager",
			"dir /home/talyz/Games @/persistent talyz::0755 method=symlink owner=talyz home-manager",
			"file /home/talyz/.screenrc @/persistent talyz::0755 method=symlink owner=talyz home-manager",
		},
	}, {
		name: "home-manager v1 JSON: --home moves the live paths, the source stays",
		json: `{"/persistent/home/talyz":{"allowOther":false,"directories":["Downloads"],"files":[]}}`,
		opts: Options{Homes: map[string]string{"talyz": "/var/home/talyz"}},
		want: []string{"dir /var/home/talyz/Downloads @/persistent/home/talyz talyz::0755 method=bindfs owner=talyz src=/persistent/home/talyz/Downloads home-manager"},
	}, {
		name: "home-manager v1 JSON: storage path without the home needs --home",
		json: `{"/persist/x":{"allowOther":false,"directories":["Music"],"files":[]}}`,
		diag: []string{`"/persist/x": cannot tell whose home`, "--home NAME=PATH"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustJSON(t, tt.json, tt.opts)
			wantLines(t, "entries", briefs(s), tt.want)
			if tt.diag != nil && !hasDiag(s, tt.diag...) {
				t.Errorf("no diagnostic with %q in %q", tt.diag, diags(s))
			}
		})
	}
}

func TestJSONRaw(t *testing.T) {
	tests := []struct {
		name, json string
		opts       Options
		want       []string
		diag       []string
	}{{
		name: "single raw entry with module defaults",
		json: `{"persistentStoragePath":"/nix/persist",
		  "directories":["/var/log/", {"directory":"/var/lib/colord","user":"colord","group":"colord","mode":"u=rwx,g=rx,o="}],
		  "files":["/etc/machine-id", {"file":"/etc/nix/id_rsa","parentDirectory":{"mode":"u=rwx,g=,o="}}, {"file":"/etc/wpa.conf","method":"symlink"}],
		  "users":{"alice":{"directories":[".ssh", {"directory":"Music","mode":"0700"}],"files":[".histfile"]}}}`,
		want: []string{
			"dir /var/log @/nix/persist root:root:0755 impermanence",
			"dir /var/lib/colord @/nix/persist colord:colord:u=rwx,g=rx,o= impermanence",
			"file /etc/machine-id @/nix/persist root:root:0755 impermanence",
			"file /etc/nix/id_rsa @/nix/persist root:root:u=rwx,g=,o= impermanence",
			"file /etc/wpa.conf @/nix/persist root:root:0755 method=symlink impermanence",
			"dir /home/alice/.ssh @/nix/persist alice:users:0755 owner=alice impermanence",
			"dir /home/alice/Music @/nix/persist alice:users:0700 owner=alice impermanence",
			"file /home/alice/.histfile @/nix/persist alice:users:0755 owner=alice impermanence",
		},
	}, {
		name: "--home override",
		json: `{"persistentStoragePath":"/nix/persist","users":{"alice":{"directories":[".ssh"]},"bob":{"files":[".x"]}}}`,
		opts: Options{Homes: map[string]string{"alice": "/srv/alice/"}},
		want: []string{
			"dir /srv/alice/.ssh @/nix/persist alice:users:0755 owner=alice impermanence",
			"file /home/bob/.x @/nix/persist bob:users:0755 owner=bob impermanence",
		},
	}, {
		name: "root's home is /root",
		json: `{"persistentStoragePath":"/p","users":{"root":{"directories":[".ssh"]}}}`,
		want: []string{"dir /root/.ssh @/p root:root:0755 owner=root impermanence"},
	}, {
		name: "leading slash in a user entry is ignored, with a warning",
		json: `{"persistentStoragePath":"/p","users":{"alice":{"directories":["/.ssh"]}}}`,
		want: []string{"dir /home/alice/.ssh @/p alice:users:0755 owner=alice impermanence"},
		diag: []string{"x.json:1:64: warning:", `leading '/' in "/.ssh" is ignored`},
	}, {
		name: "relative root entry made absolute, with a warning",
		json: `{"persistentStoragePath":"/p","directories":["var/lib/relative"]}`,
		want: []string{"dir /var/lib/relative @/p root:root:0755 impermanence"},
		diag: []string{"warning:", `relative path "var/lib/relative" is made absolute`},
	}, {
		name: "map of storage paths without dirPath",
		json: `{"/nix/persist":{"directories":["/etc"]},"/other":{"persistentStoragePath":"/data","files":["/a"]}}`,
		want: []string{"dir /etc @/nix/persist root:root:0755 impermanence", "file /a @/data root:root:0755 impermanence"},
	}, {
		name: "classic users.<u>.home honoured",
		json: `{"persistentStoragePath":"/p","users":{"a":{"home":"/var/a","directories":["x"]}}}`,
		want: []string{"dir /var/a/x @/p a:users:0755 owner=a impermanence"},
	}, {
		name: "duplicate declarations reported once",
		json: `{"persistentStoragePath":"/p","directories":["/var/log","/var/log/"]}`,
		want: []string{"dir /var/log @/p root:root:0755 impermanence"},
		diag: []string{"x.json:1:57: warning: directory /var/log is declared twice (first at x.json:1:46)"},
	}, {
		name: "bad entries are diagnostics, not errors",
		json: `{"persistentStoragePath":"/p","directories":[42, {"mode":"0700"}, {"file":"/etc/x"}, "/ok"]}`,
		want: []string{"dir /ok @/p root:root:0755 impermanence"},
		diag: []string{"x.json:1:46: error:", "expected a string or an attribute set, found a number"},
	}, {
		name: "preservation JSON disabled",
		json: `{"enable":false,"preserveAt":{"/persistent":{"directories":["/var/log"]}}}`,
		diag: []string{"preservation.enable = false"},
	}, {
		name: "raw preservation entries: how, defaults, _intermediate skipped",
		json: `{"enable":true,"preserveAt":{"/persistent":{"directories":["/var/log",{"directory":"/x","how":"_intermediate"}],
		  "files":[{"file":"/etc/k","how":"symlink"}],"users":{"bo":{"directories":[".ssh"]}}}}}`,
		want: []string{
			"dir /var/log @/persistent root:root:0755 preservation",
			"file /etc/k @/persistent root:root:0644 method=symlink preservation",
			"dir /home/bo/.ssh @/persistent bo:users:0755 owner=bo preservation",
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustJSON(t, tt.json, tt.opts)
			wantLines(t, "entries", briefs(s), tt.want)
			if tt.diag != nil && !hasDiag(s, tt.diag...) {
				t.Errorf("no diagnostic with %q in %q", tt.diag, diags(s))
			}
		})
	}
}

var samplePreservation = []string{
	"dir /var/log @/persistent root:root:0755 preservation",
	"dir /var/lib/nixos @/persistent root:root:0755 preservation",
	"dir /var/lib/colord @/persistent colord:colord:u=rwx,g=rx,o= preservation",
	"file /etc/machine-id @/persistent root:root:0644 preservation",
	"file /etc/ssh/ssh_host_ed25519_key @/persistent root:root:0644 method=symlink preservation",
	"file /var/lib/usbguard/rules.conf @/persistent root:root:0644 preservation",
	"dir /home/butz/.ssh @/persistent butz:users:0700 owner=butz preservation",
	"dir /home/butz/.local/state/nvim @/persistent butz:users:0755 owner=butz preservation",
	"file /home/butz/.histfile @/persistent butz:users:0644 owner=butz preservation",
	"dir /root/.ssh @/persistent root:root:0755 owner=root preservation",
}

func TestSamplePreservationJSON(t *testing.T) {
	s, err := ReadFile(samplePath(t, "preservation.json"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	// the _intermediate entries /home/butz/.local/state and /home/butz/.local are not persisted
	wantLines(t, "entries", briefs(s), samplePreservation)
	if len(s.Diagnostics) != 0 {
		t.Errorf("diagnostics: %q", diags(s))
	}
}

func TestJSONErrors(t *testing.T) {
	tests := []struct{ json, want string }{
		{`[1,2]`, "x.json:1:1: expected an object of persistent storage paths, got array"},
		{`"s"`, "x.json:1:1: expected an object of persistent storage paths, got string"},
		{"\n  null", "x.json:2:3: expected an object of persistent storage paths, got null"},
		{``, "x.json:1:1: expected a JSON value, found end of input"},
		{"{\n  \"/p\": {\"directories\": [\"/a\",]}}", `x.json:2:31: expected a JSON value, found ']'`},
		{"{\"/p\": {\"directories\": [\"/a\"", `x.json:1:29: expected ',' or ']' after array element, found end of input`},
		{"{\"/p\": \"x\"}", `x.json:1:8: expected an object for storage path "/p", got string`},
		{"{\"/p\": {\"directories\": [\"/a]}}", `x.json:1:25: unterminated string`},
		{"{\"/p\" {}}", `x.json:1:7: expected ':' after object key, found '{'`},
		{"{\"directories\": []}", `x.json:1:1: a single persistence entry needs a "persistentStoragePath" string`},
		{"{} x", `x.json:1:4: expected end of input after the JSON value, found 'x'`},
		{"{\"a\\q\": 1}", `x.json:1:4: unknown escape \q in string`},
		{strings.Repeat("[", 100000), "x.json:1:1001: nesting deeper than 1000 levels"},
	}
	for _, tt := range tests {
		_, err := ParseJSON([]byte(tt.json), "x.json", Options{})
		if err == nil || err.Error() != tt.want {
			t.Errorf("ParseJSON(%.40q) error = %v, want %q", tt.json, err, tt.want)
		}
	}
}

func TestJSONBytesExact(t *testing.T) {
	// Invalid UTF-8 and escapes survive byte for byte (file names are bytes).
	s := mustJSON(t, "{\"persistentStoragePath\":\"/p\",\"directories\":[\"/a\xff\\u00e9\\ud83d\\ude00\\n\"]}", Options{})
	if got, want := s.Entries[0].Path, "/a\xffé😀\n"; got != want {
		t.Errorf("path = %q, want %q", got, want)
	}
}
