//go:build windows

package secrets

import (
	"fmt"
	"os"
	"unsafe"

	"github.com/erpbridge/erpbridge/installer"
	"github.com/erpbridge/erpbridge/installer/layout"
	"golang.org/x/sys/windows"
)

// entropy binds a sealed value to its name: a file copied under another
// name does not decrypt.
func entropy(name string) []byte { return []byte("erpbridge secret " + name) }

// seal encrypts v with DPAPI in machine scope: any process on this machine
// that can read the file can decrypt it (the folder's DACL says which), no
// other machine can.
func seal(v []byte, name string) ([]byte, error) {
	var out windows.DataBlob
	err := windows.CryptProtectData(blob(v), nil, blob(entropy(name)), 0, nil,
		windows.CRYPTPROTECT_LOCAL_MACHINE|windows.CRYPTPROTECT_UI_FORBIDDEN, &out)
	if err != nil {
		return nil, err
	}
	return takeBlob(&out), nil
}

func unseal(b []byte, name string) ([]byte, error) {
	var out windows.DataBlob
	err := windows.CryptUnprotectData(blob(b), nil, blob(entropy(name)), 0, nil, windows.CRYPTPROTECT_UI_FORBIDDEN, &out)
	if err != nil {
		return nil, fmt.Errorf("%w (stored on another machine, or for another name?)", err)
	}
	return takeBlob(&out), nil
}

func blob(b []byte) *windows.DataBlob {
	if len(b) == 0 {
		return &windows.DataBlob{}
	}
	return &windows.DataBlob{Size: uint32(len(b)), Data: &b[0]}
}

// takeBlob copies out what DPAPI allocated and frees it.
func takeBlob(d *windows.DataBlob) []byte {
	if d.Data == nil {
		return nil
	}
	defer windows.LocalFree(windows.Handle(unsafe.Pointer(d.Data)))
	return append([]byte(nil), unsafe.Slice(d.Data, d.Size)...)
}

// prepareDir creates dir and gives it the read-only DACL of the service
// (layout.WindowsDACL): SYSTEM and Administrators full control, the
// service's SID read, Users nothing. New files inherit it.
func prepareDir(dir string, _ Owner) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return installer.ApplyDACL(dir, layout.Name, layout.ReadOnly)
}

func protectFile(*os.File, Owner) error { return nil }
