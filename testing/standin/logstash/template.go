package logstash

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"protocol-monitoring/standin/internal/shared"
)

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
				s, _ := shared.ScalarString(v)
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
