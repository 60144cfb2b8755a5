package scan

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nix-drift/drift/internal/testutil"
)

// unknownFS reports every listed entry with d_type DT_UNKNOWN, as some
// filesystems do: Walk must then lstat to learn types.
type unknownFS struct{ fsys }

func (u unknownFS) getdents(fd int, buf []byte) (int, error) {
	n, err := u.fsys.getdents(fd, buf)
	for b := buf[:max(n, 0)]; len(b) >= 20; {
		reclen := int(b[16]) | int(b[17])<<8
		if reclen < 20 || reclen > len(b) {
			break
		}
		b[18] = unix.DT_UNKNOWN
		b = b[reclen:]
	}
	return n, err
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
						var fs fsys = realFS{raw: raw}
						if unknown {
							fs = unknownFS{fs}
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
			fsys:    realFS{},
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
		st, err := walk(context.Background(), track(t, ffs), root, Options{ReadLinks: true, OnError: func(p string, err error) {
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

// A raw call interrupted (EINTR: the scheduler's preemption signal, passed
// on by an interrupt-aware FUSE server) is retried as a plain call, not
// raw again, which could loop for ever.
func TestRawEINTR(t *testing.T) {
	defer func(f func(uintptr, uintptr, uintptr, uintptr) (uintptr, uintptr, unix.Errno)) {
		rawSyscall = f
	}(rawSyscall)
	defer func(f func(uintptr, uintptr, uintptr, uintptr, uintptr, uintptr, uintptr) (uintptr, uintptr, unix.Errno)) {
		rawSyscall6 = f
	}(rawSyscall6)
	var calls atomic.Int64
	rawSyscall = func(uintptr, uintptr, uintptr, uintptr) (uintptr, uintptr, unix.Errno) {
		calls.Add(1)
		return 0, 0, unix.EINTR
	}
	rawSyscall6 = func(uintptr, uintptr, uintptr, uintptr, uintptr, uintptr, uintptr) (uintptr, uintptr, unix.Errno) {
		calls.Add(1)
		return 0, 0, unix.EINTR
	}
	root := t.TempDir()
	create(t, root, tree{"a/f": file("12345"), "b": link("a")})
	var n int64
	var mu sync.Mutex
	st, err := walk(context.Background(), track(t, realFS{raw: true}), root, Options{Workers: 2}, func(_ any, e *Entry) (any, bool) {
		mu.Lock()
		if e.Path == "/a/f" {
			n = e.Size
		}
		mu.Unlock()
		return 1, true
	}, 0)
	if err != nil || st.Entries != 4 || st.Errors != 0 || n != 5 {
		t.Errorf("walk with every raw call interrupted: %+v, %v; /a/f size %d", st, err, n)
	}
	if calls.Load() == 0 {
		t.Error("no raw call made: the test tests nothing")
	}
}

// Raw calls are made below local filesystems only (LocalFS).
func TestLocalFS(t *testing.T) {
	for dir, want := range map[string]bool{"/proc": false, "/sys": false, t.TempDir(): true} {
		var fs unix.Statfs_t
		testutil.Must(t, unix.Statfs(dir, &fs))
		if want && !slices.Contains([]uint32{unix.BTRFS_SUPER_MAGIC, unix.EXT4_SUPER_MAGIC, unix.XFS_SUPER_MAGIC, unix.TMPFS_MAGIC}, uint32(fs.Type)) {
			t.Logf("%s is on f_type %#x: not checked", dir, fs.Type)
			continue
		}
		fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
		testutil.Must(t, err)
		if got := LocalFS(fd); got != want {
			t.Errorf("LocalFS(%s) = %v, want %v", dir, got, want)
		}
		unix.Close(fd)
	}
}
