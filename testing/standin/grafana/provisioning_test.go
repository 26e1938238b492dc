package grafana

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	. "protocol-monitoring/standin/internal/standintest"
)

func TestGrafanaInterpolation(t *testing.T) {
	env := EnvMap{"A": "1", "PW": "s3cret"}.Get
	for in, want := range map[string]string{
		"$__env{PW}":      "s3cret",
		"x-${A}-$A":       "x-1-1",
		"$$__env{PW}":     "$__env{PW}",
		"cost: $$5":       "cost: $5",
		"$__env{MISSING}": "",
	} {
		if got, err := gfInterpolate(in, env); err != nil || got != want {
			t.Errorf("%q → %q (%v), want %q", in, got, err, want)
		}
	}
}

// A provisioning file as Grafana reads it: YAML (yaml.v3) with comments, flow
// collections, quoted and block scalars, then the values' $__env{} expanded.
func TestGrafanaProvisioningFileReads(t *testing.T) {
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
numericKeys: {1: one, true: yes}
env: $__env{PW}
literal: |
  line 1
   line 2

folded: >-
  a
  b

  c
`
	file := WriteFile(t, filepath.Join(t.TempDir(), "all.yaml"), src)
	got, err := readProvisioningFile(file, EnvMap{"PW": "s3cret"}.Get)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"apiVersion": 1,
		"empty":      []any{},
		"emptyMap":   map[string]any{},
		"flow":       []any{"a", "b c", 3, map[string]any{"k": "v"}},
		"list": []any{
			map[string]any{"name": "One", "uid": "one", "nested": map[string]any{"deep": true, "url": "http://host:9090/path#frag"}},
			"plain",
			[]any{"inner"},
		},
		"same-indent": []any{"x", "it's"},
		"quoted":      "tab\tnewline\né",
		"nulls":       []any{nil, nil},
		"hash":        "#not a comment",
		"numericKeys": map[string]any{"1": "one", "true": "yes"},
		"env":         "s3cret",
		"literal":     "line 1\n line 2\n",
		"folded":      "a b\nc",
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		t.Errorf("got %s", g)
	}
	for _, empty := range []string{"", "# only a comment\n"} {
		got, err := readProvisioningFile(WriteFile(t, filepath.Join(t.TempDir(), "empty.yaml"), empty), EnvMap{}.Get)
		if err != nil || len(got) != 0 {
			t.Errorf("%q: got %v, %v, want an empty mapping", empty, got, err)
		}
	}
}

// What does not parse, or is not a mapping, is refused with the line it is on
// (the health check's 503 then names the file: TestGrafanaRefuses).
func TestGrafanaProvisioningFileRefuses(t *testing.T) {
	for src, want := range map[string]string{
		"a: 1\na: 2\n":                 `mapping key "a" already defined at line 1`,
		"a:\n\t- b\n":                  "line 2: found character that cannot start any token",
		"a: *x\n":                      `unknown anchor 'x' referenced`,
		"a: \"open\n":                  "found unexpected end of stream",
		"a:\n  b: 1\n c: 2\n":          "did not find expected key",
		"- a\nb: 1\n":                  "did not find expected '-' indicator",
		"a: b: c\n":                    "mapping values are not allowed in this context",
		"list:\n  - x\n    y: 1\n":     "line 3",
		"datasources:\n  - name: [x\n": "did not find expected ',' or ']'",
		"- a\n- b\n":                   "not a YAML mapping",
		"just text\n":                  "not a YAML mapping",
	} {
		_, err := readProvisioningFile(WriteFile(t, filepath.Join(t.TempDir(), "bad.yaml"), src), EnvMap{}.Get)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want it to mention %q", src, err, want)
		}
	}
}
