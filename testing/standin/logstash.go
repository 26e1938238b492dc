package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// ---------------------------------------------------------------------------
// Logstash: runs the pipeline file, refusing what it does not model.

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
	env  envFunc
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
func parseLogstashConfig(src, file string, env envFunc) (map[string][]lsNode, error) {
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

// ---- events

type lsEvent struct {
	ts     time.Time
	fields map[string]any
}

func newLSEvent(fields map[string]any) *lsEvent {
	if fields == nil {
		fields = map[string]any{}
	}
	ev := &lsEvent{ts: time.Now().UTC(), fields: fields}
	if raw, ok := fields["@timestamp"]; ok {
		delete(fields, "@timestamp")
		s, _ := raw.(string)
		if t, ok := parseISO8601(s); ok {
			ev.ts = t
		} else {
			ev.addTag("_timestampparsefailure")
			fields["_@timestamp"] = raw
		}
	}
	if _, ok := fields["@version"]; !ok {
		fields["@version"] = "1"
	}
	return ev
}

// parseFieldRef reads "[a][b]" or "a" (a top-level field, dots included).
func parseFieldRef(s string) ([]string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("empty field reference")
	}
	if !strings.HasPrefix(s, "[") {
		return []string{s}, nil
	}
	var path []string
	for s != "" {
		if s[0] != '[' {
			return nil, fmt.Errorf("malformed field reference %q", s)
		}
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return nil, fmt.Errorf("malformed field reference %q", s)
		}
		path = append(path, s[1:end])
		s = s[end+1:]
	}
	return path, nil
}

func (e *lsEvent) get(path []string) (any, bool) {
	if len(path) == 1 && path[0] == "@timestamp" {
		return e.ts.Format("2006-01-02T15:04:05.000Z"), true
	}
	var cur any = e.fields
	for _, k := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func (e *lsEvent) set(path []string, v any) {
	m := e.fields
	for _, k := range path[:len(path)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[path[len(path)-1]] = v
}

func (e *lsEvent) remove(path []string) {
	m := e.fields
	for _, k := range path[:len(path)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			return
		}
		m = next
	}
	delete(m, path[len(path)-1])
}

func (e *lsEvent) addTag(tag string) {
	var tags []any
	switch t := e.fields["tags"].(type) {
	case []any:
		tags = t
	case nil:
	default: // a single tag (a json filter can set one): kept, as Event#tag does
		tags = []any{t}
	}
	for _, t := range tags {
		if t == tag {
			return
		}
	}
	e.fields["tags"] = append(tags, tag)
}

func (e *lsEvent) document() map[string]any {
	doc := make(map[string]any, len(e.fields)+1)
	for k, v := range e.fields {
		doc[k] = v
	}
	doc["@timestamp"] = e.ts.Format("2006-01-02T15:04:05.000Z")
	return doc
}

// lsEventsFromJSON decodes one JSON text as the json/json_lines codecs do:
// an object is an event, an array of objects several; anything else is a
// message tagged _jsonparsefailure.
func lsEventsFromJSON(text []byte) []*lsEvent {
	var v any
	if err := decodeJSON(text, &v); err == nil {
		switch t := v.(type) {
		case map[string]any:
			return []*lsEvent{newLSEvent(t)}
		case []any:
			var evs []*lsEvent
			for _, x := range t {
				if m, ok := x.(map[string]any); ok {
					evs = append(evs, newLSEvent(m))
				}
			}
			if len(evs) == len(t) {
				return evs
			}
		}
	}
	ev := newLSEvent(map[string]any{"message": string(text)})
	ev.addTag("_jsonparsefailure")
	return []*lsEvent{ev}
}

// ---- sprintf: %{field} and %{+joda date format}

type lsTplPart struct {
	lit   string
	field []string
	raw   string
	date  []jodaTok
	epoch bool
	isVar bool
}

type lsTemplate []lsTplPart

func parseTemplate(s string) (lsTemplate, error) {
	var t lsTemplate
	for s != "" {
		i := strings.Index(s, "%{")
		if i < 0 {
			t = append(t, lsTplPart{lit: s})
			break
		}
		if i > 0 {
			t = append(t, lsTplPart{lit: s[:i]})
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			t = append(t, lsTplPart{lit: s[i:]})
			break
		}
		inner := s[i+2 : i+end]
		part := lsTplPart{raw: s[i : i+end+1], isVar: true}
		switch {
		case inner == "+%s":
			part.epoch = true
		case strings.HasPrefix(inner, "+"):
			toks, err := parseJoda(inner[1:])
			if err != nil {
				return nil, fmt.Errorf("%%{%s}: %w", inner, err)
			}
			part.date = toks
		default:
			path, err := parseFieldRef(inner)
			if err != nil {
				return nil, err
			}
			part.field = path
		}
		t = append(t, part)
		s = s[i+end+1:]
	}
	return t, nil
}

func (t lsTemplate) render(ev *lsEvent) string {
	var b strings.Builder
	for _, p := range t {
		switch {
		case !p.isVar:
			b.WriteString(p.lit)
		case p.epoch:
			b.WriteString(strconv.FormatInt(ev.ts.Unix(), 10))
		case p.date != nil:
			b.WriteString(formatJoda(p.date, ev.ts.UTC()))
		default:
			v, ok := ev.get(p.field)
			switch {
			case !ok || v == nil:
				b.WriteString(p.raw) // Logstash leaves an unknown reference as written
			case isScalar(v):
				s, _ := esScalarString(v)
				b.WriteString(s)
			default:
				j, _ := json.Marshal(v)
				b.Write(j)
			}
		}
	}
	return b.String()
}

func isScalar(v any) bool {
	switch v.(type) {
	case string, json.Number, float64, bool:
		return true
	}
	return false
}

type jodaTok struct {
	letter byte
	n      int
	lit    string
}

// parseJoda reads the Joda-Time pattern letters the stand-in formats:
// y Y x (year, year of era, week year), M, d, H, m, s, S, w; quoted text.
func parseJoda(f string) ([]jodaTok, error) {
	var toks []jodaTok
	for i := 0; i < len(f); {
		c := f[i]
		switch {
		case c == '\'':
			end := strings.IndexByte(f[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("unterminated quote in date format %q", f)
			}
			lit := f[i+1 : i+1+end]
			if lit == "" {
				lit = "'"
			}
			toks = append(toks, jodaTok{lit: lit})
			i += end + 2
		case (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
			n := 1
			for i+n < len(f) && f[i+n] == c {
				n++
			}
			if !strings.ContainsRune("yYxMdHmsSw", rune(c)) {
				return nil, fmt.Errorf("date format letter %q (in %q) is not supported by the stand-in (y Y x M d H m s S w)", string(c), f)
			}
			toks = append(toks, jodaTok{letter: c, n: n})
			i += n
		default:
			toks = append(toks, jodaTok{lit: string(c)})
			i++
		}
	}
	return toks, nil
}

func formatJoda(toks []jodaTok, t time.Time) string {
	var b strings.Builder
	pad := func(v, n int) { fmt.Fprintf(&b, "%0*d", n, v) }
	for _, tk := range toks {
		switch tk.letter {
		case 0:
			b.WriteString(tk.lit)
		case 'y', 'Y', 'x':
			year := t.Year()
			if tk.letter == 'x' {
				year, _ = t.ISOWeek()
			}
			if tk.n == 2 {
				pad(year%100, 2)
			} else {
				pad(year, tk.n)
			}
		case 'M':
			switch {
			case tk.n >= 4:
				b.WriteString(t.Month().String())
			case tk.n == 3:
				b.WriteString(t.Month().String()[:3])
			default:
				pad(int(t.Month()), tk.n)
			}
		case 'd':
			pad(t.Day(), tk.n)
		case 'H':
			pad(t.Hour(), tk.n)
		case 'm':
			pad(t.Minute(), tk.n)
		case 's':
			pad(t.Second(), tk.n)
		case 'S':
			frac := fmt.Sprintf("%09d", t.Nanosecond())
			for len(frac) < tk.n {
				frac += "0"
			}
			b.WriteString(frac[:tk.n])
		case 'w':
			_, w := t.ISOWeek()
			pad(w, tk.n)
		}
	}
	return b.String()
}

var iso8601Layouts = []string{
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999Z07",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999Z0700",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
}

// parseISO8601 parses what the date filter's ISO8601 accepts; no zone means UTC.
func parseISO8601(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, l := range iso8601Layouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// ---- plugin settings

// lsOpts reads a plugin's settings and reports any it does not know.
type lsOpts struct {
	pl   *lsPlugin
	used map[string]bool
	err  error
}

func newLSOpts(pl *lsPlugin) *lsOpts { return &lsOpts{pl: pl, used: map[string]bool{"id": true}} }

func (o *lsOpts) fail(key, f string, a ...any) {
	if o.err == nil {
		line := o.pl.line
		if l, ok := o.pl.lines[key]; ok {
			line = l
		}
		o.err = fmt.Errorf("%s: line %d: %s %q: %s", o.pl.file, line, o.pl.name, key, fmt.Sprintf(f, a...))
	}
}

func (o *lsOpts) has(key string) bool {
	_, ok := o.pl.attrs[key]
	return ok
}

func (o *lsOpts) str(key, def string) string {
	o.used[key] = true
	v, ok := o.pl.attrs[key]
	if !ok {
		return def
	}
	switch t := v.(type) {
	case string:
		return t
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	}
	o.fail(key, "expected a string")
	return def
}

func (o *lsOpts) num(key string, def int) int {
	s := o.str(key, strconv.Itoa(def))
	n, err := strconv.Atoi(s)
	if err != nil {
		o.fail(key, "expected a number, got %q", s)
	}
	return n
}

func (o *lsOpts) port(key string, def int) int {
	n := o.num(key, def)
	if n < 0 || n > 65535 {
		o.fail(key, "%d is not a port", n)
	}
	return n
}

func (o *lsOpts) boolean(key string, def bool) bool {
	s := o.str(key, strconv.FormatBool(def))
	switch s {
	case "true":
		return true
	case "false":
		return false
	}
	o.fail(key, "expected true or false, got %q", s)
	return def
}

func (o *lsOpts) list(key string) []string {
	o.used[key] = true
	v, ok := o.pl.attrs[key]
	if !ok {
		return nil
	}
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, x := range t {
			s, ok := x.(string)
			if !ok {
				o.fail(key, "expected a list of strings")
				return nil
			}
			out = append(out, s)
		}
		return out
	}
	o.fail(key, "expected a string or a list of strings")
	return nil
}

func (o *lsOpts) done() error {
	if o.err != nil {
		return o.err
	}
	var unknown []string
	for k := range o.pl.attrs {
		if !o.used[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	if len(unknown) > 0 {
		line := o.pl.lines[unknown[0]]
		return fmt.Errorf("%s: line %d: setting %q of %s is not supported by the stand-in", o.pl.file, line, unknown[0], o.pl.name)
	}
	return nil
}

// ---- inputs

type lsInput struct {
	kind   string // tcp, beats, gelf
	host   string
	port   int
	codec  string // tcp: json_lines or line
	remap  bool   // gelf
	strip  bool   // gelf
	closer io.Closer
	bound  string
	tls    *tls.Config // tcp: ssl_enabled
}

func compileInput(pl *lsPlugin) (*lsInput, error) {
	o := newLSOpts(pl)
	in := &lsInput{kind: pl.name, host: o.str("host", "0.0.0.0")}
	switch pl.name {
	case "tcp":
		if !o.has("port") {
			o.fail("port", "is required")
		}
		in.port = o.port("port", 0)
		if mode := o.str("mode", "server"); mode != "server" {
			o.fail("mode", "only server mode is supported by the stand-in")
		}
		if c, ok := pl.attrs["codec"].(*lsPlugin); ok {
			o.used["codec"] = true
			o.fail("codec", "codec %q with settings is not supported by the stand-in", c.name)
		}
		in.codec = o.str("codec", "line")
		if in.codec != "json_lines" && in.codec != "line" {
			o.fail("codec", "codec %q is not supported by the stand-in (json_lines, line)", in.codec)
		}
		if o.boolean("ssl_enabled", false) {
			in.tls = lsInputTLS(o)
		}
	case "beats":
		if !o.has("port") {
			o.fail("port", "is required")
		}
		in.port = o.port("port", 0)
	case "gelf":
		in.port = o.port("port", 12201)
		if o.has("port_udp") {
			in.port = o.port("port_udp", 12201)
		}
		if !o.boolean("use_udp", true) {
			o.fail("use_udp", "the stand-in models the UDP listener only")
		}
		if o.boolean("use_tcp", false) {
			o.fail("use_tcp", "GELF over TCP is not supported by the stand-in")
		}
		in.remap = o.boolean("remap", true)
		in.strip = o.boolean("strip_leading_underscore", true)
	default:
		return nil, fmt.Errorf("%s: line %d: input plugin %q is not supported by the stand-in (tcp, beats, gelf)", pl.file, pl.line, pl.name)
	}
	return in, o.done()
}

// lsInputTLS reads a tcp input's ssl_* settings: its certificate and key,
// and how clients authenticate (which the stand-in wants said, not defaulted)
// against ssl_certificate_authorities.
func lsInputTLS(o *lsOpts) *tls.Config {
	cert, key := o.str("ssl_certificate", ""), o.str("ssl_key", "")
	if cert == "" || key == "" {
		o.fail("ssl_certificate", "ssl_enabled needs ssl_certificate and ssl_key")
		return nil
	}
	pair, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		o.fail("ssl_certificate", "%v", err)
		return nil
	}
	config := &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	if !o.has("ssl_client_authentication") {
		o.fail("ssl_client_authentication", "is required by the stand-in with ssl_enabled (none, optional or required; it does not model the default)")
		return nil
	}
	mode := o.str("ssl_client_authentication", "")
	pool, err := caPool(o.list("ssl_certificate_authorities"))
	if err != nil {
		o.fail("ssl_certificate_authorities", "%v", err)
		return nil
	}
	switch mode {
	case "none":
		config.ClientAuth = tls.NoClientCert
	case "optional", "required":
		if pool == nil {
			o.fail("ssl_certificate_authorities", "ssl_client_authentication %q needs the CAs that sign client certificates", mode)
			return nil
		}
		config.ClientCAs, config.ClientAuth = pool, map[string]tls.ClientAuthType{"optional": tls.VerifyClientCertIfGiven, "required": tls.RequireAndVerifyClientCert}[mode]
	default:
		o.fail("ssl_client_authentication", "expected none, optional or required, got %q", mode)
	}
	return config
}

// ---- filters

// lsFilter is a compiled filter plugin: date or json.
type lsFilter interface {
	apply(ev *lsEvent)
}

type lsStep struct {
	filter lsFilter
	output lsOutput
	branch *lsRBranch
}

type lsRBranch struct {
	conds  []func(*lsEvent) bool
	bodies [][]lsStep
}

func compileFilter(pl *lsPlugin) (lsFilter, error) {
	switch pl.name {
	case "date":
		f, err := compileDateFilter(pl)
		if err != nil {
			return nil, err
		}
		return f, nil
	case "json":
		f, err := compileJSONFilter(pl)
		if err != nil {
			return nil, err
		}
		return f, nil
	}
	return nil, fmt.Errorf("%s: line %d: filter plugin %q is not supported by the stand-in (date, json)", pl.file, pl.line, pl.name)
}

// fieldRefs reads a list of field references (remove_field). Logstash
// expands %{...} in them per event; the stand-in does not.
func (o *lsOpts) fieldRefs(key string) [][]string {
	var out [][]string
	for _, r := range o.list(key) {
		if strings.Contains(r, "%{") {
			o.fail(key, "%q: %%{...} in field names is not supported by the stand-in", r)
			continue
		}
		path, err := parseFieldRef(r)
		if err != nil {
			o.fail(key, "%v", err)
			continue
		}
		out = append(out, path)
	}
	return out
}

type lsDateFilter struct {
	field   []string
	formats []string
	target  []string
	remove  [][]string
	tagFail []string
}

func compileDateFilter(pl *lsPlugin) (*lsDateFilter, error) {
	o := newLSOpts(pl)
	f := &lsDateFilter{}
	match := o.list("match")
	if len(match) < 2 {
		o.fail("match", "expected [field, format, ...]")
	} else {
		path, err := parseFieldRef(match[0])
		if err != nil {
			o.fail("match", "%v", err)
		}
		f.field = path
		for _, fm := range match[1:] {
			if fm != "ISO8601" && fm != "UNIX" && fm != "UNIX_MS" {
				o.fail("match", "date format %q is not supported by the stand-in (ISO8601, UNIX, UNIX_MS)", fm)
			}
		}
		f.formats = match[1:]
	}
	target, err := parseFieldRef(o.str("target", "@timestamp"))
	if err != nil {
		o.fail("target", "%v", err)
	}
	f.target = target
	f.remove = o.fieldRefs("remove_field")
	f.tagFail = []string{"_dateparsefailure"}
	if o.has("tag_on_failure") {
		f.tagFail = o.list("tag_on_failure")
	}
	return f, o.done()
}

func (f *lsDateFilter) apply(ev *lsEvent) {
	v, ok := ev.get(f.field)
	if !ok || v == nil {
		return // no field: the filter does nothing
	}
	for _, s := range esFlatten(v) {
		str, _ := esScalarString(s)
		for _, fm := range f.formats {
			var t time.Time
			parsed := false
			switch fm {
			case "ISO8601":
				t, parsed = parseISO8601(str)
			case "UNIX":
				t, parsed = parseEpoch(str, 0)
			case "UNIX_MS":
				t, parsed = parseEpoch(str, 3)
			}
			if parsed {
				if len(f.target) == 1 && f.target[0] == "@timestamp" {
					ev.ts = t
				} else {
					ev.set(f.target, t.Format("2006-01-02T15:04:05.000Z"))
				}
				for _, r := range f.remove {
					ev.remove(r)
				}
				return
			}
		}
	}
	for _, t := range f.tagFail {
		ev.addTag(t)
	}
}

// parseEpoch parses decimal seconds (shift 0) or milliseconds (shift 3)
// since the epoch exactly, without float rounding.
func parseEpoch(s string, shift int) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "eE"); i >= 0 { // 1.7e9, as JSON numbers may be written
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return time.Time{}, false
		}
		s = strconv.FormatFloat(f, 'f', -1, 64)
	}
	neg := strings.HasPrefix(s, "-")
	whole, frac, _ := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	if whole == "" || strings.Trim(whole, "0123456789") != "" || strings.Trim(frac, "0123456789") != "" {
		return time.Time{}, false
	}
	pad := 9 - shift // fraction digits in nanoseconds
	n, err := strconv.ParseInt(whole+(frac + strings.Repeat("0", pad))[:pad], 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	if neg {
		n = -n
	}
	return time.Unix(0, n).UTC(), true
}

// lsJSONFilter is the json filter (logstash-filter-json 3.2): it parses the
// source field's JSON text into the event's root, or into target. Without
// target, an object's keys become fields (a key is a field reference, so
// "[a][b]" sets a nested field); a parsed "@timestamp" becomes the event's
// time. The source field itself stays unless remove_field names it.
// remove_field applies only after a successful parse (filter_matched).
type lsJSONFilter struct {
	where   string // file:line, for the log
	source  []string
	target  []string // nil: the event's root
	skip    bool     // skip_on_invalid_json
	tagFail []string
	remove  [][]string
}

func compileJSONFilter(pl *lsPlugin) (*lsJSONFilter, error) {
	o := newLSOpts(pl)
	f := &lsJSONFilter{where: fmt.Sprintf("%s:%d", pl.file, pl.line)}
	if !o.has("source") {
		o.fail("source", "is required")
	}
	src, err := parseFieldRef(o.str("source", "message"))
	if err != nil {
		o.fail("source", "%v", err)
	}
	f.source = src
	if o.has("target") {
		target, err := parseFieldRef(o.str("target", ""))
		switch {
		case err != nil:
			o.fail("target", "%v", err)
		case len(target) == 1 && target[0] == "@timestamp":
			o.fail("target", "parsing into @timestamp is not supported by the stand-in")
		}
		f.target = target
	}
	f.skip = o.boolean("skip_on_invalid_json", false)
	f.tagFail = []string{"_jsonparsefailure"}
	if o.has("tag_on_failure") {
		f.tagFail = o.list("tag_on_failure")
	}
	f.remove = o.fieldRefs("remove_field")
	if err := o.done(); err != nil {
		return nil, err
	}
	if f.target == nil {
		// Logstash 8+ runs with ECS compatibility v8 and says so at register.
		logger.Printf("logstash: json filter (%s): ECS compatibility is enabled but `target` option was not specified; "+
			"fields are set at the top level of the event, where they may clash with the Elastic Common Schema", f.where)
	}
	return f, nil
}

func (f *lsJSONFilter) fail(ev *lsEvent) {
	for _, t := range f.tagFail {
		ev.addTag(t)
	}
}

func (f *lsJSONFilter) apply(ev *lsEvent) {
	v, ok := ev.get(f.source)
	if !ok || v == nil || v == false {
		return // `return unless source`: no field, null or false
	}
	var parsed any
	text, isText := v.(string)
	if !isText || decodeJSON([]byte(text), &parsed) != nil {
		// Not a string (Logstash's parser refuses it) or not JSON.
		if !f.skip {
			logger.Printf("logstash: json filter (%s): Error parsing json: %.200q", f.where, fmt.Sprint(v))
			f.fail(ev)
		}
		return
	}
	if f.target != nil {
		ev.set(f.target, parsed) // whatever was there is overwritten
	} else {
		obj, ok := parsed.(map[string]any)
		if !ok {
			// Valid JSON but no object: a failure even with skip_on_invalid_json.
			logger.Printf("logstash: json filter (%s): Parsed JSON object/hash requires a target configuration option: %.200q", f.where, text)
			f.fail(ev)
			return
		}
		rawTS, hasTS := obj["@timestamp"]
		delete(obj, "@timestamp")
		paths := make(map[string][]string, len(obj))
		for k := range obj {
			path, err := lsKeyRef(k)
			if err != nil {
				// Logstash raises on such a key while setting fields (the keys
				// before it stay set); the stand-in sets none of them.
				logger.Printf("logstash: json filter (%s): Exception caught in json filter: %v", f.where, err)
				f.fail(ev)
				return
			}
			paths[k] = path
		}
		for k, val := range obj {
			ev.set(paths[k], val)
		}
		if hasTS {
			s, _ := rawTS.(string) // LogStash::Timestamp.coerce takes strings only
			if t, ok := parseISO8601(s); ok {
				ev.ts = t
			} else {
				ev.ts = time.Now().UTC()
				ev.addTag("_timestampparsefailure")
				str, scalar := esScalarString(rawTS)
				if !scalar {
					b, _ := json.Marshal(rawTS)
					str = string(b)
				}
				ev.fields["_@timestamp"] = str
			}
		}
	}
	for _, r := range f.remove {
		ev.remove(r)
	}
}

// lsKeyRef reads a parsed JSON key as Logstash's event.set does: a name
// without brackets is a top-level field, "[a][b]" a nested one; anything
// else with brackets is an invalid field reference.
func lsKeyRef(k string) ([]string, error) {
	if !strings.ContainsAny(k, "[]") {
		return []string{k}, nil
	}
	bad := fmt.Errorf("Invalid FieldReference: `%s`", k)
	var path []string
	for rest := k; rest != ""; {
		if rest[0] != '[' {
			return nil, bad
		}
		end := strings.IndexByte(rest, ']')
		if end <= 1 || strings.ContainsAny(rest[1:end], "[") {
			return nil, bad
		}
		path = append(path, rest[1:end])
		rest = rest[end+1:]
	}
	if len(path) == 1 && path[0] == "@timestamp" {
		return nil, fmt.Errorf("%s: @timestamp can only be set to a timestamp", k)
	}
	return path, nil
}

// ---- outputs

type lsOutput interface {
	write(ctx context.Context, evs []*lsEvent)
	ping(ctx context.Context) (bool, string)
}

type lsStdout struct{ codec string }

func (s *lsStdout) write(_ context.Context, evs []*lsEvent) {
	for _, ev := range evs {
		b, _ := json.Marshal(ev.document())
		fmt.Fprintln(os.Stdout, string(b))
	}
}

func (s *lsStdout) ping(context.Context) (bool, string) { return true, "" }

type lsESOutput struct {
	hosts    []string
	user     string
	password string
	index    lsTemplate
	indexRaw string
	client   *http.Client
	next     int
}

func compileOutput(pl *lsPlugin) (lsOutput, error) {
	o := newLSOpts(pl)
	switch pl.name {
	case "stdout":
		if c, ok := pl.attrs["codec"].(*lsPlugin); ok {
			o.used["codec"] = true
			o.fail("codec", "codec %q with settings is not supported by the stand-in", c.name)
		}
		c := o.str("codec", "rubydebug")
		switch c {
		case "rubydebug", "json_lines", "json", "line", "dots":
		default:
			o.fail("codec", "codec %q is not supported by the stand-in", c)
		}
		return &lsStdout{codec: c}, o.done()
	case "elasticsearch":
		out := &lsESOutput{client: &http.Client{Timeout: 30 * time.Second}}
		hosts := o.list("hosts")
		if !o.has("hosts") {
			hosts = []string{"http://localhost:9200"}
		}
		for _, h := range hosts {
			u, err := lsNormalizeHost(h)
			if err != nil {
				o.fail("hosts", "%v", err)
			}
			out.hosts = append(out.hosts, u)
		}
		out.user = o.str("user", "")
		out.password = o.str("password", "")
		// https hosts are checked against ssl_certificate_authorities (else the system's roots).
		if o.boolean("ssl_enabled", false) {
			pool, err := caPool(o.list("ssl_certificate_authorities"))
			if err != nil {
				o.fail("ssl_certificate_authorities", "%v", err)
			}
			out.client = clientTrusting(pool, 30*time.Second)
		} else if o.has("ssl_certificate_authorities") {
			o.fail("ssl_certificate_authorities", "is set but ssl_enabled is not true")
		}
		if !o.has("index") {
			o.fail("index", "is required by the stand-in (without it Logstash writes to the data stream logs-generic-default, which is not modelled)")
		}
		out.indexRaw = o.str("index", "")
		tpl, err := parseTemplate(out.indexRaw)
		if err != nil {
			o.fail("index", "%v", err)
		}
		out.index = tpl
		return out, o.done()
	}
	return nil, fmt.Errorf("%s: line %d: output plugin %q is not supported by the stand-in (elasticsearch, stdout)", pl.file, pl.line, pl.name)
}

// lsNormalizeHost: "host", "host:port" or a URL → scheme://host:port[/path].
func lsNormalizeHost(h string) (string, error) {
	if !strings.Contains(h, "://") {
		h = "http://" + h
	}
	u, err := url.Parse(h)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("invalid host %q", h)
	}
	if u.Port() == "" {
		u.Host = net.JoinHostPort(u.Hostname(), "9200")
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// ping is the output's health check: GET / with its credentials, as the
// real output's connection pool does (it needs the monitor privilege).
func (o *lsESOutput) ping(ctx context.Context) (bool, string) {
	var reasons []string
	for _, h := range o.hosts {
		// The output's own transport (its CAs), a shorter timeout.
		status, body, err := basicAuthGet(ctx, &http.Client{Timeout: 3 * time.Second, Transport: o.client.Transport}, h+"/", o.user, o.password)
		switch {
		case err != nil:
			reasons = append(reasons, fmt.Sprintf("%s: %v", h, err))
		case status == 200:
			return true, ""
		default:
			reasons = append(reasons, fmt.Sprintf("%s: %s", h, esErrorReason(status, body)))
		}
	}
	return false, fmt.Sprintf("elasticsearch output cannot reach Elasticsearch as [%s]: %s", o.user, strings.Join(reasons, "; "))
}

type lsAction struct {
	index string
	doc   []byte
}

// write indexes the events with _bulk, retrying what Elasticsearch refuses
// as the real output does: the whole request on a connection or HTTP error,
// single actions unless they fail with 400, 404 (dropped) or 409 (dropped),
// with a backoff that doubles up to 64 s. It blocks the pipeline meanwhile.
func (o *lsESOutput) write(ctx context.Context, evs []*lsEvent) {
	pending := make([]lsAction, 0, len(evs))
	for _, ev := range evs {
		doc, err := json.Marshal(ev.document())
		if err != nil {
			logger.Printf("logstash: elasticsearch output: event not serializable: %v", err)
			continue
		}
		pending = append(pending, lsAction{index: o.index.render(ev), doc: doc})
	}
	backoff := 2 * time.Second
	for len(pending) > 0 {
		retry, err := o.bulk(ctx, pending)
		if err != nil {
			logger.Printf("logstash: elasticsearch output: %v; retrying in %s", err, backoff)
			retry = pending
		}
		pending = retry
		if len(pending) == 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 64*time.Second)
	}
}

func (o *lsESOutput) bulk(ctx context.Context, actions []lsAction) ([]lsAction, error) {
	var raw bytes.Buffer
	for _, a := range actions {
		meta, _ := json.Marshal(obj{"index": obj{"_index": a.index}})
		raw.Write(meta)
		raw.WriteByte('\n')
		raw.Write(a.doc)
		raw.WriteByte('\n')
	}
	var body bytes.Buffer // the output compresses requests (compression_level 1)
	gz, _ := gzip.NewWriterLevel(&body, 1)
	gz.Write(raw.Bytes())
	gz.Close()
	host := o.hosts[o.next%len(o.hosts)]
	o.next++
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, host+"/_bulk", &body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	if o.user != "" || o.password != "" {
		req.SetBasicAuth(o.user, o.password)
	}
	resp, err := o.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("bulk request to %s: %w", host, err)
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("bulk request to %s: %w", host, err)
	}
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("bulk request to %s as [%s]: %s", host, o.user, esErrorReason(resp.StatusCode, rb))
	}
	var result struct {
		Items []map[string]struct {
			Status int             `json:"status"`
			Error  json.RawMessage `json:"error"`
		} `json:"items"`
	}
	if err := json.Unmarshal(rb, &result); err != nil || len(result.Items) != len(actions) {
		return nil, fmt.Errorf("bulk request to %s: unexpected response", host)
	}
	var retry []lsAction
	for i, item := range result.Items {
		for _, r := range item {
			switch {
			case r.Status >= 200 && r.Status < 300:
			case r.Status == 409:
				logger.Printf("logstash: elasticsearch output: Failed action (status 409, dropped): %s", r.Error)
			case r.Status == 400 || r.Status == 404:
				logger.Printf("logstash: elasticsearch output: Could not index event to Elasticsearch (status %d, dropped): %s", r.Status, r.Error)
			default:
				logger.Printf("logstash: elasticsearch output: Retrying failed action (status %d, index %s): %s", r.Status, actions[i].index, r.Error)
				retry = append(retry, actions[i])
			}
		}
	}
	return retry, nil
}

// ---- the pipeline

type logstashServer struct {
	listen  string
	inputs  []*lsInput
	filters []lsStep
	outputs []lsStep
	esOuts  []lsOutput
	events  chan *lsEvent
	health  *healthCache

	in, filtered, out atomic.Int64
}

func newLogstash(env envFunc) (*logstashServer, error) {
	listen, err := portAddr(env, "API_HTTP_PORT", 9600)
	if err != nil {
		return nil, err
	}
	files, err := lsConfigFiles(envOr(env, "PATH_CONFIG", "/usr/share/logstash/pipeline"))
	if err != nil {
		return nil, err
	}
	l := &logstashServer{listen: listen, events: make(chan *lsEvent, 1000)}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		sections, err := parseLogstashConfig(string(src), f, env)
		if err != nil {
			return nil, err
		}
		for _, n := range sections["input"] {
			in, err := compileInput(n.plugin)
			if err != nil {
				return nil, err
			}
			l.inputs = append(l.inputs, in)
		}
		steps, err := l.compileSteps(sections["filter"], "filter")
		if err != nil {
			return nil, err
		}
		l.filters = append(l.filters, steps...)
		if steps, err = l.compileSteps(sections["output"], "output"); err != nil {
			return nil, err
		}
		l.outputs = append(l.outputs, steps...)
	}
	if len(l.inputs) == 0 {
		return nil, fmt.Errorf("no input in the pipeline (%s)", strings.Join(files, ", "))
	}
	l.health = &healthCache{ttl: time.Second, check: l.check, onFlip: func(ok bool, reason string) {
		if ok {
			logger.Printf("logstash: pipeline healthy: every elasticsearch output can log in")
		} else {
			logger.Printf("logstash: pipeline unhealthy: %s", reason)
		}
	}}
	return l, nil
}

// lsConfigFiles: path.config is a file, a directory (its files, sorted) or a glob.
func lsConfigFiles(path string) ([]string, error) {
	st, err := os.Stat(path)
	var files []string
	switch {
	case err == nil && st.IsDir():
		files, _ = filepath.Glob(filepath.Join(path, "*"))
	case err == nil:
		files = []string{path}
	default:
		files, _ = filepath.Glob(path)
	}
	var regular []string
	for _, f := range files {
		if st, err := os.Stat(f); err == nil && st.Mode().IsRegular() {
			regular = append(regular, f)
		}
	}
	sort.Strings(regular)
	if len(regular) == 0 {
		return nil, fmt.Errorf("No configuration found in the configured sources (path.config %s)", path)
	}
	return regular, nil
}

func (l *logstashServer) compileSteps(nodes []lsNode, section string) ([]lsStep, error) {
	var steps []lsStep
	for _, n := range nodes {
		switch {
		case n.branch != nil:
			rb := &lsRBranch{conds: n.branch.conds}
			for _, body := range n.branch.bodies {
				s, err := l.compileSteps(body, section)
				if err != nil {
					return nil, err
				}
				rb.bodies = append(rb.bodies, s)
			}
			steps = append(steps, lsStep{branch: rb})
		case section == "filter":
			f, err := compileFilter(n.plugin)
			if err != nil {
				return nil, err
			}
			steps = append(steps, lsStep{filter: f})
		default:
			o, err := compileOutput(n.plugin)
			if err != nil {
				return nil, err
			}
			steps = append(steps, lsStep{output: o})
			l.esOuts = append(l.esOuts, o)
		}
	}
	return steps, nil
}

func (l *logstashServer) addr() string { return l.listen }

// inputAddr is where the first input of a kind listens ("tcp", "gelf", "beats").
func (l *logstashServer) inputAddr(kind string) string {
	for _, in := range l.inputs {
		if in.kind == kind {
			return in.bound
		}
	}
	return ""
}

func (l *logstashServer) start(ctx context.Context) error {
	for _, in := range l.inputs {
		addr := net.JoinHostPort(in.host, strconv.Itoa(in.port))
		switch in.kind {
		case "tcp", "beats":
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("%s input: %w", in.kind, err)
			}
			if in.tls != nil {
				ln = tls.NewListener(ln, in.tls)
			}
			in.closer, in.bound = ln, ln.Addr().String()
			go l.acceptTCP(ctx, in, ln)
		case "gelf":
			pc, err := net.ListenPacket("udp", addr)
			if err != nil {
				return fmt.Errorf("gelf input: %w", err)
			}
			in.closer, in.bound = pc, pc.LocalAddr().String()
			go l.readGELF(ctx, in, pc)
		}
		context.AfterFunc(ctx, func() { in.closer.Close() })
		logger.Printf("logstash: %s input listening on %s", in.kind, in.bound)
	}
	go l.worker(ctx)
	l.health.watch(ctx, 10*time.Second)
	return nil
}

func (l *logstashServer) push(ctx context.Context, evs ...*lsEvent) bool {
	for _, ev := range evs {
		select {
		case l.events <- ev: // blocks when the queue is full: back-pressure, as upstream
			l.in.Add(1)
		case <-ctx.Done():
			return false
		}
	}
	return true
}

func (l *logstashServer) acceptTCP(ctx context.Context, in *lsInput, ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				logger.Printf("logstash: %s input: %v", in.kind, err)
			}
			return
		}
		go func() {
			defer c.Close()
			stop := context.AfterFunc(ctx, func() { c.Close() })
			defer stop()
			if tc, ok := c.(*tls.Conn); ok {
				// A client without a certificate of the CA (or without TLS) is refused here, as upstream.
				if err := tc.HandshakeContext(ctx); err != nil {
					logger.Printf("logstash: %s input: TLS handshake with %s failed: %v", in.kind, c.RemoteAddr(), err)
					return
				}
			}
			if in.kind == "beats" {
				logger.Printf("logstash: beats input: connection from %s: the stand-in does not decode the Beats protocol; data discarded", c.RemoteAddr())
				_, _ = io.Copy(io.Discard, c)
				return
			}
			rd := bufio.NewReaderSize(c, 64<<10)
			for {
				line, err := rd.ReadBytes('\n')
				if len(line) > 0 && (err == nil || err == io.EOF) {
					line = bytes.TrimRight(line, "\r\n")
					var evs []*lsEvent
					switch {
					case len(bytes.TrimSpace(line)) == 0:
					case in.codec == "json_lines":
						evs = lsEventsFromJSON(line)
					default:
						evs = []*lsEvent{newLSEvent(map[string]any{"message": string(line)})}
					}
					if !l.push(ctx, evs...) {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
	}
}

// ---- GELF over UDP (https://go2docs.graylog.org/current/getting_in_log_data/gelf.html)

const (
	gelfMaxChunks  = 128
	gelfChunkTTL   = 5 * time.Second
	gelfMaxPending = 1000
	gelfMaxMessage = 8 << 20
)

type gelfPending struct {
	parts [][]byte
	got   int
	first time.Time
}

// gelfAssembler reassembles chunked GELF messages (one reader goroutine).
type gelfAssembler struct{ pending map[string]*gelfPending }

// add takes one datagram and returns a complete (possibly compressed)
// message, or nil while chunks are missing.
func (a *gelfAssembler) add(pkt []byte, now time.Time) ([]byte, error) {
	if len(pkt) < 2 || pkt[0] != 0x1e || pkt[1] != 0x0f {
		return pkt, nil
	}
	if len(pkt) < 12 {
		return nil, errors.New("chunk shorter than its 12-byte header")
	}
	id, seq, count := string(pkt[2:10]), int(pkt[10]), int(pkt[11])
	if count < 1 || count > gelfMaxChunks || seq >= count {
		return nil, fmt.Errorf("chunk %d of %d: invalid sequence (at most %d chunks)", seq, count, gelfMaxChunks)
	}
	for k, p := range a.pending {
		if now.Sub(p.first) > gelfChunkTTL {
			delete(a.pending, k) // incomplete after 5 s: discarded, as the spec says
		}
	}
	p := a.pending[id]
	if p == nil {
		if len(a.pending) >= gelfMaxPending {
			return nil, errors.New("too many incomplete chunked messages")
		}
		p = &gelfPending{parts: make([][]byte, count), first: now}
		a.pending[id] = p
	}
	if len(p.parts) != count {
		return nil, errors.New("chunks of one message disagree on their count")
	}
	if p.parts[seq] == nil {
		p.parts[seq] = append([]byte(nil), pkt[12:]...)
		p.got++
	}
	if p.got < count {
		return nil, nil
	}
	delete(a.pending, id)
	return bytes.Join(p.parts, nil), nil
}

// gelfDecompress undoes GZIP or ZLIB compression, recognized by magic bytes.
func gelfDecompress(b []byte) ([]byte, error) {
	var rd io.ReadCloser
	var err error
	switch {
	case len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b:
		rd, err = gzip.NewReader(bytes.NewReader(b))
	case len(b) >= 2 && b[0] == 0x78 && (int(b[0])<<8|int(b[1]))%31 == 0:
		rd, err = zlib.NewReader(bytes.NewReader(b))
	default:
		return b, nil
	}
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	out, err := io.ReadAll(io.LimitReader(rd, gelfMaxMessage+1))
	if err != nil {
		return nil, err
	}
	if len(out) > gelfMaxMessage {
		return nil, errors.New("decompressed message too large")
	}
	return out, nil
}

// gelfEvent turns a GELF message into an event as the gelf input does:
// source_host is the sender, a numeric timestamp becomes @timestamp,
// full_message or short_message becomes message (remap), _field → field.
func gelfEvent(msg []byte, from string, remap, strip bool) *lsEvent {
	var fields map[string]any
	if err := decodeJSON(msg, &fields); err != nil || fields == nil {
		ev := newLSEvent(map[string]any{"message": string(msg)})
		ev.addTag("_jsonparsefailure")
		ev.fields["source_host"] = from
		return ev
	}
	var ts *time.Time
	if n, ok := fields["timestamp"].(json.Number); ok {
		if f, err := n.Float64(); err == nil {
			sec, frac := math.Modf(f)
			t := time.Unix(int64(sec), int64(math.Round(frac*1e6))*1e3).UTC()
			ts = &t
			delete(fields, "timestamp")
		}
	}
	ev := newLSEvent(fields)
	if ts != nil {
		ev.ts = *ts
	}
	ev.fields["source_host"] = from
	if remap {
		full, _ := ev.fields["full_message"].(string)
		short, _ := ev.fields["short_message"].(string)
		switch {
		case full != "":
			ev.fields["message"] = full
			delete(ev.fields, "full_message")
			if short == full {
				delete(ev.fields, "short_message")
			}
		case short != "":
			ev.fields["message"] = short
			delete(ev.fields, "short_message")
		}
	}
	if strip {
		for k, v := range ev.fields {
			if strings.HasPrefix(k, "_") && k != "_@timestamp" {
				delete(ev.fields, k)
				ev.fields[k[1:]] = v
			}
		}
	}
	return ev
}

func (l *logstashServer) readGELF(ctx context.Context, in *lsInput, pc net.PacketConn) {
	asm := &gelfAssembler{pending: map[string]*gelfPending{}}
	buf := make([]byte, 65536)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				logger.Printf("logstash: gelf input: %v", err)
			}
			return
		}
		msg, err := asm.add(buf[:n], time.Now())
		if err == nil && msg != nil {
			msg, err = gelfDecompress(msg)
		}
		if err != nil {
			logger.Printf("logstash: gelf input: message from %s skipped: %v", from, err)
			continue
		}
		if msg == nil {
			continue
		}
		host := from.String()
		if ua, ok := from.(*net.UDPAddr); ok {
			host = ua.IP.String()
		}
		if !l.push(ctx, gelfEvent(msg, host, in.remap, in.strip)) {
			return
		}
	}
}

// worker takes batches (125 events or 50 ms, the pipeline defaults), runs the filters and outputs.
func (l *logstashServer) worker(ctx context.Context) {
	batch := make([]*lsEvent, 0, 125)
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-l.events:
			batch = append(batch, ev)
		}
		timer := time.NewTimer(50 * time.Millisecond)
	fill:
		for len(batch) < 125 {
			select {
			case ev := <-l.events:
				batch = append(batch, ev)
			case <-timer.C:
				break fill
			case <-ctx.Done():
				timer.Stop()
				return
			}
		}
		timer.Stop()
		l.process(ctx, batch)
		batch = batch[:0]
	}
}

func (l *logstashServer) process(ctx context.Context, batch []*lsEvent) {
	for _, ev := range batch {
		runFilters(l.filters, ev)
	}
	l.filtered.Add(int64(len(batch)))
	var order []lsOutput
	routed := map[lsOutput][]*lsEvent{}
	for _, ev := range batch {
		routeOutputs(l.outputs, ev, func(o lsOutput) {
			if _, seen := routed[o]; !seen {
				order = append(order, o)
			}
			routed[o] = append(routed[o], ev)
		})
	}
	for _, o := range order {
		o.write(ctx, routed[o])
	}
	l.out.Add(int64(len(batch)))
}

func pickBranch(b *lsRBranch, ev *lsEvent) []lsStep {
	for i, c := range b.conds {
		if c(ev) {
			return b.bodies[i]
		}
	}
	if len(b.bodies) > len(b.conds) {
		return b.bodies[len(b.conds)]
	}
	return nil
}

func runFilters(steps []lsStep, ev *lsEvent) {
	for _, s := range steps {
		if s.branch != nil {
			runFilters(pickBranch(s.branch, ev), ev)
		} else if s.filter != nil {
			s.filter.apply(ev)
		}
	}
}

func routeOutputs(steps []lsStep, ev *lsEvent, to func(lsOutput)) {
	for _, s := range steps {
		if s.branch != nil {
			routeOutputs(pickBranch(s.branch, ev), ev, to)
		} else if s.output != nil {
			to(s.output)
		}
	}
}

// check: healthy while every elasticsearch output can log in.
func (l *logstashServer) check(ctx context.Context) (bool, string) {
	for _, o := range l.esOuts {
		if ok, reason := o.ping(ctx); !ok {
			return false, reason
		}
	}
	return true, ""
}

func (l *logstashServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := cleanPath(r)
	if p != "/" && p != "/_node/stats" {
		writeJSON(w, 404, obj{"path": r.URL.Path, "status": 404, "error": obj{"message": "Not Found"}})
		return
	}
	ok, reason := l.health.get(r.Context())
	status, color := 200, "green"
	if !ok {
		status, color = 503, "red"
	}
	body := obj{"host": hostname(), "version": "standin", "http_address": "0.0.0.0" + l.listen, "id": "standin",
		"name": hostname(), "status": color, "snapshot": false,
		"pipeline": obj{"workers": 1, "batch_size": 125, "batch_delay": 50}}
	if !ok {
		body["standin_reason"] = reason
	}
	if p == "/_node/stats" {
		body["pipelines"] = obj{"main": obj{"events": obj{"in": l.in.Load(), "filtered": l.filtered.Load(), "out": l.out.Load()}}}
	}
	writeJSON(w, status, body)
}
