package mapping

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// Phone normalizes a Brazilian phone number to digits with the DDD in front: ("011",
// "98765-4321") → "11987654321". A number that already carries its DDD (10 or 11 digits) or the
// country code 55 (12 or 13 digits) keeps its own; a trunk prefix 0 is dropped; a local number
// (8 or 9 digits) without a usable DDD stays as it is, and so does anything else (0800 numbers,
// short codes): a phone is never a reason to refuse a record. An empty number gives "".
func Phone(ddd, number string) string {
	n := Digits(number)
	if n == "" {
		return ""
	}
	// A DDD never starts with 0, so a prefix is only dropped when a DDD follows it; this also
	// makes Phone idempotent.
	switch {
	case (len(n) == 12 || len(n) == 13) && strings.HasPrefix(n, "55") && n[2] != '0':
		n = n[2:]
	case (len(n) == 11 || len(n) == 12) && n[0] == '0' && n[1] != '0' && !strings.HasPrefix(n, "0800") && !strings.HasPrefix(n, "0300"):
		n = n[1:]
	}
	switch len(n) {
	case 10, 11:
		return n
	case 8, 9:
		d := strings.TrimLeft(Digits(ddd), "0")
		if len(d) == 2 && d[0] != '0' && d[1] != '0' {
			return d + n
		}
	}
	return n
}

// PhoneIntl is Phone with the country code: "+5511987654321". A number that Phone cannot give
// a DDD (local number, 0800…) is returned as Phone returns it, without +55.
func PhoneIntl(ddd, number string) string {
	p := Phone(ddd, number)
	if len(p) == 10 || len(p) == 11 {
		if !strings.HasPrefix(p, "0") {
			return "+55" + p
		}
	}
	return p
}

// splitEmails splits on ';', ',' and blanks, the separators seen in Protheus e-mail fields.
func splitEmails(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return r == ';' || r == ',' || unicode.IsSpace(r)
	})
}

// cleanEmail lower-cases one address as written and strips the quotes, angle brackets and
// "mailto:" around it.
func cleanEmail(part string) string {
	return strings.TrimPrefix(strings.ToLower(strings.Trim(part, "<>\"'")), "mailto:")
}

// Emails splits s on ';', ',' and blanks, lower-cases each address, drops duplicates (keeping
// the first), and validates each. Invalid addresses give a *ValueError naming every one of them.
// An empty s gives no addresses and no error.
func Emails(s string) ([]string, error) {
	var out, bad []string
	seen := map[string]bool{}
	for _, part := range splitEmails(s) {
		e := cleanEmail(part)
		if !ValidEmail(e) {
			bad = append(bad, strconv.Quote(part))
			continue
		}
		if !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	switch len(bad) {
	case 0:
		return out, nil
	case 1:
		return out, valueErrorf(s, "%s is not a valid e-mail", bad[0])
	}
	return out, valueErrorf(s, "%s are not valid e-mails", strings.Join(bad, ", "))
}

// Email returns the first valid address in s (split as Emails does), lower-cased, or "".
func Email(s string) string {
	for _, part := range splitEmails(s) {
		if e := cleanEmail(part); ValidEmail(e) {
			return e
		}
	}
	return ""
}

// ValidEmail reports whether e is an address a CRM will take: one '@', a local part of the
// usual unquoted characters without leading, trailing or doubled dots, and a domain of at least
// two labels (letters, digits, inner hyphens) ending in a top-level domain of 2+ letters.
func ValidEmail(e string) bool {
	at := strings.IndexByte(e, '@')
	if at <= 0 || at != strings.LastIndexByte(e, '@') || len(e) > 254 {
		return false
	}
	local, domain := e[:at], e[at+1:]
	if len(local) > 64 || local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return false
	}
	for i := 0; i < len(local); i++ {
		c := local[i]
		if !(isAlnum(c) || strings.IndexByte(".!#$%&'*+/=?^_`{|}~-", c) >= 0) {
			return false
		}
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			if !isAlnum(l[i]) && l[i] != '-' {
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	if len(tld) < 2 {
		return false
	}
	for i := 0; i < len(tld); i++ {
		if !(tld[i] >= 'a' && tld[i] <= 'z' || tld[i] >= 'A' && tld[i] <= 'Z') {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// ptLower are the Portuguese particles Title keeps in lower case (except as the first word).
var ptLower = map[string]bool{"de": true, "da": true, "do": true, "das": true, "dos": true, "e": true}

// Title capitalizes each word of s and lower-cases the rest, keeping the Portuguese particles
// de, da, do, das, dos and e in lower case unless they start the text:
// "MARIA DA SILVA E SOUZA" → "Maria da Silva e Souza". A letter after '-', '/', '(' or '.'
// also starts a word ("S/A", "Sant'Ana" stays "Sant'ana").
func Title(s string) string {
	words := strings.Fields(strings.ToLower(s))
	for i, w := range words {
		if i > 0 && ptLower[w] {
			continue
		}
		var b strings.Builder
		start := true
		for _, r := range w {
			if start && unicode.IsLetter(r) {
				b.WriteRune(unicode.ToUpper(r))
				start = false
				continue
			}
			b.WriteRune(r)
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				start = false
			} else if strings.ContainsRune("-/(.", r) {
				start = true
			}
		}
		words[i] = b.String()
	}
	return strings.Join(words, " ")
}

// Truncate cuts s to at most n characters (runes, not bytes) and trims the blanks the cut may
// leave at the end. n < 0 is taken as 0.
func Truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for pos := range s {
		if i == n {
			return strings.TrimRightFunc(s[:pos], unicode.IsSpace)
		}
		i++
	}
	return s
}

// Money formats an amount with exactly 2 decimals (half away from zero), never through float64:
// decimal 1500.1 → "1500.10". nil and "" give "". Strings are parsed as decimals.
func Money(v any) (string, error) {
	d, ok, err := toDecimal(v)
	if err != nil || !ok {
		return "", err
	}
	return d.StringFixed(2), nil
}

// toDecimal converts a record or expression value into a decimal; ok is false for empty values.
func toDecimal(v any) (decimal.Decimal, bool, error) {
	switch x := v.(type) {
	case nil:
		return decimal.Decimal{}, false, nil
	case decimal.Decimal:
		return x, true, nil
	case *decimal.Decimal:
		if x == nil {
			return decimal.Decimal{}, false, nil
		}
		return *x, true, nil
	case int:
		return decimal.NewFromInt(int64(x)), true, nil
	case int64:
		return decimal.NewFromInt(x), true, nil
	case int32:
		return decimal.NewFromInt(int64(x)), true, nil
	case float64:
		// Only expressions make float64 (the ERP drivers hand out decimals); the shortest
		// representation of a literal is what its author wrote. 1/0 gives ±Inf, 0/0 NaN.
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return decimal.Decimal{}, false, valueErrorf(toText(x), "%v is not a number", x)
		}
		return decimal.NewFromFloat(x), true, nil
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return decimal.Decimal{}, false, nil
		}
		d, err := decimal.NewFromString(strings.ReplaceAll(s, ",", "."))
		if err != nil || len(s) > 64 || d.Exponent() > 1000 || d.Exponent() < -1000 { // "1e999999999" would take minutes to round
			return decimal.Decimal{}, false, valueErrorf(x, "%q is not a number", x)
		}
		return d, true, nil
	}
	return decimal.Decimal{}, false, valueErrorf(toText(v), "%s is not a number", describe(v))
}

// FormatDate formats a date with a layout given either in Go's notation ("02/01/2006") or with
// the tokens YYYY, YY, MM, DD, hh, mm, ss ("DD/MM/YYYY"). v may be a time.Time or a string in one
// of the forms ParseDate reads. The zero time, nil and "" give "".
func FormatDate(v any, layout string) (string, error) {
	t, ok, err := toTime(v)
	if err != nil || !ok {
		return "", err
	}
	return t.Format(goLayout(layout)), nil
}

var layoutTokens = strings.NewReplacer("YYYY", "2006", "YY", "06", "MM", "01", "DD", "02", "hh", "15", "HH", "15", "mm", "04", "ss", "05")

func goLayout(layout string) string {
	if layout == "" {
		return "2006-01-02"
	}
	return layoutTokens.Replace(layout)
}

// ParseDate reads a date as Protheus keeps it (YYYYMMDD) or as people write it (YYYY-MM-DD,
// DD/MM/YYYY, RFC 3339). ok is false for "" and for Protheus' blank date.
func ParseDate(s string) (t time.Time, ok bool, err error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "00000000" {
		return time.Time{}, false, nil
	}
	for _, layout := range []string{"20060102", "2006-01-02", "02/01/2006", time.RFC3339Nano, "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true, nil
		}
	}
	return time.Time{}, false, valueErrorf(s, "%q is not a date (want YYYYMMDD, YYYY-MM-DD or DD/MM/YYYY)", s)
}

func toTime(v any) (time.Time, bool, error) {
	switch x := v.(type) {
	case nil:
		return time.Time{}, false, nil
	case time.Time:
		return x, !x.IsZero(), nil
	case *time.Time:
		if x == nil {
			return time.Time{}, false, nil
		}
		return *x, !x.IsZero(), nil
	case string:
		return ParseDate(x)
	}
	return time.Time{}, false, valueErrorf(toText(v), "%s is not a date", describe(v))
}

// toText is how a record or expression value reads as text: strings as they are, decimals in
// their exact form, integers in base 10, dates as YYYY-MM-DD (with the time when there is one),
// booleans as true/false, nil as "".
func toText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		return string(x)
	case decimal.Decimal:
		return x.String()
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		if x.IsZero() {
			return ""
		}
		if x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 && x.Nanosecond() == 0 {
			return x.Format("2006-01-02")
		}
		return x.Format(time.RFC3339)
	case fmt.Stringer:
		return x.String()
	}
	return fmt.Sprint(v)
}

// describe names a value in an error message: quoted text, or the value and its kind.
func describe(v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case nil:
		return "nothing"
	case []any, []string:
		return fmt.Sprintf("a list (%s)", truncateForMessage(fmt.Sprint(x)))
	case map[string]any:
		return fmt.Sprintf("a map (%s)", truncateForMessage(fmt.Sprint(x)))
	}
	return strconv.Quote(truncateForMessage(toText(v)))
}

func truncateForMessage(s string) string {
	if utf8.RuneCountInString(s) > 80 {
		return Truncate(s, 77) + "..."
	}
	return s
}

// isEmpty reports whether v counts as "no value": nil, blank text, an empty list or map, or the
// zero time.
func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(x) == ""
	case []byte:
		return strings.TrimSpace(string(x)) == ""
	case []any:
		return len(x) == 0
	case []string:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	case time.Time:
		return x.IsZero()
	}
	return false
}
