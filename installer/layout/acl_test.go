package layout

import "testing"

func TestServiceSID(t *testing.T) {
	// Windows' own: NT SERVICE\TrustedInstaller.
	if got, want := ServiceSID("TrustedInstaller"), "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464"; got != want {
		t.Errorf("ServiceSID(TrustedInstaller) = %s, want %s", got, want)
	}
	if ServiceSID("erpbridge") != ServiceSID("ERPBRIDGE") {
		t.Error("the service SID depends on the case of the name")
	}
}

func TestWindowsDACL(t *testing.T) {
	sid := ServiceSID("erpbridge")
	tests := []struct {
		a    Access
		want string
	}{
		{ReadOnly, "D:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;" + sid + ")"},
		{Writable, "D:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1301bf;;;" + sid + ")"},
	}
	for _, tt := range tests {
		if got := WindowsDACL("erpbridge", tt.a); got != tt.want {
			t.Errorf("WindowsDACL(%d) = %s, want %s", tt.a, got, tt.want)
		}
	}
}

func TestSecretsDir(t *testing.T) {
	for _, tt := range []struct{ goos, config, want string }{
		{"windows", `C:\ProgramData\erpbridge\erpbridge.toml`, `C:\ProgramData\erpbridge\secrets`},
		{"linux", "/etc/erpbridge/erpbridge.toml", "/etc/erpbridge/secrets"},
	} {
		if got := SecretsDir(tt.goos, tt.config); got != tt.want {
			t.Errorf("SecretsDir(%s, %s) = %s, want %s", tt.goos, tt.config, got, tt.want)
		}
	}
}
