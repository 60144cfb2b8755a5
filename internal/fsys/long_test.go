package fsys

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
	"golang.org/x/sys/unix"
)

// deepName is one component of the deep trees: 200 bytes, so that 40 of
// them make a name of 8,039 bytes, about twice what one openat2 takes
// (PATH_MAX, 4096 with the NUL).
var deepName = strings.Repeat("d", 200)

// mkdirChain makes the directories names, each inside the one before,
// beneath dirFD by mkdirat (a path that long cannot be made by its name)
// and returns a descriptor of the deepest, which the test closes.
func mkdirChain(t *testing.T, dirFD int, names []string) int {
	t.Helper()
	fd, err := unix.Dup(dirFD)
	testutil.Must(t, err)
	for _, n := range names {
		testutil.Must(t, unix.Mkdirat(fd, n, 0o755))
		next, err := unix.Openat(fd, n, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		testutil.Must(t, err)
		unix.Close(fd)
		fd = next
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

// openFDs is how many descriptors the process holds.
func openFDs(t *testing.T) int {
	t.Helper()
	es, err := os.ReadDir("/proc/self/fd")
	testutil.Must(t, err)
	return len(es)
}

// TestLongNamesOpenBeneathTheRoot: a name longer than PATH_MAX (40
// directories of 200 bytes) opens, lstats and reads as a short one does,
// in chunks each beneath the one before; a symlink in any component is
// still refused (ELOOP), in the middle of a chunk or as the last
// component of one (the directory the next chunk starts from), and so is
// a way out; nothing is left open, failed or not. Before, every such name
// was ENAMETOOLONG: drift check counted a copied deep file as lost, and
// drift adopt of it failed.
func TestLongNamesOpenBeneathTheRoot(t *testing.T) {
	root := t.TempDir()
	rootFD, err := OpenRoot(root)
	testutil.Must(t, err)
	defer unix.Close(rootFD)
	names := make([]string, 40)
	for i := range names {
		names[i] = deepName
	}
	deep := mkdirChain(t, rootFD, names)
	testutil.Must(t, os.WriteFile("/proc/self/fd/"+strconv.Itoa(deep)+"/leaf", []byte("deep data\n"), 0o644))
	testutil.Must(t, unix.Symlinkat("leaf", deep, "link"))
	// chunk 1 ends after the 20th component (20×201-1 = 4,019 bytes): a
	// symlink there is where the second chunk would start from.
	for _, at := range []int{19, 25} {
		pfd := mkdirChain(t, rootFD, append([]string{"s" + strconv.Itoa(at)}, names[:at]...))
		testutil.Must(t, unix.Symlinkat(".", pfd, deepName))
	}
	dir := strings.Join(names, "/")
	if len(dir) <= unix.PathMax {
		t.Fatalf("the test's name is %d bytes, not longer than PATH_MAX", len(dir))
	}
	before := openFDs(t)

	fd, err := Open(rootFD, dir+"/leaf", unix.O_RDONLY)
	testutil.Must(t, err)
	buf := make([]byte, 64)
	n, _ := unix.Read(fd, buf)
	unix.Close(fd)
	if string(buf[:n]) != "deep data\n" {
		t.Errorf("Open(deep leaf) read %q", buf[:n])
	}
	fd, err = OpenNoXDev(rootFD, dir, unix.O_RDONLY|unix.O_DIRECTORY)
	testutil.Must(t, err)
	var a, b unix.Stat_t
	testutil.Must(t, unix.Fstat(fd, &a))
	testutil.Must(t, unix.Fstat(deep, &b))
	unix.Close(fd)
	if a.Ino != b.Ino || a.Dev != b.Dev {
		t.Errorf("OpenNoXDev(deep dir) opened inode %d, want %d", a.Ino, b.Ino)
	}
	fd, err = OpenZ(rootFD, []byte(dir+"\x00"), unix.O_PATH|unix.O_DIRECTORY)
	testutil.Must(t, err)
	unix.Close(fd)
	var st unix.Stat_t
	if err := Lstat(rootFD, dir+"/link", &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFLNK {
		t.Errorf("Lstat(deep link) = %v, mode %o; want a symlink, not followed", err, st.Mode)
	}
	if target, err := Readlink(rootFD, dir+"/link"); err != nil || target != "leaf" {
		t.Errorf("Readlink(deep link) = %q, %v", target, err)
	}
	if st, err := StatIn(root, "/"+dir+"/leaf"); err != nil || st.Size != 10 {
		t.Errorf("StatIn(deep leaf) = size %d, %v", st.Size, err)
	}

	for rel, want := range map[string]error{
		dir + "/link":                       unix.ELOOP, // at the end
		dir + "/missing":                    unix.ENOENT,
		dir + "/leaf/x":                     unix.ENOTDIR,
		"s19/" + dir + "/leaf":              unix.ELOOP, // the last component of the first chunk
		"s25/" + dir + "/leaf":              unix.ELOOP, // inside the second chunk
		strings.Repeat("../", 1400) + "etc": unix.EXDEV,
		strings.Repeat("x", 4100) + "/y":    unix.ENAMETOOLONG, // no "/" to cut at
	} {
		fd, err := Open(rootFD, rel, unix.O_RDONLY)
		if err == nil {
			unix.Close(fd)
		}
		if err != want {
			t.Errorf("Open(%.20q… %d bytes) = %v, want %v", rel, len(rel), err, want)
		}
	}
	if err := Lstat(rootFD, dir+"/missing/x", &st); !Absent(err) {
		t.Errorf("Lstat(deep missing) = %v, want one Absent says", err)
	}
	if after := openFDs(t); after != before {
		t.Errorf("%d descriptors open after the long opens, %d before", after, before)
	}
}
