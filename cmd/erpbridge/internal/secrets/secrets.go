package secrets

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// ErrNotSet is wrapped by Read when no secret NAME is stored.
var ErrNotSet = errors.New("not set")

var nameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// CheckName refuses a name that is not a valid ${secret:NAME}: letters,
// digits and _, not starting with a digit, and not a Windows device name.
func CheckName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("secret name %q: use letters, digits and _, not starting with a digit (as in ${secret:NAME})", name)
	}
	switch u := strings.ToUpper(name); {
	case u == "CON", u == "PRN", u == "AUX", u == "NUL",
		len(u) == 4 && (strings.HasPrefix(u, "COM") || strings.HasPrefix(u, "LPT")) && u[3] >= '1' && u[3] <= '9':
		return fmt.Errorf("secret name %q is a Windows device name: choose another", name)
	}
	return nil
}

// Read returns the secret name: $CREDENTIALS_DIRECTORY/name when getenv
// has CREDENTIALS_DIRECTORY and the file is there (systemd LoadCredential=),
// else the file in dir (decrypted on Windows). One final line break is not
// part of the value. A secret stored nowhere is an error wrapping ErrNotSet.
func Read(dir, name string, getenv func(string) string) (string, error) {
	if err := CheckName(name); err != nil {
		return "", err
	}
	if cd := getenv("CREDENTIALS_DIRECTORY"); cd != "" {
		b, err := os.ReadFile(filepath.Join(cd, name))
		if err == nil {
			return trimLineBreak(string(b)), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("reading the systemd credential %s: %w", name, err)
		}
	}
	if dir == "" {
		return "", fmt.Errorf("secret %s: %w (no config file, so no secrets folder)", name, ErrNotSet)
	}
	path := filepath.Join(dir, name)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("secret %s: %w: no %s in %s", name, ErrNotSet, name, dir)
	}
	if err != nil {
		return "", fmt.Errorf("reading secret %s: %w", name, err)
	}
	v, err := unseal(b, name)
	if err != nil {
		return "", fmt.Errorf("decrypting secret %s (%s): %w", name, path, err)
	}
	return trimLineBreak(string(v)), nil
}

// Owner is who the secret file belongs to on Linux (the service user);
// UID -1 leaves the files to whoever writes them.
type Owner struct{ UID, GID int }

// Write stores value as the secret name in dir (created when missing) and
// returns the file's path. The file is written aside and renamed into place,
// so a reader never sees half a secret.
func Write(dir, name string, value []byte, o Owner) (string, error) {
	if err := CheckName(name); err != nil {
		return "", err
	}
	if err := prepareDir(dir, o); err != nil {
		return "", fmt.Errorf("preparing the secrets folder %s: %w", dir, err)
	}
	sealed, err := seal(value, name)
	if err != nil {
		return "", fmt.Errorf("encrypting secret %s: %w", name, err)
	}
	f, err := os.CreateTemp(dir, "."+name+".*")
	if err != nil {
		return "", fmt.Errorf("writing secret %s: %w", name, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // gone once renamed
	if err := protectFile(f, o); err != nil {
		f.Close()
		return "", fmt.Errorf("writing secret %s: %w", name, err)
	}
	if _, err := f.Write(sealed); err != nil {
		f.Close()
		return "", fmt.Errorf("writing secret %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("writing secret %s: %w", name, err)
	}
	path := filepath.Join(dir, name)
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("writing secret %s: %w", name, err)
	}
	return path, nil
}

// List returns the names of the secrets stored in dir.
func List(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing secrets: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && CheckName(e.Name()) == nil {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// Delete removes the secret name from dir.
func Delete(dir, name string) error {
	if err := CheckName(name); err != nil {
		return err
	}
	err := os.Remove(filepath.Join(dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("secret %s: %w: no %s in %s", name, ErrNotSet, name, dir)
	}
	if err != nil {
		return fmt.Errorf("deleting secret %s: %w", name, err)
	}
	return nil
}

// TrimLineBreak drops one final "\n" or "\r\n".
func trimLineBreak(s string) string {
	s = strings.TrimSuffix(s, "\n")
	return strings.TrimSuffix(s, "\r")
}

// TrimLineBreak drops one final line break from a value read from a pipe
// (printf 'x\n' | erpbridge secret set NAME).
func TrimLineBreak(b []byte) []byte { return []byte(trimLineBreak(string(b))) }
