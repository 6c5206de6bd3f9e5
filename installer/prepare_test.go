package installer

import (
	"context"
	"os/user"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fakeHost records what PrepareLinux asks of the machine.
type fakeHost struct {
	users map[string][2]int
	calls []string
}

var _ Host = (*fakeHost)(nil)

func (h *fakeHost) LookupUser(name string) (int, int, error) {
	ids, ok := h.users[name]
	if !ok {
		return 0, 0, user.UnknownUserError(name)
	}
	return ids[0], ids[1], nil
}

func (h *fakeHost) AddSystemUser(_ context.Context, name, home string) error {
	h.calls = append(h.calls, "useradd "+name+" home "+home)
	h.users[name] = [2]int{990, 985}
	return nil
}

func (h *fakeHost) MkdirOwned(dir string, uid, gid int) error {
	h.calls = append(h.calls, "mkdir "+dir+" "+strconv.Itoa(uid)+":"+strconv.Itoa(gid))
	return nil
}

func (h *fakeHost) GrantGroupRead(file string, gid int) error {
	h.calls = append(h.calls, "group-read "+file+" "+strconv.Itoa(gid))
	return nil
}

func TestPrepareLinux(t *testing.T) {
	tests := []struct {
		name  string
		users map[string][2]int
		spec  func(Spec) Spec
		want  []string
	}{
		{"creates the missing system user and gives it its folders", map[string][2]int{}, func(s Spec) Spec { return s },
			[]string{"useradd erpbridge home /var/lib/erpbridge", "mkdir /var/lib/erpbridge 990:985",
				"mkdir /var/log/erpbridge 990:985", "group-read /etc/erpbridge/erpbridge.toml 985"}},
		{"reuses an existing user", map[string][2]int{"erpbridge": {120, 130}}, func(s Spec) Spec { s.LogDir = ""; return s },
			[]string{"mkdir /var/lib/erpbridge 120:130", "group-read /etc/erpbridge/erpbridge.toml 130"}},
		{"root needs nothing", map[string][2]int{}, func(s Spec) Spec { s.User = "root"; return s }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &fakeHost{users: tt.users}
			if err := PrepareLinux(t.Context(), h, tt.spec(linuxSpec())); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, h.calls); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
		})
	}
}
