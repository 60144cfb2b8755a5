// Package output renders drift lint's findings as text, JSON, GitHub
// workflow commands or SARIF 2.1.0; it never reads declarations.
package output
