//go:build !windows

package secrets

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func noEnv(string) string { return "" }

func TestWriteReadListDelete(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "secrets")
	path, err := Write(dir, "ERP_DB_PASSWORD", []byte("p@ss word"), Owner{UID: -1, GID: -1})
	if err != nil {
		t.Fatal(err)
	}
	if path != filepath.Join(dir, "ERP_DB_PASSWORD") {
		t.Errorf("stored in %s", path)
	}
	if got, err := Read(dir, "ERP_DB_PASSWORD", noEnv); err != nil || got != "p@ss word" {
		t.Errorf("Read = %q, %v", got, err)
	}
	// replaced, not appended
	if _, err := Write(dir, "ERP_DB_PASSWORD", []byte("new"), Owner{UID: -1, GID: -1}); err != nil {
		t.Fatal(err)
	}
	if got, _ := Read(dir, "ERP_DB_PASSWORD", noEnv); got != "new" {
		t.Errorf("after a second set: %q", got)
	}
	if _, err := Write(dir, "CRM_TOKEN", []byte("t"), Owner{UID: -1, GID: -1}); err != nil {
		t.Fatal(err)
	}
	names, err := List(dir)
	if err != nil || strings.Join(names, ",") != "CRM_TOKEN,ERP_DB_PASSWORD" {
		t.Errorf("List = %q, %v (no temporary files either)", names, err)
	}
	if err := Delete(dir, "CRM_TOKEN"); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(dir, "CRM_TOKEN", noEnv); !errors.Is(err, ErrNotSet) {
		t.Errorf("a deleted secret reads: %v", err)
	}
	if err := Delete(dir, "CRM_TOKEN"); !errors.Is(err, ErrNotSet) {
		t.Errorf("deleting it again: %v", err)
	}
}

// TestFilesAreOnlyTheServiceUsers: the file is 0600 and belongs to the
// service user; the folder 0750, root's, of the service's group.
func TestFilesAreOnlyTheServiceUsers(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("giving a file to another user needs root")
	}
	dir := filepath.Join(t.TempDir(), "secrets")
	const uid, gid = 4242, 4343 // any ids: the kernel does not check they exist
	path, err := Write(dir, "CRM_TOKEN", []byte("t"), Owner{UID: uid, GID: gid})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path     string
		mode     os.FileMode
		uid, gid uint32
	}{{path, 0o600, uid, gid}, {dir, 0o750 | os.ModeDir, 0, gid}} {
		fi, err := os.Stat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if fi.Mode() != c.mode || st.Uid != c.uid || st.Gid != c.gid {
			t.Errorf("%s: mode %v owner %d:%d, want %v %d:%d", c.path, fi.Mode(), st.Uid, st.Gid, c.mode, c.uid, c.gid)
		}
	}
}

func TestReadPrefersSystemdCredentials(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "secrets")
	if _, err := Write(dir, "CRM_TOKEN", []byte("from the store"), Owner{UID: -1, GID: -1}); err != nil {
		t.Fatal(err)
	}
	creds := t.TempDir()
	if err := os.WriteFile(filepath.Join(creds, "CRM_TOKEN"), []byte("from systemd\n"), 0o400); err != nil {
		t.Fatal(err)
	}
	env := func(k string) string {
		if k == "CREDENTIALS_DIRECTORY" {
			return creds
		}
		return ""
	}
	if got, err := Read(dir, "CRM_TOKEN", env); err != nil || got != "from systemd" {
		t.Errorf("with a credential: %q, %v (one final line break dropped)", got, err)
	}
	if err := os.Remove(filepath.Join(creds, "CRM_TOKEN")); err != nil {
		t.Fatal(err)
	}
	if got, err := Read(dir, "CRM_TOKEN", env); err != nil || got != "from the store" {
		t.Errorf("credential absent: %q, %v, want the stored secret", got, err)
	}
}

func TestReadErrorsNameTheSecretNotTheValue(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "secrets")
	_, err := Read(dir, "CRM_TOKEN", noEnv)
	if !errors.Is(err, ErrNotSet) || !strings.Contains(err.Error(), "secret CRM_TOKEN: not set: no CRM_TOKEN in "+dir) {
		t.Errorf("missing secret: %v", err)
	}
	if _, err := Write(dir, "CRM_TOKEN", []byte("s3cr3t"), Owner{UID: -1, GID: -1}); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "CRM_TOKEN"), 0); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 { // root reads anything
		_, err = Read(dir, "CRM_TOKEN", noEnv)
		if err == nil || errors.Is(err, ErrNotSet) || !strings.Contains(err.Error(), "reading secret CRM_TOKEN") {
			t.Errorf("unreadable secret: %v", err)
		}
	}
}

func TestCheckName(t *testing.T) {
	for name, ok := range map[string]bool{
		"CRM_TOKEN": true, "_x1": true, "erp_db_password": true,
		"": false, "1ABC": false, "A-B": false, "../etc/passwd": false, "A B": false,
		"CON": false, "nul": false, "COM1": false, "LPT9": false, "COM10": true, "CONSOLE": true,
	} {
		if err := CheckName(name); (err == nil) != ok {
			t.Errorf("CheckName(%q) = %v, want ok %v", name, err, ok)
		}
	}
	if _, err := Write(t.TempDir(), "../x", []byte("v"), Owner{UID: -1, GID: -1}); err == nil {
		t.Error("a name with a path in it was written")
	}
}
