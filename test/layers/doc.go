// Package layers checks drift's import graph against its layers: a package
// imports only packages of lower layers, the leaf packages import no drift
// package, only cmd/drift imports the renderer, and the test helpers are
// imported from _test.go files only. The table is the one ARCHITECTURE.md
// shows ("Layers"); TestLayersDocumented keeps the two the same. Two house
// rules are checked here too: no non-test Go file over 600 lines
// (TestFilesStayUnderTheLimit), and no test that skips without a
// DRIFT_REQUIRE_* variable making the skip a failure (TestSkipsAreRequired).
package layers
