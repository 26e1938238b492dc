package logstash

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"protocol-monitoring/standin/internal/shared"
)

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
	if err := shared.DecodeJSON(text, &v); err == nil {
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
