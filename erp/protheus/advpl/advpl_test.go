package advpl_test

import (
	"io/fs"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/protheus/advpl"
	"github.com/erpbridge/erpbridge/erp/protheus/restsim"
)

// sources reads every ERP-side source but the include file.
func sources(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := fs.WalkDir(advpl.Sources, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path == "erpbridge.ch" {
			return err
		}
		b, err := advpl.Sources.ReadFile(path)
		out[path] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 {
		t.Fatalf("sources %v, want the order route and the staging job", slices.Sorted(keys(out)))
	}
	return out
}

func keys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func TestVersionIsTheIncludeFiles(t *testing.T) {
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(advpl.Version) {
		t.Errorf("Version %q, want MAJOR.MINOR.PATCH from erpbridge.ch", advpl.Version)
	}
	for name, src := range sources(t) {
		if !strings.Contains(src, `#include "erpbridge.ch"`) || !strings.Contains(src, "ERPBRIDGE_VERSION") {
			t.Errorf("%s does not include erpbridge.ch and use ERPBRIDGE_VERSION", name)
		}
		if strings.Contains(src, `"`+advpl.Version+`"`) {
			t.Errorf("%s spells the version out instead of ERPBRIDGE_VERSION", name)
		}
	}
}

// code strips comments and string literals from ADVPL text, keeping line
// breaks, and joins ";"-continued lines: what is left is statements.
func code(src string) []string {
	var b strings.Builder
	for i := 0; i < len(src); i++ {
		switch c := src[i]; {
		case strings.HasPrefix(src[i:], "//"):
			for i < len(src) && src[i] != '\n' {
				i++
			}
			i--
		case strings.HasPrefix(src[i:], "/*"):
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				end = len(src) - i - 2
			}
			b.WriteString(strings.Repeat("\n", strings.Count(src[i:i+2+end], "\n")))
			i += end + 3
		case c == '"' || c == '\'':
			end := strings.IndexByte(src[i+1:], c)
			if end < 0 || strings.Contains(src[i+1:i+1+end], "\n") {
				b.WriteString("<UNTERMINATED STRING>")
				end = 0
			}
			b.WriteString(`""`)
			i += end + 1
		default:
			b.WriteByte(c)
		}
	}
	var out []string
	cont := ""
	for _, l := range strings.Split(b.String(), "\n") {
		l = strings.TrimSpace(l)
		if strings.HasSuffix(l, ";") {
			cont += strings.TrimSuffix(l, ";") + " "
			continue
		}
		out = append(out, cont+l)
		cont = ""
	}
	return out
}

// TestSourcesAreBalanced checks what a compiler would refuse first:
// strings closed on their line, brackets balanced, every If, For, While,
// Begin Sequence and Do Case closed in its function, Local declarations
// before the first statement, and every function ending with Return.
func TestSourcesAreBalanced(t *testing.T) {
	openers := map[string]string{"if": "endif", "for": "next", "while": "enddo", "begin sequence": "end sequence", "do case": "endcase"}
	closers := map[string]bool{"endif": true, "next": true, "enddo": true, "end sequence": true, "endcase": true}
	middles := map[string]string{"else": "if", "elseif": "if", "recover": "begin sequence", "case": "do case", "otherwise": "do case"}
	word := regexp.MustCompile(`^(?i)(end sequence|begin sequence|do case|user function|static function|[a-z_]+)\b`)
	for name, src := range sources(t) {
		t.Run(name, func(t *testing.T) {
			var stack []string
			fn, executable, returned := "", false, true
			depth := 0
			for n, stmt := range code(src) {
				line := n + 1
				if strings.Contains(stmt, "<UNTERMINATED STRING>") {
					t.Errorf("line %d: a string is not closed on its line", line)
				}
				for _, c := range stmt {
					switch c {
					case '(', '[', '{':
						depth++
					case ')', ']', '}':
						depth--
					}
				}
				if depth != 0 && !strings.HasPrefix(stmt, "@") {
					t.Errorf("line %d: brackets unbalanced in %q", line, stmt)
					depth = 0
				}
				w := strings.ToLower(word.FindString(stmt))
				if w == "" || strings.HasPrefix(stmt, "#") || strings.HasPrefix(stmt, "@") {
					continue
				}
				rest := strings.TrimSpace(stmt[len(w):])
				switch {
				case w == "user function" || w == "static function":
					if fn != "" && (len(stack) > 0 || !returned) {
						t.Errorf("line %d: %s ends with %v open, returned %v", line, fn, stack, returned)
					}
					fn, stack, executable, returned = stmt, nil, false, false
				case w == "namespace":
				case w == "local":
					if executable {
						t.Errorf("line %d: Local after a statement in %s", line, fn)
					}
				case w == "private":
				case w == "return":
					executable = true
					if len(stack) == 0 {
						returned = true
					}
				case openers[w] != "" && !(w == "if" && strings.HasPrefix(rest, "(")):
					executable, returned = true, false
					stack = append(stack, w)
				case closers[w]:
					if len(stack) == 0 || openers[stack[len(stack)-1]] != w {
						t.Errorf("line %d: %s closes %v", line, w, stack)
						continue
					}
					stack = stack[:len(stack)-1]
				case middles[w] != "":
					if len(stack) == 0 || stack[len(stack)-1] != middles[w] {
						t.Errorf("line %d: %s outside its %s: %v", line, w, middles[w], stack)
					}
				default:
					executable, returned = true, false
				}
			}
			if fn == "" || len(stack) > 0 || !returned {
				t.Errorf("the last function %q ends with %v open, returned %v", fn, stack, returned)
			}
		})
	}
}

// TestSourcesNameKnownFields: every SC5/SC6 field the sources name is in
// the Protheus dictionary erpbridge knows (C5_XCRMID is the custom field
// the ERP team adds), and every staging field is in the staging layout.
func TestSourcesNameKnownFields(t *testing.T) {
	known := map[string]bool{"C5_XCRMID": true}
	for _, f := range protheus.StagingHeaderFields("ZB1") {
		known[f.Name] = true
	}
	for _, f := range protheus.StagingItemsFields("ZB2") {
		known[f.Name] = true
	}
	field := regexp.MustCompile(`\b(C5|C6|ZB1|ZB2)_[A-Z0-9]+\b`)
	comment := regexp.MustCompile(`(?s)//[^\n]*|/\*.*?\*/`)
	for name, src := range sources(t) {
		src = comment.ReplaceAllString(src, "")
		for _, f := range slices.Compact(slices.Sorted(slices.Values(field.FindAllString(src, -1)))) {
			alias := "S" + f[:2]
			if strings.HasPrefix(f, "ZB") {
				alias = ""
			}
			if _, ok := protheus.Lookup(alias, f); !ok && !known[f] {
				t.Errorf("%s names %s, which neither the dictionary nor the staging layout has", name, f)
			}
		}
	}
}

// TestRouteReadsTheContract: the route reads every field of the order
// request the bridge sends (restsim.OrderRequest, what the rest sink
// speaks) and answers every field of the answer.
func TestRouteReadsTheContract(t *testing.T) {
	route := sources(t)["erpbridge_orders.tlpp"]
	for _, typ := range []reflect.Type{reflect.TypeFor[restsim.OrderRequest](), reflect.TypeFor[restsim.OrderRequestItem](), reflect.TypeFor[restsim.OrderResponse]()} {
		for i := range typ.NumField() {
			tag, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
			if tag != "" && !strings.Contains(route, `"`+tag+`"`) {
				t.Errorf("the route does not read or answer %s.%s (%q)", typ.Name(), typ.Field(i).Name, tag)
			}
		}
	}
	for _, want := range []string{`@Post(endpoint="/orders"`, `@Get(endpoint="/orders` + advpl.VersionPath + `"`, `"` + advpl.VersionHeader + `"`} {
		if !strings.Contains(route, want) {
			t.Errorf("the route lacks %s", want)
		}
	}
}
