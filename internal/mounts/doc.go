// Package mounts parses /proc/self/mountinfo into a Table and answers which
// mount shows a path, comparing paths component by component.
package mounts
