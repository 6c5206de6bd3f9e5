package mapping

import (
	"strings"
	"unicode/utf8"

	"github.com/expr-lang/expr"
)

// exprFunction is one transform as expressions see it.
type exprFunction struct {
	name string
	fn   func(args ...any) (any, error)
	// sig declares the arity (and the obvious argument kinds) so that a call with the wrong
	// number of arguments fails at Compile, not on the first record.
	sig any
}

// functions lists the transforms available in expressions. Arguments are record or expression
// values (nil, string, decimal.Decimal, int64, time.Time, bool…); nil reads as "".
func functions() []exprFunction {
	str1 := func(f func(string) string) func(args ...any) (any, error) {
		return func(args ...any) (any, error) { return f(toText(args[0])), nil }
	}
	str1e := func(f func(string) (string, error)) func(args ...any) (any, error) {
		return func(args ...any) (any, error) { return f(toText(args[0])) }
	}
	return []exprFunction{
		{"digits", str1(Digits), new(func(any) string)},
		{"cnpj", str1e(CNPJ), new(func(any) string)},
		{"cpf", str1e(CPF), new(func(any) string)},
		{"doc", str1e(Document), new(func(any) string)},
		{"cep", str1(CEP), new(func(any) string)},
		{"phone", func(args ...any) (any, error) {
			return Phone(toText(args[0]), toText(args[1])), nil
		}, new(func(any, any) string)},
		{"phoneintl", func(args ...any) (any, error) {
			return PhoneIntl(toText(args[0]), toText(args[1])), nil
		}, new(func(any, any) string)},
		{"emails", func(args ...any) (any, error) {
			list, err := Emails(toText(args[0]))
			if list == nil {
				list = []string{}
			}
			return list, err
		}, new(func(any) []string)},
		{"email", str1(Email), new(func(any) string)},
		{"upper", str1(strings.ToUpper), new(func(any) string)},
		{"lower", str1(strings.ToLower), new(func(any) string)},
		{"title", str1(Title), new(func(any) string)},
		{"trim", str1(strings.TrimSpace), new(func(any) string)},
		{"truncate", func(args ...any) (any, error) {
			n, err := toInt(args[1])
			if err != nil {
				return nil, err
			}
			return Truncate(toText(args[0]), n), nil
		}, new(func(any, any) string)},
		{"join", func(args ...any) (any, error) {
			return joinValues(toText(args[0]), args[1:]), nil
		}, new(func(any, ...any) string)},
		{"coalesce", func(args ...any) (any, error) {
			for _, a := range args {
				if !isEmpty(a) {
					return a, nil
				}
			}
			return nil, nil
		}, new(func(...any) any)},
		{"ifempty", func(args ...any) (any, error) {
			if isEmpty(args[0]) {
				return args[1], nil
			}
			return args[0], nil
		}, new(func(any, any) any)},
		{"date", func(args ...any) (any, error) {
			return FormatDate(args[0], toText(args[1]))
		}, new(func(any, any) string)},
		{"money", func(args ...any) (any, error) { return Money(args[0]) }, new(func(any) string)},
		// cbox(COLUMN), rewritten by cboxPatch with the column's options.
		{"__cbox", func(args ...any) (any, error) {
			table, _ := args[2].(map[string]any)
			return cbox(args[0], toText(args[1]), table)
		}, new(func(any, any, any) any)},
		// Operators on ERP numbers (see decimalOps); not meant to be called by name.
		{"__arith", func(args ...any) (any, error) { return arith(toText(args[0]), args[1], args[2]) }, new(func(any, any, any) any)},
	}
}

// exprOptions are the options every expression of a mapping is compiled with: the record as a
// map env whose columns are only known at run time, the transforms, and no builtin that would
// make a payload depend on the clock (a fingerprint must not change between two runs).
func exprOptions() []expr.Option {
	opts := []expr.Option{
		expr.Env(map[string]any{}),
		expr.AllowUndefinedVariables(),
		expr.DisableBuiltin("now"),
		expr.Patch(decimalOps{}),
	}
	for _, f := range functions() {
		opts = append(opts, expr.Function(f.name, f.fn, f.sig))
	}
	return opts
}

// joinValues joins the non-empty texts of values (lists are flattened) with sep.
func joinValues(sep string, values []any) string {
	var parts []string
	var add func(v any, depth int)
	add = func(v any, depth int) {
		switch x := v.(type) {
		case []any:
			if depth < 8 {
				for _, e := range x {
					add(e, depth+1)
				}
			}
		case []string:
			for _, e := range x {
				add(e, depth+1)
			}
		default:
			if s := strings.TrimSpace(toText(v)); s != "" {
				parts = append(parts, s)
			}
		}
	}
	for _, v := range values {
		add(v, 0)
	}
	return strings.Join(parts, sep)
}

func toInt(v any) (int, error) {
	d, ok, err := toDecimal(v)
	if err != nil {
		return 0, err
	}
	if !ok || !d.IsInteger() || d.IntPart() < 0 || d.IntPart() > 1<<20 {
		return 0, valueErrorf(toText(v), "%s is not a length (want a whole number from 0 to %d)", describe(v), 1<<20)
	}
	return int(d.IntPart()), nil
}

// runeLen is the length the CRM counts: characters, not bytes.
func runeLen(s string) int { return utf8.RuneCountInString(s) }
