package knowledge

import "testing"

func TestEtcStaticLink(t *testing.T) {
	for _, tt := range []struct {
		p, target string
		want      bool
	}{
		{"/etc/resolv.conf", "/etc/static/resolv.conf", true},
		{"/etc/ssh/sshd_config", "/etc/static/ssh/sshd_config", true},
		{"/etc/ssh/sshd_config", "/etc/static/../x", false},
		{"/etc/x", "/etc/staticx/x", false},
		{"/etc/x", "static/x", false},
		{"/var/x", "/etc/static/x", false},
		{"/etc/machine-id", "/nix/persist/etc/machine-id", false},
	} {
		if got := EtcStaticLink(tt.p, tt.target); got != tt.want {
			t.Errorf("EtcStaticLink(%s, %s) = %v, want %v", tt.p, tt.target, got, tt.want)
		}
	}
	if EtcManaged("/etc/ssh/sshd_config", nil) == "" || EtcManaged("/etc/app/a.conf", []string{"app/a.conf"}) != "environment.etc" ||
		EtcManaged("/etc/machine-id", []string{"app/a.conf"}) != "" || EtcManaged("/srv/a.conf", []string{"a.conf"}) != "" {
		t.Error("EtcManaged")
	}
}
