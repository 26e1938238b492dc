package main

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The provisioning files as stacks/config/grafana.ts writes them for an
// environment with Elasticsearch (the stack test checks the real ones).
const testDatasources = `apiVersion: 1
deleteDatasources: []
datasources:
  - name: Prometheus
    uid: prometheus
    type: prometheus
    access: proxy
    url: http://prometheus:9090
    isDefault: true
    editable: false
    jsonData:
      timeInterval: 15s
  - name: Elasticsearch
    uid: elasticsearch
    type: elasticsearch
    access: proxy
    url: ES_URL
    basicAuth: true
    basicAuthUser: grafana_reader
    editable: false
    jsonData:
      index: protocol-logs-*
      timeField: "@timestamp"
    secureJsonData:
      basicAuthPassword: $__env{GRAFANA_ES_PASSWORD}
`

const testProvider = `apiVersion: 1
providers:
  - name: protocol
    folder: Protocol
    type: file
    disableDeletion: true
    allowUiUpdates: false
    options:
      path: DASHBOARDS
      foldersFromFilesStructure: false
`

const adminPW = "admin-Pa55word"

// grafanaTree writes provisioning files and the shipped dashboards into a
// temp dir and returns its environment (provisioning, data, admin password).
func grafanaTree(t *testing.T, esURL string) (envMap, string) {
	t.Helper()
	root := t.TempDir()
	dash := filepath.Join(root, "dashboards")
	files, err := filepath.Glob(repo("assets", "dashboards", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no shipped dashboards: %v", err)
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		writeFile(t, filepath.Join(dash, filepath.Base(f)), string(b))
	}
	writeFile(t, filepath.Join(root, "provisioning", "datasources", "datasources.yml"), strings.ReplaceAll(testDatasources, "ES_URL", esURL))
	writeFile(t, filepath.Join(root, "provisioning", "dashboards", "provider.yml"), strings.ReplaceAll(testProvider, "DASHBOARDS", dash))
	return envMap{
		"GF_PATHS_PROVISIONING":      filepath.Join(root, "provisioning"),
		"GF_PATHS_DATA":              filepath.Join(root, "data"),
		"GF_SECURITY_ADMIN_USER":     "admin",
		"GF_SECURITY_ADMIN_PASSWORD": adminPW,
		"GRAFANA_ES_PASSWORD":        "reader-Pa55word",
	}, root
}

func startGrafana(t *testing.T, env envMap) (*grafanaServer, *httptest.Server) {
	t.Helper()
	g, err := newGrafana(env.get)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	return g, srv
}

func grafanaHealth(t *testing.T, env envMap) (int, string) {
	t.Helper()
	_, srv := startGrafana(t, env)
	r := call(t, "GET", srv.URL+"/api/health", "", "", "")
	return r.status, r.String()
}

func TestGrafanaShippedProvisioningIsHealthyAndServed(t *testing.T) {
	_, es := startES(t, t.TempDir(), elasticPW)
	setupUsers(t, es.URL, "kibana-Pa55word", "writer-Pa55word", "reader-Pa55word")
	env, _ := grafanaTree(t, es.URL)
	_, srv := startGrafana(t, env)

	r := call(t, "GET", srv.URL+"/api/health", "", "", "")
	expectStatus(t, r, 200, "health of the shipped provisioning")
	expectStatus(t, call(t, "GET", srv.URL+"/metrics", "", "", ""), 200, "metrics without auth")

	r = call(t, "GET", srv.URL+"/api/dashboards/uid/protocol-overview", "admin", adminPW, "")
	expectStatus(t, r, 200, "dashboard by uid")
	if dig(r.json, "dashboard", "title") != "Protocol Overview" || dig(r.json, "meta", "folderTitle") != "Protocol" ||
		dig(r.json, "meta", "provisioned") != true || dig(r.json, "meta", "url") != "/d/protocol-overview/protocol-overview" {
		t.Errorf("dashboard response %.300s", r)
	}
	expectStatus(t, call(t, "GET", srv.URL+"/api/dashboards/uid/nope", "admin", adminPW, ""), 404, "unknown dashboard")

	r = call(t, "GET", srv.URL+"/api/search?type=dash-db", "admin", adminPW, "")
	var titles []string
	for _, d := range r.json2(t) {
		titles = append(titles, d["title"].(string))
	}
	if strings.Join(titles, ",") != "Protocol Business,Protocol Operations,Protocol Overview,Protocol Security" {
		t.Errorf("search: %v", titles)
	}
	if got := call(t, "GET", srv.URL+"/api/search?query=secur", "admin", adminPW, "").json2(t); len(got) != 1 || got[0]["uid"] != "protocol-security" {
		t.Errorf("search query: %v", got)
	}

	r = call(t, "GET", srv.URL+"/api/datasources/uid/elasticsearch", "admin", adminPW, "")
	expectStatus(t, r, 200, "datasource by uid")
	if r.json["basicAuthUser"] != "grafana_reader" || dig(r.json, "secureJsonFields", "basicAuthPassword") != true ||
		strings.Contains(r.String(), "reader-Pa55word") || r.json["readOnly"] != true {
		t.Errorf("datasource response %s", r)
	}
	// $__env{GRAFANA_ES_PASSWORD} was expanded: the datasource reads the logs as grafana_reader.
	r = call(t, "GET", srv.URL+"/api/datasources/uid/elasticsearch/health", "admin", adminPW, "")
	expectStatus(t, r, 200, "Elasticsearch datasource health")

	env["GRAFANA_ES_PASSWORD"] = "WRONG-Pa55word"
	env["GF_PATHS_DATA"] = t.TempDir()
	_, srv2 := startGrafana(t, env)
	r = call(t, "GET", srv2.URL+"/api/datasources/uid/elasticsearch/health", "admin", adminPW, "")
	if r.status != 400 || r.json["status"] != "ERROR" || !strings.Contains(r.String(), "grafana_reader") {
		t.Errorf("datasource health with a wrong GRAFANA_ES_PASSWORD: %s", r)
	}
}

func (r resp) json2(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	if err := decodeJSONInto(r.body, &out); err != nil {
		t.Fatalf("%v: %s", err, r)
	}
	return out
}

func TestGrafanaAPIRequiresTheAdminUser(t *testing.T) {
	env, _ := grafanaTree(t, "http://127.0.0.1:1")
	_, srv := startGrafana(t, env)
	url := srv.URL + "/api/search"
	expectStatus(t, call(t, "GET", url, "", "", ""), 401, "no credentials")
	expectStatus(t, call(t, "GET", url, "admin", "WRONG", ""), 401, "wrong password")
	expectStatus(t, call(t, "GET", url, "admin", "", ""), 401, "empty password")
	expectStatus(t, call(t, "GET", url, "viewer", adminPW, ""), 401, "other user")
	expectStatus(t, call(t, "GET", srv.URL+"/api/datasources/uid/prometheus", "", "", ""), 401, "datasource without credentials")
	expectStatus(t, call(t, "GET", url, "admin", adminPW, ""), 200, "admin")
	expectStatus(t, call(t, "GET", srv.URL+"/api/health", "", "", ""), 200, "health without credentials")

	// The admin password only applies on the first start of an empty data directory.
	env["GF_SECURITY_ADMIN_PASSWORD"] = "changed-Pa55word"
	_, srv2 := startGrafana(t, env)
	expectStatus(t, call(t, "GET", srv2.URL+"/api/search", "admin", adminPW, ""), 200, "first admin password after restart")
	expectStatus(t, call(t, "GET", srv2.URL+"/api/search", "admin", "changed-Pa55word", ""), 401, "changed variable after restart")

	// Without GF_SECURITY_ADMIN_PASSWORD, the upstream default admin/admin.
	delete(env, "GF_SECURITY_ADMIN_PASSWORD")
	env["GF_PATHS_DATA"] = t.TempDir()
	_, srv3 := startGrafana(t, env)
	expectStatus(t, call(t, "GET", srv3.URL+"/api/search", "admin", "admin", ""), 200, "default admin password")
}

func TestGrafanaUnhealthyProvisioning(t *testing.T) {
	dashboard := func(uid, title, ds string) string {
		return `{"uid":"` + uid + `","title":"` + title + `","templating":{"list":[{"name":"ds","type":"datasource","query":"prometheus"},
 {"name":"job","type":"query","datasource":` + ds + `}]},
 "panels":[{"id":1,"title":"row","type":"row","panels":[{"id":2,"title":"p","datasource":` + ds + `,"targets":[{"datasource":` + ds + `,"expr":"up"}]}]}]}`
	}
	cases := []struct {
		name  string
		edit  func(root string)
		wants string // in the health body; "" for healthy
	}{
		{"shipped", func(string) {}, ""},
		{"wrong datasource uid in a panel", func(root string) {
			writeFile(t, filepath.Join(root, "dashboards", "x.json"), dashboard("x", "X", `{"type":"prometheus","uid":"prometheus-typo"}`))
		}, `names datasource uid \"prometheus-typo\", which is not provisioned`},
		{"wrong type for a uid", func(root string) {
			writeFile(t, filepath.Join(root, "dashboards", "x.json"), dashboard("x", "X", `{"type":"loki","uid":"prometheus"}`))
		}, `but it is a \"prometheus\" datasource`},
		{"undefined DS_ input (exported dashboard)", func(root string) {
			writeFile(t, filepath.Join(root, "dashboards", "x.json"), dashboard("x", "X", `{"type":"prometheus","uid":"${DS_PROMETHEUS}"}`))
		}, `${DS_PROMETHEUS}`},
		{"datasource variable and built-ins", func(root string) {
			writeFile(t, filepath.Join(root, "dashboards", "x.json"), dashboard("x", "X", `{"type":"prometheus","uid":"${ds}"}`))
			writeFile(t, filepath.Join(root, "dashboards", "y.json"), dashboard("y", "Y", `"-- Grafana --"`))
			writeFile(t, filepath.Join(root, "dashboards", "z.json"), dashboard("z", "Z", `"Prometheus"`))
			writeFile(t, filepath.Join(root, "dashboards", "w.json"), dashboard("w", "W", `null`))
		}, ""},
		{"legacy datasource name", func(root string) {
			writeFile(t, filepath.Join(root, "dashboards", "x.json"), dashboard("x", "X", `"Loki"`))
		}, `names datasource \"Loki\"`},
		{"duplicate dashboard uid", func(root string) {
			writeFile(t, filepath.Join(root, "dashboards", "x.json"), dashboard("protocol-overview", "Copy", `null`))
		}, `dashboard uid \"protocol-overview\" is used more than once`},
		{"dashboard JSON does not parse", func(root string) {
			writeFile(t, filepath.Join(root, "dashboards", "x.json"), `{"uid": "x",`)
		}, "dashboard does not parse"},
		{"datasources YAML does not parse", func(root string) {
			writeFile(t, filepath.Join(root, "provisioning", "datasources", "extra.yaml"), "datasources:\n  - name: [unclosed\n")
		}, "extra.yaml: does not parse"},
		{"provider YAML does not parse", func(root string) {
			writeFile(t, filepath.Join(root, "provisioning", "dashboards", "provider.yml"), "providers:\n\t- name: x\n")
		}, "provider.yml: does not parse"},
		{"provider path missing", func(root string) {
			writeFile(t, filepath.Join(root, "provisioning", "dashboards", "provider.yml"), strings.ReplaceAll(testProvider, "DASHBOARDS", "/nonexistent"))
		}, "cannot read dashboards folder /nonexistent"},
		{"two default datasources", func(root string) {
			writeFile(t, filepath.Join(root, "provisioning", "datasources", "more.yml"), "datasources:\n  - name: Other\n    type: prometheus\n    uid: other\n    isDefault: true\n")
		}, "Only one datasource per organization can be marked as default"},
		{"duplicate datasource uid", func(root string) {
			writeFile(t, filepath.Join(root, "provisioning", "datasources", "more.yml"), "datasources:\n  - name: Other\n    type: prometheus\n    uid: prometheus\n")
		}, `has the uid \"prometheus\"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env, root := grafanaTree(t, "http://127.0.0.1:1")
			c.edit(root)
			status, body := grafanaHealth(t, env)
			if c.wants == "" {
				if status != 200 {
					t.Fatalf("want healthy, got %d %s", status, body)
				}
				return
			}
			if status != 503 || !strings.Contains(body, c.wants) {
				t.Fatalf("want 503 naming %q, got %d %s", c.wants, status, body)
			}
		})
	}
}

func TestGrafanaInterpolation(t *testing.T) {
	env := envMap{"A": "1", "PW": "s3cret"}.get
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

func decodeJSONInto(b []byte, v any) error { return json.Unmarshal(b, v) }

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
	file := writeFile(t, filepath.Join(t.TempDir(), "all.yaml"), src)
	got, err := readProvisioningFile(file, envMap{"PW": "s3cret"}.get)
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
		got, err := readProvisioningFile(writeFile(t, filepath.Join(t.TempDir(), "empty.yaml"), empty), envMap{}.get)
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
		_, err := readProvisioningFile(writeFile(t, filepath.Join(t.TempDir(), "bad.yaml"), src), envMap{}.get)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want it to mention %q", src, err, want)
		}
	}
}
