package nixtest

import (
	"strings"
	"testing"
)

// TestModuleRehearse: services.drift.wipe.rehearse = true evaluates to no
// wipe at boot (scripted initrd: no drift wipe in postResumeCommands;
// systemd stage 1: no drift-wipe unit) and the shutdown audit on, even
// with auditOnShutdown.enable unset; the same settings without rehearse
// wipe and audit nothing at shutdown.
func TestModuleRehearse(t *testing.T) {
	for _, tc := range []struct{ name, system string }{
		{"scripted", `{ environment.persistence = ` + impermanence + `; }`},
		{"systemd", `{ boot.initrd.systemd.enable = true; environment.persistence = ` + impermanence + `; }`},
	} {
		for _, rehearse := range []bool{true, false} {
			settings := `{ enable = true; wipe = { enable = true; device = "/dev/disk/by-partlabel/disk-main-root"; rehearse = ` + map[bool]string{true: "true", false: "false"}[rehearse] + `; }; }`
			v, err := evalModule(t, "--arg", "settings", settings, "--arg", "system", tc.system)
			if err != nil {
				t.Fatalf("%s rehearse=%v: %v", tc.name, rehearse, err)
			}
			cfg := v["config"]
			hook, _ := dig(cfg, "boot", "initrd", "postResumeCommands", "content").(string)
			wipes := dig(cfg, "boot", "initrd", "systemd", "services", "drift-wipe") != nil || strings.Contains(hook, " wipe --device ")
			audit := dig(cfg, "systemd", "services", "drift-audit-shutdown") != nil
			if wipes == rehearse || audit != rehearse {
				t.Errorf("%s rehearse=%v: wipes at boot %v, shutdown audit %v", tc.name, rehearse, wipes, audit)
			}
		}
	}
}

// dig is v's value at path, nil when a step is missing.
func dig(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}
