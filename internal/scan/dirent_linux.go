package scan

import (
	"bytes"
	"unsafe"
)

// DotIno returns the inode number of the "." record in buf, a batch of raw
// linux_dirent64 records from getdents64(2), and whether there is one: what
// a walker checks a directory it opened against (the inode its lstat saw)
// without an fstat. Malformed records end the search.
func DotIno(buf []byte) (uint64, bool) {
	for len(buf) >= 20 {
		reclen := int(*(*uint16)(unsafe.Pointer(&buf[16])))
		if reclen < 20 || reclen > len(buf) {
			break
		}
		if reclen >= 21 && buf[19] == '.' && buf[20] == 0 {
			return *(*uint64)(unsafe.Pointer(&buf[0])), true
		}
		buf = buf[reclen:]
	}
	return 0, false
}

// NextDirent parses the first record of buf, a batch of raw linux_dirent64
// records from getdents64(2) (struct linux_dirent64 { u64 d_ino; s64 d_off;
// u16 d_reclen; u8 d_type; char d_name[]; }). It returns the record's name
// with its NUL (namez[len(namez)-1] == 0), nil for a record to skip (a
// deleted entry, ".", "..", a name without its NUL), the record's d_type,
// and the records after it; rest is nil when buf is malformed (a short
// record, a d_reclen past its end) and the batch ends. Walk and
// WalkPair read their listings with it.
func NextDirent(buf []byte) (namez []byte, typ uint8, rest []byte) {
	if len(buf) < 20 {
		return nil, 0, nil
	}
	reclen := int(*(*uint16)(unsafe.Pointer(&buf[16])))
	if reclen < 20 || reclen > len(buf) {
		return nil, 0, nil
	}
	rec, rest := buf[:reclen], buf[reclen:]
	if *(*uint64)(unsafe.Pointer(&rec[0])) == 0 {
		return nil, 0, rest // deleted entry
	}
	nl := bytes.IndexByte(rec[19:], 0)
	if nl < 0 {
		return nil, 0, rest
	}
	namez = rec[19 : 19+nl+1]
	if namez[0] == '.' && (nl == 1 || nl == 2 && namez[1] == '.') {
		return nil, 0, rest
	}
	return namez, rec[18], rest
}

// ReadLink returns the symlink target read (like readlinkat(2): the length
// read, truncated to the buffer) into *buf, growing *buf until the target
// fits; the error is read's. Walk and WalkPair read
// every symlink with it, each worker through its own *buf.
func ReadLink(buf *[]byte, read func(buf []byte) (int, error)) (string, error) {
	for {
		n, err := read(*buf)
		if err != nil {
			return "", err
		}
		if n < len(*buf) {
			return string((*buf)[:n]), nil
		}
		*buf = make([]byte, 2*len(*buf))
	}
}
