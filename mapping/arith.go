package mapping

import (
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/expr-lang/expr/ast"
	"github.com/shopspring/decimal"
)

// ERP numbers reach expressions as exact decimals (decimal.Decimal), which
// expr's own operators cannot add or compare. decimalOps rewrites every
// arithmetic and comparison operator into a call of arith, which works in
// exact decimals whenever both sides are numbers and keeps expr's meaning
// otherwise (string +, comparisons of strings, equality of anything). So
// `B1_PRV1 * 1.1`, `A1_LC > 1000` and `0.1 + 0.2` (= 0.3, exactly) work.
type decimalOps struct{}

var arithOps = map[string]bool{"+": true, "-": true, "*": true, "/": true, "%": true,
	"<": true, ">": true, "<=": true, ">=": true, "==": true, "!=": true}

// Visit implements ast.Visitor.
func (decimalOps) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.BinaryNode:
		if arithOps[n.Operator] {
			ast.Patch(node, &ast.CallNode{
				Callee:    &ast.IdentifierNode{Value: "__arith"},
				Arguments: []ast.Node{&ast.StringNode{Value: n.Operator}, n.Left, n.Right},
			})
		}
	case *ast.UnaryNode:
		if n.Operator == "-" {
			ast.Patch(node, &ast.CallNode{
				Callee:    &ast.IdentifierNode{Value: "__arith"},
				Arguments: []ast.Node{&ast.StringNode{Value: "-"}, &ast.IntegerNode{Value: 0}, n.Node},
			})
		}
	}
}

// asDecimal converts a number of any kind to a decimal.
func asDecimal(v any) (decimal.Decimal, bool) {
	switch x := v.(type) {
	case decimal.Decimal:
		return x, true
	case int:
		return decimal.NewFromInt(int64(x)), true
	case int64:
		return decimal.NewFromInt(x), true
	case int32:
		return decimal.NewFromInt(int64(x)), true
	case float64:
		return decimal.NewFromFloat(x), true
	case float32:
		return decimal.NewFromFloat32(x), true
	case json.Number:
		d, err := decimal.NewFromString(string(x))
		return d, err == nil
	}
	return decimal.Decimal{}, false
}

// arith applies op to a and b.
func arith(op string, a, b any) (any, error) {
	da, aNum := asDecimal(a)
	db, bNum := asDecimal(b)
	if aNum && bNum {
		switch op {
		case "+":
			return da.Add(db), nil
		case "-":
			return da.Sub(db), nil
		case "*":
			return da.Mul(db), nil
		case "/", "%":
			if db.IsZero() {
				return nil, fmt.Errorf("division by zero")
			}
			if op == "/" {
				return da.DivRound(db, 16), nil
			}
			return da.Mod(db), nil
		case "<":
			return da.LessThan(db), nil
		case ">":
			return da.GreaterThan(db), nil
		case "<=":
			return da.LessThanOrEqual(db), nil
		case ">=":
			return da.GreaterThanOrEqual(db), nil
		case "==":
			return da.Equal(db), nil
		case "!=":
			return !da.Equal(db), nil
		}
	}
	sa, aStr := a.(string)
	sb, bStr := b.(string)
	switch op {
	case "==":
		return equal(a, b), nil
	case "!=":
		return !equal(a, b), nil
	case "+":
		if aStr && bStr {
			return sa + sb, nil
		}
	case "<", ">", "<=", ">=":
		if aStr && bStr {
			switch op {
			case "<":
				return sa < sb, nil
			case ">":
				return sa > sb, nil
			case "<=":
				return sa <= sb, nil
			default:
				return sa >= sb, nil
			}
		}
	}
	return nil, fmt.Errorf("cannot apply %s to %s and %s", op, kindName(a), kindName(b))
}

func equal(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return reflect.DeepEqual(a, b)
}

func kindName(v any) string {
	switch v.(type) {
	case nil:
		return "nothing (nil)"
	case string:
		return "text"
	case bool:
		return "a boolean"
	}
	if _, ok := asDecimal(v); ok {
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}
