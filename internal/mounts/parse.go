package mounts

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/nix-drift/drift/internal/pathx"
	"github.com/nix-drift/drift/internal/safefile"
)

// DefaultPath is the mount table ReadFile reads when given an empty name.
const DefaultPath = "/proc/self/mountinfo"

// MaxLineLen bounds one mountinfo line. The kernel writes a whole line at
// once, so lines are as long as their paths and options (overlayfs with many
// lower directories reaches hundreds of KiB); anything longer is refused
// rather than held in memory.
const MaxLineLen = 16 << 20

// MaxMounts bounds the mounts of a table: the kernel refuses more than
// fs.mount-max mounts in a namespace (100,000 by default); a table of
// millions is not a mount table, and would cost gigabytes (about 1 KiB
// per mount while parsing).
const MaxMounts = 250_000

// ParseError is a malformed line of a mount table. Its text is
// "NAME:LINE:COL: expected ..., found ...", with LINE and COL 1-based (COL
// counts bytes) and the found text quoted with %q, so that odd bytes in the
// input print safely.
type ParseError struct {
	Name      string // the name given to Parse, usually a file name
	Line, Col int
	Msg       string
}

// Error returns "NAME:LINE:COL: MSG".
func (e *ParseError) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.Name, e.Line, e.Col, e.Msg)
}

// ReadFile reads and parses the mount table in the file name, in the
// mountinfo format of proc(5). An empty name means DefaultPath
// ("/proc/self/mountinfo"). Errors are those of safefile.Open (a FIFO or
// device is refused at once) and of Parse.
func ReadFile(name string) (*Table, error) {
	return ReadFileContext(context.Background(), name)
}

// ReadFileContext is ReadFile that gives up with ctx's error when ctx is
// done (checked between reads).
func ReadFileContext(ctx context.Context, name string) (*Table, error) {
	if name == "" {
		name = DefaultPath
	}
	f, _, err := safefile.Open(name, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Parse(safefile.Reader(ctx, f), name)
}

// MaxStream bounds a mount table read from a stream (standard input,
// ReadStream), which is held whole: MaxMounts lines of 1 KiB, several
// times any real table (a line is about 150 bytes).
const MaxStream = MaxMounts << 10

// ReadStream reads and parses the mount table r holds (standard input for
// --mountinfo -), named name in errors: at most MaxStream bytes (more is a
// *safefile.TooLargeError), and it gives up with ctx's error once ctx is
// done, even while a read is blocked (safefile.ReadAll). Other errors are
// Parse's.
func ReadStream(ctx context.Context, r io.Reader, name string) (*Table, error) {
	data, err := safefile.ReadAll(ctx, r, safefile.Limit{Name: name, Max: MaxStream, What: "a mount table"})
	if err != nil {
		return nil, err
	}
	return Parse(bytes.NewReader(data), name)
}

// Parse reads a mount table in the mountinfo format of proc(5), one mount per
// line:
//
//	ID PARENT MAJOR:MINOR ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS
//	36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//
// Fields are separated by spaces (tabs are accepted too). There are zero or
// more optional fields (shared:N, master:N, propagate_from:N, unbindable)
// before the lone "-". ROOT, MOUNTPOINT and SOURCE have the kernel's octal
// escapes (\040 space, \011 tab, \012 newline, \134 backslash, and any \NNN
// up to \377) decoded; every other byte, including invalid UTF-8, is kept as
// it is. ROOT is kept exactly (for btrfs it is the subvolume path, and for a
// bind mount the bound path inside the filesystem); MOUNTPOINT must be
// absolute and is cleaned. A missing SUPEROPTIONS at the end of a line is
// accepted as empty; OPTIONS and SUPEROPTIONS stay escaped (see
// Mount.Option). Empty lines are skipped, trailing "\r"s are dropped, and
// Mount.Line records each mount's line.
//
// A malformed line yields a *ParseError naming name, the line and the column,
// and what was expected, e.g.
//
//	mountinfo:3:31: expected optional fields terminated by "-", then FSTYPE SOURCE SUPEROPTIONS; found end of line
//
// Mount IDs must be unique within the table. Parse never panics on any input
// and reads r once, to its end or to the first error.
func Parse(r io.Reader, name string) (*Table, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var ms []Mount
	seen := make(map[int]int) // mount ID -> line
	var long []byte
	for lineNo := 1; ; lineNo++ {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long[:0], line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
				if len(long) > MaxLineLen {
					return nil, &ParseError{name, lineNo, 1, fmt.Sprintf("expected a line of at most %d bytes, found a longer one", MaxLineLen)}
				}
			}
			line = long
		}
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("%s:%d: %w", name, lineNo, err)
		}
		if len(line) > 0 {
			m, perr := parseLine(line, name, lineNo)
			if perr != nil {
				return nil, perr
			}
			if m != nil {
				if len(ms) == MaxMounts {
					return nil, &ParseError{name, lineNo, 1, fmt.Sprintf("expected at most %d mounts (the kernel allows 100000 by default, fs.mount-max), found more", MaxMounts)}
				}
				if first, dup := seen[m.ID]; dup {
					return nil, &ParseError{name, lineNo, 1, fmt.Sprintf("expected a unique mount ID, found %d again (first on line %d)", m.ID, first)}
				}
				seen[m.ID] = lineNo
				ms = append(ms, *m)
			}
		}
		if err == io.EOF {
			break
		}
	}
	if len(ms) == 0 {
		// /proc/self/mountinfo always holds the root's mount at least.
		return nil, &ParseError{name, 1, 1, "expected a mount table (ID PARENT MAJOR:MINOR ROOT MOUNTPOINT …, one mount per line), found no mount"}
	}
	return New(ms), nil
}

// parseLine parses one line (with or without its "\n"); it returns nil, nil
// for an empty line.
func parseLine(b []byte, name string, lineNo int) (*Mount, error) {
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimRight(b, "\r \t") // no field ends the line with "\r"
	line := string(b)

	f := fieldScanner{s: line}
	fail := func(col int, format string, args ...any) error {
		return &ParseError{name, lineNo, col, fmt.Sprintf(format, args...)}
	}
	next := func(what string) (string, int, error) {
		v, col := f.next()
		if v == "" {
			return "", col, fail(col, "expected %s, found end of line", what)
		}
		return v, col, nil
	}

	id, col := f.next()
	if id == "" {
		return nil, nil // empty or blank line
	}
	m := &Mount{Line: lineNo}
	var ok bool
	if m.ID, ok = atoi(id); !ok {
		return nil, fail(col, "expected mount ID (a decimal number), found %s", quote(id))
	}
	v, col, err := next("parent mount ID")
	if err != nil {
		return nil, err
	}
	if m.Parent, ok = atoi(v); !ok {
		return nil, fail(col, "expected parent mount ID (a decimal number), found %s", quote(v))
	}
	if v, col, err = next("MAJOR:MINOR"); err != nil {
		return nil, err
	}
	maj, mnr, found := strings.Cut(v, ":")
	if m.Major, ok = atoi(maj); ok && found {
		m.Minor, ok = atoi(mnr)
	}
	if !ok || !found {
		return nil, fail(col, "expected MAJOR:MINOR (two decimal numbers), found %s", quote(v))
	}
	// badEscape checks the octal escapes of the field v at column col.
	badEscape := func(v string, col int) error {
		if off := checkEscapes(v); off >= 0 {
			return fail(col+off, `expected an octal escape \NNN from \000 to \377 after "\", found %s`, quote(v[off:off+min(4, len(v)-off)]))
		}
		return nil
	}
	if v, col, err = next("root of the mount"); err != nil {
		return nil, err
	}
	if err := badEscape(v, col); err != nil {
		return nil, err
	}
	if r, ok := strings.CutSuffix(v, deletedMark); ok {
		v, m.Replaced = r, true // unlinked since the mount (Mount.Replaced)
		if v == "" {
			v = "/"
		}
	}
	m.Root = Unescape(v)
	if v, col, err = next("mount point"); err != nil {
		return nil, err
	}
	if v[0] != '/' {
		return nil, fail(col, "expected mount point (an absolute path), found %s", quote(v))
	}
	if err := badEscape(v, col); err != nil {
		return nil, err
	}
	m.MountPoint = pathx.Clean(Unescape(v))
	if m.Options, col, err = next("mount options"); err != nil {
		return nil, err
	}
	if err := badEscape(m.Options, col); err != nil {
		return nil, err
	}
	for {
		v, col := f.next()
		if v == "" {
			return nil, fail(col, `expected optional fields terminated by "-", then FSTYPE SOURCE SUPEROPTIONS; found end of line`)
		}
		if v == "-" {
			break
		}
		m.Optional = append(m.Optional, v)
	}
	if m.FSType, _, err = next(`filesystem type after "-"`); err != nil {
		return nil, err
	}
	if v, col, err = next("mount source after the filesystem type"); err != nil {
		return nil, err
	}
	if err := badEscape(v, col); err != nil {
		return nil, err
	}
	m.Source = Unescape(v)
	m.SuperOptions, col = f.next() // may be missing: empty
	if err := badEscape(m.SuperOptions, col); err != nil {
		return nil, err
	}
	if v, col := f.next(); v != "" {
		return nil, fail(col, "expected end of line after super options, found %s", quote(v))
	}
	return m, nil
}

// fieldScanner splits a line on runs of spaces and tabs, the only
// separators: every other byte (including "\r", "\v" and non-ASCII spaces,
// which the kernel does not escape) belongs to a field.
type fieldScanner struct {
	s   string
	pos int
}

// next returns the next field and its 1-based column, or "" and the column
// just past the end of the line.
func (f *fieldScanner) next() (string, int) {
	for f.pos < len(f.s) && isSep(f.s[f.pos]) {
		f.pos++
	}
	start := f.pos
	for f.pos < len(f.s) && !isSep(f.s[f.pos]) {
		f.pos++
	}
	return f.s[start:f.pos], start + 1
}

func isSep(c byte) bool { return c == ' ' || c == '\t' }

// atoi parses a non-negative decimal number of plain digits (no sign, no
// spaces), as the kernel prints them.
func atoi(s string) (int, bool) {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 0)
	return int(n), err == nil
}

// quote prints a found field for an error message: %q-quoted and cut short,
// since lines can be very long.
func quote(s string) string {
	const max = 64
	if len(s) > max {
		return strconv.Quote(s[:max]) + "..."
	}
	return strconv.Quote(s)
}

// Unescape decodes the octal escapes the kernel writes in mountinfo (\040
// space, \011 tab, \012 newline, \134 backslash; any \NNN from \000 to
// \377). A backslash not followed by such an escape is kept literally. It
// does not allocate when s holds no backslash.
func Unescape(s string) string {
	i := strings.IndexByte(s, '\\')
	if i < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	b = append(b, s[:i]...)
	for ; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+3 < len(s) && isOctal(s[i+1]) && s[i+1] <= '3' && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b = append(b, (s[i+1]-'0')<<6|(s[i+2]-'0')<<3|(s[i+3]-'0'))
			i += 3
			continue
		}
		b = append(b, c)
	}
	return string(b)
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// checkEscapes returns the offset in s of the first backslash that does
// not start an escape unescape decodes (\000 to \377), or -1. The kernel
// writes every backslash of a name as \134, so a lone one (\9, \777, a
// trailing \) is not mountinfo.
func checkEscapes(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			continue
		}
		if i+3 >= len(s) || s[i+1] > '3' || !isOctal(s[i+1]) || !isOctal(s[i+2]) || !isOctal(s[i+3]) {
			return i
		}
		i += 3
	}
	return -1
}

// escape is the inverse of unescape for one field: it writes space, tab,
// newline, carriage return and backslash as octal escapes, like the kernel
// (which does not escape "\r"; escaping it keeps a trailing "\r" from being
// dropped as a line ending).
func escape(s string) string {
	if !strings.ContainsAny(s, " \t\n\r\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\n', '\r', '\\':
			fmt.Fprintf(&b, "\\%03o", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
