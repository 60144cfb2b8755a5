package lint

import "regexp"

var (
	// octalMode: chmod(1) and tmpfiles.d(5) take up to four significant
	// octal digits (special bits included: 07777), after a leading 0.
	octalMode = regexp.MustCompile(`^(0?[0-7]{3,4})$`)
	// symbolicMode is chmod(1)'s symbolic form: clauses [ugoa]*([-+=]
	// (perms|[ugo]))+ separated by commas, perms from rwxXst.
	symbolicMode = regexp.MustCompile(`^[ugoa]*([-+=]([rwxXst]*|[ugo]))+(,[ugoa]*([-+=]([rwxXst]*|[ugo]))+)*$`)
)

// checkMode returns why mode is invalid, "" when it is valid: octal (3 or
// 4 digits, or 5 with a leading 0: "0755", "1777", "07777") or symbolic as chmod takes it; tmpfiles (preservation) takes
// octal only.
func checkMode(mode string, octalOnly bool) string {
	switch {
	case octalMode.MatchString(mode):
		return ""
	case symbolicMode.MatchString(mode):
		if octalOnly {
			return "is symbolic: preservation writes it into a tmpfiles.d line, which takes only octal"
		}
		return ""
	}
	return "is neither octal (\"0700\") nor symbolic as chmod takes it (\"u=rwx,g=,o=\")"
}
