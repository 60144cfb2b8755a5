package persist

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestReadContextCancelled: a read of a large .nix or JSON input stops
// with ctx's error when ctx is done, instead of running to the end.
func TestReadContextCancelled(t *testing.T) {
	var nix, js strings.Builder
	nix.WriteString("{ environment.persistence.\"/p\".directories = [\n")
	js.WriteString(`{"/p": {"directories": [`)
	for i := range 20000 {
		fmt.Fprintf(&nix, "  \"/var/lib/d%d\"\n", i)
		if i > 0 {
			js.WriteString(",")
		}
		fmt.Fprintf(&js, `"/var/lib/d%d"`, i)
	}
	nix.WriteString("]; }\n")
	js.WriteString("]}}")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for name, data := range map[string]string{"x.nix": nix.String(), "x.json": js.String()} {
		if _, err := ReadContext(ctx, name, strings.NewReader(data), Options{}); !errors.Is(err, context.Canceled) {
			t.Errorf("%s: err %v, want context.Canceled", name, err)
		}
		s, err := ReadContext(context.Background(), name, strings.NewReader(data), Options{})
		if err != nil || len(s.Entries) != 20000 {
			t.Errorf("%s not cancelled: %v, %d entries", name, err, len(s.Entries))
		}
	}
}
