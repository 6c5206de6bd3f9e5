package layout

import (
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf16"
)

// Access is what the service account may do with a file or folder.
type Access int

const (
	// ReadOnly: the config folder, the config file and the secrets folder.
	ReadOnly Access = iota
	// Writable: the data and log folders.
	Writable
)

// WindowsDACL is the DACL, in SDDL, of an erpbridge file or folder on
// Windows: protected from inheritance (so %ProgramData%'s grants to Users
// do not reach it), full control for SYSTEM and Administrators, and for the
// service's own SID (NT SERVICE\<name>, the virtual account) read and
// execute, or modify on Writable folders; inherited by everything below.
// Users get nothing. LocalSystem, the default account, is covered by SY.
//
// The MSI (MsiLockPermissionsEx in msi-tables.sql) and `erpbridge service
// install` / `erpbridge secret set` apply these same strings.
func WindowsDACL(service string, a Access) string {
	rights := "0x1200a9" // FILE_GENERIC_READ | FILE_GENERIC_EXECUTE
	if a == Writable {
		rights = "0x1301bf" // modify: read, write, execute, delete
	}
	return "D:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;" + rights + ";;;" + ServiceSID(service) + ")"
}

// ServiceSID is the SID Windows gives the service named name
// (NT SERVICE\name): S-1-5-80- and the SHA-1 of the upper-case name in
// UTF-16LE as five 32-bit sub-authorities. It is the same on every machine,
// so the MSI can carry it.
func ServiceSID(name string) string {
	u := utf16.Encode([]rune(strings.ToUpper(name)))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	sum := sha1.Sum(b)
	sid := "S-1-5-80"
	for i := 0; i < len(sum); i += 4 {
		sid += fmt.Sprintf("-%d", binary.LittleEndian.Uint32(sum[i:]))
	}
	return sid
}

// SecretsDir is the folder beside the config file where `erpbridge secret
// set` stores secrets and ${secret:NAME} reads them.
func SecretsDir(goos, configFile string) string {
	return Join(goos, Dir(goos, configFile), "secrets")
}
