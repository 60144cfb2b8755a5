package persist

import (
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// errPos is the "name:line:col: " (or "name: ") prefix every error must carry.
var errPos = regexp.MustCompile(`^f(\.nix|\.json)(:\d+:\d+)?: `)

func addSeeds(f *testing.F, files ...string) {
	for _, name := range files {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data)
		}
	}
}

func checkSet(t *testing.T, s *Set) {
	for _, e := range s.Entries {
		if !strings.HasPrefix(e.Path, "/") || !strings.HasPrefix(e.StoragePath, "/") {
			t.Errorf("entry not absolute: %+v", e)
		}
		if e.Pos.File != "f.nix" && e.Pos.File != "f.json" {
			t.Errorf("entry without position: %+v", e)
		}
	}
	for _, d := range s.Diagnostics {
		if d.Message == "" {
			t.Errorf("empty diagnostic: %+v", d)
		}
	}
}

func FuzzParseNix(f *testing.F) {
	addSeeds(f, "testdata/seed-impermanence.nix", "testdata/flake/flake.nix", "projection.nix")
	for _, n := range []string{"impermanence.host.nix", "preservation.host.nix"} {
		if p := samplePath(f, n); p != "" {
			addSeeds(f, p)
		}
	}
	for _, s := range []string{
		`{ environment.persistence."/p" = { directories = [ "/a" { directory = "b"; mode = "0700"; } ] ++ x; users.u.files = map f l; }; }`,
		`let a = [ "/x" ]; in { lib, ... }: { config = lib.mkIf c (lib.mkMerge [ { environment.persistence.p.directories = a; } ]); }`,
		`rec { a = b; b = a; environment.persistence."/p".directories = a; }`,
		`{ home-manager.users.a = { ... }: { home.persistence."/p/home/a" = { directories = [ "x" ]; removePrefixDirectory = true; }; }; }`,
		`{ preservation.preserveAt."/p".users.u = { home = "/h"; directories = [ { directory = "d"; how = "symlink"; } ]; }; }`,
		"{ a = ''\n  x ''${y} '''\n  ${z}\n''; b = \"${c}\\n$${d}\"; p = ./a/${b}; }",
		"{ a = ''x ''$", "{ a = ''x '''", "{ a = \"abc", "{ a = \"${b", "{ a = ''${b ''; }", "[[[[[[[[[[[[[[[[[[[[",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := withDeadline(t, data, func() (*Set, error) {
			return ParseNix(data, "f.nix", Options{Homes: map[string]string{"u": "/home/u"}})
		})
		if err != nil {
			var se *syntaxError
			if !errors.As(err, &se) || !errPos.MatchString(err.Error()) {
				t.Fatalf("error without position: %v", err)
			}
			return
		}
		checkSet(t, s)
	})
}

func FuzzParseJSON(f *testing.F) {
	// Real module output seeds only in trimmed form (below): with the whole
	// 5-14 KB samples the fuzzer stalls at 0 execs/s; the unit tests read them.
	for _, s := range []string{
		`{"persistentStoragePath":"/p","directories":["/a",{"directory":"b","mode":"0700"}],"users":{"u":{"files":["/x"]}}}`,
		`{"/persistent/home/t":{"allowOther":false,"directories":[{"directory":"D","method":"symlink"}],"files":[".s"]}}`,
		`{"enable":true,"preserveAt":{"/p":{"directories":[{"directory":"/a","how":"_intermediate"}]}}}`,
		`{"/p":{"directories":[{"dirPath":"/a/../b"}],"files":[{"filePath":"x"}]}}`,
		`[]`, `{"a":"\ud800"}`,
	} {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"/nix/persist":{"directories":[{"defaultPerms":{"group":"root","mode":"0755","user":"root"},"dirPath":"/etc","directory":"/etc","group":"root","hideMount":true,"home":null,"mode":"0755","persistentStoragePath":"/nix/persist","user":"root"}],"enable":true,"files":[{"file":"/etc/machine-id","filePath":"/etc/machine-id","home":null,"method":"auto","persistentStoragePath":"/nix/persist","parentDirectory":{"dirPath":"/etc","mode":"0755"}}],"persistentStoragePath":"/nix/persist","users":{"bird":{"directories":[{"directory":".ssh","dirPath":"/home/bird/.ssh","home":"/home/bird","user":"bird","group":"users","mode":"0700"}],"files":[],"home":"/home/bird"}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := withDeadline(t, data, func() (*Set, error) { return ParseJSON(data, "f.json", Options{}) })
		if err != nil {
			if !errPos.MatchString(err.Error()) {
				t.Fatalf("error without position: %v", err)
			}
			return
		}
		checkSet(t, s)
	})
}

// withDeadline fails the run when parse takes more than 5 seconds, so that
// the fuzzer records inputs that (nearly) hang.
func withDeadline(t *testing.T, data []byte, parse func() (*Set, error)) (*Set, error) {
	type result struct {
		s   *Set
		err error
	}
	ch := make(chan result, 1)
	go func() {
		s, err := parse()
		ch <- result{s, err}
	}()
	select {
	case r := <-ch:
		return r.s, r.err
	case <-time.After(5 * time.Second):
		t.Fatalf("parse took over 5s on %q", data)
		return nil, nil
	}
}
