// Package layers checks drift's import graph against its layers: a package
// imports only packages of lower layers, the leaf packages import no drift
// package, only cmd/drift imports the renderer, and the test helpers are
// imported from _test.go files only. The table is the one ARCHITECTURE.md
// shows ("Layers"); TestLayersDocumented keeps the two the same.
package layers
