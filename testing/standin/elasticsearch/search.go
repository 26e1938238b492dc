package elasticsearch

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"protocol-monitoring/standin/internal/shared"
)

// ---- search

type esQuery func(doc map[string]any) bool

// resolveRead turns an index expression (comma list, wildcards, _all,
// -exclusions) into the indices the principal may read, as Elasticsearch
// security does: wildcards expand to authorized indices only; a concrete
// index the principal may not read is a 403; one that does not exist a 404.
func (es *Server) resolveRead(p *esPrincipal, expr string) ([]string, *esErr) {
	set := map[string]bool{}
	for _, part := range strings.Split(expr, ",") {
		part = strings.TrimSpace(part)
		switch {
		case part == "":
		case part == "_all" || part == "*" || strings.ContainsAny(part, "*?"):
			exclude := strings.HasPrefix(part, "-")
			pat := strings.TrimPrefix(part, "-")
			if pat == "_all" {
				pat = "*"
			}
			for name := range es.indices {
				if strings.HasPrefix(name, ".") && !strings.HasPrefix(pat, ".") {
					continue // hidden and system indices need an explicit dot
				}
				if !wildcardMatch(pat, name) {
					continue
				}
				if exclude {
					delete(set, name)
				} else if es.hasIndex(p, name, "read") {
					set[name] = true
				}
			}
		case strings.HasPrefix(part, "-"):
			delete(set, part[1:])
		default:
			if !es.hasIndex(p, part, "read") {
				return nil, esIndexDenied(p, "read", part)
			}
			if es.indices[part] == nil {
				return nil, esIndexNotFound(part)
			}
			set[part] = true
		}
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

func (es *Server) search(w http.ResponseWriter, r *http.Request, p *esPrincipal, expr string, count bool) *esErr {
	q := r.URL.Query()
	size, from := 10, 0
	var query esQuery = func(map[string]any) bool { return true }
	body, _, e := esReadJSONBody(r, false)
	if e != nil {
		return e
	}
	if qs := q.Get("q"); qs != "" {
		if query, e = esParseQueryString(qs); e != nil {
			return e
		}
	}
	for k, v := range body {
		switch k {
		case "query":
			if query, e = esParseQuery(v); e != nil {
				return e
			}
		case "size", "from":
			n, err := strconv.Atoi(fmt.Sprint(v))
			if err != nil || n < 0 {
				return esE(400, "x_content_parse_exception", "[%s] must be a non-negative integer", k)
			}
			if k == "size" {
				size = n
			} else {
				from = n
			}
		case "track_total_hits", "timeout", "terminate_after":
		default:
			return esE(400, "standin_not_modelled_exception", "the Elasticsearch stand-in does not model search body key [%s]", k)
		}
	}
	for _, k := range []string{"size", "from"} {
		if v := q.Get(k); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return esE(400, "illegal_argument_exception", "Failed to parse int parameter [%s] with value [%s]", k, v)
			}
			if k == "size" {
				size = n
			} else {
				from = n
			}
		}
	}
	if !count && from+size > 10000 {
		return esE(400, "illegal_argument_exception",
			"Result window is too large, from + size must be less than or equal to: [10000] but was [%d].", from+size)
	}
	start := time.Now()
	es.mu.RLock()
	defer es.mu.RUnlock()
	indices, e := es.resolveRead(p, expr)
	if e != nil {
		return e
	}
	total := 0
	hits := []obj{}
	for _, name := range indices {
		ix := es.indices[name]
		err := scanIndexFile(ix.path, func(d *esStoredDoc) bool {
			if d.Explicit && ix.explicit[d.ID] != d.Version {
				return true // superseded by a later version
			}
			var doc map[string]any
			if shared.DecodeJSON(d.Source, &doc) != nil || !query(doc) {
				return true
			}
			total++
			if !count && total > from && len(hits) < size {
				hits = append(hits, obj{"_index": name, "_id": d.ID, "_score": 1.0, "_source": d.Source})
			}
			return true
		})
		if err != nil {
			return esE(500, "exception", "index [%s]: %v", name, err)
		}
	}
	shards := obj{"total": len(indices), "successful": len(indices), "skipped": 0, "failed": 0}
	if count {
		shared.WriteJSON(w, 200, obj{"count": total, "_shards": shards})
		return nil
	}
	var maxScore any
	if len(hits) > 0 {
		maxScore = 1.0
	}
	shared.WriteJSON(w, 200, obj{"took": time.Since(start).Milliseconds(), "timed_out": false, "_shards": shards,
		"hits": obj{"total": obj{"value": total, "relation": "eq"}, "max_score": maxScore, "hits": hits}})
	return nil
}

// esParseQuery understands match_all, match_none, match, term, exists and bool.
func esParseQuery(v any) (esQuery, *esErr) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return nil, esE(400, "parsing_exception", "[query] must be an object with exactly one query, got %v", v)
	}
	for kind, body := range m {
		switch kind {
		case "match_all":
			return func(map[string]any) bool { return true }, nil
		case "match_none":
			return func(map[string]any) bool { return false }, nil
		case "match", "term":
			field, val, opts, e := esFieldQuery(kind, body)
			if e != nil {
				return nil, e
			}
			if kind == "term" {
				return func(doc map[string]any) bool { return esTermMatches(doc, field, val) }, nil
			}
			and := false
			if op, _ := opts["operator"].(string); strings.EqualFold(op, "and") {
				and = true
			}
			return func(doc map[string]any) bool { return esMatchMatches(doc, field, val, and) }, nil
		case "exists":
			b, _ := body.(map[string]any)
			field, _ := b["field"].(string)
			if field == "" {
				return nil, esE(400, "parsing_exception", "[exists] must be provided with a [field]")
			}
			return func(doc map[string]any) bool {
				for _, x := range esFieldValues(doc, field) {
					if x != nil {
						return true
					}
				}
				return false
			}, nil
		case "bool":
			return esParseBool(body)
		default:
			return nil, esE(400, "parsing_exception", "unknown query [%s] (the Elasticsearch stand-in models match_all, match, term, exists and bool)", kind)
		}
	}
	return nil, nil
}

// esFieldQuery reads {"field": value} or {"field": {"query"|"value": value, ...}}.
func esFieldQuery(kind string, body any) (string, any, map[string]any, *esErr) {
	m, ok := body.(map[string]any)
	if !ok || len(m) != 1 {
		return "", nil, nil, esE(400, "parsing_exception", "[%s] query doesn't support multiple fields, found %v", kind, body)
	}
	for field, v := range m {
		if opts, ok := v.(map[string]any); ok {
			key := map[string]string{"match": "query", "term": "value"}[kind]
			val, ok := opts[key]
			if !ok {
				return "", nil, nil, esE(400, "parsing_exception", "[%s] query requires [%s] for field [%s]", kind, key, field)
			}
			return field, val, opts, nil
		}
		return field, v, nil, nil
	}
	return "", nil, nil, nil
}

func esParseBool(body any) (esQuery, *esErr) {
	m, ok := body.(map[string]any)
	if !ok {
		return nil, esE(400, "parsing_exception", "[bool] query malformed")
	}
	clauses := map[string][]esQuery{}
	for k, v := range m {
		switch k {
		case "must", "filter", "should", "must_not":
			list, isList := v.([]any)
			if !isList {
				list = []any{v}
			}
			for _, c := range list {
				q, e := esParseQuery(c)
				if e != nil {
					return nil, e
				}
				clauses[k] = append(clauses[k], q)
			}
		case "minimum_should_match", "boost":
		default:
			return nil, esE(400, "parsing_exception", "[bool] query does not support [%s]", k)
		}
	}
	return func(doc map[string]any) bool {
		for _, q := range append(clauses["must"], clauses["filter"]...) {
			if !q(doc) {
				return false
			}
		}
		for _, q := range clauses["must_not"] {
			if q(doc) {
				return false
			}
		}
		if len(clauses["should"]) > 0 && len(clauses["must"])+len(clauses["filter"]) == 0 {
			for _, q := range clauses["should"] {
				if q(doc) {
					return true
				}
			}
			return false
		}
		return true
	}, nil
}

// esParseQueryString understands q=field:value, q=value (any field), q=*
// and space-separated lists of them (OR, the default operator).
func esParseQueryString(qs string) (esQuery, *esErr) {
	var terms []string
	var cur strings.Builder
	quoted := false
	for _, c := range qs {
		switch {
		case c == '"':
			quoted = !quoted
			cur.WriteRune(c)
		case unicode.IsSpace(c) && !quoted:
			if cur.Len() > 0 {
				terms = append(terms, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(c)
		}
	}
	if cur.Len() > 0 {
		terms = append(terms, cur.String())
	}
	var qs2 []esQuery
	for _, t := range terms {
		if t == "*" || t == "*:*" {
			return func(map[string]any) bool { return true }, nil
		}
		field, value, hasField := strings.Cut(t, ":")
		if !hasField {
			field, value = "", t
		}
		unq := strings.Trim(value, `"`)
		if t == "AND" || t == "OR" || t == "NOT" || strings.ContainsAny(unq, `*?()[]{}~^\`) ||
			strings.HasPrefix(t, "+") || strings.HasPrefix(t, "-") || field == "*" || value == "" {
			return nil, esE(400, "query_shard_exception",
				"Failed to parse query [%s]: the Elasticsearch stand-in supports q=field:value, q=value and q=* only", qs)
		}
		f, v := field, unq
		if f == "" {
			qs2 = append(qs2, func(doc map[string]any) bool { return esMatchAny(doc, v) })
		} else {
			qs2 = append(qs2, func(doc map[string]any) bool { return esMatchMatches(doc, f, v, strings.HasPrefix(value, `"`)) })
		}
	}
	return func(doc map[string]any) bool {
		for _, q := range qs2 {
			if q(doc) {
				return true
			}
		}
		return false
	}, nil
}

// esFieldValues returns a field's values: "a.b" is {"a": {"b": v}} or {"a.b": v}; arrays flatten.
func esFieldValues(v any, path string) []any {
	switch t := v.(type) {
	case []any:
		var out []any
		for _, x := range t {
			out = append(out, esFieldValues(x, path)...)
		}
		return out
	case map[string]any:
		var out []any
		if x, ok := t[path]; ok {
			out = append(out, shared.Flatten(x)...)
		}
		for i := 0; i < len(path); i++ {
			if path[i] == '.' {
				if sub, ok := t[path[:i]]; ok {
					out = append(out, esFieldValues(sub, path[i+1:])...)
				}
			}
		}
		return out
	}
	return nil
}

// esTokens is a rough standard analyzer: lowercase, split on non-alphanumerics.
func esTokens(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(c rune) bool { return !unicode.IsLetter(c) && !unicode.IsDigit(c) })
}

func esNumEqual(a json.Number, b string) bool {
	x, err1 := a.Float64()
	y, err2 := strconv.ParseFloat(b, 64)
	return err1 == nil && err2 == nil && x == y
}

// esMatchMatches: a match query on a dynamically mapped field (text with a
// .keyword sub-field; numbers and booleans compared as values).
func esMatchMatches(doc map[string]any, field string, query any, all bool) bool {
	qs, ok := shared.ScalarString(query)
	if !ok {
		return false
	}
	base, keyword := strings.CutSuffix(field, ".keyword")
	for _, v := range esFieldValues(doc, base) {
		switch t := v.(type) {
		case string:
			if keyword {
				if t == qs {
					return true
				}
				continue
			}
			have := map[string]bool{}
			for _, tok := range esTokens(t) {
				have[tok] = true
			}
			want := esTokens(qs)
			hit := 0
			for _, tok := range want {
				if have[tok] {
					hit++
				}
			}
			if len(want) > 0 && ((all && hit == len(want)) || (!all && hit > 0)) {
				return true
			}
		case json.Number:
			if esNumEqual(t, qs) {
				return true
			}
		case bool:
			if strconv.FormatBool(t) == strings.ToLower(qs) {
				return true
			}
		}
	}
	return false
}

// esTermMatches: an exact term against the indexed terms (text fields are
// indexed as lowercase tokens, .keyword as the whole value).
func esTermMatches(doc map[string]any, field string, term any) bool {
	ts, ok := shared.ScalarString(term)
	if !ok {
		return false
	}
	base, keyword := strings.CutSuffix(field, ".keyword")
	for _, v := range esFieldValues(doc, base) {
		switch t := v.(type) {
		case string:
			if keyword && t == ts {
				return true
			}
			if !keyword {
				for _, tok := range esTokens(t) {
					if tok == ts {
						return true
					}
				}
			}
		case json.Number:
			if esNumEqual(t, ts) {
				return true
			}
		case bool:
			if strconv.FormatBool(t) == ts {
				return true
			}
		}
	}
	return false
}

// esMatchAny matches a value against every field (q=value).
func esMatchAny(doc map[string]any, value string) bool {
	var walk func(v any) bool
	want := esTokens(value)
	walk = func(v any) bool {
		switch t := v.(type) {
		case map[string]any:
			for _, x := range t {
				if walk(x) {
					return true
				}
			}
		case []any:
			for _, x := range t {
				if walk(x) {
					return true
				}
			}
		default:
			s, _ := shared.ScalarString(t)
			for _, tok := range esTokens(s) {
				for _, w := range want {
					if tok == w {
						return true
					}
				}
			}
		}
		return false
	}
	return walk(doc)
}
