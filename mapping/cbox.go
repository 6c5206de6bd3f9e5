package mapping

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/expr-lang/expr/ast"
)

// cboxPatch turns cbox(COLUMN) into __cbox(COLUMN, "COLUMN", {code:
// description…}): the column's options (Spec.Choices) travel with the
// compiled expression, so a mapping needs nothing at run time but the
// record. It keeps the first misuse in err.
type cboxPatch struct {
	choices map[string]map[string]string
	err     error
}

// Visit implements ast.Visitor.
func (p *cboxPatch) Visit(node *ast.Node) {
	call, ok := (*node).(*ast.CallNode)
	if !ok {
		return
	}
	if id, ok := call.Callee.(*ast.IdentifierNode); !ok || id.Value != "cbox" {
		return
	}
	col, ok := (*ast.IdentifierNode)(nil), len(call.Arguments) == 1
	if ok {
		col, ok = call.Arguments[0].(*ast.IdentifierNode)
	}
	if !ok {
		p.fail(errors.New("cbox takes one column, e.g. cbox(A1_XSEGMEN)"))
		return
	}
	var table ast.Node = &ast.NilNode{}
	if p.choices != nil {
		opts, ok := p.choices[col.Value]
		if !ok {
			p.fail(fmt.Errorf("cbox(%s): the ERP describes no options for %s (not a combo field, or its options are computed)", col.Value, col.Value))
			return
		}
		pairs := make([]ast.Node, 0, len(opts))
		for _, code := range sortedKeys(opts) {
			pairs = append(pairs, &ast.PairNode{Key: &ast.StringNode{Value: code}, Value: &ast.StringNode{Value: opts[code]}})
		}
		table = &ast.MapNode{Pairs: pairs}
	}
	ast.Patch(node, &ast.CallNode{Callee: &ast.IdentifierNode{Value: "__cbox"},
		Arguments: []ast.Node{col, &ast.StringNode{Value: col.Value}, table}})
}

func (p *cboxPatch) fail(err error) {
	if p.err == nil {
		p.err = err
	}
}

// cbox is a coded value's description: blanks around the code are
// dropped, an empty code is "", and a code the options lack is an error
// listing them. Without options (a mapping checked without the ERP) the
// value is given as stored.
func cbox(value any, column string, table map[string]any) (any, error) {
	code := strings.TrimSpace(toText(value))
	if table == nil || code == "" {
		return code, nil
	}
	if d, ok := table[code]; ok {
		return d, nil
	}
	opts := make([]string, 0, len(table))
	for c, d := range table {
		opts = append(opts, c+"="+toText(d))
	}
	slices.Sort(opts)
	return nil, valueErrorf(code, "%q is none of the options of %s (%s)", code, column, strings.Join(opts, ", "))
}
