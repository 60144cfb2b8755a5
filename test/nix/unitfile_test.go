package nixtest

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/nix-drift/drift/internal/testutil"
)

// unitFile is a unit the module defines, written as NixOS writes it: the
// unit file's text, the symbolic links its wantedBy and requiredBy become
// (NixOS writes no [Install] section), and the job scripts NixOS makes of
// its script and preStop (ExecStart and ExecStop then name them).
type unitFile struct {
	Name    string
	Text    string
	Links   []string          // "initrd.target.wants/drift-wipe.service", …
	Scripts map[string]string // store path: text
}

// nixosUnit renders the module's definition u of the unit name (with its
// suffix: .service or .timer) as nixpkgs' systemd-lib does: [Unit] from
// description, after, before, requires, wants, restartIfChanged
// (X-RestartIfChanged) and unitConfig; [Service] from path (PATH=), the
// scripts and serviceConfig, or [Timer] from timerConfig; a list value as
// one line per element; true and false as "true" and "false". A script or
// preStop becomes a job script ("#!<bash>\nset -e\n" and the text) run by
// ExecStart or ExecStop. Errors: an attribute it does not know how to
// render.
func nixosUnit(name string, u map[string]any, bash string) (unitFile, error) {
	f := unitFile{Name: name, Scripts: map[string]string{}}
	base := strings.TrimSuffix(strings.TrimSuffix(name, ".service"), ".timer")
	var b strings.Builder
	line := func(key string, v any) {
		if l, ok := v.([]any); ok {
			for _, x := range l {
				fmt.Fprintf(&b, "%s=%s\n", key, value(x))
			}
			return
		}
		fmt.Fprintf(&b, "%s=%s\n", key, value(v))
	}
	section := func(m map[string]any) {
		for _, k := range sortedKeys(m) {
			line(k, m[k])
		}
	}
	known := map[string]bool{"wantedBy": true, "requiredBy": true, "unitConfig": true, "serviceConfig": true, "timerConfig": true,
		"script": true, "preStop": true, "path": true, "description": true, "restartIfChanged": true}
	b.WriteString("[Unit]\n")
	for _, k := range []struct{ opt, key string }{{"after", "After"}, {"before", "Before"}, {"requires", "Requires"}, {"wants", "Wants"}} {
		known[k.opt] = true
		if l := strs(u[k.opt]); len(l) > 0 {
			fmt.Fprintf(&b, "%s=%s\n", k.key, strings.Join(l, " "))
		}
	}
	if d, ok := u["description"]; ok {
		fmt.Fprintf(&b, "Description=%s\n", d)
	}
	if r, ok := u["restartIfChanged"]; ok {
		fmt.Fprintf(&b, "X-RestartIfChanged=%s\n", value(r))
	}
	uc, _ := u["unitConfig"].(map[string]any)
	section(uc)
	if tc, ok := u["timerConfig"].(map[string]any); ok {
		b.WriteString("\n[Timer]\n")
		section(tc)
	} else {
		b.WriteString("\n[Service]\n")
		sc := copyMap(u["serviceConfig"].(map[string]any))
		if p := strs(u["path"]); len(p) > 0 {
			var dirs []string
			for _, d := range p {
				dirs = append(dirs, d+"/bin", d+"/sbin")
			}
			fmt.Fprintf(&b, "Environment=\"PATH=%s\"\n", strings.Join(dirs, ":"))
		}
		for _, js := range []struct{ opt, key, suffix string }{{"script", "ExecStart", "start"}, {"preStop", "ExecStop", "pre-stop"}} {
			s, ok := u[js.opt].(string)
			if !ok {
				continue
			}
			if _, ok := sc[js.key]; ok {
				return f, fmt.Errorf("%s: both %s and %s", name, js.opt, js.key)
			}
			p := "/nix/store/11111111111111111111111111111111-unit-script-" + base + "-" + js.suffix + "/bin/" + base + "-" + js.suffix
			f.Scripts[p] = "#!" + bash + "\nset -e\n" + s
			sc[js.key] = p
		}
		section(sc)
	}
	var unknown []string
	for k := range u {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return f, fmt.Errorf("%s: cannot render %q", name, unknown)
	}
	for _, t := range strs(u["wantedBy"]) {
		f.Links = append(f.Links, t+".wants/"+f.Name)
	}
	for _, t := range strs(u["requiredBy"]) {
		f.Links = append(f.Links, t+".requires/"+f.Name)
	}
	f.Text = b.String()
	return f, nil
}

// value is a unit file value as systemd-lib's toOption writes it.
func value(v any) string {
	switch x := v.(type) {
	case bool:
		if x {
			return "true"
		}
		return "false"
	case float64:
		return fmt.Sprint(int64(x))
	}
	return fmt.Sprint(v)
}

func copyMap(m map[string]any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// install writes the unit into dir (an /etc/systemd/system) with its
// links, and its job script below root.
func (f unitFile) install(t *testing.T, root, dir string) {
	t.Helper()
	testutil.WriteFileMode(t, filepath.Join(dir, f.Name), f.Text, 0o644)
	for _, l := range f.Links {
		p := filepath.Join(dir, l)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("../"+f.Name, p); err != nil {
			t.Fatal(err)
		}
	}
	for p, text := range f.Scripts {
		testutil.WriteFileMode(t, filepath.Join(root, p), text, 0o755)
	}
}
