package lint

import (
	"regexp"

	"github.com/nix-drift/drift/internal/persist"
)

// octalMode: chmod(1) and tmpfiles.d(5) take up to four significant
// octal digits (special bits included: 07777), after a leading 0.
var octalMode = regexp.MustCompile(`^(0?[0-7]{3,4})$`)

// checkMode returns why mode is invalid, "" when it is valid: octal (3 or
// 4 digits, or 5 with a leading 0: "0755", "1777", "07777") or symbolic as
// impermanence's mkdir --mode takes it (persist.DirMode); tmpfiles
// (preservation) takes octal only.
func checkMode(mode string, octalOnly bool) string {
	if octalMode.MatchString(mode) {
		return ""
	}
	if mode != "" && (mode[0] < '0' || mode[0] > '7') {
		if _, err := persist.DirMode(mode); err == nil {
			if octalOnly {
				return "is symbolic: preservation writes it into a tmpfiles.d line, which takes only octal"
			}
			return ""
		}
	}
	return "is neither octal (\"0700\") nor symbolic as chmod takes it (\"u=rwx,g=,o=\")"
}
