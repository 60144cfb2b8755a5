package persist

import (
	"fmt"
	"strconv"
	"strings"
)

// creationUmask is the umask impermanence's activation script runs
// under: NixOS's stage-2 init and switch-to-configuration set none, so it
// is the kernel's initial one for init (and systemd's default for
// services), 0022. It masks only symbolic clauses that name no class
// ("=rwx", "+w").
const creationUmask = 0o022

// DirMode is the mode impermanence gives a directory it creates in
// persistent storage for a declaration with mode s (its
// create-directories.bash runs `mkdir --mode="$mode"`). s is what GNU
// mkdir takes: octal up to 07777 ("0700", "1777"), or chmod's symbolic
// clauses ("u=rwx,g=rx,o=", "go-w", "g=u", "=750"), which mkdir applies
// to a=rwx (0777), not to 0: "u=rwx,g=rx" is 0757. This is GNU's
// mode_adjust (gnulib modechange.c) for a directory: X is x; s sets
// setuid/setgid only for u/g, t the sticky bit only for o or a class-less
// clause; a clause naming no class is masked by the umask (0022). The
// result holds the permission and special bits (07777). One difference
// from the directory mkdir leaves is not modelled: when a clause sets a
// special bit, mkdir creates the directory without group and other write
// first and restores only the bits the clauses name ("+t" leaves 01755
// where this gives 01777). Errors say what was expected; preservation
// writes its mode into tmpfiles.d, which takes octal only, so a symbolic
// mode there is an error of the caller's to report.
func DirMode(s string) (uint32, error) {
	if s == "" {
		return 0, fmt.Errorf("empty mode: expected octal (\"0700\") or chmod's symbolic form (\"u=rwx,g=rx,o=\")")
	}
	if s[0] >= '0' && s[0] <= '7' {
		m, err := strconv.ParseUint(s, 8, 32)
		if err != nil || m > 0o7777 {
			return 0, fmt.Errorf("expected octal up to 07777 or chmod's symbolic form")
		}
		return uint32(m), nil
	}
	m := uint32(0o777)
	for _, clause := range strings.Split(s, ",") {
		var err error
		if m, err = applyClause(m, clause); err != nil {
			return 0, fmt.Errorf("clause %q: %v", clause, err)
		}
	}
	return m, nil
}

// applyClause applies one symbolic clause, [ugoa]*([-+=]([rwxXst]*|[ugo]|[0-7]+))+,
// to the directory mode m, as GNU mode_adjust does.
func applyClause(m uint32, clause string) (uint32, error) {
	i := 0
	var who uint32
	for ; i < len(clause) && strings.IndexByte("ugoa", clause[i]) >= 0; i++ {
		who |= map[byte]uint32{'u': 0o4700, 'g': 0o2070, 'o': 0o1007, 'a': 0o7777}[clause[i]]
	}
	if i == len(clause) {
		return 0, fmt.Errorf("expected an operator (=, + or -)")
	}
	for i < len(clause) {
		op := clause[i]
		if strings.IndexByte("=+-", op) < 0 {
			return 0, fmt.Errorf("expected =, + or - at %q", clause[i:])
		}
		i++
		affected, value, mentioned := who, uint32(0), uint32(0)
		switch {
		case i < len(clause) && clause[i] >= '0' && clause[i] <= '7':
			j := i
			for i < len(clause) && clause[i] >= '0' && clause[i] <= '7' {
				i++
			}
			n, err := strconv.ParseUint(clause[j:i], 8, 32)
			if who != 0 || i < len(clause) || err != nil || n > 0o7777 {
				return 0, fmt.Errorf("expected an octal mode up to 07777 alone after %c", op)
			}
			affected, value, mentioned = 0o7777, uint32(n), 0o7777
		case i < len(clause) && strings.IndexByte("ugo", clause[i]) >= 0:
			// Copy the class's bits as they are now onto all three.
			bits := m >> map[byte]uint{'u': 6, 'g': 3, 'o': 0}[clause[i]] & 7
			value = bits * 0o111
			i++
			if i < len(clause) && strings.IndexByte("=+-", clause[i]) < 0 {
				return 0, fmt.Errorf("expected =, + or - after the class %c copied", clause[i-1])
			}
		default:
			for ; i < len(clause) && strings.IndexByte("=+-", clause[i]) < 0; i++ {
				bit, ok := map[byte]uint32{'r': 0o444, 'w': 0o222, 'x': 0o111, 'X': 0o111, 's': 0o6000, 't': 0o1000}[clause[i]]
				if !ok {
					return 0, fmt.Errorf("%q is not one of rwxXst", clause[i])
				}
				value |= bit
			}
		}
		if mentioned == 0 {
			mentioned = value
			if affected != 0 {
				mentioned &= affected
			}
		}
		// A directory keeps setuid and setgid unless the clause names them.
		omit := 0o6000 &^ mentioned
		if affected != 0 {
			value &= affected &^ omit
		} else {
			value &= 0o7777 &^ creationUmask &^ omit
		}
		switch op {
		case '=':
			preserved := omit
			if affected != 0 {
				preserved |= 0o7777 &^ affected
			}
			m = m&preserved | value
		case '+':
			m |= value
		case '-':
			m &^= value
		}
	}
	return m, nil
}
