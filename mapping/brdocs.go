package mapping

import (
	"fmt"
	"strings"
)

// ValueError is what a transform returns for a value it refuses. Value is the offending input as
// the ERP has it; Msg is a sentence naming it, e.g. `"joao@@x" is not a valid e-mail`.
type ValueError struct {
	Value string
	Msg   string
}

// Error returns Msg.
func (e *ValueError) Error() string { return e.Msg }

func valueErrorf(value, format string, args ...any) *ValueError {
	return &ValueError{Value: value, Msg: fmt.Sprintf(format, args...)}
}

// Digits returns the ASCII digits of s, in order, and nothing else.
func Digits(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= '0' && c <= '9' {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// DocumentKey is the one comparable form of a CNPJ or CPF, whatever the mask: the ASCII letters
// and digits of s, upper-cased (a CNPJ may be alphanumeric since July 2026). Adoption by CNPJ,
// the won-deal customer lookup and the mapping all compare documents by it.
func DocumentKey(s string) string { return docChars(s) }

// docChars keeps the ASCII letters and digits of s, upper-cased: the characters a CNPJ (which
// may be alphanumeric since July 2026) or a CPF is made of; masks and blanks are dropped.
func docChars(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9', c >= 'A' && c <= 'Z':
			b.WriteByte(c)
		case c >= 'a' && c <= 'z':
			b.WriteByte(c - 'a' + 'A')
		}
	}
	return b.String()
}

func allSame(s string) bool {
	return strings.Count(s, s[:1]) == len(s)
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// cnpjCheckDigit computes one CNPJ check digit over base with the weights 2..9 cycling from the
// right. Each character counts as its ASCII code minus 48, which is the digit itself for digits
// and the Receita Federal's rule for the alphanumeric CNPJ.
func cnpjCheckDigit(base string) byte {
	sum, w := 0, 2
	for i := len(base) - 1; i >= 0; i-- {
		sum += int(base[i]-'0') * w
		if w++; w > 9 {
			w = 2
		}
	}
	if r := sum % 11; r >= 2 {
		return byte('0' + 11 - r)
	}
	return '0'
}

// CNPJ validates a CNPJ (numeric or the alphanumeric form: 12 letters or digits and 2 check
// digits) and formats it as 11.222.333/0001-81. Masks and blanks in s are ignored. An empty s
// gives "" and no error; a wrong length or check digit gives a *ValueError naming s.
func CNPJ(s string) (string, error) {
	c := docChars(s)
	if c == "" {
		return "", nil
	}
	if len(c) != 14 {
		return "", valueErrorf(s, "%q is not a valid CNPJ (%d characters, want 14)", s, len(c))
	}
	if !isDigits(c[12:]) {
		return "", valueErrorf(s, "%q is not a valid CNPJ (the last 2 characters must be digits)", s)
	}
	if allSame(c) {
		return "", valueErrorf(s, "%q is not a valid CNPJ (all characters equal)", s)
	}
	d1 := cnpjCheckDigit(c[:12])
	d2 := cnpjCheckDigit(c[:12] + string(d1))
	if c[12] != d1 || c[13] != d2 {
		return "", valueErrorf(s, "%q is not a valid CNPJ (wrong check digits)", s)
	}
	return c[0:2] + "." + c[2:5] + "." + c[5:8] + "/" + c[8:12] + "-" + c[12:14], nil
}

func cpfCheckDigit(base string) byte {
	sum, w := 0, len(base)+1
	for i := 0; i < len(base); i++ {
		sum += int(base[i]-'0') * w
		w--
	}
	return byte('0' + (sum*10%11)%10)
}

// CPF validates a CPF and formats it as 529.982.247-25. Masks and blanks in s are ignored. An
// empty s gives "" and no error; a wrong length or check digit gives a *ValueError naming s.
func CPF(s string) (string, error) {
	c := docChars(s)
	if c == "" {
		return "", nil
	}
	if len(c) != 11 || !isDigits(c) {
		return "", valueErrorf(s, "%q is not a valid CPF (want 11 digits)", s)
	}
	if allSame(c) {
		return "", valueErrorf(s, "%q is not a valid CPF (all digits equal)", s)
	}
	d1 := cpfCheckDigit(c[:9])
	d2 := cpfCheckDigit(c[:9] + string(d1))
	if c[9] != d1 || c[10] != d2 {
		return "", valueErrorf(s, "%q is not a valid CPF (wrong check digits)", s)
	}
	return c[0:3] + "." + c[3:6] + "." + c[6:9] + "-" + c[9:11], nil
}

// Document validates and formats s as a CPF (11 digits) or a CNPJ (14 characters), as Protheus
// keeps either in A1_CGC. An empty s gives "" and no error.
func Document(s string) (string, error) {
	c := docChars(s)
	switch {
	case c == "":
		return "", nil
	case len(c) == 11 && isDigits(c):
		return CPF(s)
	case len(c) == 14:
		return CNPJ(s)
	}
	return "", valueErrorf(s, "%q is neither a CPF (11 digits) nor a CNPJ (14 characters)", s)
}

// CEP formats a Brazilian postal code as 01310-100 when s has 8 digits, and returns the digits
// of s unchanged otherwise (a CEP is never a reason to refuse a record).
func CEP(s string) string {
	d := Digits(s)
	if len(d) == 8 {
		return d[:5] + "-" + d[5:]
	}
	return d
}
