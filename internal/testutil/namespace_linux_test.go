package testutil

import "testing"

// Prepare skips, or fails when the Require variable is 1, on a host
// without a tool the tests need.
func TestPrepareMissingTool(t *testing.T) {
	for _, tc := range []struct {
		env             string
		wantFatal, skip bool
	}{{"1", true, false}, {"", false, true}} {
		t.Setenv("DRIFT_REQUIRE_TESTUTIL", tc.env)
		f := &fakeT{}
		func() {
			defer func() { recover() }()
			Namespace{Require: "DRIFT_REQUIRE_TESTUTIL"}.Prepare(f, "frobnication tests", "drift-no-such-tool")
		}()
		if (f.fatal != "") != tc.wantFatal || (f.skip != "") != tc.skip {
			t.Errorf("DRIFT_REQUIRE_TESTUTIL=%q: fatal %q, skip %q", tc.env, f.fatal, f.skip)
		}
	}
}
