package logstash

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"protocol-monitoring/standin/internal/shared"
)

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
	for _, s := range shared.Flatten(v) {
		str, _ := shared.ScalarString(s)
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
		shared.Logger.Printf("logstash: json filter (%s): ECS compatibility is enabled but `target` option was not specified; "+
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
	if !isText || shared.DecodeJSON([]byte(text), &parsed) != nil {
		// Not a string (Logstash's parser refuses it) or not JSON.
		if !f.skip {
			shared.Logger.Printf("logstash: json filter (%s): Error parsing json: %.200q", f.where, fmt.Sprint(v))
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
			shared.Logger.Printf("logstash: json filter (%s): Parsed JSON object/hash requires a target configuration option: %.200q", f.where, text)
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
				shared.Logger.Printf("logstash: json filter (%s): Exception caught in json filter: %v", f.where, err)
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
				str, scalar := shared.ScalarString(rawTS)
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
