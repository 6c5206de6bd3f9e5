package mapping

import (
	"encoding/json"
	"testing"

	"github.com/shopspring/decimal"
)

func TestFingerprint(t *testing.T) {
	spec := productSpec()
	m := mustCompile(t, spec)
	rec := func(price string) map[string]any {
		return map[string]any{"B1_COD": "PA0001", "B1_DESC": "PARAFUSO", "B1_PRV1": decimal.RequireFromString(price), "B1_MSBLQL": "2"}
	}
	base := apply(t, m, "PA0001", rec("15.40")).Fingerprint
	if len(base) != 64 {
		t.Fatalf("fingerprint %q is not a hex SHA-256", base)
	}
	if got := apply(t, m, "PA0001", rec("15.40")).Fingerprint; got != base {
		t.Errorf("same record, different fingerprint: %s, %s", base, got)
	}
	if got := apply(t, m, "PA0001", rec("15.4")).Fingerprint; got != base {
		t.Errorf("same mapped price (15.40), different fingerprint")
	}
	if got := apply(t, m, "PA0001", rec("15.41")).Fingerprint; got == base {
		t.Errorf("a changed price kept the fingerprint")
	}
	spec.Version = "2"
	if got := apply(t, mustCompile(t, spec), "PA0001", rec("15.40")).Fingerprint; got == base {
		t.Errorf("a new mapping version kept the fingerprint")
	}
	// Columns the mapping does not read (statistics rewritten all day) never change it.
	r := rec("15.40")
	r["B1_UCOM"] = "20240101"
	if got := apply(t, m, "PA0001", r).Fingerprint; got != base {
		t.Errorf("an unmapped column changed the fingerprint")
	}
}

func TestFingerprintIsCanonical(t *testing.T) {
	// Built in different orders, and with different map capacities: same JSON, same hash.
	a := map[string]any{"name": "ACME", "address": "RUA X", "organization_custom_fields": []map[string]any{{"value": "1", "custom_field_id": "a"}}}
	b := make(map[string]any, 64)
	b["organization_custom_fields"] = []map[string]any{{"custom_field_id": "a", "value": "1"}}
	b["address"] = "RUA X"
	b["name"] = "ACME"
	fa, _ := Fingerprint("1", a)
	fb, _ := Fingerprint("1", b)
	if fa != fb {
		t.Fatalf("%s != %s", fa, fb)
	}
	fc, _ := Fingerprint("1", map[string]any{"name": "ACME", "address": "RUA X", "base_price": json.Number("1")})
	if fc == fa {
		t.Fatal("different payloads, same fingerprint")
	}
	// The version and the payload are separated: "1" + `{}` is not "1{" + `}`.
	f1, _ := Fingerprint("1", map[string]any{})
	f2, _ := Fingerprint("", map[string]any{})
	if f1 == f2 {
		t.Fatal("version not part of the fingerprint")
	}
}
