package logstash

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// branch parses `if COND { ... } else if COND { ... } else { ... }` after "if".
func (p *lsParser) branch(section string) (*lsBranch, error) {
	br := &lsBranch{}
	for {
		cond, err := p.condition()
		if err != nil {
			return nil, err
		}
		if err := p.expect("{"); err != nil {
			return nil, err
		}
		body, err := p.block(section)
		if err != nil {
			return nil, err
		}
		br.conds = append(br.conds, cond)
		br.bodies = append(br.bodies, body)
		p.ws()
		save := p.pos
		if p.bareword() != "else" {
			p.pos = save
			return br, nil
		}
		p.ws()
		save = p.pos
		if p.bareword() == "if" {
			continue
		}
		p.pos = save
		if err := p.expect("{"); err != nil {
			return nil, err
		}
		body, err = p.block(section)
		if err != nil {
			return nil, err
		}
		br.bodies = append(br.bodies, body)
		return br, nil
	}
}

const lsConditionHelp = `supported: [field], ![field], [field] == "value", [field] != "value"`

// condition parses the conditions the stand-in evaluates (see lsConditionHelp).
func (p *lsParser) condition() (func(*lsEvent) bool, error) {
	p.ws()
	neg := false
	if p.peek() == '!' {
		neg = true
		p.pos++
		p.ws()
	}
	left, isField, err := p.operand()
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.peek() == '{' {
		if !isField {
			return nil, p.errf("condition on a literal is not supported by the stand-in (%s)", lsConditionHelp)
		}
		path := left.([]string)
		return func(ev *lsEvent) bool {
			v, ok := ev.get(path)
			truthy := ok && v != nil && v != false
			return truthy != neg
		}, nil
	}
	rest := p.src[p.pos:]
	var op string
	switch {
	case strings.HasPrefix(rest, "=="):
		op = "=="
	case strings.HasPrefix(rest, "!=") && !strings.HasPrefix(rest, "!~"):
		op = "!="
	default:
		w := p.snippet()
		if f := strings.Fields(w); len(f) > 0 {
			w = f[0]
		}
		return nil, p.errf("condition operator %q is not supported by the stand-in (%s)", w, lsConditionHelp)
	}
	if neg {
		return nil, p.errf("\"!\" before a comparison is not supported by the stand-in (%s)", lsConditionHelp)
	}
	p.pos += 2
	p.ws()
	right, rightField, err := p.operand()
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.peek() != '{' {
		w := p.snippet()
		if f := strings.Fields(w); len(f) > 0 {
			w = f[0]
		}
		return nil, p.errf("condition operator %q is not supported by the stand-in (%s)", w, lsConditionHelp)
	}
	value := func(x any, field bool, ev *lsEvent) any {
		if field {
			v, _ := ev.get(x.([]string))
			return v
		}
		return x
	}
	return func(ev *lsEvent) bool {
		eq := lsEqual(value(left, isField, ev), value(right, rightField, ev))
		return eq == (op == "==")
	}, nil
}

// operand: a field reference [a][b] (returns []string, true), a string or a number.
func (p *lsParser) operand() (any, bool, error) {
	switch c := p.peek(); {
	case c == '[':
		var path []string
		for p.peek() == '[' {
			end := strings.IndexAny(p.src[p.pos+1:], "[]\n")
			if end < 0 || p.src[p.pos+1+end] != ']' {
				return nil, false, p.errf("malformed field reference %q", p.snippet())
			}
			path = append(path, p.src[p.pos+1:p.pos+1+end])
			p.pos += end + 2
		}
		return path, true, nil
	case c == '"' || c == '\'':
		s, err := p.quoted()
		return s, false, err
	case lsNumber.MatchString(p.src[p.pos:]):
		m := lsNumber.FindString(p.src[p.pos:])
		p.pos += len(m)
		f, _ := strconv.ParseFloat(m, 64)
		return f, false, nil
	default:
		return nil, false, p.errf("condition %q is not supported by the stand-in (%s)", p.snippet(), lsConditionHelp)
	}
}

func lsEqual(a, b any) bool {
	num := func(v any) (float64, bool) {
		switch t := v.(type) {
		case float64:
			return t, true
		case json.Number:
			f, err := t.Float64()
			return f, err == nil
		}
		return 0, false
	}
	if x, ok := num(a); ok {
		if y, ok := num(b); ok {
			return x == y
		}
	}
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return fmt.Sprint(a) == fmt.Sprint(b)
}
