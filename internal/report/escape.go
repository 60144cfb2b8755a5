package report

import (
	"github.com/nix-drift/drift/internal/escape"
	"github.com/nix-drift/drift/internal/units"
)

// Escape makes a file name safe to print on a terminal and unambiguous on
// one line (escape.Name).
func Escape(s string) string { return escape.Name(s) }

// SafeText makes a message safe to print on a terminal (escape.Text).
func SafeText(s string) string { return escape.Text(s) }

// Plural is n with the singular or the plural word: "1 path", "2 paths"
// (units.Plural).
func Plural(n int64, one, many string) string { return units.Plural(n, one, many) }

// HumanBytes formats a size in bytes with binary units: "0 B", "512 B",
// "1.5 KiB", "1.0 GiB" (units.Bytes).
func HumanBytes(n int64) string { return units.Bytes(n) }
