package diff

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	ifsys "github.com/nix-drift/drift/internal/fsys"
	"github.com/nix-drift/drift/internal/fsys/fsystest"
	"github.com/nix-drift/drift/internal/scan"
	"github.com/nix-drift/drift/internal/testutil"
)

var baseTime = time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)

// seedTree writes the tree every mutation case starts from, identically
// (contents, modes, mtimes) in A and B.
func seedTree(t *testing.T, root string) {
	t.Helper()
	write := func(p, content string) {
		testutil.WriteFile(t, filepath.Join(root, p), content)
	}
	testutil.Must(t, os.MkdirAll(filepath.Join(root, "d/e"), 0o755))
	write("f", "hello world")
	write("g", "HELLO WORLD") // f's size, other bytes
	write("d/x", "x")
	write("d/e/y", "y")
	testutil.Must(t, os.Symlink("f", filepath.Join(root, "link")))
	sparse(t, filepath.Join(root, "sparse"), 1<<20, 0, "data")
	for _, p := range []string{"f", "g", "d/x", "d/e/y", "sparse"} {
		testutil.Must(t, os.Chtimes(filepath.Join(root, p), baseTime, baseTime))
	}
}

// sparse makes p a file of size bytes, all hole but data at off.
func sparse(t *testing.T, p string, size, off int64, data string) {
	t.Helper()
	f, err := os.OpenFile(p, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	testutil.Must(t, err)
	defer f.Close()
	testutil.Must(t, f.Truncate(size))
	_, err = f.WriteAt([]byte(data), off)
	testutil.Must(t, err)
}

// restoreTime sets p's mtime back to the seed's.
func restoreTime(t *testing.T, p string) {
	testutil.Must(t, os.Chtimes(p, baseTime, baseTime))
}

type mutation struct {
	name   string
	modify func(t *testing.T, b string)
	quick  bool
	open   func(name string) error // an error opening the file name (tests as root cannot chmod a file unreadable)
	want   map[string]Change
	what   map[string]What
}

var mutations = []mutation{
	{name: "nothing", modify: func(*testing.T, string) {}},
	{name: "same content, new mtime", modify: func(t *testing.T, b string) {
		testutil.Must(t, os.Chtimes(filepath.Join(b, "f"), time.Now(), time.Now()))
	}},
	{name: "same content, new mtime, quick (hashed: same)", quick: true, modify: func(t *testing.T, b string) {
		testutil.Must(t, os.Chtimes(filepath.Join(b, "f"), time.Now(), time.Now()))
	}},
	{name: "new content, old mtime restored", modify: func(t *testing.T, b string) {
		testutil.WriteFile(t, filepath.Join(b, "f"), "HELLO world")
		restoreTime(t, filepath.Join(b, "f"))
	}, want: map[string]Change{"/f": Changed}, what: map[string]What{"/f": WhatContent}},
	{name: "new content, old mtime restored, quick (not seen: documented)", quick: true, modify: func(t *testing.T, b string) {
		testutil.WriteFile(t, filepath.Join(b, "f"), "HELLO world")
		restoreTime(t, filepath.Join(b, "f"))
	}},
	{name: "new content and mtime, quick", quick: true, modify: func(t *testing.T, b string) {
		testutil.WriteFile(t, filepath.Join(b, "f"), "HELLO world")
	}, want: map[string]Change{"/f": Changed}},
	{name: "appended", modify: func(t *testing.T, b string) {
		testutil.WriteFile(t, filepath.Join(b, "d/x"), "xx")
	}, want: map[string]Change{"/d/x": Changed}},
	{name: "file becomes symlink", modify: func(t *testing.T, b string) {
		p := filepath.Join(b, "f")
		testutil.Must(t, os.Remove(p))
		testutil.Must(t, os.Symlink("g", p))
	}, want: map[string]Change{"/f": Meta}, what: map[string]What{"/f": WhatType}},
	{name: "symlink target changed", modify: func(t *testing.T, b string) {
		p := filepath.Join(b, "link")
		testutil.Must(t, os.Remove(p))
		testutil.Must(t, os.Symlink("g", p))
	}, want: map[string]Change{"/link": Meta}, what: map[string]What{"/link": WhatTarget}},
	{name: "mode change", modify: func(t *testing.T, b string) {
		testutil.Must(t, os.Chmod(filepath.Join(b, "f"), 0o4755))
	}, want: map[string]Change{"/f": Meta}, what: map[string]What{"/f": WhatMode}},
	{name: "owner change", modify: func(t *testing.T, b string) {
		if os.Geteuid() != 0 {
			testutil.SkipOrFatal(t, testutil.RequireHost, "chown needs root")
		}
		testutil.Must(t, os.Lchown(filepath.Join(b, "d/x"), 1234, 5678))
	}, want: map[string]Change{"/d/x": Meta}, what: map[string]What{"/d/x": WhatOwner}},
	{name: "content and mode change", modify: func(t *testing.T, b string) {
		p := filepath.Join(b, "f")
		testutil.WriteFile(t, p, "HELLO world")
		testutil.Must(t, os.Chmod(p, 0o600))
	}, want: map[string]Change{"/f": Changed}, what: map[string]What{"/f": WhatContent | WhatMode}},
	{name: "hard link to an identical file", modify: func(t *testing.T, b string) {
		testutil.WriteFile(t, filepath.Join(b, "twin"), "hello world")
		testutil.Must(t, os.Remove(filepath.Join(b, "f")))
		testutil.Must(t, os.Link(filepath.Join(b, "twin"), filepath.Join(b, "f")))
	}, want: map[string]Change{"/twin": Added}},
	{name: "hard link to another file", modify: func(t *testing.T, b string) {
		testutil.Must(t, os.Remove(filepath.Join(b, "f")))
		testutil.Must(t, os.Link(filepath.Join(b, "g"), filepath.Join(b, "f")))
	}, want: map[string]Change{"/f": Changed}},
	{name: "sparse file with data moved", modify: func(t *testing.T, b string) {
		p := filepath.Join(b, "sparse")
		sparse(t, p, 1<<20, 512<<10, "data")
		restoreTime(t, p)
	}, want: map[string]Change{"/sparse": Changed}},
	{name: "sparse file made dense, same bytes", modify: func(t *testing.T, b string) {
		p := filepath.Join(b, "sparse")
		buf := make([]byte, 1<<20)
		copy(buf, "data")
		testutil.Must(t, os.WriteFile(p, buf, 0o644))
		restoreTime(t, p)
	}},
	{name: "unreadable file", open: func(rel string) error {
		if rel == "g" {
			return unix.EACCES
		}
		return nil
	}, modify: func(*testing.T, string) {}, want: map[string]Change{"/g": Failed}},
	{name: "file replaced by a directory", modify: func(t *testing.T, b string) {
		testutil.Must(t, os.Remove(filepath.Join(b, "g")))
		testutil.Must(t, os.Mkdir(filepath.Join(b, "g"), 0o755))
		testutil.WriteFile(t, filepath.Join(b, "g/new"), "n")
	}, want: map[string]Change{"/g": Meta, "/g/new": Added}, what: map[string]What{"/g": WhatType}},
	{name: "directory removed", modify: func(t *testing.T, b string) {
		testutil.Must(t, os.RemoveAll(filepath.Join(b, "d")))
	}, want: map[string]Change{"/d": Removed, "/d/x": Removed, "/d/e": Removed, "/d/e/y": Removed}},
}

// TestCompareMutations seeds two identical trees, mutates B one way, and
// demands exactly the expected differences.
func TestCompareMutations(t *testing.T) {
	for _, m := range mutations {
		t.Run(m.name, func(t *testing.T) {
			a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
			seedTree(t, a)
			seedTree(t, b)
			m.modify(t, b)
			fs := &fsystest.FS{}
			if m.open != nil {
				fs.OnOpen = func(_ int, name string, flags int) error {
					if flags&unix.O_DIRECTORY != 0 {
						return nil
					}
					return m.open(name)
				}
			}
			opts := CompareOptions{Quick: m.quick, Workers: 3, fs: fs}
			c, err := Compare(context.Background(), a, b, opts)
			testutil.Must(t, err)
			fs.Check(t)
			got := map[string]Change{}
			for _, d := range c.Diffs {
				got[d.Path] = d.Change
				if w, ok := m.what[d.Path]; ok && d.What != w {
					t.Errorf("%s: what = %v, want %v", d.Path, d.What.Names(), w.Names())
				}
				if d.Change == Failed && d.Err == nil {
					t.Errorf("%s: failed without an error", d.Path)
				}
			}
			want := m.want
			if want == nil {
				want = map[string]Change{}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("differences %v, want %v", got, want)
			}
			if c.Differ() != (len(want) > 0) {
				t.Errorf("Differ() = %v with %v", c.Differ(), got)
			}
		})
	}
}

// TestWhatChangedHashOnlyWhenNeeded: the pure decision asks for content
// only for regular files of equal size, and with quick only when the
// mtimes differ; a hashing error is Failed, not a crash.
func TestWhatChangedHashOnlyWhenNeeded(t *testing.T) {
	reg := func(size, mtime int64) *scan.Entry {
		return &scan.Entry{Path: "/f", Mode: unix.S_IFREG | 0o644, Size: size, Mtime: mtime}
	}
	boom := errors.New("boom")
	cases := []struct {
		name      string
		a, b      *scan.Entry
		quick     bool
		same      bool
		err       error
		wantCalls int
		want      Change
	}{
		{"size differs: no hash", reg(1, 1), reg(2, 1), false, true, nil, 0, Changed},
		{"same size: hashed, same", reg(1, 1), reg(1, 2), false, true, nil, 1, Same},
		{"same size: hashed, differs", reg(1, 1), reg(1, 1), false, false, nil, 1, Changed},
		{"quick, same mtime: no hash", reg(1, 1), reg(1, 1), true, false, nil, 0, Same},
		{"quick, new mtime: hashed", reg(1, 1), reg(1, 2), true, false, nil, 1, Changed},
		{"hash error", reg(1, 1), reg(1, 1), false, false, boom, 1, Failed},
		{"type differs: no hash", reg(1, 1), &scan.Entry{Mode: unix.S_IFLNK | 0o777, Size: 1}, false, true, nil, 0, Meta},
		{"directories: no hash", &scan.Entry{Mode: unix.S_IFDIR | 0o755, Size: 4096}, &scan.Entry{Mode: unix.S_IFDIR | 0o755, Size: 8192}, false, false, nil, 0, Same},
	}
	for _, c := range cases {
		calls := 0
		got, _, err := WhatChanged(c.a, c.b, c.quick, func() (bool, error) { calls++; return c.same, c.err })
		if got != c.want || calls != c.wantCalls || !errors.Is(err, c.err) {
			t.Errorf("%s: %v, %d calls, %v; want %v, %d calls, %v", c.name, got, calls, err, c.want, c.wantCalls, c.err)
		}
	}
}

// TestCompareIgnore: an ignored path and what is below it are in neither
// tree.
func TestCompareIgnore(t *testing.T) {
	a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	seedTree(t, a)
	seedTree(t, b)
	testutil.Must(t, os.RemoveAll(filepath.Join(b, "d")))
	testutil.WriteFile(t, filepath.Join(b, "f"), "HELLO world")
	var ig Ignore
	testutil.Must(t, ig.Add("/d", "test"))
	testutil.Must(t, ig.Add("f", "test"))
	c, err := Compare(context.Background(), a, b, CompareOptions{Ignore: &ig})
	testutil.Must(t, err)
	if len(c.Diffs) != 0 {
		t.Errorf("diffs %+v, want none", c.Diffs)
	}
}

// TestCompareUnreadableDirectory: a directory B cannot read is an error
// (besides its mode change), not a removal of everything A has below it; a
// file that cannot be opened is an error too. Run as root, the test runs
// itself again as nobody (root reads mode 000 files).
func TestCompareUnreadableDirectory(t *testing.T) {
	base := os.Getenv("DRIFT_TEST_NOBODY")
	if base == "" {
		base = unreadableFixture(t)
		if os.Geteuid() == 0 {
			asNobody(t, base, "^TestCompareUnreadableDirectory$")
			return
		}
	}
	c, err := Compare(context.Background(), filepath.Join(base, "a"), filepath.Join(base, "b"), CompareOptions{})
	testutil.Must(t, err)
	var got []string
	for _, d := range c.Diffs {
		got = append(got, d.Path+" "+d.Change.String())
	}
	want := []string{"/d meta", "/d error", "/g error"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("differences %q, want %q", got, want)
	}
}

// unreadableFixture makes A and B, B's /d searchable but not readable and
// B's /g unreadable, all below a directory anyone can search.
func unreadableFixture(t *testing.T) string {
	base := t.TempDir()
	a, b := filepath.Join(base, "a"), filepath.Join(base, "b")
	seedTree(t, a)
	seedTree(t, b)
	testutil.Must(t, os.Chmod(filepath.Join(b, "d"), 0o311))
	testutil.Must(t, os.Chmod(filepath.Join(b, "g"), 0))
	t.Cleanup(func() { os.Chmod(filepath.Join(b, "d"), 0o755) })
	return base
}

// asNobody runs the test binary (copied next to the fixture) again, the
// tests matching run only, as uid and gid 65534 on the fixture at base.
func asNobody(t *testing.T, base, run string) {
	for _, dir := range []string{filepath.Dir(base), base} {
		fi, err := os.Stat(dir)
		testutil.Must(t, err)
		testutil.Must(t, os.Chmod(dir, fi.Mode().Perm()|0o005))
	}
	self, err := os.Executable()
	testutil.Must(t, err)
	data, err := os.ReadFile(self)
	testutil.Must(t, err)
	bin := filepath.Join(base, "diff.test")
	testutil.Must(t, os.WriteFile(bin, data, 0o755))
	cmd := exec.Command(bin, "-test.run", run, "-test.v")
	cmd.Dir = base
	cmd.Env = append(os.Environ(), "DRIFT_TEST_NOBODY="+base)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS") {
		t.Errorf("as nobody: %v\n%s", err, out)
	}
}

// TestCompareDeterministic: the parallel comparison gives the same result
// every time.
func TestCompareDeterministic(t *testing.T) {
	a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	for _, r := range []string{a, b} {
		for i := range 40 {
			d := filepath.Join(r, "dir", string(rune('a'+i%20)), string(rune('a'+i)))
			testutil.Must(t, os.MkdirAll(d, 0o755))
			for j := range 20 {
				testutil.WriteFile(t, filepath.Join(d, string(rune('a'+j))), "content")
			}
		}
	}
	for i := range 40 {
		testutil.WriteFile(t, filepath.Join(b, "dir", string(rune('a'+i%20)), string(rune('a'+i)), "c"), "CONTENT")
	}
	var first []Difference
	for range 5 {
		c, err := Compare(context.Background(), a, b, CompareOptions{Workers: 4})
		testutil.Must(t, err)
		if len(c.Diffs) != 40 {
			t.Fatalf("%d diffs, want 40", len(c.Diffs))
		}
		paths := make([]Difference, len(c.Diffs))
		for i, d := range c.Diffs {
			paths[i] = Difference{Path: d.Path, Change: d.Change, What: d.What}
		}
		if first == nil {
			first = paths
		} else if !reflect.DeepEqual(paths, first) {
			t.Fatalf("results differ between runs")
		}
	}
}

func TestCompareRootErrors(t *testing.T) {
	d := t.TempDir()
	testutil.WriteFile(t, filepath.Join(d, "file"), "x")
	if _, err := Compare(context.Background(), filepath.Join(d, "nowhere"), d, CompareOptions{}); err == nil {
		t.Error("missing A: no error")
	}
	if _, err := Compare(context.Background(), d, filepath.Join(d, "file"), CompareOptions{}); err == nil {
		t.Error("B a file: no error")
	}
}

// TestHashNeverThroughSymlink: files are opened below the root with no
// symlink in any component, and must be the file walked.
func TestHashNeverThroughSymlink(t *testing.T) {
	root := t.TempDir()
	testutil.Must(t, os.Mkdir(filepath.Join(root, "real"), 0o755))
	testutil.WriteFile(t, filepath.Join(root, "real/f"), "x")
	testutil.Must(t, os.Symlink("real", filepath.Join(root, "lnk")))
	testutil.Must(t, os.Symlink("real/f", filepath.Join(root, "flnk")))
	fd, err := openRoot(root)
	testutil.Must(t, err)
	defer unix.Close(fd)
	for _, rel := range []string{"lnk/f", "flnk", "../" + filepath.Base(root) + "/real/f"} {
		if f, err := ifsys.OpenRead(fd, rel); err == nil {
			unix.Close(f)
			t.Errorf("ifsys.OpenRead(%q) succeeded", rel)
		}
	}
	var st unix.Stat_t
	testutil.Must(t, unix.Stat(filepath.Join(root, "real/f"), &st))
	hs := newHasher(nil)
	if _, err := hs.file(fd, &scan.Entry{Path: "/real/f", Ino: st.Ino + 1, Size: 1}, true); !errors.Is(err, errReplacedFile) {
		t.Errorf("another inode: %v, want errReplacedFile", err)
	}
	if _, err := hs.file(fd, &scan.Entry{Path: "/real/f", Ino: st.Ino, Size: 1}, true); err != nil {
		t.Errorf("the file walked: %v", err)
	}
}

// TestCompareBigFiles: files of mmapMin bytes and more are hashed through a
// mapping, a window at a time; one byte changed at the end is seen.
func TestCompareBigFiles(t *testing.T) {
	a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	data := make([]byte, mmapWindow+mmapMin+123)
	for i := range data {
		data[i] = byte(i * 13)
	}
	for _, r := range []string{a, b} {
		testutil.Must(t, os.MkdirAll(r, 0o755))
		testutil.Must(t, os.WriteFile(filepath.Join(r, "same"), data, 0o644))
	}
	testutil.Must(t, os.WriteFile(filepath.Join(a, "changed"), data, 0o644))
	data[len(data)-1]++
	testutil.Must(t, os.WriteFile(filepath.Join(b, "changed"), data, 0o644))
	c, err := Compare(context.Background(), a, b, CompareOptions{})
	testutil.Must(t, err)
	if len(c.Diffs) != 1 || c.Diffs[0].Path != "/changed" || c.Diffs[0].Change != Changed || c.Counts[Same] != 2 {
		t.Errorf("diffs %+v, counts %v; want /changed changed, 2 same", c.Diffs, c.Counts)
	}
}

// TestMappedShrunk: a file that shrinks while mapped is an error, not a
// crash (SIGBUS recovered), hashed or compared.
func TestMappedShrunk(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	testutil.Must(t, os.WriteFile(p, make([]byte, 1<<20), 0o644))
	fd, err := unix.Open(p, unix.O_RDONLY, 0)
	testutil.Must(t, err)
	defer unix.Close(fd)
	testutil.Must(t, os.Truncate(p, 4096))
	hs := newHasher(nil)
	if err := hs.mapped(fd, 0, 4<<20); err == nil {
		t.Error("hashing past the end of a shrunk file: no error")
	}
	if eq, err := mappedEqual(context.Background(), fd, fd, 0, 4<<20); eq || err == nil {
		t.Errorf("comparing past the end of a shrunk file: %v, %v; want an error", eq, err)
	}
}

// TestCompareKeepsAtime: reading a file to hash it leaves its access time.
func TestCompareKeepsAtime(t *testing.T) {
	a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	seedTree(t, a)
	seedTree(t, b)
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, r := range []string{a, b} {
		testutil.Must(t, os.Chtimes(filepath.Join(r, "f"), old, baseTime))
	}
	_, err := Compare(context.Background(), a, b, CompareOptions{})
	testutil.Must(t, err)
	for _, r := range []string{a, b} {
		var st unix.Stat_t
		testutil.Must(t, unix.Stat(filepath.Join(r, "f"), &st))
		if got := time.Unix(st.Atim.Unix()); !got.Equal(old) {
			t.Errorf("%s/f: atime %v after the comparison, want %v", r, got, old)
		}
	}
}

// TestSameFiles: the digest of history's content check (hasher.sameFiles)
// sees one byte changed anywhere, in read pieces and mapped windows and at
// their boundaries, and calls files with the same bytes the same whatever
// their holes.
func TestSameFiles(t *testing.T) {
	dir := t.TempDir()
	root, err := openRoot(dir)
	testutil.Must(t, err)
	defer unix.Close(root)
	entry := func(name string) *scan.Entry {
		var st unix.Stat_t
		testutil.Must(t, unix.Lstat(filepath.Join(dir, name), &st))
		return &scan.Entry{Path: "/" + name, Ino: st.Ino, Size: st.Size}
	}
	hs := newHasher(nil)
	same := func(a, b string) bool {
		t.Helper()
		ok, err := hs.sameFiles(root, entry(a), root, entry(b))
		testutil.Must(t, err)
		return ok
	}
	for _, size := range []int{0, 1, hashBuf - 1, hashBuf, hashBuf + 1, 3*hashBuf + 5, mmapMin, mmapMin + 1, mmapWindow + mmapMin + 123} {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(i*13 + i>>9)
		}
		testutil.Must(t, os.WriteFile(filepath.Join(dir, "a"), data, 0o644))
		testutil.Must(t, os.WriteFile(filepath.Join(dir, "b"), data, 0o644))
		if !same("a", "b") {
			t.Errorf("size %d: identical files differ", size)
		}
		for _, at := range []int{0, hashBuf - 1, hashBuf, size / 2, mmapWindow - 1, mmapWindow, size - 1} {
			if at < 0 || at >= size {
				continue
			}
			data[at]++
			testutil.Must(t, os.WriteFile(filepath.Join(dir, "b"), data, 0o644))
			if same("a", "b") {
				t.Errorf("size %d: byte %d changed, files called the same", size, at)
			}
			data[at]--
		}
	}
	// Holes: the same bytes sparse and dense are the same; data moved is not.
	sparse(t, filepath.Join(dir, "s1"), 4<<20, 2<<20, "data")
	dense := make([]byte, 4<<20)
	copy(dense[2<<20:], "data")
	testutil.Must(t, os.WriteFile(filepath.Join(dir, "d1"), dense, 0o644))
	sparse(t, filepath.Join(dir, "s2"), 4<<20, 3<<20, "data")
	if !same("s1", "d1") || same("s1", "s2") || same("d1", "s2") {
		t.Errorf("sparse/dense: s1=d1 %v, s1=s2 %v, d1=s2 %v; want true, false, false", same("s1", "d1"), same("s1", "s2"), same("d1", "s2"))
	}
	// A file of holes only (no data extent at all) is the same as its zeros
	// written out.
	sparse(t, filepath.Join(dir, "h1"), 4<<20, 0, "")
	testutil.Must(t, os.WriteFile(filepath.Join(dir, "z1"), make([]byte, 4<<20), 0o644))
	if !same("h1", "z1") || !same("z1", "h1") || same("h1", "d1") {
		t.Errorf("all hole: h1=z1 %v, z1=h1 %v, h1=d1 %v; want true, true, false", same("h1", "z1"), same("z1", "h1"), same("h1", "d1"))
	}
	// A file written, or truncated, while it is read is an error, never
	// a digest.
	for name, change := range map[string]func(fd int) error{
		"written":   func(fd int) error { _, err := unix.Pwrite(fd, []byte("x"), 0); return err },
		"truncated": func(fd int) error { return unix.Ftruncate(fd, 1) },
	} {
		testutil.Must(t, os.WriteFile(filepath.Join(dir, "w"), dense, 0o644))
		e := entry("w")
		hs.read = func(int) {
			f, err := os.OpenFile(filepath.Join(dir, "w"), os.O_WRONLY, 0)
			testutil.Must(t, err)
			testutil.Must(t, change(int(f.Fd())))
			f.Close()
		}
		_, err := hs.file(root, e, true)
		hs.read = nil
		if !errors.Is(err, errChangedFile) {
			t.Errorf("%s while read: %v, want errChangedFile", name, err)
		}
	}
}
