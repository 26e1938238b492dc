package main

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func decodeJSONInto(b []byte, v any) error { return json.Unmarshal(b, v) }

func TestYAMLSubset(t *testing.T) {
	src := `# comment
---
apiVersion: 1
empty: []
emptyMap: {}
flow: [a, "b c", 3, {k: v}]
list:
  - name: One   # trailing comment
    uid: "one"
    nested:
      deep: true
      url: http://host:9090/path#frag
  - plain
  -
    - inner
same-indent:
- x
- 'it''s'
quoted: "tab\tnewline\n\u00e9"
nulls: [~, null]
hash: "#not a comment"
literal: |
  line 1
   line 2

folded: >-
  a
  b

  c
`
	got, err := parseYAML(src)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"apiVersion": json.Number("1"),
		"empty":      []any{},
		"emptyMap":   map[string]any{},
		"flow":       []any{"a", "b c", json.Number("3"), map[string]any{"k": "v"}},
		"list": []any{
			map[string]any{"name": "One", "uid": "one", "nested": map[string]any{"deep": true, "url": "http://host:9090/path#frag"}},
			"plain",
			[]any{"inner"},
		},
		"same-indent": []any{"x", "it's"},
		"quoted":      "tab\tnewline\né",
		"nulls":       []any{nil, nil},
		"hash":        "#not a comment",
		"literal":     "line 1\n line 2\n",
		"folded":      "a b\nc",
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		t.Errorf("got %s", g)
	}
}

func TestYAMLRefusesWhatItDoesNotModel(t *testing.T) {
	for src, want := range map[string]string{
		"a: 1\na: 2\n":                 `mapping key "a" already defined at line 1`,
		"a:\n\t- b\n":                  "tab character",
		"a: &x 1\n":                    "anchors, aliases and tags",
		"a: *x\n":                      "anchors, aliases and tags",
		"a: !!str 1\n":                 "anchors, aliases and tags",
		"a: one\n  two\n":              "multi-line plain scalars",
		"a: [1,\n  2]\n":               "multi-line flow collections",
		"a: \"open\n":                  "multi-line quoted",
		"a: 1\n---\nb: 2\n":            "several documents",
		"a:\n  b: 1\n c: 2\n":          "line 3",
		"- a\nb: 1\n":                  "line 2",
		"a: b: c\n":                    "mapping is not allowed",
		"%YAML 1.2\n---\na: 1\n":       "directives",
		"? complex\n: key\n":           "complex mapping keys",
		"list:\n  - x\n    y: 1\n":     "line 3",
		"a: 'unterminated\nb: 1\n":     "multi-line quoted",
		"datasources:\n  - name: [x\n": "multi-line flow",
	} {
		_, err := parseYAML(src)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want it to mention %q", src, err, want)
		}
	}
}
