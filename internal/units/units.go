// Package units writes counts and sizes for people, the same way in every
// drift message and report: "1 path", "3 paths", "1.5 KiB".
package units

import "fmt"

// Plural is n with the singular or the plural word: "1 path", "2 paths".
func Plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// Bytes formats a size in bytes with binary units: "0 B", "512 B",
// "1.5 KiB", "1.0 GiB".
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
