package grafana

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "protocol-monitoring/standin/internal/standintest"
)

func TestMain(m *testing.M) { Main(m) }

const adminPW = "admin-Pa55word"

// grafanaTree writes provisioning files and the shipped dashboards into a
// temp dir and returns its environment (provisioning, data, admin password).
func grafanaTree(t *testing.T, esURL string) (EnvMap, string) {
	t.Helper()
	root := t.TempDir()
	dash := filepath.Join(root, "dashboards")
	files, err := filepath.Glob(Repo("stacks", "services", "grafana", "dashboards", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no shipped dashboards: %v", err)
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		WriteFile(t, filepath.Join(dash, filepath.Base(f)), string(b))
	}
	WriteFile(t, filepath.Join(root, "provisioning", "datasources", "datasources.yml"), strings.ReplaceAll(GrafanaDatasources, "ES_URL", esURL))
	WriteFile(t, filepath.Join(root, "provisioning", "dashboards", "provider.yml"), strings.ReplaceAll(GrafanaProvider, "DASHBOARDS", dash))
	return EnvMap{
		"GF_PATHS_PROVISIONING":      filepath.Join(root, "provisioning"),
		"GF_PATHS_DATA":              filepath.Join(root, "data"),
		"GF_SECURITY_ADMIN_USER":     "admin",
		"GF_SECURITY_ADMIN_PASSWORD": adminPW,
		"GRAFANA_ES_PASSWORD":        "reader-Pa55word",
	}, root
}

func startGrafana(t *testing.T, env EnvMap) (*Server, *httptest.Server) {
	t.Helper()
	g, err := New(env.Get)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	return g, srv
}

func grafanaHealth(t *testing.T, env EnvMap) (int, string) {
	t.Helper()
	_, srv := startGrafana(t, env)
	r := Call(t, "GET", srv.URL+"/api/health", "", "", "")
	return r.Status, r.String()
}

func TestGrafanaShippedProvisioningIsHealthyAndServed(t *testing.T) {
	_, es := StartES(t, t.TempDir(), ElasticPW)
	SetupUsers(t, es.URL, "kibana-Pa55word", "writer-Pa55word", "reader-Pa55word")
	env, _ := grafanaTree(t, es.URL)
	_, srv := startGrafana(t, env)

	r := Call(t, "GET", srv.URL+"/api/health", "", "", "")
	ExpectStatus(t, r, 200, "health of the shipped provisioning")
	ExpectStatus(t, Call(t, "GET", srv.URL+"/metrics", "", "", ""), 200, "metrics without auth")

	r = Call(t, "GET", srv.URL+"/api/dashboards/uid/protocol-overview", "admin", adminPW, "")
	ExpectStatus(t, r, 200, "dashboard by uid")
	if Dig(r.JSON, "dashboard", "title") != "Protocol Overview" || Dig(r.JSON, "meta", "folderTitle") != "Protocol" ||
		Dig(r.JSON, "meta", "provisioned") != true || Dig(r.JSON, "meta", "url") != "/d/protocol-overview/protocol-overview" {
		t.Errorf("dashboard response %.300s", r)
	}
	ExpectStatus(t, Call(t, "GET", srv.URL+"/api/dashboards/uid/nope", "admin", adminPW, ""), 404, "unknown dashboard")

	r = Call(t, "GET", srv.URL+"/api/search?type=dash-db", "admin", adminPW, "")
	var titles []string
	for _, d := range jsonList(t, r) {
		titles = append(titles, d["title"].(string))
	}
	if strings.Join(titles, ",") != "Protocol Business,Protocol Operations,Protocol Overview,Protocol Security" {
		t.Errorf("search: %v", titles)
	}
	if got := jsonList(t, Call(t, "GET", srv.URL+"/api/search?query=secur", "admin", adminPW, "")); len(got) != 1 || got[0]["uid"] != "protocol-security" {
		t.Errorf("search query: %v", got)
	}

	r = Call(t, "GET", srv.URL+"/api/datasources/uid/elasticsearch", "admin", adminPW, "")
	ExpectStatus(t, r, 200, "datasource by uid")
	if r.JSON["basicAuthUser"] != "grafana_reader" || Dig(r.JSON, "secureJsonFields", "basicAuthPassword") != true ||
		strings.Contains(r.String(), "reader-Pa55word") || r.JSON["readOnly"] != true {
		t.Errorf("datasource response %s", r)
	}
	// $__env{GRAFANA_ES_PASSWORD} was expanded: the datasource reads the logs as grafana_reader.
	r = Call(t, "GET", srv.URL+"/api/datasources/uid/elasticsearch/health", "admin", adminPW, "")
	ExpectStatus(t, r, 200, "Elasticsearch datasource health")

	env["GRAFANA_ES_PASSWORD"] = "WRONG-Pa55word"
	env["GF_PATHS_DATA"] = t.TempDir()
	_, srv2 := startGrafana(t, env)
	r = Call(t, "GET", srv2.URL+"/api/datasources/uid/elasticsearch/health", "admin", adminPW, "")
	if r.Status != 400 || r.JSON["status"] != "ERROR" || !strings.Contains(r.String(), "grafana_reader") {
		t.Errorf("datasource health with a wrong GRAFANA_ES_PASSWORD: %s", r)
	}
}

func jsonList(t *testing.T, r Resp) []map[string]any {
	t.Helper()
	var out []map[string]any
	if err := json.Unmarshal(r.Body, &out); err != nil {
		t.Fatalf("%v: %s", err, r)
	}
	return out
}

func TestGrafanaAPIRequiresTheAdminUser(t *testing.T) {
	env, _ := grafanaTree(t, "http://127.0.0.1:1")
	_, srv := startGrafana(t, env)
	url := srv.URL + "/api/search"
	ExpectStatus(t, Call(t, "GET", url, "", "", ""), 401, "no credentials")
	ExpectStatus(t, Call(t, "GET", url, "admin", "WRONG", ""), 401, "wrong password")
	ExpectStatus(t, Call(t, "GET", url, "admin", "", ""), 401, "empty password")
	ExpectStatus(t, Call(t, "GET", url, "viewer", adminPW, ""), 401, "other user")
	ExpectStatus(t, Call(t, "GET", srv.URL+"/api/datasources/uid/prometheus", "", "", ""), 401, "datasource without credentials")
	ExpectStatus(t, Call(t, "GET", url, "admin", adminPW, ""), 200, "admin")
	ExpectStatus(t, Call(t, "GET", srv.URL+"/api/health", "", "", ""), 200, "health without credentials")

	// The admin password only applies on the first start of an empty data directory.
	env["GF_SECURITY_ADMIN_PASSWORD"] = "changed-Pa55word"
	_, srv2 := startGrafana(t, env)
	ExpectStatus(t, Call(t, "GET", srv2.URL+"/api/search", "admin", adminPW, ""), 200, "first admin password after restart")
	ExpectStatus(t, Call(t, "GET", srv2.URL+"/api/search", "admin", "changed-Pa55word", ""), 401, "changed variable after restart")

	// Without GF_SECURITY_ADMIN_PASSWORD, the upstream default admin/admin.
	delete(env, "GF_SECURITY_ADMIN_PASSWORD")
	env["GF_PATHS_DATA"] = t.TempDir()
	_, srv3 := startGrafana(t, env)
	ExpectStatus(t, Call(t, "GET", srv3.URL+"/api/search", "admin", "admin", ""), 200, "default admin password")
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
			WriteFile(t, filepath.Join(root, "dashboards", "x.json"), dashboard("x", "X", `{"type":"prometheus","uid":"prometheus-typo"}`))
		}, `names datasource uid \"prometheus-typo\", which is not provisioned`},
		{"wrong type for a uid", func(root string) {
			WriteFile(t, filepath.Join(root, "dashboards", "x.json"), dashboard("x", "X", `{"type":"loki","uid":"prometheus"}`))
		}, `but it is a \"prometheus\" datasource`},
		{"undefined DS_ input (exported dashboard)", func(root string) {
			WriteFile(t, filepath.Join(root, "dashboards", "x.json"), dashboard("x", "X", `{"type":"prometheus","uid":"${DS_PROMETHEUS}"}`))
		}, `${DS_PROMETHEUS}`},
		{"datasource variable and built-ins", func(root string) {
			WriteFile(t, filepath.Join(root, "dashboards", "x.json"), dashboard("x", "X", `{"type":"prometheus","uid":"${ds}"}`))
			WriteFile(t, filepath.Join(root, "dashboards", "y.json"), dashboard("y", "Y", `"-- Grafana --"`))
			WriteFile(t, filepath.Join(root, "dashboards", "z.json"), dashboard("z", "Z", `"Prometheus"`))
			WriteFile(t, filepath.Join(root, "dashboards", "w.json"), dashboard("w", "W", `null`))
		}, ""},
		{"legacy datasource name", func(root string) {
			WriteFile(t, filepath.Join(root, "dashboards", "x.json"), dashboard("x", "X", `"Loki"`))
		}, `names datasource \"Loki\"`},
		{"duplicate dashboard uid", func(root string) {
			WriteFile(t, filepath.Join(root, "dashboards", "x.json"), dashboard("protocol-overview", "Copy", `null`))
		}, `dashboard uid \"protocol-overview\" is used more than once`},
		{"dashboard JSON does not parse", func(root string) {
			WriteFile(t, filepath.Join(root, "dashboards", "x.json"), `{"uid": "x",`)
		}, "dashboard does not parse"},
		{"datasources YAML does not parse", func(root string) {
			WriteFile(t, filepath.Join(root, "provisioning", "datasources", "extra.yaml"), "datasources:\n  - name: [unclosed\n")
		}, "extra.yaml: does not parse"},
		{"provider YAML does not parse", func(root string) {
			WriteFile(t, filepath.Join(root, "provisioning", "dashboards", "provider.yml"), "providers:\n\t- name: x\n")
		}, "provider.yml: does not parse"},
		{"provider path missing", func(root string) {
			WriteFile(t, filepath.Join(root, "provisioning", "dashboards", "provider.yml"), strings.ReplaceAll(GrafanaProvider, "DASHBOARDS", "/nonexistent"))
		}, "cannot read dashboards folder /nonexistent"},
		{"two default datasources", func(root string) {
			WriteFile(t, filepath.Join(root, "provisioning", "datasources", "more.yml"), "datasources:\n  - name: Other\n    type: prometheus\n    uid: other\n    isDefault: true\n")
		}, "Only one datasource per organization can be marked as default"},
		{"duplicate datasource uid", func(root string) {
			WriteFile(t, filepath.Join(root, "provisioning", "datasources", "more.yml"), "datasources:\n  - name: Other\n    type: prometheus\n    uid: prometheus\n")
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
