package crmv2_test

import (
	"slices"
	"testing"
	"time"

	crmv2 "github.com/erpbridge/erpbridge/rdstation/crm/v2"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

func TestFilterStrings(t *testing.T) {
	at := time.Date(2026, 3, 10, 12, 0, 30, 999, time.FixedZone("-03", -3*3600))
	for _, tc := range []struct {
		f    crmv2.Filter
		want string
	}{
		{crmv2.Eq(crmv2.FieldName, `a "b" \c`), `name:"a \"b\" \\c"`},
		{crmv2.Since(crmv2.FieldUpdatedAt, at), `updated_at:>="2026-03-10 15:00:30"`},
		{crmv2.And(crmv2.Eq(crmv2.FieldStatus, "won"), crmv2.Since(crmv2.FieldClosedAt, at)), `status:"won" closed_at:>="2026-03-10 15:00:30"`},
		{crmv2.And(crmv2.Or(crmv2.Eq(crmv2.FieldStatus, "won"), crmv2.Eq(crmv2.FieldStatus, "lost")), crmv2.Contains(crmv2.FieldName, "x")),
			`(status:"won" or status:"lost") name:~"x"`},
		{crmv2.Or(crmv2.And(crmv2.Eq(crmv2.FieldName, "a"), crmv2.Eq(crmv2.FieldEmail, "b")), crmv2.Eq(crmv2.CustomField("cnpj"), "1")),
			`(name:"a" email:"b") or @cnpj:"1"`},
		{crmv2.In(crmv2.FieldStatus, "won", "lost"), `status:("won","lost")`},
		{crmv2.Not(crmv2.FieldStatus, "ongoing"), `-status:"ongoing"`},
		{crmv2.And(crmv2.Filter{}, crmv2.Eq(crmv2.FieldID, "1")), `id:"1"`},
	} {
		if err := tc.f.Err(); err != nil || tc.f.String() != tc.want {
			t.Errorf("got %s (%v), want %s", tc.f, err, tc.want)
		}
		if _, err := rdsim.ParseRDQL(tc.f.String()); err != nil {
			t.Errorf("the simulator does not parse %s: %v", tc.f, err)
		}
	}
	for _, f := range []crmv2.Filter{crmv2.Eq(crmv2.Field("a b"), "x"), crmv2.Eq(crmv2.CustomField("CNPJ"), "x"), crmv2.In(crmv2.FieldID)} {
		if f.Err() == nil {
			t.Errorf("%q: no error", f)
		}
	}
}

// FuzzFilterQuoting: whatever a value holds, the filter built with it
// parses back into exactly the terms built, each value intact — no value
// can add a term, an operator or a parenthesis.
func FuzzFilterQuoting(f *testing.F) {
	for _, s := range []string{"", `"`, `\`, `a" or name:"b`, `x) or (y`, "\x00", "ã\n\"\\\"", `-@cnpj:1`} {
		f.Add(s, "other")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		fl := crmv2.And(crmv2.Eq(crmv2.FieldName, a), crmv2.Or(crmv2.Eq(crmv2.CustomField("cnpj"), b), crmv2.In(crmv2.FieldEmail, a, b)))
		terms, err := rdsim.ParseRDQL(fl.String())
		if err != nil {
			t.Fatalf("%s: %v", fl, err)
		}
		want := []rdsim.RDQLTerm{{Field: "name", Values: []string{a}}, {Field: "@cnpj", Values: []string{b}}, {Field: "email", Values: []string{a, b}}}
		if !slices.EqualFunc(terms, want, func(x, y rdsim.RDQLTerm) bool {
			return x.Field == y.Field && x.Op == y.Op && slices.Equal(x.Values, y.Values)
		}) {
			t.Fatalf("%s parsed as %+v", fl, terms)
		}
	})
}
