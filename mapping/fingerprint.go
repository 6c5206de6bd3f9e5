package mapping

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// Fingerprint is the SHA-256, in hex, of the mapping version and the canonical JSON of payload
// (object keys sorted, as encoding/json writes maps). It is stable across runs and map orders and
// changes when any value or the version changes: an unchanged fingerprint costs no API call.
func Fingerprint(version string, payload map[string]any) (string, error) {
	b, err := json.Marshal(payload)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	h.Write([]byte("erpbridge/mapping\x00"))
	h.Write([]byte(version))
	h.Write([]byte{0})
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil)), nil
}
