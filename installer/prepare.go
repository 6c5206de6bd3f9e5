package installer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
)

// Host is what preparing a Linux install needs from the machine; the
// production one is SystemHost.
type Host interface {
	// LookupUser returns the user's uid and primary gid, or an error
	// wrapping user.UnknownUserError when there is no such user.
	LookupUser(name string) (uid, gid int, err error)
	// AddSystemUser creates a system user (and its group) with no login shell.
	AddSystemUser(ctx context.Context, name, home string) error
	// MkdirOwned creates dir (and parents) and gives it to uid:gid, mode 0750.
	MkdirOwned(dir string, uid, gid int) error
	// GrantGroupRead gives file to group gid and makes it group-readable.
	GrantGroupRead(file string, gid int) error
}

// PrepareLinux gets the machine ready for the service's account before the
// unit is installed: the dedicated system user exists (created when
// missing), the data and log folders exist and belong to it, and it may read
// the configuration file (group ownership, g+r). Running as root skips it.
func PrepareLinux(ctx context.Context, h Host, s Spec) error {
	s = s.withDefaults()
	if s.User == "root" {
		return nil
	}
	uid, gid, err := h.LookupUser(s.User)
	var unknown user.UnknownUserError
	if errors.As(err, &unknown) {
		if err := h.AddSystemUser(ctx, s.User, s.DataDir); err != nil {
			return fmt.Errorf("creating the service user %s: %w", s.User, err)
		}
		uid, gid, err = h.LookupUser(s.User)
	}
	if err != nil {
		return fmt.Errorf("looking up the service user %s: %w", s.User, err)
	}
	for _, dir := range []string{s.DataDir, s.LogDir} {
		if dir == "" {
			continue
		}
		if err := h.MkdirOwned(dir, uid, gid); err != nil {
			return fmt.Errorf("preparing %s for %s: %w", dir, s.User, err)
		}
	}
	if err := h.GrantGroupRead(s.ConfigFile, gid); err != nil {
		return fmt.Errorf("letting %s read %s: %w", s.User, s.ConfigFile, err)
	}
	return nil
}

// SystemHost is the real machine.
type SystemHost struct{}

var _ Host = SystemHost{}

// LookupUser reads the user database.
func (SystemHost) LookupUser(name string) (int, int, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return 0, 0, err
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return 0, 0, fmt.Errorf("reading uid of %s: %w", name, err)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return 0, 0, fmt.Errorf("reading gid of %s: %w", name, err)
	}
	return uid, gid, nil
}

// AddSystemUser runs useradd --system.
func (SystemHost) AddSystemUser(ctx context.Context, name, home string) error {
	out, err := exec.CommandContext(ctx, "useradd", "--system", "--user-group", "--no-create-home",
		"--home-dir", home, "--shell", "/usr/sbin/nologin", name).CombinedOutput()
	if err != nil {
		return fmt.Errorf("running useradd: %w: %s", err, out)
	}
	return nil
}

// MkdirOwned creates dir with mode 0750 owned by uid:gid.
func (SystemHost) MkdirOwned(dir string, uid, gid int) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	return os.Chown(dir, uid, gid)
}

// GrantGroupRead sets the file's group to gid and adds group read.
func (SystemHost) GrantGroupRead(file string, gid int) error {
	fi, err := os.Stat(file)
	if err != nil {
		return err
	}
	if err := os.Chown(file, -1, gid); err != nil {
		return err
	}
	return os.Chmod(file, fi.Mode().Perm()|0o040)
}
