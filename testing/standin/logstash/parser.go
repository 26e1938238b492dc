package logstash

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"protocol-monitoring/standin/internal/shared"
)

// ---- pipeline syntax

type lsPlugin struct {
	name  string
	file  string
	line  int
	attrs map[string]any // string, float64, []any, map[string]any, *lsPlugin (a codec with settings)
	lines map[string]int
}

type lsNode struct {
	plugin *lsPlugin
	branch *lsBranch
}

type lsBranch struct {
	conds  []func(*lsEvent) bool
	bodies [][]lsNode // one per condition, plus the else body if any
}

type lsParser struct {
	src  string
	pos  int
	file string
	env  shared.Env
}

func (p *lsParser) lineNo() int { return 1 + strings.Count(p.src[:p.pos], "\n") }

func (p *lsParser) errf(f string, a ...any) error {
	return fmt.Errorf("%s: line %d: %s", p.file, p.lineNo(), fmt.Sprintf(f, a...))
}

func (p *lsParser) eof() bool { return p.pos >= len(p.src) }

func (p *lsParser) peek() byte {
	if p.eof() {
		return 0
	}
	return p.src[p.pos]
}

func (p *lsParser) snippet() string {
	s := p.src[p.pos:]
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return strings.TrimSpace(s)
}

func (p *lsParser) ws() {
	for !p.eof() {
		switch c := p.src[p.pos]; {
		case c == '#':
			for !p.eof() && p.src[p.pos] != '\n' {
				p.pos++
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			p.pos++
		default:
			return
		}
	}
}

func isBarewordByte(c byte) bool {
	return c == '_' || c == '-' || c == '@' || c == '.' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

func (p *lsParser) bareword() string {
	start := p.pos
	for !p.eof() && isBarewordByte(p.src[p.pos]) {
		p.pos++
	}
	return p.src[start:p.pos]
}

func (p *lsParser) expect(s string) error {
	p.ws()
	if !strings.HasPrefix(p.src[p.pos:], s) {
		if p.eof() {
			return p.errf("expected %q, found the end of the file", s)
		}
		return p.errf("expected %q, found %q", s, p.snippet())
	}
	p.pos += len(s)
	return nil
}

// parseLogstashConfig parses one pipeline file: input/filter/output sections
// of plugins with settings, and if/else if/else branches (in filter and
// output) on the conditions the stand-in evaluates.
func parseLogstashConfig(src, file string, env shared.Env) (map[string][]lsNode, error) {
	p := &lsParser{src: src, file: file, env: env}
	sections := map[string][]lsNode{}
	for {
		p.ws()
		if p.eof() {
			return sections, nil
		}
		name := p.bareword()
		if name != "input" && name != "filter" && name != "output" {
			return nil, p.errf("expected input, filter or output, found %q", name+p.snippet())
		}
		if err := p.expect("{"); err != nil {
			return nil, err
		}
		nodes, err := p.block(name)
		if err != nil {
			return nil, err
		}
		sections[name] = append(sections[name], nodes...)
	}
}

func (p *lsParser) block(section string) ([]lsNode, error) {
	var nodes []lsNode
	for {
		p.ws()
		if p.eof() {
			return nil, p.errf("unexpected end of file: missing \"}\"")
		}
		if p.peek() == '}' {
			p.pos++
			return nodes, nil
		}
		line := p.lineNo()
		name := p.bareword()
		switch {
		case name == "":
			return nil, p.errf("expected a plugin name or \"if\", found %q", p.snippet())
		case name == "if" || name == "else":
			if section == "input" || name == "else" {
				return nil, p.errf("%q is not allowed here", name)
			}
			br, err := p.branch(section)
			if err != nil {
				return nil, err
			}
			nodes = append(nodes, lsNode{branch: br})
		default:
			pl, err := p.plugin(name, line)
			if err != nil {
				return nil, err
			}
			nodes = append(nodes, lsNode{plugin: pl})
		}
	}
}

func (p *lsParser) plugin(name string, line int) (*lsPlugin, error) {
	if err := p.expect("{"); err != nil {
		return nil, err
	}
	pl := &lsPlugin{name: name, file: p.file, line: line, attrs: map[string]any{}, lines: map[string]int{}}
	for {
		p.ws()
		if p.eof() {
			return nil, p.errf("unexpected end of file in plugin %q: missing \"}\"", name)
		}
		if p.peek() == '}' {
			p.pos++
			return pl, nil
		}
		aline := p.lineNo()
		key, err := p.key()
		if err != nil {
			return nil, err
		}
		if key == "" {
			return nil, p.errf("expected a setting name in plugin %q, found %q", name, p.snippet())
		}
		if err := p.expect("=>"); err != nil {
			return nil, err
		}
		p.ws()
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		if _, dup := pl.attrs[key]; dup {
			return nil, fmt.Errorf("%s: line %d: setting %q of plugin %q is given twice", p.file, aline, key, name)
		}
		pl.attrs[key] = v
		pl.lines[key] = aline
	}
}

// key reads a setting name or hash key: a quoted string or a bareword.
func (p *lsParser) key() (string, error) {
	if c := p.peek(); c == '"' || c == '\'' {
		return p.quoted()
	}
	return p.bareword(), nil
}

func (p *lsParser) quoted() (string, error) {
	q := p.src[p.pos]
	start := p.pos
	p.pos++
	for !p.eof() {
		c := p.src[p.pos]
		if c == '\\' && p.pos+1 < len(p.src) && p.src[p.pos+1] == q {
			p.pos += 2 // an escaped quote; with config.support_escapes off the backslash stays
			continue
		}
		if c == q {
			p.pos++
			return p.src[start+1 : p.pos-1], nil
		}
		p.pos++
	}
	p.pos = start
	return "", p.errf("unterminated string starting %q", p.snippet())
}

var lsEnvRef = regexp.MustCompile(`\$\{([^}:]*)(?::([^}]*))?\}`)

// substitute replaces ${VAR} and ${VAR:default} as Logstash does for
// setting values (the keystore is not modelled: only the environment).
func (p *lsParser) substitute(s string) (string, error) {
	var err error
	out := lsEnvRef.ReplaceAllStringFunc(s, func(m string) string {
		sub := lsEnvRef.FindStringSubmatch(m)
		name := strings.TrimSpace(sub[1])
		if v := p.env(name); v != "" {
			return v
		}
		if strings.Contains(m, ":") {
			return sub[2]
		}
		if err == nil {
			err = p.errf("Cannot evaluate `${%s}`. Replacement variable `%s` is not defined in a Logstash secret store or as an Environment entry and there is no default value given.", name, name)
		}
		return m
	})
	return out, err
}

var lsNumber = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?`)

func (p *lsParser) value() (any, error) {
	switch c := p.peek(); {
	case c == '"' || c == '\'':
		s, err := p.quoted()
		if err != nil {
			return nil, err
		}
		return p.substitute(s)
	case c == '[':
		p.pos++
		var list []any
		for {
			p.ws()
			if p.peek() == ']' {
				p.pos++
				return list, nil
			}
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			list = append(list, v)
			p.ws()
			switch p.peek() {
			case ',':
				p.pos++
			case ']':
			default:
				return nil, p.errf("expected \",\" or \"]\" in a list, found %q", p.snippet())
			}
		}
	case c == '{':
		p.pos++
		h := map[string]any{}
		for {
			p.ws()
			if p.peek() == '}' {
				p.pos++
				return h, nil
			}
			key, err := p.key()
			if err != nil {
				return nil, err
			}
			if key == "" {
				return nil, p.errf("expected a hash key, found %q", p.snippet())
			}
			if err := p.expect("=>"); err != nil {
				return nil, err
			}
			p.ws()
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			h[key] = v
			p.ws()
			if p.peek() == ',' {
				p.pos++
			}
		}
	case lsNumber.MatchString(p.src[p.pos:]) && !isBarewordAfterNumber(p.src[p.pos:]):
		m := lsNumber.FindString(p.src[p.pos:])
		p.pos += len(m)
		f, _ := strconv.ParseFloat(m, 64)
		return f, nil
	default:
		line := p.lineNo()
		w := p.bareword()
		if w == "" {
			return nil, p.errf("expected a value, found %q", p.snippet())
		}
		save := p.pos
		p.ws()
		if p.peek() == '{' { // a plugin as value: a codec with settings
			return p.plugin(w, line)
		}
		p.pos = save
		return p.substitute(w)
	}
}

func isBarewordAfterNumber(s string) bool {
	m := lsNumber.FindString(s)
	return len(s) > len(m) && isBarewordByte(s[len(m)]) && s[len(m)] != '.'
}
