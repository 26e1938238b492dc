package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// ---------------------------------------------------------------------------
// YAML: the subset provisioning files use (no third-party parser: standard
// library only). Block mappings and sequences, plain and quoted scalars,
// one-line flow collections, | and > block scalars, comments. Anchors,
// aliases, tags, multi-line plain or flow values and several documents are
// refused with the line they are on.

type yamlLine struct {
	n      int    // 1-based line number
	indent int    // leading spaces
	text   string // without indentation, trailing spaces kept for block scalars
}

type yamlParser struct {
	lines []yamlLine
	i     int
}

func parseYAML(src string) (any, error) {
	var lines []yamlLine
	started, ended := false, false
	for i, raw := range strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n") {
		n := i + 1
		trimmed := strings.TrimLeft(raw, " ")
		indent := len(raw) - len(trimmed)
		if strings.HasPrefix(trimmed, "\t") && strings.TrimSpace(trimmed) != "" {
			return nil, fmt.Errorf("yaml: line %d: found a tab character where an indentation space is expected", n)
		}
		content := strings.TrimSpace(yamlStripComment(trimmed))
		if indent == 0 {
			switch {
			case strings.HasPrefix(raw, "%"):
				return nil, fmt.Errorf("yaml: line %d: directives are not supported by the stand-in", n)
			case content == "---" || strings.HasPrefix(raw, "--- "):
				if started || strings.TrimSpace(strings.TrimPrefix(content, "---")) != "" {
					return nil, fmt.Errorf("yaml: line %d: several documents, or content after ---, are not supported by the stand-in", n)
				}
				started = true
				continue
			case content == "...":
				ended = true
				continue
			}
		}
		if ended && content != "" {
			return nil, fmt.Errorf("yaml: line %d: content after the end of the document", n)
		}
		if content != "" {
			started = true
		}
		lines = append(lines, yamlLine{n: n, indent: indent, text: strings.TrimRight(trimmed, " \t")})
	}
	p := &yamlParser{lines: lines}
	p.skipBlank()
	if p.i >= len(p.lines) {
		return nil, nil
	}
	v, err := p.node(p.lines[p.i].indent)
	if err != nil {
		return nil, err
	}
	p.skipBlank()
	if p.i < len(p.lines) {
		return nil, fmt.Errorf("yaml: line %d: unexpected content (wrong indentation?)", p.lines[p.i].n)
	}
	return v, nil
}

// yamlStripComment cuts a # comment (at the start or after a space, outside quotes).
func yamlStripComment(s string) string {
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				if quote == '\'' && i+1 < len(s) && s[i+1] == '\'' {
					i++
				} else {
					quote = 0
				}
			} else if c == '\\' && quote == '"' {
				i++
			}
		case c == '"' || c == '\'':
			if i == 0 || strings.ContainsRune(" \t[{,:-", rune(s[i-1])) {
				quote = c
			}
		case c == '#' && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t'):
			return s[:i]
		}
	}
	return s
}

func (p *yamlParser) skipBlank() {
	for p.i < len(p.lines) && strings.TrimSpace(yamlStripComment(p.lines[p.i].text)) == "" {
		p.i++
	}
}

func (p *yamlParser) errf(l yamlLine, f string, a ...any) error {
	return fmt.Errorf("yaml: line %d: %s", l.n, fmt.Sprintf(f, a...))
}

func isSeqItem(text string) bool { return text == "-" || strings.HasPrefix(text, "- ") }

// node parses the block value starting at the current line, at indent.
func (p *yamlParser) node(indent int) (any, error) {
	p.skipBlank()
	l := p.lines[p.i]
	if isSeqItem(strings.TrimSpace(yamlStripComment(l.text))) {
		return p.sequence(indent)
	}
	if _, _, ok, err := yamlSplitKey(strings.TrimSpace(yamlStripComment(l.text))); err != nil {
		return nil, p.errf(l, "%v", err)
	} else if ok {
		return p.mapping(indent)
	}
	// A lone scalar (or flow collection) as the whole value.
	p.i++
	v, err := p.inlineValue(l, strings.TrimSpace(yamlStripComment(l.text)), indent-1)
	if err != nil {
		return nil, err
	}
	if err := p.noDeeper(indent - 1); err != nil {
		return nil, err
	}
	return v, nil
}

// noDeeper fails when the next line is indented deeper than indent (a
// continuation line the stand-in does not model).
func (p *yamlParser) noDeeper(indent int) error {
	p.skipBlank()
	if p.i < len(p.lines) && p.lines[p.i].indent > indent {
		return p.errf(p.lines[p.i], "unexpected indentation (multi-line plain scalars are not supported by the stand-in)")
	}
	return nil
}

func (p *yamlParser) sequence(indent int) ([]any, error) {
	list := []any{}
	for {
		p.skipBlank()
		if p.i >= len(p.lines) {
			return list, nil
		}
		l := p.lines[p.i]
		text := strings.TrimSpace(yamlStripComment(l.text))
		if l.indent < indent || !isSeqItem(text) {
			if l.indent > indent {
				return nil, p.errf(l, "unexpected indentation")
			}
			return list, nil
		}
		if l.indent > indent {
			return nil, p.errf(l, "unexpected indentation")
		}
		rest := strings.TrimLeft(l.text[1:], " ")
		if strings.TrimSpace(yamlStripComment(rest)) == "" {
			p.i++
			p.skipBlank()
			if p.i < len(p.lines) && p.lines[p.i].indent > indent {
				v, err := p.node(p.lines[p.i].indent)
				if err != nil {
					return nil, err
				}
				list = append(list, v)
			} else {
				list = append(list, nil)
			}
			continue
		}
		// "- value" or "- key: value": the rest is a node at its own column.
		col := indent + (len(l.text) - len(rest))
		p.lines[p.i] = yamlLine{n: l.n, indent: col, text: rest}
		v, err := p.node(col)
		if err != nil {
			return nil, err
		}
		list = append(list, v)
	}
}

func (p *yamlParser) mapping(indent int) (map[string]any, error) {
	m := map[string]any{}
	seen := map[string]int{}
	for {
		p.skipBlank()
		if p.i >= len(p.lines) {
			return m, nil
		}
		l := p.lines[p.i]
		if l.indent < indent {
			return m, nil
		}
		if l.indent > indent {
			return nil, p.errf(l, "unexpected indentation")
		}
		text := strings.TrimSpace(yamlStripComment(l.text))
		if isSeqItem(text) {
			return m, nil
		}
		key, rest, ok, err := yamlSplitKey(text)
		if err != nil {
			return nil, p.errf(l, "%v", err)
		}
		if !ok {
			return nil, p.errf(l, "expected \"key: value\", found %q", text)
		}
		if first, dup := seen[key]; dup {
			return nil, p.errf(l, "mapping key %q already defined at line %d", key, first)
		}
		seen[key] = l.n
		p.i++
		if rest == "" {
			p.skipBlank()
			switch {
			case p.i < len(p.lines) && p.lines[p.i].indent > indent:
				v, err := p.node(p.lines[p.i].indent)
				if err != nil {
					return nil, err
				}
				m[key] = v
			case p.i < len(p.lines) && p.lines[p.i].indent == indent && isSeqItem(strings.TrimSpace(yamlStripComment(p.lines[p.i].text))):
				v, err := p.sequence(indent)
				if err != nil {
					return nil, err
				}
				m[key] = v
			default:
				m[key] = nil
			}
			continue
		}
		v, err := p.inlineValue(l, rest, indent)
		if err != nil {
			return nil, err
		}
		m[key] = v
		if err := p.noDeeper(indent); err != nil {
			return nil, err
		}
	}
}

// yamlSplitKey splits "key: rest" (rest may be empty); ok is false for a
// line that is not a mapping entry.
func yamlSplitKey(text string) (key, rest string, ok bool, err error) {
	if text == "" {
		return "", "", false, nil
	}
	switch text[0] {
	case '?':
		if text == "?" || strings.HasPrefix(text, "? ") {
			return "", "", false, errors.New("complex mapping keys (?) are not supported by the stand-in")
		}
	case '&', '*', '!':
		return "", "", false, errors.New("anchors, aliases and tags are not supported by the stand-in")
	case '"', '\'':
		s, n, qerr := yamlQuoted(text)
		if qerr != nil {
			return "", "", false, qerr
		}
		after := strings.TrimLeft(text[n:], " ")
		if after == ":" || strings.HasPrefix(after, ": ") {
			return s, strings.TrimSpace(after[1:]), true, nil
		}
		return "", "", false, nil
	case '[', '{':
		return "", "", false, nil
	}
	for i := 0; i < len(text); i++ {
		if text[i] == ':' && (i+1 == len(text) || text[i+1] == ' ') {
			return strings.TrimSpace(text[:i]), strings.TrimSpace(text[i+1:]), true, nil
		}
	}
	return "", "", false, nil
}

// inlineValue parses the value after "key:" or "- " on line l.
func (p *yamlParser) inlineValue(l yamlLine, text string, parentIndent int) (any, error) {
	switch text[0] {
	case '&', '*', '!':
		return nil, p.errf(l, "anchors, aliases and tags are not supported by the stand-in")
	case '|', '>':
		return p.blockScalar(l, text, parentIndent)
	case '"', '\'':
		s, n, err := yamlQuoted(text)
		if err != nil {
			return nil, p.errf(l, "%v", err)
		}
		if strings.TrimSpace(text[n:]) != "" {
			return nil, p.errf(l, "unexpected %q after a quoted string", strings.TrimSpace(text[n:]))
		}
		return s, nil
	case '[', '{':
		v, n, err := yamlFlow(text)
		if err != nil {
			return nil, p.errf(l, "%v", err)
		}
		if strings.TrimSpace(text[n:]) != "" {
			return nil, p.errf(l, "unexpected %q after a flow collection", strings.TrimSpace(text[n:]))
		}
		return v, nil
	}
	if strings.Contains(text, ": ") {
		return nil, p.errf(l, "a mapping is not allowed in this context (%q)", text)
	}
	return yamlResolve(text), nil
}

// yamlQuoted reads a quoted scalar at the start of s; n is the bytes used.
func yamlQuoted(s string) (string, int, error) {
	q := s[0]
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case q == '\'' && c == '\'':
			if i+1 < len(s) && s[i+1] == '\'' {
				b.WriteByte('\'')
				i++
				continue
			}
			return b.String(), i + 1, nil
		case q == '"' && c == '"':
			return b.String(), i + 1, nil
		case q == '"' && c == '\\':
			if i+1 >= len(s) {
				return "", 0, errors.New("unterminated escape in a double-quoted string")
			}
			i++
			switch e := s[i]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '0':
				b.WriteByte(0)
			case '"', '\\', '/', ' ':
				b.WriteByte(e)
			case 'x', 'u', 'U':
				n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
				if i+n >= len(s) {
					return "", 0, errors.New("short escape in a double-quoted string")
				}
				r, err := strconv.ParseUint(s[i+1:i+1+n], 16, 32)
				if err != nil {
					return "", 0, fmt.Errorf("bad escape \\%c%s", e, s[i+1:i+1+n])
				}
				b.WriteRune(rune(r))
				i += n
			default:
				return "", 0, fmt.Errorf("unknown escape \\%c", e)
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, errors.New("quoted string does not end on its line (multi-line quoted scalars are not supported by the stand-in)")
}

// yamlFlow reads a one-line flow sequence or mapping at the start of s.
func yamlFlow(s string) (any, int, error) {
	open := s[0]
	closer := map[byte]byte{'[': ']', '{': '}'}[open]
	var list []any
	m := map[string]any{}
	i := 1
	skip := func() {
		for i < len(s) && s[i] == ' ' {
			i++
		}
	}
	item := func() (any, error) {
		skip()
		if i >= len(s) {
			return nil, errors.New("flow collection does not end on its line (multi-line flow collections are not supported by the stand-in)")
		}
		switch s[i] {
		case '[', '{':
			v, n, err := yamlFlow(s[i:])
			i += n
			return v, err
		case '"', '\'':
			v, n, err := yamlQuoted(s[i:])
			i += n
			return v, err
		case '&', '*', '!':
			return nil, errors.New("anchors, aliases and tags are not supported by the stand-in")
		}
		start := i
		for i < len(s) && s[i] != ',' && s[i] != closer && !(s[i] == ':' && open == '{' && (i+1 == len(s) || s[i+1] == ' ')) {
			i++
		}
		return yamlResolve(strings.TrimSpace(s[start:i])), nil
	}
	for {
		skip()
		if i >= len(s) {
			return nil, 0, errors.New("flow collection does not end on its line (multi-line flow collections are not supported by the stand-in)")
		}
		if s[i] == closer {
			i++
			if open == '[' {
				if list == nil {
					list = []any{}
				}
				return list, i, nil
			}
			return m, i, nil
		}
		v, err := item()
		if err != nil {
			return nil, 0, err
		}
		if open == '{' {
			skip()
			if i >= len(s) || s[i] != ':' {
				return nil, 0, errors.New("expected \":\" in a flow mapping")
			}
			i++
			val, err := item()
			if err != nil {
				return nil, 0, err
			}
			m[fmt.Sprint(v)] = val
		} else {
			list = append(list, v)
		}
		skip()
		if i < len(s) && s[i] == ',' {
			i++
		}
	}
}

var (
	yamlInt   = regexp.MustCompile(`^[-+]?[0-9]+$`)
	yamlFloat = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)
)

// yamlResolve types a plain scalar (YAML 1.2 core schema).
func yamlResolve(s string) any {
	switch s {
	case "", "~", "null", "Null", "NULL":
		return nil
	case "true", "True", "TRUE":
		return true
	case "false", "False", "FALSE":
		return false
	case ".inf", ".Inf", ".INF", "+.inf":
		return math.Inf(1)
	case "-.inf", "-.Inf", "-.INF":
		return math.Inf(-1)
	case ".nan", ".NaN", ".NAN":
		return math.NaN()
	}
	if yamlInt.MatchString(s) {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return json.Number(strconv.FormatInt(n, 10))
		}
	}
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0o") {
		if n, err := strconv.ParseInt(s, 0, 64); err == nil {
			return json.Number(strconv.FormatInt(n, 10))
		}
	}
	if yamlFloat.MatchString(s) {
		if _, err := strconv.ParseFloat(s, 64); err == nil {
			return json.Number(s)
		}
	}
	return s
}

// blockScalar reads a | or > scalar whose lines are indented deeper than parentIndent.
func (p *yamlParser) blockScalar(l yamlLine, header string, parentIndent int) (string, error) {
	folded := header[0] == '>'
	chomp := byte(0)
	explicit := 0
	for _, c := range header[1:] {
		switch {
		case c == '-' || c == '+':
			chomp = byte(c)
		case c >= '1' && c <= '9':
			explicit = int(c - '0')
		case c == ' ':
		default:
			return "", p.errf(l, "unsupported block scalar header %q", header)
		}
	}
	var lines []string
	blockIndent := 0
	if explicit > 0 {
		blockIndent = parentIndent + explicit
		if parentIndent < 0 {
			blockIndent = explicit
		}
	}
	for p.i < len(p.lines) {
		bl := p.lines[p.i]
		blank := strings.TrimSpace(bl.text) == ""
		if !blank {
			if bl.indent <= parentIndent {
				break
			}
			if blockIndent == 0 {
				blockIndent = bl.indent
			}
			if bl.indent < blockIndent {
				break
			}
		}
		if blank {
			lines = append(lines, "")
		} else {
			lines = append(lines, strings.Repeat(" ", bl.indent-blockIndent)+bl.text)
		}
		p.i++
	}
	// Trailing blank lines belong to chomping.
	trailing := 0
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
		trailing++
	}
	var text string
	if folded {
		var b strings.Builder
		for i, ln := range lines {
			if i > 0 {
				prev := lines[i-1]
				switch {
				case ln == "":
					b.WriteByte('\n')
				case prev == "":
				case strings.HasPrefix(ln, " ") || strings.HasPrefix(prev, " "):
					b.WriteByte('\n')
				default:
					b.WriteByte(' ')
				}
			}
			b.WriteString(ln)
		}
		text = b.String()
	} else {
		text = strings.Join(lines, "\n")
	}
	switch {
	case len(lines) == 0:
		return "", nil
	case chomp == '-':
	case chomp == '+':
		text += "\n" + strings.Repeat("\n", trailing)
	default:
		text += "\n"
	}
	return text, nil
}
