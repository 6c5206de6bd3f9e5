// Package advpl holds the ERP-side sources erpbridge ships for Protheus, to
// be compiled into the RPO by the ERP team (docs/protheus.md, "Compiling the
// ERP-side sources"):
//
//	erpbridge.ch            ERPBRIDGE_VERSION, the sources' version (its one home)
//	erpbridge_orders.tlpp   the REST route of the rest sink: POST /orders,
//	                        GET /orders/version
//	erpbridge_staging.prw   the job of the staging sink (U_ERPBSTG)
//
// They are embedded so the bridge knows the version it ships (Version) and
// can compare it with what the route answers (`erpbridge check`), and the
// Protheus REST simulator answers the same. They are written for this
// project and kept syntactically careful (the tests check their blocks and
// the fields they name), but were never compiled or run on a real Protheus.
package advpl

import (
	"embed"
	"fmt"
	"regexp"
)

// Sources are the ERP-side sources.
//
//go:embed erpbridge.ch *.tlpp *.prw
var Sources embed.FS

// The version the order route answers: GET <route>VersionPath answers
// {"name":…,"version":…}, and every answer of the route carries
// VersionHeader.
const (
	VersionPath   = "/version"
	VersionHeader = "X-Erpbridge-Version"
)

// Version is the version of the sources: ERPBRIDGE_VERSION in erpbridge.ch.
var Version = mustVersion()

var versionDefine = regexp.MustCompile(`(?m)^#define ERPBRIDGE_VERSION "([^"]+)"\s*$`)

// mustVersion reads ERPBRIDGE_VERSION from erpbridge.ch; a build without
// it is a programming error, found by any test.
func mustVersion() string {
	b, err := Sources.ReadFile("erpbridge.ch")
	if err != nil {
		panic(fmt.Sprintf("advpl: %v", err))
	}
	m := versionDefine.FindSubmatch(b)
	if m == nil {
		panic("advpl: erpbridge.ch does not #define ERPBRIDGE_VERSION \"…\"")
	}
	return string(m[1])
}
