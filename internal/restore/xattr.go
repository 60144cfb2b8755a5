package restore

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// xattrIO reads and writes the extended attributes of one object.
type xattrIO struct {
	list func([]byte) (int, error)
	get  func(string, []byte) (int, error)
	set  func(string, []byte) error
}

func fdXattr(fd int) xattrIO {
	return xattrIO{
		list: func(b []byte) (int, error) { return unix.Flistxattr(fd, b) },
		get:  func(n string, b []byte) (int, error) { return unix.Fgetxattr(fd, n, b) },
		set:  func(n string, v []byte) error { return unix.Fsetxattr(fd, n, v, 0) },
	}
}

// procXattr reaches a symlink (which cannot be opened for xattr calls) as
// /proc/self/fd/DIRFD/NAME with the l* calls: the directory is the one
// already opened (a magic link, not a path walked again) and NAME is not
// followed.
func procXattr(dirfd int, name string) xattrIO {
	p := fmt.Sprintf("/proc/self/fd/%d/%s", dirfd, name)
	return xattrIO{
		list: func(b []byte) (int, error) { return unix.Llistxattr(p, b) },
		get:  func(n string, b []byte) (int, error) { return unix.Lgetxattr(p, n, b) },
		set:  func(n string, v []byte) error { return unix.Lsetxattr(p, n, v, 0) },
	}
}

// grow calls f with a buffer large enough for its answer.
func grow(f func([]byte) (int, error)) ([]byte, error) {
	n, err := f(nil)
	for {
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, nil // none (the common case: no second call)
		}
		buf := make([]byte, n+64)
		m, err2 := f(buf)
		if errors.Is(err2, unix.ERANGE) {
			n, err = f(nil)
			continue
		}
		if err2 != nil {
			return nil, err2
		}
		return buf[:m], nil
	}
}

// copyXattrs copies every extended attribute of s to d. A filesystem without
// xattrs on the source side has nothing to copy.
func copyXattrs(s, d xattrIO) error {
	list, err := grow(s.list)
	if errors.Is(err, unix.ENOTSUP) {
		return nil
	}
	if err != nil {
		return err
	}
	var failed []string
	var first error
	for _, name := range strings.Split(strings.TrimRight(string(list), "\x00"), "\x00") {
		if name == "" {
			continue
		}
		val, err := grow(func(b []byte) (int, error) { return s.get(name, b) })
		if errors.Is(err, unix.ENODATA) {
			continue // removed meanwhile
		}
		if err == nil {
			err = d.set(name, val)
		}
		if err != nil {
			failed = append(failed, name)
			if first == nil {
				first = err
			}
		}
	}
	if failed != nil {
		return fmt.Errorf("%s: %w", strings.Join(failed, ", "), first)
	}
	return nil
}

// xattrMap reads every extended attribute of an object, name to value; a
// filesystem without xattrs has none. An attribute removed while it is
// read is left out.
func xattrMap(x xattrIO) (map[string]string, error) {
	list, err := grow(x.list)
	if errors.Is(err, unix.ENOTSUP) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, name := range strings.Split(strings.TrimRight(string(list), "\x00"), "\x00") {
		if name == "" {
			continue
		}
		val, err := grow(func(b []byte) (int, error) { return x.get(name, b) })
		if errors.Is(err, unix.ENODATA) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("xattr %s: %w", name, err)
		}
		out[name] = string(val)
	}
	return out, nil
}
