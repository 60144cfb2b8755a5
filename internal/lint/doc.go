// Package lint checks persistence declarations (read by internal/persist),
// and the wipe that makes them matter (the initrd hooks and units that
// replace the root, persist.Initrd), against a registry of rules, each with
// an id, a severity, a one-line message and a fix hint, and returns
// findings at file:line:col; it never prints.
package lint
