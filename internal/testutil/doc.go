// Package testutil holds what drift's tests share: failing on an error
// (Must), one file or symlink written with its parents (WriteFile,
// WriteFileMode, Symlink), fixture trees written from a line spec (Tree)
// or, with modes, owners and times, from a map of nodes (Build), a chain
// of nested directories deeper than PATH_MAX and a file written beneath a
// descriptor (MkdirChain, WriteFileAt), the skip
// that turns into a failure when a DRIFT_REQUIRE_* variable asks for the
// test (SkipOrFatal; RequireHost for root and a common tool), and the
// private mount namespace a real-btrfs test runs in (Namespace) with the
// check that this host can run one (Prepare). It imports no drift
// package, and only _test.go files import it (test/layers checks both).
package testutil
