package scan

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/fsys/fsystest"
	"github.com/nix-drift/drift/internal/testutil"
)

// unknownTypes rewrites every listed entry's d_type to DT_UNKNOWN, as
// some filesystems list them (fsystest.FS.OnListing): Walk must then
// lstat to learn types.
func unknownTypes(_ int, b []byte) {
	for len(b) >= 20 {
		reclen := int(b[16]) | int(b[17])<<8
		if reclen < 20 || reclen > len(b) {
			break
		}
		b[18] = unix.DT_UNKNOWN
		b = b[reclen:]
	}
}

// expected counts, from a plain Walk, the entries below dir (at any depth)
// and the sizes of the regular files among them.
func expected(t *testing.T, root, dir string) (n, bytes int64) {
	t.Helper()
	var mu sync.Mutex
	_, err := Walk(context.Background(), root, Options{}, func(_ any, e *Entry) (any, bool) {
		if strings.HasPrefix(e.Path, dir+"/") || dir == "/" && e.Path != "/" {
			mu.Lock()
			n++
			if e.Mode&unix.S_IFMT == unix.S_IFREG {
				bytes += e.Size
			}
			mu.Unlock()
		}
		return nil, true
	})
	if err != nil {
		t.Fatal(err)
	}
	return n, bytes
}

// A Tally counts what a visit of every entry below its directory would see:
// every type, symlinks not followed, any worker count, with and without
// kept descriptors, raw calls or not, and d_type known or not.
func TestTally(t *testing.T) {
	root := t.TempDir()
	create(t, root, everyKind)
	testutil.Must(t, os.Mkdir(filepath.Join(root, "gen"), 0o755))
	generate(t, filepath.Join(root, "gen"), 3, 2000)
	tallied := []string{"/etc", "/run", "/deep", "/gen", "/var", "/usr"}
	want := map[string][2]int64{}
	for _, d := range tallied {
		n, b := expected(t, root, d)
		want[d] = [2]int64{n, b}
	}
	all, _ := expected(t, root, "/")
	if want["/gen"][0] < 2000 || want["/var"][1] != 1<<30 {
		t.Fatalf("fixture: %v", want)
	}
	defer func(f func() bool) { searchesAll = f }(searchesAll)
	for _, types := range []bool{false, true} {
		searchesAll = func() bool { return types }
		for _, raw := range []bool{false, true} {
			for _, unknown := range []bool{false, true} {
				for _, workers := range []int{1, 2, 4} {
					for _, maxPinned := range []int{0, 1} {
						fs := &fsystest.FS{Inner: fsys.Real{Raw: raw}}
						if unknown {
							fs.OnListing = unknownTypes
						}
						var mu sync.Mutex
						tallies := map[string]*Tally{}
						var visited []string
						visit := func(parent any, e *Entry) (any, bool) {
							mu.Lock()
							defer mu.Unlock()
							visited = append(visited, e.Path)
							for _, d := range tallied {
								if e.Path == d {
									tallies[d] = &Tally{}
									return tallies[d], true
								}
							}
							return nil, true
						}
						st, err := walk(context.Background(), track(t, fs), root, Options{Workers: workers, ReadLinks: true}, visit, maxPinned)
						if err != nil {
							t.Fatal(err)
						}
						for _, d := range tallied {
							tl := tallies[d]
							if tl == nil {
								t.Errorf("%s not visited", d)
								continue
							}
							if got := [2]int64{tl.Entries.Load(), tl.Bytes.Load()}; got != want[d] {
								t.Errorf("types=%v raw=%v unknown=%v workers=%d maxPinned=%d: %s tallied %v, want %v", types, raw, unknown, workers, maxPinned, d, got, want[d])
							}
						}
						for _, p := range visited {
							for _, d := range tallied {
								if strings.HasPrefix(p, d+"/") {
									t.Errorf("%s visited below tallied %s", p, d)
								}
							}
						}
						if st.Entries != int64(len(visited)) || st.Entries+st.Tallied != all+1 || st.Errors != 0 {
							t.Errorf("stats %+v: %d visited, %d entries in all", st, len(visited), all+1)
						}
					}
				}
			}
		}
	}
}

// Trouble below a tallied directory is what a visit of every entry meets,
// reported with the same paths and operations: an unreadable directory is
// counted (its contents are not), an lstat error of any type leaves the
// entry out, a readlink error is reported (the link counted), an entry gone
// before its lstat is counted as vanished, and a directory replaced by a
// file before its open was counted already. When the process searches
// every directory (searchesAll), the lstat of a symlink, a fifo or a
// directory is not made: those entries are counted, their failures unseen.
func TestTallyTrouble(t *testing.T) {
	defer func(f func() bool) { searchesAll = f }(searchesAll)
	searchesAll = func() bool { return false }
	root := t.TempDir()
	spec := tree{
		"t/secret/key":   file("k"),
		"t/eio":          file("12345"),
		"t/gone":         file("123"),
		"t/swapped/x":    file("1"),
		"t/ok/f":         file("12"),
		"t/badlink":      link("x"),
		"t/badstatlink":  link("y"),
		"t/badstatdir/z": file("1"),
		"t/badfifo":      fifo,
	}
	fault := func() faultFS {
		return faultFS{
			openErr: map[string]error{"secret": unix.EACCES},
			statErr: map[string]error{"eio": unix.EIO, "gone": unix.ENOENT, "badstatlink": unix.EUCLEAN, "badstatdir": unix.EACCES, "badfifo": unix.EIO},
			linkErr: map[string]error{"badlink": unix.EIO},
		}
	}
	run := func(tl *Tally) (map[string]string, Stats, []string) {
		create(t, root, spec)
		ffs := fault()
		ffs.onOpen = map[string]func(){"swapped": func() {
			p := filepath.Join(root, "t", "swapped")
			if err := os.RemoveAll(p); err != nil {
				t.Error(err)
			}
			if err := os.WriteFile(p, []byte("file now"), 0o644); err != nil {
				t.Error(err)
			}
		}}
		var mu sync.Mutex
		errs := map[string]string{}
		var visited []string
		st, err := walk(context.Background(), track(t, ffs.fs()), root, Options{ReadLinks: true, OnError: func(p string, err error) {
			mu.Lock()
			errs[p] = err.Error()
			mu.Unlock()
		}}, func(_ any, e *Entry) (any, bool) {
			mu.Lock()
			defer mu.Unlock()
			if e.Path == "/t" && tl != nil {
				return tl, true
			}
			if strings.HasPrefix(e.Path, "/t/") && !e.Replaced {
				visited = append(visited, e.Path)
			}
			return nil, true
		}, 0)
		if err != nil {
			t.Fatal(err)
		}
		testutil.Must(t, os.RemoveAll(filepath.Join(root, "t")))
		return errs, st, visited
	}
	tl := &Tally{}
	errs, st, _ := run(tl)
	verrs, vst, visited := run(nil)
	// Counted: secret, swapped, ok, ok/f (2 bytes), badlink.
	if n, b := tl.Entries.Load(), tl.Bytes.Load(); n != 5 || b != 2 || n != int64(len(visited)) {
		t.Errorf("tallied %d entries, %d bytes; want 5, 2 (a visit of each saw %q)", n, b, visited)
	}
	if fmt.Sprint(errs) != fmt.Sprint(verrs) || len(errs) != 6 {
		t.Errorf("errors below a Tally:\n%v\nwhen visited:\n%v", errs, verrs)
	}
	if st.Errors != 6 || st.Vanished != 1 || st.Tallied != 5 || vst.Errors != st.Errors || vst.Vanished != st.Vanished {
		t.Errorf("stats %+v; visited %+v", st, vst)
	}

	searchesAll = func() bool { return true }
	tl = &Tally{}
	errs, st, _ = run(tl)
	// Also counted: badstatlink, badfifo, badstatdir and its z; badlink
	// is not read. Only the regular file's lstat and the open fail.
	if n, b := tl.Entries.Load(), tl.Bytes.Load(); n != 9 || b != 3 {
		t.Errorf("types from d_type: tallied %d entries, %d bytes; want 9, 3", n, b)
	}
	if _, ok := errs["/t/eio"]; !ok || len(errs) != 2 || errs["/t/secret"] == "" {
		t.Errorf("types from d_type: errors %v, want /t/eio and /t/secret only", errs)
	}
}

// tallyPath builds Join's path in blocks it shares: every path it
// returned keeps its bytes while later ones fill the block and the next,
// including a name longer than a block.
func TestTallyPath(t *testing.T) {
	ws := newWState()
	type built struct{ got, want string }
	var all []built
	long := strings.Repeat("n", tallyPathChunk+10)
	for i := range 3000 {
		dir := "/"
		if i%3 > 0 {
			dir = fmt.Sprintf("/d%d/sub", i)
		}
		name := fmt.Sprintf("name%d", i)
		if i == 1500 {
			name = long
		}
		all = append(all, built{ws.tallyPath(dir, []byte(name)), Join(dir, []byte(name))})
	}
	for i, b := range all {
		if b.got != b.want {
			t.Fatalf("path %d: %.40q, want %.40q", i, b.got, b.want)
		}
	}
	if cap(ws.paths) > 2*tallyPathChunk {
		t.Errorf("block of %d bytes after the long name, want a new one of %d", cap(ws.paths), tallyPathChunk)
	}
}

// TestTallySkip: an entry below a Tally whose name Skip says true for is
// neither counted nor read below, a file or a directory, at any depth, and
// its path is in Skipped; the walk's Tallied counts it once, as a visit
// that stops there would count it.
func TestTallySkip(t *testing.T) {
	root := t.TempDir()
	for _, f := range []string{"d/a", "d/.x.skip/f1", "d/.x.skip/f2", "d/sub/.y.skip", "d/sub/b"} {
		testutil.WriteFile(t, filepath.Join(root, f), "12345")
	}
	for _, types := range []bool{false, true} {
		defer func(f func() bool) { searchesAll = f }(searchesAll)
		searchesAll = func() bool { return types }
		var tl *Tally
		st, err := Walk(context.Background(), root, Options{}, func(_ any, e *Entry) (any, bool) {
			if e.Path == "/d" {
				tl = &Tally{Skip: func(n []byte) bool { return strings.HasSuffix(string(n), ".skip") }}
				return tl, true
			}
			return nil, true
		})
		if err != nil {
			t.Fatal(err)
		}
		skipped := tl.Skipped()
		slices.Sort(skipped)
		if got := fmt.Sprint(tl.Entries.Load(), tl.Bytes.Load(), skipped); got != "3 10 [/d/.x.skip /d/sub/.y.skip]" {
			t.Errorf("types=%v: tallied %s, want 3 entries (a, sub, sub/b), 10 bytes, the two skipped", types, got)
		}
		if st.Tallied != 5 {
			t.Errorf("types=%v: Tallied %d, want 5", types, st.Tallied)
		}
	}
}
