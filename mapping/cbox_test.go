package mapping

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var segmentChoices = map[string]map[string]string{
	"A1_XSEGMEN": {"1": "Revenda", "2": "Consumidor final", "3": "Distribuidor"},
}

func TestCboxGivesTheDescription(t *testing.T) {
	spec := orgSpec(map[string]string{"name": "A1_NOME", "resume": "'Segmento: ' + cbox(A1_XSEGMEN)"})
	spec.Choices = segmentChoices
	m := mustCompile(t, spec)
	if got := m.Columns(); !cmp.Equal(got, []string{"A1_NOME", "A1_XSEGMEN"}) {
		t.Errorf("columns = %v: cbox's column must be read", got)
	}
	for _, tc := range []struct {
		code, want, warning string
	}{
		{"2", "Segmento: Consumidor final", ""},
		{"1 ", "Segmento: Revenda", ""}, // a padded CHAR
		{"9", "", `field A1_XSEGMEN → resume: "9" is none of the options of A1_XSEGMEN (1=Revenda, 2=Consumidor final, 3=Distribuidor)`},
	} {
		res := apply(t, m, "000001|01", map[string]any{"A1_NOME": "ACME", "A1_XSEGMEN": tc.code})
		if len(res.Errors) > 0 {
			t.Fatalf("code %q: errors %v", tc.code, res.Errors)
		}
		got, _ := res.Payload["resume"].(string)
		if got != tc.want {
			t.Errorf("code %q: resume = %q, want %q", tc.code, got, tc.want)
		}
		var warns []string
		for _, w := range res.Warnings {
			warns = append(warns, w.Error())
		}
		if tc.warning == "" && len(warns) > 0 || tc.warning != "" && (len(warns) != 1 || !strings.Contains(warns[0], tc.warning) || !strings.Contains(warns[0], "000001|01")) {
			t.Errorf("code %q: warnings %v, want %q naming the record", tc.code, warns, tc.warning)
		}
	}
}

func TestCboxUncheckedWithoutChoices(t *testing.T) {
	m := mustCompile(t, orgSpec(map[string]string{"name": "A1_NOME", "resume": "cbox(A1_XSEGMEN)"}))
	res := apply(t, m, "k", map[string]any{"A1_NOME": "ACME", "A1_XSEGMEN": "RV "})
	if got := res.Payload["resume"]; got != "RV" || len(res.Errors)+len(res.Warnings) > 0 {
		t.Errorf("resume = %v (%v %v), want the code as stored when no options are known", got, res.Errors, res.Warnings)
	}
}

func TestCboxCompileErrors(t *testing.T) {
	for src, want := range map[string]string{
		"cbox(A1_XCANAL)":             "cbox(A1_XCANAL): the ERP describes no options for A1_XCANAL",
		"cbox('1')":                   "cbox takes one column",
		"cbox(A1_XSEGMEN, A1_XCANAL)": "cbox takes one column",
	} {
		spec := orgSpec(map[string]string{"name": "A1_NOME", "resume": src})
		spec.Choices = segmentChoices
		if _, err := compile(spec, testCatalog); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), `field "resume"`) {
			t.Errorf("%s: error %v, want %q naming the field", src, err, want)
		}
	}
}
