package escape

import "strings"

// Shell returns s as one word for a shell: as is when it holds only safe
// characters; in single quotes when Name leaves it alone (a quote written
// '"'"', no backslash); otherwise as a dollar-single-quoted word ($'…',
// POSIX.1-2024, bash, zsh, ksh) with Name's \\, \n, \t, \r and \xHH plus
// \' for a quote, so that a name with a control byte, a backslash or
// invalid UTF-8 is still exactly that name, and the result never holds a
// raw control character.
func Shell(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:@,=%") == "" {
		return s
	}
	if Name(s) == s {
		return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
	}
	return "$'" + strings.ReplaceAll(Name(s), "'", `\'`) + "'"
}

// Nix quotes s as a Nix string ("…", with \\, \", \${ and \n \t \r
// escaped). ok is false when s holds a byte no Nix string escape can
// write printably (another control character, invalid UTF-8, a bidi
// override): such a path cannot be declared as it is.
func Nix(s string) (string, bool) {
	if rest := nixEscapable.Replace(s); Name(rest) != rest {
		return "", false
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "${", `\${`, "\n", `\n`, "\t", `\t`, "\r", `\r`)
	return `"` + r.Replace(s) + `"`, true
}

// nixEscapable removes what a Nix string can escape, so that Name can
// judge the rest.
var nixEscapable = strings.NewReplacer("\\", "", "\n", "", "\t", "", "\r", "")

// CopyCommand is the shell command that copies src to dst keeping every
// attribute, sharing extents where the filesystem can (cp -a
// --reflink=auto): with dir, the contents of the directory src into the
// directory dst (src/. dst/), else the object src to dst. Each path is one
// word (Shell), so the command runs as printed.
func CopyCommand(src, dst string, dir bool) string {
	if dir {
		src, dst = src+"/.", dst+"/"
	}
	return "cp -a --reflink=auto " + Shell(src) + " " + Shell(dst)
}

// DriftCommand is the command line of drift sub (its words: "adopt",
// "prune --undo ID"; each word quoted) run against the system the command
// that prints it audited: root, when not "" or "/", as --root, then args
// (diff.Audit.Args: the declarations and mount table it was given, flag
// and value pairs), then operands. Every word is one shell word (Shell),
// so the command runs as printed and reaches the same system, never the
// host's / in place of --root's.
func DriftCommand(sub []string, root string, args []string, operands ...string) string {
	var b strings.Builder
	b.WriteString("drift")
	for _, w := range sub {
		b.WriteString(" " + Shell(w))
	}
	if root != "" && root != "/" {
		b.WriteString(" --root " + Shell(root))
	}
	for _, a := range args {
		b.WriteString(" " + Shell(a))
	}
	for _, o := range operands {
		b.WriteString(" " + Shell(o))
	}
	return b.String()
}
