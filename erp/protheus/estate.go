package protheus

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/erpbridge/erpbridge/erp"
)

// A Protheus estate is one or more companies (grupos de empresas: SA1010,
// SA1020 …), each with its branches (filiais). A table is shared by the
// branches of its company (its filial column blank) or exclusive to each
// (the column holds the branch code); the data dictionary (SX2) says which.
//
// The key rule (one home): a record's key in the bridge — its identity,
// its outbox item, its warnings — is the company, then the table key:
//
//	company | filial | key fields …      e.g. "02|01|000123" (SC5 of company 02, branch 01)
//	                                          "01||000123|01" (a customer of a shared SA1)
//
// each part right-trimmed and joined by "|" (erp.JoinKey). The table key
// is what erp.Record.Key is as read from one table (filial first), so the
// filial is in the key exactly where the table is exclusive, and the
// company always: 000123/01 of company 01 and of company 02 never collide,
// and a customer of a shared SA1 is one record for every branch. Stores
// of earlier versions kept the table key alone; they are migrated once
// (access.MigrateStore) by prefixing the company they served.

// companyPattern is a company code: two letters or digits (SA1 + 01 + 0).
var companyPattern = regexp.MustCompile(`^[0-9A-Z]{2}$`)

// ValidCompany reports whether s is a Protheus company code ("01").
func ValidCompany(s string) bool { return companyPattern.MatchString(s) }

// filialPattern is a branch code as the config writes it: letters, digits
// and blanks, at most 12 (Gestão de Empresas layouts are 8 wide).
var filialPattern = regexp.MustCompile(`^[0-9A-Za-z ]{0,12}$`)

// ValidFilial reports whether s is a Protheus branch code (blank: shared).
func ValidFilial(s string) bool { return filialPattern.MatchString(s) }

// EstateKey is the key of a record of company whose table key is key
// (erp.Record.Key as one table's Source reads it): the key rule above.
func EstateKey(company, key string) string { return company + erp.KeySeparator + key }

// SplitEstateKey splits an estate key into its company and table key.
func SplitEstateKey(key string) (company, tableKey string, ok bool) {
	company, tableKey, ok = strings.Cut(key, erp.KeySeparator)
	if !ok || !ValidCompany(company) {
		return "", "", false
	}
	return company, tableKey, true
}

// KeyBranch is where the record of an estate key lives: its company and
// the filial its table key starts with (blank for a shared table).
func KeyBranch(key string) (Branch, bool) {
	company, tk, ok := SplitEstateKey(key)
	if !ok {
		return Branch{}, false
	}
	filial, _, _ := strings.Cut(tk, erp.KeySeparator)
	return Branch{Company: company, Filial: filial}, true
}

// KeyParts returns the parts of an estate key after its company and
// filial (a customer's code and store, a product's code).
func KeyParts(key string) ([]string, bool) {
	_, tk, ok := SplitEstateKey(key)
	if !ok {
		return nil, false
	}
	parts := erp.SplitKey(tk)
	return parts[1:], true
}

// Branch is a company and one of its branches: where an order is made,
// what a deal is labelled with. Filial is the code as written (blank:
// shared), never padded.
type Branch struct {
	Company, Filial string
}

// BranchSeparator separates company and filial in a Branch's text.
const BranchSeparator = "/"

// String is the branch as config and deal fields write it: "01/02"; a
// branch code keeps its inner blanks ("02/D MG 01").
func (b Branch) String() string {
	return b.Company + BranchSeparator + strings.TrimRight(b.Filial, " ")
}

// Same reports whether two branches are the same (filials compared
// without their padding).
func (b Branch) Same(o Branch) bool {
	return b.Company == o.Company && strings.TrimRight(b.Filial, " ") == strings.TrimRight(o.Filial, " ")
}

// ParseBranch reads "company/filial" ("01/02"; "01/" for a shared table).
func ParseBranch(s string) (Branch, error) {
	c, f, ok := strings.Cut(s, BranchSeparator)
	switch {
	case !ok:
		return Branch{}, fmt.Errorf("%q is not a company and branch such as \"01/02\"", s)
	case !ValidCompany(c):
		return Branch{}, fmt.Errorf("%q: %q is not a two-character Protheus company code", s, c)
	case !ValidFilial(f):
		return Branch{}, fmt.Errorf("%q: %q is not a Protheus branch code (letters, digits and blanks, at most 12)", s, f)
	}
	return Branch{Company: c, Filial: strings.TrimRight(f, " ")}, nil
}
