// Package secrets keeps the values a config refers to as ${secret:NAME}
// (a database password, the CRM token) out of the config file and out of
// every process's environment.
//
// A secret is a file NAME in the secrets folder beside the config file
// (layout.SecretsDir): on Windows encrypted with DPAPI in machine scope and
// readable only by SYSTEM, Administrators and the service's SID; elsewhere
// plain, mode 0600, owned by the service user, in a folder only root and the
// service's group can enter. Under systemd, $CREDENTIALS_DIRECTORY/NAME
// (LoadCredential=) is read first.
package secrets
