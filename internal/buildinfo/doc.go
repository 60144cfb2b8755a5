// Package buildinfo says which drift this is: module version, VCS commit and
// Go version, from the binary's embedded build information and link-time
// overrides.
package buildinfo
