// Package fsys is drift's one way to the filesystem's system calls.
//
// It opens paths inside a root directory the one way drift does: by
// openat2(2) relative to a descriptor of the root, with no symlink
// followed in any component (RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|
// RESOLVE_NO_MAGICLINKS), never out of the root, and, where the caller
// writes, never across a mount point (RESOLVE_NO_XDEV); or, for reading a
// configuration as the system it describes sees it, with its links
// resolved as if the root were / (RESOLVE_IN_ROOT). On top of those opens
// it lstats and reads links beneath a root without following them.
//
// It is also the filesystem seam of the walks (internal/scan): FS, the
// descriptor-relative calls they make on NUL-terminated names; Real, the
// kernel's, allocating nothing per call (Getdents, Fstatat, Readlinkat,
// raw system calls where LocalFS says they pay); and, in fsystest, the
// test double every walk's tests wrap it with.
//
// It is a leaf: system calls only, errors are the kernel's (an
// unix.Errno, unwrapped, except that a kernel without openat2, before
// Linux 5.6, is said so). Whether an opened file is a regular file, and
// reading one up to a size cap, is internal/safefile's, which names the
// file in its errors.
package fsys
