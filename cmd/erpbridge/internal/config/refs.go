package config

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/secrets"
	"github.com/erpbridge/erpbridge/installer/layout"
)

// secretPrefix marks a secret reference: ${secret:NAME}.
const secretPrefix = "secret:"

// A resolver answers the value of one ${…} reference: ref is NAME (an
// environment variable) or secret:NAME. Its errors name the reference and
// never a value.
type resolver func(ref string) (string, error)

// errNotSet is wrapped by a resolver's error for a variable that is not set.
var errNotSet = errors.New("not set")

// references is the resolver of a config file at configPath ("" for text
// without a file): environment variables from lookup, secrets from the
// secrets folder beside the file (secrets.Read, which tries systemd's
// $CREDENTIALS_DIRECTORY first). unset, when not nil, may stand in for a
// reference that is not set.
func references(lookup func(string) (string, bool), unset func(string) (string, bool), configPath string) resolver {
	dir := ""
	if configPath != "" {
		dir = layout.SecretsDir(runtime.GOOS, configPath)
	}
	return func(ref string) (string, error) {
		var err error
		if name, ok := strings.CutPrefix(ref, secretPrefix); ok {
			var v string
			if v, err = secrets.Read(dir, name, os.Getenv); err == nil {
				return v, nil
			}
			if errors.Is(err, secrets.ErrNotSet) && configPath != "" {
				err = fmt.Errorf("%w (store it with: erpbridge secret set %s -c %s)", err, name, configPath)
			}
		} else {
			if v, ok := lookup(ref); ok {
				return v, nil
			}
			err = fmt.Errorf("environment variable %s is %w", ref, errNotSet)
		}
		if unset != nil && (errors.Is(err, errNotSet) || errors.Is(err, secrets.ErrNotSet)) {
			if v, ok := unset(ref); ok {
				return v, nil
			}
		}
		return "", err
	}
}
