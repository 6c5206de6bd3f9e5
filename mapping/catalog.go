package mapping

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// FieldType is the type of a CRM custom field, as RD Station names it.
type FieldType string

// The custom field types of RD Station CRM, and the number and boolean
// fields other targets have (RD Station Marketing's INTEGER and BOOLEAN).
const (
	TypeText           FieldType = "text"
	TypeOption         FieldType = "option"
	TypeMultipleChoice FieldType = "multiple_choice"
	TypeDate           FieldType = "date"
	TypeNumber         FieldType = "number"
	TypeBool           FieldType = "bool"
)

// CustomField is what the mapping needs to know of one CRM custom field: its id (sent as
// custom_field_id), its type and, for option and multiple_choice fields, the allowed options.
type CustomField struct {
	ID      string    `json:"id"`
	Type    FieldType `json:"type"`
	Options []string  `json:"options,omitempty"`
}

// CustomFieldCatalog maps a custom field's label, as the CRM shows it, to the field. The caller
// builds it at start from the CRM's list of custom fields for the stream's entity.
type CustomFieldCatalog map[string]CustomField

// resolve finds the field for a label: an exact match first, else the one label that matches
// ignoring case and surrounding blanks. No match, or several, is an error naming the label.
func (c CustomFieldCatalog) resolve(label string) (CustomField, error) {
	if f, ok := c[label]; ok {
		return f, nil
	}
	want := strings.ToLower(strings.TrimSpace(label))
	var matches []string
	for l := range c {
		if strings.ToLower(strings.TrimSpace(l)) == want {
			matches = append(matches, l)
		}
	}
	slices.Sort(matches)
	switch len(matches) {
	case 1:
		return c[matches[0]], nil
	case 0:
		known := make([]string, 0, len(c))
		for l := range c {
			known = append(known, l)
		}
		slices.Sort(known)
		if len(known) == 0 {
			return CustomField{}, fmt.Errorf("custom field %q: the CRM has no custom fields for this entity", label)
		}
		return CustomField{}, fmt.Errorf("custom field %q: no such label in the CRM (known: %s)", label, quoteList(known))
	}
	return CustomField{}, fmt.Errorf("custom field %q: ambiguous label, the CRM has %s", label, quoteList(matches))
}

func (f CustomField) check(label string) error {
	switch f.Type {
	case TypeText, TypeDate, TypeNumber, TypeBool:
	case TypeOption, TypeMultipleChoice:
		if len(f.Options) == 0 {
			return fmt.Errorf("custom field %q: %s field without options", label, f.Type)
		}
	default:
		return fmt.Errorf("custom field %q: unknown type %q (want text, option, multiple_choice, date, number or bool)", label, f.Type)
	}
	if f.ID == "" {
		return fmt.Errorf("custom field %q: empty id", label)
	}
	return nil
}

func quoteList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

// LabelsAsText is a catalog holding every custom field label spec maps, as
// a text field: a mapping compiled against it has its expressions checked
// and lists its columns before the target system is read (labels and
// options are resolved at start and by `erpbridge check`).
func LabelsAsText(spec Spec) CustomFieldCatalog {
	cat := make(CustomFieldCatalog, len(spec.CustomFields))
	for label := range spec.CustomFields {
		cat[label] = CustomField{ID: label, Type: TypeText}
	}
	return cat
}
