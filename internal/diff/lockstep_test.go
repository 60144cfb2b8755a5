package diff

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	ifsys "github.com/nix-drift/drift/internal/fsys"
	"golang.org/x/sys/unix"

	"github.com/nix-drift/drift/internal/fsys/fsystest"
	"github.com/nix-drift/drift/internal/scan"
	"github.com/nix-drift/drift/internal/testutil"
)

// fdPath is where the descriptor fd points.
var fdPath = fsystest.FDPath

// listing renders c's differences as "path change" lines, in c's order.
func listing(c *Comparison) []string {
	var out []string
	for _, d := range c.Diffs {
		out = append(out, d.Path+" "+d.Change.String())
	}
	return out
}

// pair makes the seed tree in a and b below one temporary directory.
func pair(t *testing.T) (a, b string) {
	base := t.TempDir()
	a, b = filepath.Join(base, "a"), filepath.Join(base, "b")
	seedTree(t, a)
	seedTree(t, b)
	return a, b
}

func compareWith(t *testing.T, a, b string, fs *fsystest.FS, quick bool) *Comparison {
	t.Helper()
	c, err := Compare(context.Background(), a, b, CompareOptions{Quick: quick, Workers: 2, fs: fs})
	testutil.Must(t, err)
	fs.Check(t)
	return c
}

// TestCompareTypeChange: a name both trees hold with different types is
// meta (type); the subtree of the side that is a directory is walked on
// that side alone; a fifo is never read.
func TestCompareTypeChange(t *testing.T) {
	for _, quick := range []bool{false, true} {
		a, b := pair(t)
		// f: file -> directory; d: directory -> file; link: symlink -> file;
		// g: file -> fifo.
		testutil.Must(t, os.Remove(filepath.Join(b, "f")))
		testutil.Must(t, os.Mkdir(filepath.Join(b, "f"), 0o755))
		testutil.WriteFile(t, filepath.Join(b, "f/c"), "c")
		testutil.Must(t, os.RemoveAll(filepath.Join(b, "d")))
		testutil.WriteFile(t, filepath.Join(b, "d"), "d")
		testutil.Must(t, os.Remove(filepath.Join(b, "link")))
		testutil.WriteFile(t, filepath.Join(b, "link"), "f")
		testutil.Must(t, os.Remove(filepath.Join(b, "g")))
		testutil.Must(t, unix.Mkfifo(filepath.Join(b, "g"), 0o644))
		c := compareWith(t, a, b, &fsystest.FS{}, quick)
		want := []string{"/d meta", "/d/e removed", "/d/e/y removed", "/d/x removed", "/f meta", "/f/c added", "/g meta", "/link meta"}
		if got := listing(c); !reflect.DeepEqual(got, want) {
			t.Errorf("quick=%v: %q, want %q", quick, got, want)
		}
		for _, d := range c.Diffs {
			if d.Change == Meta && d.What != WhatType {
				t.Errorf("%s: what %v, want type", d.Path, d.What.Names())
			}
		}
	}
}

// TestCompareOneSidedSubtree: a subtree only one tree has is listed path
// by path, each with its entry (a symlink's target read), and counted.
func TestCompareOneSidedSubtree(t *testing.T) {
	a, b := pair(t)
	testutil.Must(t, os.MkdirAll(filepath.Join(a, "old/p/q"), 0o755))
	testutil.WriteFile(t, filepath.Join(a, "old/p/q/file"), "x")
	testutil.Must(t, os.Symlink("/nowhere", filepath.Join(a, "old/p/lnk")))
	testutil.Must(t, os.MkdirAll(filepath.Join(b, "new/r"), 0o755))
	testutil.Must(t, unix.Mkfifo(filepath.Join(b, "new/r/fifo"), 0o600))
	c := compareWith(t, a, b, &fsystest.FS{}, false)
	want := []string{"/new added", "/new/r added", "/new/r/fifo added", "/old removed", "/old/p removed", "/old/p/lnk removed", "/old/p/q removed", "/old/p/q/file removed"}
	if got := listing(c); !reflect.DeepEqual(got, want) {
		t.Errorf("%q, want %q", got, want)
	}
	if c.Counts[Added] != 3 || c.Counts[Removed] != 5 {
		t.Errorf("counts %v", c.Counts)
	}
	for _, d := range c.Diffs {
		e := d.A
		if d.Change == Added {
			e = d.B
		}
		if e == nil || e.Path != d.Path || (d.A != nil) == (d.B != nil) {
			t.Errorf("%s: entries A %v B %v", d.Path, d.A, d.B)
		}
		if d.Path == "/old/p/lnk" && e.Target != "/nowhere" {
			t.Errorf("%s: target %q", d.Path, e.Target)
		}
	}
}

// TestCompareCounts: identical trees: every path is same (the root
// included), and full mode compares the content of every regular file
// while --quick, with equal mtimes, reads none.
func TestCompareCounts(t *testing.T) {
	a, b := pair(t)
	for _, quick := range []bool{false, true} {
		c := compareWith(t, a, b, &fsystest.FS{}, quick)
		// /, f, g, d, d/x, d/e, d/e/y, link, sparse
		if c.Counts[Same] != 9 || c.Differ() {
			t.Errorf("quick=%v: counts %v, diffs %q", quick, c.Counts, listing(c))
		}
		if want := map[bool]int64{false: 5, true: 0}[quick]; c.Hashed != want {
			t.Errorf("quick=%v: %d files compared, want %d", quick, c.Hashed, want)
		}
	}
}

// TestCompareVanished: an entry gone between its directory's listing and
// its lstat (or open) is absent on that side; a directory gone between its
// lstat and its open is an error, and nothing below it is counted.
func TestCompareVanished(t *testing.T) {
	removeOn := func(root, name string, dir bool) func(int, string, int) error {
		var once sync.Once
		return func(dirfd int, n string, flags int) error {
			if n == name && (flags&unix.O_DIRECTORY != 0) == dir && strings.HasPrefix(fdPath(dirfd), root) {
				once.Do(func() { os.RemoveAll(filepath.Join(fdPath(dirfd), n)) })
			}
			return nil
		}
	}
	cases := []struct {
		name  string
		quick bool
		hook  func(a, b string) *fsystest.FS
		want  []string
	}{
		{"file gone from A before its open", false, func(a, b string) *fsystest.FS {
			return &fsystest.FS{OnOpen: removeOn(a, "f", false)}
		}, []string{"/f added"}},
		{"file gone from B before its lstat (quick)", true, func(a, b string) *fsystest.FS {
			return &fsystest.FS{OnFstatat: func(dirfd int, n string) error {
				return removeOn(b, "x", false)(dirfd, n, 0)
			}}
		}, []string{"/d/x removed"}},
		{"symlink gone from both before its lstat", false, func(a, b string) *fsystest.FS {
			return &fsystest.FS{OnFstatat: func(dirfd int, n string) error {
				if n == "link" {
					os.Remove(filepath.Join(fdPath(dirfd), n))
				}
				return nil
			}}
		}, nil},
		{"directory gone from B before its open", false, func(a, b string) *fsystest.FS {
			return &fsystest.FS{OnOpen: removeOn(b, "e", true)}
		}, []string{"/d/e error"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, b := pair(t)
			c := compareWith(t, a, b, tc.hook(a, b), tc.quick)
			if got := listing(c); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%q, want %q", got, tc.want)
			}
		})
	}
}

// TestCompareDirErrorOneSide: a directory one side cannot open or list is
// an error naming that side, not the removal (or addition) of what the
// other side holds below it.
func TestCompareDirErrorOneSide(t *testing.T) {
	cases := []struct {
		name string
		hook func(a, b string) *fsystest.FS
		side string
	}{
		{"A: open EACCES", func(a, b string) *fsystest.FS {
			return &fsystest.FS{OnOpen: func(dirfd int, n string, flags int) error {
				if n == "d" && flags&unix.O_DIRECTORY != 0 && fdPath(dirfd) == a {
					return unix.EACCES
				}
				return nil
			}}
		}, "A: openat2: permission denied"},
		{"B: getdents EIO", func(a, b string) *fsystest.FS {
			return &fsystest.FS{OnGetdents: func(fd int) error {
				if fdPath(fd) == filepath.Join(b, "d") {
					return unix.EIO
				}
				return nil
			}}
		}, "B: getdents64: input/output error"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, b := pair(t)
			testutil.Must(t, os.RemoveAll(filepath.Join(a, "d/e")))   // would be added
			testutil.WriteFile(t, filepath.Join(b, "d/x"), "changed") // would be changed
			c := compareWith(t, a, b, tc.hook(a, b), false)
			if got, want := listing(c), []string{"/d error"}; !reflect.DeepEqual(got, want) {
				t.Fatalf("%q, want %q", got, want)
			}
			if got := c.Diffs[0].Err.Error(); got != tc.side {
				t.Errorf("error %q, want %q", got, tc.side)
			}
		})
	}
}

// TestCompareReplacedWhileCompared: a file replaced by a fifo between the
// listing and its open is classified from what was opened and never read
// (full mode), or is an error when it was lstat'ed as a file first
// (quick); a directory replaced by a symlink before its open is an error
// and the symlink is not followed.
func TestCompareReplacedWhileCompared(t *testing.T) {
	toFifo := func(b string) *fsystest.FS {
		var once sync.Once
		return &fsystest.FS{OnOpen: func(dirfd int, n string, flags int) error {
			if n == "f" && flags&unix.O_DIRECTORY == 0 && fdPath(dirfd) == b {
				once.Do(func() {
					p := filepath.Join(b, "f")
					os.Remove(p)
					unix.Mkfifo(p, 0o644)
				})
			}
			return nil
		}}
	}
	t.Run("file to fifo", func(t *testing.T) {
		a, b := pair(t)
		c := compareWith(t, a, b, toFifo(b), false)
		if got, want := listing(c), []string{"/f meta"}; !reflect.DeepEqual(got, want) || c.Diffs[0].What != WhatType {
			t.Errorf("%q, want %q (type)", got, want)
		}
	})
	t.Run("file to fifo, quick", func(t *testing.T) {
		a, b := pair(t)
		testutil.Must(t, os.Chtimes(filepath.Join(b, "f"), time.Now(), time.Now()))
		c := compareWith(t, a, b, toFifo(b), true)
		if got, want := listing(c), []string{"/f error"}; !reflect.DeepEqual(got, want) || !errors.Is(c.Diffs[0].Err, errReplacedFile) {
			t.Errorf("%q, want %q (%v)", got, want, c.Diffs)
		}
	})
	t.Run("directory to symlink", func(t *testing.T) {
		a, b := pair(t)
		c := compareWith(t, a, b, &fsystest.FS{OnOpen: func(dirfd int, n string, flags int) error {
			if n == "d" && flags&unix.O_DIRECTORY != 0 && fdPath(dirfd) == b {
				p := filepath.Join(b, "d")
				if fi, err := os.Lstat(p); err == nil && fi.IsDir() {
					testutil.Must(t, os.RemoveAll(p))
					testutil.Must(t, os.Symlink(a, p))
				}
			}
			return nil
		}}, false)
		if got, want := listing(c), []string{"/d error"}; !reflect.DeepEqual(got, want) || !errors.Is(c.Diffs[0].Err, scan.ErrDirReplaced) {
			t.Errorf("%q, want %q (%v)", got, want, c.Diffs)
		}
	})
}

// deepPair makes two trees of nested directories, B with one file
// changed in each leaf directory.
func deepPair(t *testing.T) (a, b string, want int) {
	base := t.TempDir()
	a, b = filepath.Join(base, "a"), filepath.Join(base, "b")
	for _, r := range []string{a, b} {
		for i := range 6 {
			for j := range 5 {
				d := filepath.Join(r, "l"+strconv.Itoa(i), "m"+strconv.Itoa(j), "n")
				testutil.Must(t, os.MkdirAll(d, 0o755))
				testutil.WriteFile(t, filepath.Join(d, "same"), "s")
				content := "a"
				if r == b {
					content = "b"
				}
				testutil.WriteFile(t, filepath.Join(d, "f"), content)
			}
		}
	}
	return a, b, 30
}

// TestCompareFewDescriptors: with one directory descriptor kept for
// children, the others are reopened from the roots by path: same result,
// nothing left open.
func TestCompareFewDescriptors(t *testing.T) {
	a, b, want := deepPair(t)
	for _, pinned := range []int{1, 0} {
		fs := &fsystest.FS{}
		c, err := Compare(context.Background(), a, b, CompareOptions{Workers: 4, fs: fs, maxPinned: pinned})
		testutil.Must(t, err)
		fs.Check(t)
		if len(c.Diffs) != want || c.Counts[Changed] != int64(want) {
			t.Errorf("maxPinned %d: %d diffs %v, want %d changed", pinned, len(c.Diffs), c.Counts, want)
		}
	}
}

// reversed makes fs list the directories below b in the reverse of the
// kernel's order, so that the merge has to sort.
func reversed(fs *fsystest.FS, b string) {
	fs.OnListing = func(fd int, buf []byte) {
		if !strings.HasPrefix(fdPath(fd), b) {
			return
		}
		var recs [][]byte
		for rest := buf; len(rest) >= 19; {
			reclen := int(*(*uint16)(unsafe.Pointer(&rest[16])))
			recs = append(recs, slices.Clone(rest[:reclen]))
			rest = rest[reclen:]
		}
		out := buf[:0]
		for i := len(recs) - 1; i >= 0; i-- {
			out = append(out, recs[i]...)
		}
	}
}

// TestCompareListingOrder: listings in different orders are sorted before
// the merge; equal trees stay equal, a change is still found.
func TestCompareListingOrder(t *testing.T) {
	a, b, want := deepPair(t)
	fs := &fsystest.FS{}
	reversed(fs, b)
	c, err := Compare(context.Background(), a, b, CompareOptions{Workers: 2, fs: fs})
	testutil.Must(t, err)
	fs.Check(t)
	// /, l*, l*/m*, l*/m*/n and each n's same file.
	if len(c.Diffs) != want || c.Counts[Changed] != int64(want) || c.Counts[Same] != 1+6+30+30+30 {
		t.Errorf("%d diffs, counts %v; want %d changed", len(c.Diffs), c.Counts, want)
	}
}

// TestCompareCancel: a cancelled comparison returns the context's error
// promptly and closes every descriptor.
func TestCompareCancel(t *testing.T) {
	a, b, _ := deepPair(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var n sync.Mutex
	calls := 0
	fs := &fsystest.FS{OnGetdents: func(int) error {
		n.Lock()
		defer n.Unlock()
		if calls++; calls == 20 {
			cancel()
		}
		return nil
	}}
	_, err := Compare(ctx, a, b, CompareOptions{Workers: 3, fs: fs})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err %v, want context.Canceled", err)
	}
	fs.Check(t)
}

// TestOpenLeased: a file another process holds a write lease on refuses a
// non-blocking open (EWOULDBLOCK) until the lease is broken, up to
// lease-break-time (45 s) later: opens give up after a few retries instead
// of spinning, and Compare reports the file as an error.
func TestOpenLeased(t *testing.T) {
	a, b := pair(t)
	p := filepath.Join(b, "f")
	fd, err := unix.Open(p, unix.O_RDWR|unix.O_CLOEXEC, 0)
	testutil.Must(t, err)
	defer unix.Close(fd)
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETLEASE, unix.F_WRLCK); err != nil {
		testutil.SkipOrFatal(t, testutil.RequireHost, fmt.Sprintf("cannot take a lease here: %v", err))
	}
	root, err := openRoot(b)
	testutil.Must(t, err)
	defer unix.Close(root)
	done := make(chan error, 2)
	go func() {
		f, err := ifsys.Real{}.OpenBeneath(root, []byte("f\x00"), fileFlags)
		if err == nil {
			unix.Close(f)
		}
		done <- err
	}()
	go func() {
		f, err := ifsys.OpenRead(root, "f")
		if err == nil {
			unix.Close(f)
		}
		done <- err
	}()
	for range 2 {
		select {
		case err := <-done:
			if err != unix.EAGAIN {
				t.Errorf("open of a leased file: %v, want EAGAIN", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("open of a leased file still retrying after 10 s")
		}
	}
	c := compareWith(t, a, b, &fsystest.FS{}, false)
	if got, want := listing(c), []string{"/f error"}; !reflect.DeepEqual(got, want) || !errors.Is(c.Diffs[0].Err, unix.EAGAIN) {
		t.Errorf("%q, want %q (%v)", got, want, c.Diffs)
	}
}

// TestCompareLongPaths: a directory whose path is longer than PATH_MAX,
// reopened from the root (no parent descriptor kept), is opened one
// component at a time.
func TestCompareLongPaths(t *testing.T) {
	a, b := pair(t)
	comp := strings.Repeat("n", 250)
	var rel string
	for s, root := range []string{a, b} {
		fd, err := openRoot(root)
		testutil.Must(t, err)
		rel = ""
		for range 20 { // 20 × 251 bytes: beyond PATH_MAX (4096)
			testutil.Must(t, unix.Mkdirat(fd, comp, 0o755))
			next, err := unix.Openat(fd, comp, unix.O_RDONLY|unix.O_DIRECTORY, 0)
			testutil.Must(t, err)
			unix.Close(fd)
			fd = next
			rel += "/" + comp
		}
		content := []string{"a", "b"}[s]
		f, err := unix.Openat(fd, "leaf", unix.O_CREAT|unix.O_WRONLY, 0o644)
		testutil.Must(t, err)
		_, err = unix.Write(f, []byte(content))
		testutil.Must(t, err)
		unix.Close(f)
		unix.Close(fd)
	}
	t.Cleanup(func() {
		// os.RemoveAll copes with long paths.
		os.RemoveAll(a)
		os.RemoveAll(b)
	})
	fs := &fsystest.FS{}
	c, err := Compare(context.Background(), a, b, CompareOptions{Workers: 2, fs: fs, maxPinned: 1})
	testutil.Must(t, err)
	fs.Check(t)
	if got, want := listing(c), []string{rel + "/leaf changed"}; !reflect.DeepEqual(got, want) {
		for _, g := range got {
			t.Errorf("got …%s", g[max(0, len(g)-60):])
		}
		t.Errorf("want …%s", want[0][len(want[0])-60:])
	}
}

// TestCompareNestedSubvolume: a directory on another device than its
// parent is read when it lies on the root's mount (a nested btrfs
// subvolume: same mount ID), not when it is a mount point (another mount
// ID), and is an error when its mount ID cannot be read. The device is
// faked (OnStat); real nested subvolumes are in test/e2e.
func TestCompareNestedSubvolume(t *testing.T) {
	a, b := pair(t)
	for _, root := range []string{a, b} {
		testutil.Must(t, os.MkdirAll(filepath.Join(root, "box/inner"), 0o755))
	}
	testutil.WriteFile(t, filepath.Join(a, "box/inner/os-release"), "ID=nixos\n")
	testutil.WriteFile(t, filepath.Join(b, "box/inner/os-release"), "ID=debian\n")
	testutil.WriteFile(t, filepath.Join(b, "box/new"), "x")
	fd, err := unix.Open(a, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	testutil.Must(t, err)
	var stx unix.Statx_t
	err = unix.Statx(fd, "", unix.AT_EMPTY_PATH, unix.STATX_MNT_ID, &stx)
	unix.Close(fd)
	testutil.Must(t, err)
	if stx.Mask&unix.STATX_MNT_ID == 0 {
		testutil.SkipOrFatal(t, testutil.RequireHost, "statx gives no mount ID here")
	}
	rootMnt := stx.Mnt_id
	subvol := func(name string, st *unix.Stat_t) {
		if name == "box" || name == "inner" {
			st.Dev += 1000 // its own anonymous device, as a subvolume has
		}
	}
	for _, tc := range []struct {
		name    string
		id      func(string) (uint64, error)
		want    []string
		nested  int64
		failed  int64
		subtree bool
	}{
		{"nested subvolume", func(string) (uint64, error) { return rootMnt, nil },
			[]string{"/box/inner/os-release changed", "/box/new added"}, 2, 0, true},
		{"mount point", func(string) (uint64, error) { return rootMnt + 1, nil }, nil, 0, 0, false},
		{"mount ID unknown", func(string) (uint64, error) { return 0, unix.EOPNOTSUPP },
			[]string{"/box error", "/box error"}, 0, 2, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := &fsystest.FS{OnStat: subvol, OnMountID: tc.id}
			c := compareWith(t, a, b, fs, false)
			if got := listing(c); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%q, want %q", got, tc.want)
			}
			if c.Nested != tc.nested || c.Counts[Failed] != tc.failed {
				t.Errorf("%d nested subvolumes read, %d failed; want %d, %d", c.Nested, c.Counts[Failed], tc.nested, tc.failed)
			}
			// Same: the root, the seed's 8 paths and /box, plus /box/inner
			// when the subtree is read.
			if want := map[bool]int64{false: 10, true: 11}[tc.subtree]; c.Counts[Same] != want {
				t.Errorf("%d same, want %d", c.Counts[Same], want)
			}
		})
	}
}
