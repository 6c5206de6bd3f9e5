package crm

import (
	"reflect"
	"testing"
)

// The v2 array form: items naming a field become Fields; items without a
// path stay one message.
func TestDecodeV2ErrorBodies(t *testing.T) {
	for _, tc := range []struct {
		body   string
		fields map[string][]string
		msg    string
	}{
		{`{"errors":[{"error_type":"UNPROCESSABLE_ENTITY","error_message":"has already been taken","path":"name"}]}`,
			map[string][]string{"name": {"has already been taken"}}, ""},
		{`{"errors":[{"error_type":"X","error_message":"a","path":"name"},{"error_type":"Y","error_message":"b","path":"custom_fields.cnpj"}]}`,
			map[string][]string{"name": {"a"}, "custom_fields.cnpj": {"b"}}, ""},
		{`{"errors":[{"error_type":"RESOURCE_NOT_FOUND","error_message":"Deal not found"}]}`, nil, "Deal not found"},
	} {
		var e Error
		decodeErrorBody(&e, []byte(tc.body))
		if !reflect.DeepEqual(e.Fields, tc.fields) || e.Message != tc.msg {
			t.Errorf("%s: fields %v message %q", tc.body, e.Fields, e.Message)
		}
	}
}
