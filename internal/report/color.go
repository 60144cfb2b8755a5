package report

import (
	"fmt"
	"strings"

	"github.com/nix-drift/drift/internal/diff"
)

// ColorModes are the values of --color.
var ColorModes = []string{"auto", "always", "never"}

// UseColor decides whether a rendering is coloured: never, no; always,
// yes (an explicit request outranks NO_COLOR, as no-color.org allows);
// auto, only when the output is a terminal, NO_COLOR is unset or empty
// (no-color.org) and TERM is not "dumb". Errors name an unknown mode.
func UseColor(mode string, isTerminal bool, noColor, term string) (bool, error) {
	switch mode {
	case "never":
		return false, nil
	case "always":
		return true, nil
	case "auto", "":
		return isTerminal && noColor == "" && term != "dumb", nil
	}
	return false, fmt.Errorf("--color %q: expected auto, always or never", mode)
}

// SGR colours (ECMA-48 Select Graphic Rendition) per category: the most
// dangerous (declared-unbacked: the user believes it safe) in bold red.
var categoryColors = map[diff.Category]string{
	diff.DeclaredUnbacked: "1;31",
	diff.Unpersisted:      "33",
	diff.Shadowed:         "35",
	diff.Unmounted:        "36",
	diff.Covered:          "1;35",
	diff.Copied:           "2",
	diff.Ignored:          "2",
	diff.Recreated:        "2",
}

// paint colours s with c's colour when on, each space-separated word on
// its own, so that a cell the table wraps at spaces never leaves a colour
// open across its border; s must already be escaped.
func paint(on bool, c diff.Category, s string) string {
	sgr, ok := categoryColors[c]
	if !on || !ok || s == "" {
		return s
	}
	words := strings.Split(s, " ")
	for i, w := range words {
		if w != "" {
			words[i] = "\x1b[" + sgr + "m" + w + "\x1b[0m"
		}
	}
	return strings.Join(words, " ")
}
