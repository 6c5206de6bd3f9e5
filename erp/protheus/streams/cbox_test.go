package streams

import (
	"reflect"
	"testing"

	"github.com/erpbridge/erpbridge/mapping"
)

// TestCboxColumns: every column a mapping reads through cbox() — in a
// field, a custom field or unique_name.when — once, so the stream reads its
// combo at start and check compares its values.
func TestCboxColumns(t *testing.T) {
	spec := mapping.Spec{
		Fields:       map[string]string{"name": "A1_NOME", "resume": "cbox(A1_XSEGMEN) + ' / ' + cbox( a1_xcanal )"},
		CustomFields: map[string]string{"Segmento": "cbox(A1_XSEGMEN)"},
		UniqueName:   mapping.UniqueName{Suffix: " ({A1_COD})", When: "cbox(A1_PESSOA) == 'Fisica'"},
	}
	if got, want := cboxColumns(spec), []string{"A1_PESSOA", "A1_XCANAL", "A1_XSEGMEN"}; !reflect.DeepEqual(got, want) {
		t.Errorf("cboxColumns = %v, want %v", got, want)
	}
	if !usesCbox(spec) || usesCbox(mapping.Spec{Fields: map[string]string{"name": "A1_NOME"}}) {
		t.Error("usesCbox must follow cboxColumns")
	}
}
