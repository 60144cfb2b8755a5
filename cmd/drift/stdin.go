package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/nix-drift/drift/internal/safefile"
)

// stdinName names standard input in messages ("<stdin>:3: …"), as the
// declarations' reader does.
const stdinName = "<stdin>"

// fileInput is an input a command reads: the flag naming it ("" for an
// argument) and its value, a file or "-" for standard input.
type fileInput struct{ flag, value string }

// flagInputs are the inputs flag names, one per value ("" values, a flag
// not given, left out).
func flagInputs(flag string, values ...string) []fileInput {
	var out []fileInput
	for _, v := range values {
		if v != "" {
			out = append(out, fileInput{flag, v})
		}
	}
	return out
}

// stdinOnce refuses standard input ("-") named by more than one input:
// it can be read only once (--persist - --mountinfo -, or --persist -
// twice). The error names each flag that took it, once.
func stdinOnce(ins []fileInput) error {
	var took []string
	n := 0
	for _, in := range ins {
		if in.value != "-" {
			continue
		}
		n++
		if name := strings.TrimSpace(in.flag + " -"); !slices.Contains(took, name) {
			took = append(took, name)
		}
	}
	if n < 2 {
		return nil
	}
	return fmt.Errorf("%s: standard input can be read only once: give it to one input, name a file for the others", strings.Join(took, " and "))
}

// pipeHint is the hint for err when it refuses a pipe given by its name
// (a fifo, such as a shell's process substitution <(…) names:
// /dev/fd/63): drift never opens one by name, which could wait for ever
// for a writer, but reads standard input when given - in its place. flag
// is the flag that named it ("" for an argument). "" when err is not such
// a refusal.
func pipeHint(err error, flag string) string {
	var nr *safefile.NotRegularError
	if !errors.As(err, &nr) || nr.Type != "fifo" {
		return ""
	}
	use, as := "name - instead", "-"
	if flag != "" {
		use, as = "pass "+flag+" -", flag+" -"
	}
	return "drift never opens a pipe by its name (<(…) gives one), which could block for ever: " + use + " and pipe the content to drift's standard input (COMMAND | drift … " + as + "); standard input feeds one input only"
}

// flagOf is the flag an error message starts with ("--persist: …" or
// "--persist x: …"), "" when it starts with none.
func flagOf(msg string) string {
	if !strings.HasPrefix(msg, "--") {
		return ""
	}
	end := strings.IndexAny(msg, ": =")
	if end < 0 {
		return ""
	}
	return msg[:end]
}
