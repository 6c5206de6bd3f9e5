//go:build !windows

package secrets

import (
	"os"
)

// seal and unseal keep the value as it is: the file's mode and owner
// protect it.
func seal(v []byte, _ string) ([]byte, error)   { return v, nil }
func unseal(b []byte, _ string) ([]byte, error) { return b, nil }

// prepareDir creates dir mode 0750, group o.GID (root and the service's
// group may enter it; the service user cannot add files).
func prepareDir(dir string, o Owner) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	if o.UID < 0 {
		return os.Chmod(dir, 0o700)
	}
	if err := os.Chown(dir, 0, o.GID); err != nil {
		return err
	}
	return os.Chmod(dir, 0o750)
}

// protectFile makes the new file 0600, owned by the service user.
func protectFile(f *os.File, o Owner) error {
	if err := f.Chmod(0o600); err != nil {
		return err
	}
	if o.UID < 0 {
		return nil
	}
	return f.Chown(o.UID, o.GID)
}
