//go:build linux

package scan

import (
	"context"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nix-drift/drift/internal/fsys/fsystest"
)

// track has fs fail the test if the walk leaves a descriptor open or
// closes one it did not open.
func track(t testing.TB, fs *fsystest.FS) *fsystest.FS {
	t.Cleanup(func() { fs.Check(t) })
	return fs
}

// faultFS injects failures by entry name.
type faultFS struct {
	openErr map[string]error  // openat of this name fails
	statErr map[string]error  // fstatat of this name fails
	linkErr map[string]error  // readlinkat of this name fails
	onOpen  map[string]func() // runs just before openat of this name
}

// fs is the kernel's filesystem with f's failures.
func (f faultFS) fs() *fsystest.FS {
	return &fsystest.FS{
		OnOpen: func(_ int, name string, _ int) error {
			if fn := f.onOpen[name]; fn != nil {
				fn()
			}
			return f.openErr[name]
		},
		OnFstatat:    func(_ int, name string) error { return f.statErr[name] },
		OnReadlinkat: func(_ int, name string) error { return f.linkErr[name] },
	}
}

var everyKind = tree{
	"etc/passwd":             file("root:x:0:0::/root:/bin/sh\n"),
	"etc/hosts":              hard("etc/passwd"),
	"etc/empty":              dir_,
	"etc/ssl/certs/ca.pem":   file("pem"),
	"etc/ssl/certs/abcd.0":   link("ca.pem"),
	"var/lib/vm.img":         spars(1 << 30),
	"run/fifo":               fifo,
	"run/sock":               sock,
	"loop":                   link("loop"),
	"up":                     link(".."),
	"slash":                  link("/"),
	"dangling":               link("../missing/nothing"),
	"bin":                    link("usr/bin"),
	"usr/bin/sh":             file("#!"),
	"with space/a b":         file(""),
	"new\nline/x\ny":         file(""),
	"\xff\xfe/\xfe\xff":      file(""),
	"\x1b[31m/\x1b[0m":       file(""),
	"deep/1/2/3/4/5/6/7/8/9": file("nine"),
	"-dash":                  file(""),
}

func TestWalkMatchesWalkDir(t *testing.T) {
	root := t.TempDir()
	create(t, root, everyKind)
	for _, workers := range []int{1, 2, 4, 16} {
		for _, maxPinned := range []int{0, 1} {
			var c collector
			st, err := walk(context.Background(), track(t, &fsystest.FS{}), root, Options{Workers: workers, ReadLinks: true}, c.visit, maxPinned)
			if err != nil {
				t.Fatal(err)
			}
			diffTypes(t, c.types(), truth(t, root))
			if len(c.dups) > 0 {
				t.Errorf("visited twice: %q", c.dups)
			}
			if st.Entries != int64(len(c.entries)) || st.Errors != 0 || st.Vanished != 0 {
				t.Errorf("workers=%d: stats %+v for %d entries", workers, st, len(c.entries))
			}
			if t.Failed() {
				t.Fatalf("workers=%d maxPinned=%d", workers, maxPinned)
			}
		}
	}
}

func TestWalkEntryFields(t *testing.T) {
	root := t.TempDir()
	create(t, root, everyKind)
	var c collector
	if _, err := Walk(context.Background(), root, Options{ReadLinks: true}, c.visit); err != nil {
		t.Fatal(err)
	}
	e := c.entries
	for p, want := range map[string]string{"/loop": "loop", "/up": "..", "/slash": "/", "/dangling": "../missing/nothing", "/etc/ssl/certs/abcd.0": "ca.pem"} {
		if e[p].Target != want {
			t.Errorf("%q: Target %q, want %q", p, e[p].Target, want)
		}
	}
	if e["/etc/passwd"].Target != "" || e["/etc"].Target != "" {
		t.Errorf("Target set on a non-symlink")
	}
	img := e["/var/lib/vm.img"]
	if img.Size != 1<<30 || img.Bytes > 1<<20 {
		t.Errorf("sparse file: Size %d, Bytes %d", img.Size, img.Bytes)
	}
	pw, hosts := e["/etc/passwd"], e["/etc/hosts"]
	if pw.Ino != hosts.Ino || pw.Nlink != 2 || pw.Size != int64(len("root:x:0:0::/root:/bin/sh\n")) {
		t.Errorf("hard link: %+v vs %+v", pw, hosts)
	}
	var st unix.Stat_t
	if err := unix.Lstat(filepath.Join(root, "etc/passwd"), &st); err != nil {
		t.Fatal(err)
	}
	if pw.Mtime != st.Mtim.Nano() || pw.Uid != st.Uid || pw.Gid != st.Gid || pw.Dev != uint64(st.Dev) || pw.Mode != st.Mode {
		t.Errorf("/etc/passwd: %+v, lstat says %+v", pw, st)
	}
	for p, typ := range map[string]uint32{"/run/fifo": unix.S_IFIFO, "/run/sock": unix.S_IFSOCK, "/": unix.S_IFDIR, "/\xff\xfe/\xfe\xff": unix.S_IFREG, "/new\nline/x\ny": unix.S_IFREG, "/\x1b[31m/\x1b[0m": unix.S_IFREG} {
		if e[p].Mode&unix.S_IFMT != typ {
			t.Errorf("%q: mode %o, want type %o", p, e[p].Mode, typ)
		}
	}
	for p := range e {
		if strings.HasPrefix(p, "/up/") || strings.HasPrefix(p, "/slash/") || strings.HasPrefix(p, "/loop/") || strings.HasPrefix(p, "/bin/") {
			t.Errorf("walked through a symlink: %q", p)
		}
	}
}

func TestWalkPruneAndState(t *testing.T) {
	root := t.TempDir()
	create(t, root, everyKind)
	var mu sync.Mutex
	seen := map[string]bool{}
	visit := func(parent any, e *Entry) (any, bool) {
		mu.Lock()
		seen[e.Path] = true
		mu.Unlock()
		want := any(nil)
		if e.Path != "/" {
			want = path.Dir(e.Path)
		}
		if parent != want {
			t.Errorf("%q: parent state %v, want %v", e.Path, parent, want)
		}
		return e.Path, e.Path != "/etc" && e.Path != "/deep/1/2"
	}
	st, err := Walk(context.Background(), root, Options{Workers: 3}, visit)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/etc", "/deep/1/2", "/usr/bin/sh"} {
		if !seen[p] {
			t.Errorf("%q not visited", p)
		}
	}
	for p := range seen {
		if strings.HasPrefix(p, "/etc/") || strings.HasPrefix(p, "/deep/1/2/") {
			t.Errorf("%q visited below a pruned directory", p)
		}
	}
	if st.Entries != int64(len(seen)) {
		t.Errorf("Entries %d, visited %d", st.Entries, len(seen))
	}

	// Root not descended: only the root is visited.
	st, err = Walk(context.Background(), root, Options{}, func(any, *Entry) (any, bool) { return nil, false })
	if err != nil || st.Entries != 1 || st.Dirs != 0 {
		t.Errorf("root pruned: %+v, %v", st, err)
	}
}

func TestWalkDeterministic(t *testing.T) {
	root := t.TempDir()
	generate(t, root, 42, 5000)
	var first []string
	for i := range 5 {
		var c collector
		if _, err := walk(context.Background(), track(t, &fsystest.FS{}), root, Options{Workers: 4, ReadLinks: true}, c.visit, 0); err != nil {
			t.Fatal(err)
		}
		var got []string
		for p, e := range c.entries {
			got = append(got, p+"\x00"+e.Target+"\x00"+string(rune(e.Mode>>12)))
		}
		slices.Sort(got)
		if i == 0 {
			first = got
			diffTypes(t, c.types(), truth(t, root))
			continue
		}
		if !slices.Equal(got, first) {
			t.Fatalf("run %d differs from run 0 (%d vs %d entries)", i, len(got), len(first))
		}
	}
	if len(first) < 5000 {
		t.Fatalf("only %d entries", len(first))
	}
}

func TestWalkVanished(t *testing.T) {
	root := t.TempDir()
	create(t, root, tree{"a/gone": file(""), "a/kept": file(""), "gonedir/x": file(""), "b/c": file("")})
	ffs := faultFS{
		statErr: map[string]error{"gone": unix.ENOENT},
		openErr: map[string]error{"gonedir": unix.ENOENT, "b": unix.ENOTDIR},
	}
	var errs []string
	var c collector
	st, err := walk(context.Background(), track(t, ffs.fs()), root, Options{OnError: func(p string, err error) { errs = append(errs, p) }}, c.visit, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := truth(t, root)
	delete(want, "/a/gone")
	delete(want, "/gonedir/x")
	delete(want, "/b/c")
	// b: ENOTDIR from openat, but lstat still says directory: it is
	// reported as replaced, not followed.
	diffTypes(t, c.types(), want)
	if st.Vanished != 2 || len(errs) != 1 || errs[0] != "/b" {
		t.Errorf("stats %+v, errors %q", st, errs)
	}
}

func TestWalkPermissionDenied(t *testing.T) {
	root := t.TempDir()
	create(t, root, tree{"secret/key": file("k"), "open/f": file(""), "x/link": link("/etc/shadow")})
	ffs := faultFS{
		openErr: map[string]error{"secret": unix.EACCES},
		statErr: map[string]error{"f": unix.EIO},
	}
	var mu sync.Mutex
	errs := map[string]error{}
	var c collector
	st, err := walk(context.Background(), track(t, ffs.fs()), root, Options{OnError: func(p string, err error) {
		mu.Lock()
		errs[p] = err
		mu.Unlock()
	}}, c.visit, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(errs["/secret"], fs.ErrPermission) || !errors.Is(errs["/secret"], unix.EACCES) {
		t.Errorf("/secret: error %v", errs["/secret"])
	}
	if !errors.Is(errs["/open/f"], unix.EIO) {
		t.Errorf("/open/f: error %v", errs["/open/f"])
	}
	if _, ok := c.entries["/secret"]; !ok {
		t.Errorf("/secret itself not visited")
	}
	if _, ok := c.entries["/secret/key"]; ok {
		t.Errorf("/secret/key visited")
	}
	if _, ok := c.entries["/open/f"]; ok {
		t.Errorf("/open/f visited despite EIO")
	}
	if st.Errors != 2 || len(errs) != 2 {
		t.Errorf("stats %+v, errors %v", st, errs)
	}
}

// A directory replaced by a symlink (to "/") or a file after its lstat
// and before its open is reported as what it now is, and not followed.
func TestWalkDirReplaced(t *testing.T) {
	root := t.TempDir()
	create(t, root, tree{"a/swapped/x": file(""), "a/filed/y": file(""), "a/z": file("")})
	swap := func(name string, mk func(p string) error) func() {
		var once sync.Once
		return func() {
			once.Do(func() {
				p := filepath.Join(root, "a", name)
				if err := os.RemoveAll(p); err != nil {
					t.Error(err)
				}
				if err := mk(p); err != nil {
					t.Error(err)
				}
			})
		}
	}
	ffs := faultFS{onOpen: map[string]func(){
		"swapped": swap("swapped", func(p string) error { return os.Symlink("/", p) }),
		"filed":   swap("filed", func(p string) error { return os.WriteFile(p, []byte("now a file"), 0o644) }),
	}}
	var mu sync.Mutex
	var visits []Entry
	visit := func(parent any, e *Entry) (any, bool) {
		mu.Lock()
		visits = append(visits, *e)
		mu.Unlock()
		return nil, true
	}
	st, err := walk(context.Background(), track(t, ffs.fs()), root, Options{ReadLinks: true, OnError: func(p string, err error) { t.Errorf("OnError(%q, %v)", p, err) }}, visit, 0)
	if err != nil {
		t.Fatal(err)
	}
	byPath := map[string][]Entry{}
	for _, e := range visits {
		byPath[e.Path] = append(byPath[e.Path], e)
		if strings.HasPrefix(e.Path, "/a/swapped/") || strings.HasPrefix(e.Path, "/a/filed/") {
			t.Errorf("walked into a replaced directory: %q", e.Path)
		}
	}
	check := func(p string, typ uint32) {
		es := byPath[p]
		if len(es) != 2 || es[0].Mode&unix.S_IFMT != unix.S_IFDIR || es[0].Replaced ||
			es[1].Mode&unix.S_IFMT != typ || !es[1].Replaced {
			t.Errorf("%q: visits %+v", p, es)
		}
	}
	check("/a/swapped", unix.S_IFLNK)
	check("/a/filed", unix.S_IFREG)
	if es := byPath["/a/swapped"]; len(es) == 2 && es[1].Target != "/" {
		t.Errorf("/a/swapped: Target %q", es[1].Target)
	}
	if st.Entries != int64(len(visits)) || st.Errors != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestWalkDeep(t *testing.T) {
	const depth = 5000
	root := t.TempDir()
	// Deeper than PATH_MAX: build it with *at calls.
	fd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < depth; i++ {
		if err := unix.Mkdirat(fd, "d", 0o755); err != nil {
			t.Fatal(err)
		}
		if i%100 == 0 {
			f, err := unix.Openat(fd, "f", unix.O_CREAT|unix.O_WRONLY, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			unix.Close(f)
		}
		nfd, err := unix.Openat(fd, "d", unix.O_RDONLY|unix.O_DIRECTORY, 0)
		unix.Close(fd)
		if err != nil {
			t.Fatal(err)
		}
		fd = nfd
	}
	unix.Close(fd)

	for _, maxPinned := range []int{0, 2} {
		var n, deepest atomic.Int64
		visit := func(parent any, e *Entry) (any, bool) {
			n.Add(1)
			d := int64(strings.Count(e.Path, "/d"))
			for cur := deepest.Load(); d > cur && !deepest.CompareAndSwap(cur, d); cur = deepest.Load() {
			}
			return nil, true
		}
		st, err := walk(context.Background(), track(t, &fsystest.FS{}), root, Options{Workers: 4}, visit, maxPinned)
		if err != nil {
			t.Fatal(err)
		}
		if want := int64(1 + depth + depth/100); n.Load() != want || st.Errors != 0 || st.Dirs != depth+1 {
			t.Errorf("maxPinned=%d: %d entries, want %d; stats %+v", maxPinned, n.Load(), want, st)
		}
		if deepest.Load() != depth {
			t.Errorf("deepest %d, want %d", deepest.Load(), depth)
		}
	}
}

func TestWalkCancel(t *testing.T) {
	root := t.TempDir()
	generate(t, root, 7, 5000)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var n atomic.Int64
	start := time.Now()
	st, err := walk(ctx, track(t, &fsystest.FS{}), root, Options{Workers: 4}, func(any, *Entry) (any, bool) {
		if n.Add(1) == 100 {
			cancel()
		}
		return nil, true
	}, 0)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("took %v after cancel", el)
	}
	if st.Entries > 2500 {
		t.Errorf("%d entries visited after cancel at 100", st.Entries)
	}

	// Already cancelled: nothing is visited.
	st, err = Walk(ctx, root, Options{}, func(any, *Entry) (any, bool) { t.Error("visited"); return nil, true })
	if !errors.Is(err, context.Canceled) || st.Entries != 0 {
		t.Errorf("pre-cancelled: %+v, %v", st, err)
	}
}

func TestWalkRootErrors(t *testing.T) {
	root := t.TempDir()
	create(t, root, tree{"f": file("")})
	nop := func(any, *Entry) (any, bool) { return nil, true }
	if _, err := Walk(context.Background(), filepath.Join(root, "missing"), Options{}, nop); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing root: %v", err)
	}
	if _, err := Walk(context.Background(), filepath.Join(root, "f"), Options{}, nop); !errors.Is(err, unix.ENOTDIR) {
		t.Errorf("file root: %v", err)
	}
}

// A directory replaced by another directory between its lstat and its
// open is not read: its children would not belong to the Entry visited.
func TestWalkDirReplacedByDir(t *testing.T) {
	root := t.TempDir()
	create(t, root, tree{"a/victim/x": file(""), "elsewhere/y": file(""), "a/z": file("")})
	ffs := faultFS{onOpen: map[string]func(){
		"victim": sync.OnceFunc(func() {
			if err := os.RemoveAll(filepath.Join(root, "a/victim")); err != nil {
				t.Error(err)
			}
			if err := os.Rename(filepath.Join(root, "elsewhere"), filepath.Join(root, "a/victim")); err != nil {
				t.Error(err)
			}
		}),
	}}
	var mu sync.Mutex
	errs := map[string]error{}
	var c collector
	st, err := walk(context.Background(), track(t, ffs.fs()), root, Options{Workers: 1, OnError: func(p string, err error) {
		mu.Lock()
		errs[p] = err
		mu.Unlock()
	}}, c.visit, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(errs["/a/victim"], errReplaced) || st.Errors != 1 {
		t.Errorf("errors %v, stats %+v", errs, st)
	}
	for p := range c.entries {
		if strings.HasPrefix(p, "/a/victim/") {
			t.Errorf("read the replacement directory: %q", p)
		}
	}
}

// Entry.Worker names the calling worker: in range, and never in two Visitor
// calls at once, so callers may keep per-worker state without locks.
func TestWalkWorkerIndex(t *testing.T) {
	root := t.TempDir()
	generate(t, root, 11, 3000)
	const workers = 4
	var busy [workers]atomic.Int32
	var bad atomic.Int32
	_, err := Walk(context.Background(), root, Options{Workers: workers}, func(_ any, e *Entry) (any, bool) {
		if e.Worker < 0 || e.Worker >= workers {
			bad.Add(1)
			return nil, false
		}
		if busy[e.Worker].Add(1) != 1 {
			bad.Add(1)
		}
		time.Sleep(time.Microsecond)
		busy[e.Worker].Add(-1)
		return nil, true
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := bad.Load(); n != 0 {
		t.Errorf("%d visits with a worker index out of range or already busy", n)
	}
}

// With TransientPaths, every entry is visited with the same Path (copied
// during the visit) as without, and only entries that are not directories
// are marked Transient: their Path is the worker's buffer, overwritten by
// the next one, as a kept one shows.
func TestWalkTransientPaths(t *testing.T) {
	root := t.TempDir()
	create(t, root, everyKind)
	for _, workers := range []int{1, 4} {
		var mu sync.Mutex
		var got []string
		var kept, copies []string // a transient Path itself, and its copy
		visit := func(_ any, e *Entry) (any, bool) {
			isDir := e.Mode&unix.S_IFMT == unix.S_IFDIR
			if e.Transient == isDir {
				t.Errorf("%q: Transient %v for mode %o", e.Path, e.Transient, e.Mode)
			}
			mu.Lock()
			got = append(got, strings.Clone(e.Path))
			if e.Transient {
				kept, copies = append(kept, e.Path), append(copies, strings.Clone(e.Path))
			}
			mu.Unlock()
			return nil, true
		}
		if _, err := Walk(context.Background(), root, Options{Workers: workers, ReadLinks: true, TransientPaths: true}, visit); err != nil {
			t.Fatal(err)
		}
		var c collector
		if _, err := Walk(context.Background(), root, Options{Workers: workers, ReadLinks: true}, c.visit); err != nil {
			t.Fatal(err)
		}
		slices.Sort(got)
		if want := slices.Sorted(maps.Keys(c.entries)); !slices.Equal(got, want) {
			t.Errorf("workers=%d: paths\n%q\nwant\n%q", workers, got, want)
		}
		if slices.Equal(kept, copies) {
			t.Errorf("workers=%d: no transient path was overwritten: the buffer is not reused", workers)
		}
	}
}
