package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"drift": func() { os.Exit(mainRun()) },
	})
}

// TestScripts runs the CLI end to end over testdata/script/*.txtar: real
// main, inline fixtures, assertions on stdout, stderr and exit status.
func TestScripts(t *testing.T) {
	demo, err := filepath.Abs("../../fixtures/demo")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("DEMO", demo)
			return nil
		},
	})
}
