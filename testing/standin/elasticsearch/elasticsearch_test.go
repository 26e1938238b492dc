package elasticsearch_test

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"protocol-monitoring/standin/elasticsearch"
	. "protocol-monitoring/standin/internal/standintest"
)

func TestMain(m *testing.M) { Main(m) }

func TestElasticsearchRequiresBasicAuthOnEveryEndpoint(t *testing.T) {
	_, srv := StartES(t, t.TempDir(), ElasticPW)
	for _, path := range []string{"/", "/_cluster/health", "/_security/_authenticate", "/_search", "/protocol-logs-x/_count", "/nope"} {
		r := Call(t, "GET", srv.URL+path, "", "", "")
		ExpectStatus(t, r, 401, "no credentials on "+path)
		if got := r.Header.Values("WWW-Authenticate"); len(got) == 0 || !strings.HasPrefix(got[0], "Basic realm=") {
			t.Errorf("%s: WWW-Authenticate = %q", path, got)
		}
		if Dig(r.JSON, "error", "type") != "security_exception" {
			t.Errorf("%s: error body %s", path, r)
		}
	}
	r := Call(t, "POST", srv.URL+"/x/_doc", "", "", `{"a":1}`)
	ExpectStatus(t, r, 401, "POST without credentials")
}

func TestElasticsearchElasticPassword(t *testing.T) {
	_, srv := StartES(t, t.TempDir(), ElasticPW)
	health := srv.URL + "/_cluster/health?wait_for_status=yellow&timeout=3s"
	r := Call(t, "GET", health, "elastic", ElasticPW, "")
	ExpectStatus(t, r, 200, "right password")
	if r.JSON["status"] != "green" {
		t.Errorf("status %v", r.JSON["status"])
	}
	ExpectStatus(t, Call(t, "GET", health, "elastic", "WRONG", ""), 401, "wrong password")
	ExpectStatus(t, Call(t, "GET", health, "elastic", "", ""), 401, "empty password")
	ExpectStatus(t, Call(t, "GET", srv.URL+"/", "elastic", "WRONG", ""), 401, "wrong password on /")
	ExpectStatus(t, Call(t, "GET", health, "nobody", ElasticPW, ""), 401, "unknown user")
	r = Call(t, "GET", srv.URL+"/", "elastic", ElasticPW, "")
	ExpectStatus(t, r, 200, "GET /")
	if r.JSON["tagline"] != "You Know, for Search" {
		t.Errorf("GET / = %s", r)
	}
}

func TestElasticsearchBootstrapPasswordAppliesOnFirstStartOnly(t *testing.T) {
	dir := t.TempDir()
	es, srv := StartES(t, dir, ElasticPW)
	srv.Close()
	_ = es
	// Re-created with another ELASTIC_PASSWORD on the same volume: the first one stays.
	_, srv2 := StartES(t, dir, "another-Pa55word")
	ExpectStatus(t, Call(t, "GET", srv2.URL+"/_cluster/health", "elastic", ElasticPW, ""), 200, "first password after restart")
	ExpectStatus(t, Call(t, "GET", srv2.URL+"/_cluster/health", "elastic", "another-Pa55word", ""), 401, "changed ELASTIC_PASSWORD")

	// Changing it through the API is what works, and persists.
	r := Call(t, "POST", srv2.URL+"/_security/user/elastic/_password", "elastic", ElasticPW, `{"password":"rotated-Pa55word"}`)
	ExpectStatus(t, r, 200, "change elastic password")
	srv2.Close()
	_, srv3 := StartES(t, dir, ElasticPW)
	ExpectStatus(t, Call(t, "GET", srv3.URL+"/_cluster/health", "elastic", "rotated-Pa55word", ""), 200, "rotated password after restart")
	ExpectStatus(t, Call(t, "GET", srv3.URL+"/_cluster/health", "elastic", ElasticPW, ""), 401, "old password after rotation")

	// The data directory holds no plain password.
	b, err := os.ReadFile(filepath.Join(dir, "standin", "security.json"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("Pa55word")) {
		t.Error("security.json contains a plain password")
	}
}

func TestElasticsearchSecurityAPIUsersAndRoles(t *testing.T) {
	_, srv := StartES(t, t.TempDir(), ElasticPW)
	auth := srv.URL + "/_security/_authenticate"

	// kibana_system is reserved: it exists but cannot log in before its password is set.
	ExpectStatus(t, Call(t, "GET", auth, "kibana_system", "kibana-Pa55word", ""), 401, "kibana_system before setup")
	ExpectStatus(t, Call(t, "GET", auth, "logstash_writer", "writer-Pa55word", ""), 401, "logstash_writer before setup")
	SetupUsers(t, srv.URL, "kibana-Pa55word", "writer-Pa55word", "reader-Pa55word")

	r := Call(t, "GET", auth, "kibana_system", "kibana-Pa55word", "")
	ExpectStatus(t, r, 200, "kibana_system after setup")
	if r.JSON["username"] != "kibana_system" || Dig(r.JSON, "authentication_realm", "type") != "reserved" {
		t.Errorf("_authenticate = %s", r)
	}
	r = Call(t, "GET", auth, "logstash_writer", "writer-Pa55word", "")
	ExpectStatus(t, r, 200, "logstash_writer")
	if Dig(r.JSON, "roles", 0) != "logstash_writer" || Dig(r.JSON, "authentication_realm", "type") != "native" {
		t.Errorf("_authenticate = %s", r)
	}
	ExpectStatus(t, Call(t, "GET", auth, "kibana_system", "WRONG-password", ""), 401, "kibana_system wrong password")
	ExpectStatus(t, Call(t, "GET", auth, "logstash_writer", "WRONG-password", ""), 401, "logstash_writer wrong password")
	ExpectStatus(t, Call(t, "GET", auth, "someone", "writer-Pa55word", ""), 401, "unknown user")

	// Running the setup again (as the setup container does on every re-creation) is fine.
	SetupUsers(t, srv.URL, "kibana-Pa55word-2", "writer-Pa55word-2", "reader-Pa55word-2")
	ExpectStatus(t, Call(t, "GET", auth, "logstash_writer", "writer-Pa55word", ""), 401, "old writer password after rotation")
	ExpectStatus(t, Call(t, "GET", auth, "logstash_writer", "writer-Pa55word-2", ""), 200, "rotated writer password")

	// Reserved names and typos are refused as upstream does.
	r = Call(t, "PUT", srv.URL+"/_security/user/kibana_system", "elastic", ElasticPW, `{"password":"kibana-Pa55word","roles":["superuser"]}`)
	ExpectStatus(t, r, 400, "PUT reserved user")
	r = Call(t, "PUT", srv.URL+"/_security/role/superuser", "elastic", ElasticPW, `{"cluster":["all"]}`)
	ExpectStatus(t, r, 400, "PUT reserved role")
	r = Call(t, "PUT", srv.URL+"/_security/role/typo", "elastic", ElasticPW, `{"cluster":["monitr"]}`)
	ExpectStatus(t, r, 400, "unknown cluster privilege")
	if !strings.Contains(r.String(), "unknown cluster privilege [monitr]") {
		t.Errorf("reason: %s", r)
	}
	r = Call(t, "PUT", srv.URL+"/_security/role/typo", "elastic", ElasticPW, `{"indices":[{"names":["x-*"],"privileges":["wrte"]}]}`)
	ExpectStatus(t, r, 400, "unknown index privilege")
	r = Call(t, "PUT", srv.URL+"/_security/user/new", "elastic", ElasticPW, `{"password":"short","roles":[]}`)
	ExpectStatus(t, r, 400, "short password")
	r = Call(t, "PUT", srv.URL+"/_security/user/new", "elastic", ElasticPW, `{"roles":[]}`)
	ExpectStatus(t, r, 400, "new user without password")
	r = Call(t, "POST", srv.URL+"/_security/user/ghost/_password", "elastic", ElasticPW, `{"password":"ghost-Pa55word"}`)
	ExpectStatus(t, r, 400, "password of a user that does not exist")
	r = Call(t, "PUT", srv.URL+"/_security/role/x", "elastic", ElasticPW, `{"cluster":["monitor"]}`, "Content-Type", "application/x-www-form-urlencoded")
	ExpectStatus(t, r, 406, "form-encoded body")

	// Only manage_security may manage security; a user may change its own password.
	r = Call(t, "PUT", srv.URL+"/_security/role/evil", "logstash_writer", "writer-Pa55word-2", `{"cluster":["all"]}`)
	ExpectStatus(t, r, 403, "writer creating a role")
	r = Call(t, "POST", srv.URL+"/_security/user/kibana_system/_password", "logstash_writer", "writer-Pa55word-2", `{"password":"hijacked-Pa55word"}`)
	ExpectStatus(t, r, 403, "writer setting another user's password")
	r = Call(t, "POST", srv.URL+"/_security/user/logstash_writer/_password", "logstash_writer", "writer-Pa55word-2", `{"password":"own-Pa55word"}`)
	ExpectStatus(t, r, 200, "writer setting its own password")

	r = Call(t, "GET", srv.URL+"/_security/user/grafana_reader", "elastic", ElasticPW, "")
	ExpectStatus(t, r, 200, "GET user")
	if Dig(r.JSON, "grafana_reader", "roles", 0) != "grafana_reader" {
		t.Errorf("GET user = %s", r)
	}
	r = Call(t, "GET", srv.URL+"/_security/role/logstash_writer", "elastic", ElasticPW, "")
	if Dig(r.JSON, "logstash_writer", "indices", 0, "names", 0) != "protocol-logs-*" {
		t.Errorf("GET role = %s", r)
	}
}

func TestElasticsearchIndexPrivilegesOfRoles(t *testing.T) {
	_, srv := StartES(t, t.TempDir(), ElasticPW)
	SetupUsers(t, srv.URL, "kibana-Pa55word", "writer-Pa55word", "reader-Pa55word")
	const w, wpw, rd, rpw = "logstash_writer", "writer-Pa55word", "grafana_reader", "reader-Pa55word"

	r := Call(t, "POST", srv.URL+"/protocol-logs-2024.01.02/_doc", w, wpw, `{"message":"inside"}`)
	ExpectStatus(t, r, 201, "writer indexing into protocol-logs-*")
	if r.JSON["result"] != "created" || r.JSON["_index"] != "protocol-logs-2024.01.02" {
		t.Errorf("index response %s", r)
	}
	r = Call(t, "POST", srv.URL+"/other-logs/_doc", w, wpw, `{"message":"outside"}`)
	ExpectStatus(t, r, 403, "writer indexing outside its role")
	if !strings.Contains(r.String(), "is unauthorized for user [logstash_writer]") {
		t.Errorf("403 reason: %s", r)
	}
	r = Call(t, "POST", srv.URL+"/_bulk", w, wpw, "{\"index\":{\"_index\":\"other-logs\"}}\n{\"a\":1}\n{\"index\":{\"_index\":\"protocol-logs-2024.01.02\"}}\n{\"a\":2}\n",
		"Content-Type", "application/x-ndjson")
	ExpectStatus(t, r, 200, "bulk")
	if r.JSON["errors"] != true || Dig(r.JSON, "items", 0, "index", "status") != 403.0 || Dig(r.JSON, "items", 1, "index", "status") != 201.0 {
		t.Errorf("bulk items: %s", r)
	}
	ExpectStatus(t, Call(t, "POST", srv.URL+"/protocol-logs-x/_doc", rd, rpw, `{"a":1}`), 403, "reader writing")

	// A role with write but without create_index cannot create a new index.
	Call(t, "PUT", srv.URL+"/_security/role/appender", "elastic", ElasticPW, `{"indices":[{"names":["protocol-logs-*"],"privileges":["write"]}]}`)
	Call(t, "PUT", srv.URL+"/_security/user/appender", "elastic", ElasticPW, `{"password":"appender-Pa55word","roles":["appender"]}`)
	ExpectStatus(t, Call(t, "POST", srv.URL+"/protocol-logs-new/_doc", "appender", "appender-Pa55word", `{"a":1}`), 403, "write without create_index, new index")
	ExpectStatus(t, Call(t, "POST", srv.URL+"/protocol-logs-2024.01.02/_doc", "appender", "appender-Pa55word", `{"a":1}`), 201, "write, existing index")

	// Reading: the reader sees protocol-logs-*, nothing else; the writer reads nothing.
	ExpectStatus(t, Call(t, "POST", srv.URL+"/elastic-only/_doc", "elastic", ElasticPW, `{"secret":true}`), 201, "superuser anywhere")
	r = Call(t, "GET", srv.URL+"/protocol-logs-*/_count", rd, rpw, "")
	ExpectStatus(t, r, 200, "reader counting protocol-logs-*")
	if r.JSON["count"] != 3.0 {
		t.Errorf("reader count = %s", r)
	}
	ExpectStatus(t, Call(t, "GET", srv.URL+"/elastic-only/_search", rd, rpw, ""), 403, "reader searching another index")
	r = Call(t, "GET", srv.URL+"/*/_count", rd, rpw, "")
	if r.JSON["count"] != 3.0 {
		t.Errorf("reader's wildcard must expand to its indices only: %s", r)
	}
	ExpectStatus(t, Call(t, "GET", srv.URL+"/protocol-logs-2024.01.02/_search", w, wpw, ""), 403, "writer reading")
	r = Call(t, "GET", srv.URL+"/_count", "elastic", ElasticPW, "")
	if r.JSON["count"] != 4.0 {
		t.Errorf("superuser count = %s", r)
	}
}

func TestElasticsearchDocumentsAndSearch(t *testing.T) {
	dir := t.TempDir()
	_, srv := StartES(t, dir, ElasticPW)
	post := func(path, body string, headers ...string) Resp {
		return Call(t, "POST", srv.URL+path, "elastic", ElasticPW, body, headers...)
	}
	ExpectStatus(t, post("/logs-a/_doc", `{"message":"Hello World","level":"info","code":200,"@timestamp":"2024-01-01T00:00:00.000Z"}`), 201, "_doc")
	var bulk bytes.Buffer
	gz := gzip.NewWriter(&bulk)
	gz.Write([]byte(`{"index":{"_index":"logs-a"}}
{"message":"goodbye world","level":"error","code":500,"service":{"name":"registry"}}
{"create":{"_index":"logs-b","_id":"fixed"}}
{"message":"other index","level":"info"}
`))
	gz.Close()
	r := post("/_bulk", bulk.String(), "Content-Encoding", "gzip", "Content-Type", "application/json")
	ExpectStatus(t, r, 200, "gzip bulk")
	if r.JSON["errors"] != false || len(r.JSON["items"].([]any)) != 2 {
		t.Fatalf("bulk: %s", r)
	}
	ExpectStatus(t, post("/logs-b/_create/fixed", `{"a":1}`), 409, "create an existing id")
	ExpectStatus(t, post("/Logs-C/_doc", `{"a":1}`), 400, "uppercase index name")
	ExpectStatus(t, post("/logs-c/_doc", `[1,2]`), 400, "document not an object")
	ExpectStatus(t, post("/_bulk", "{\"index\":{\"_index\":\"x\"}}\n{}\n", "Content-Type", "text/plain"), 406, "bulk as text/plain")

	count := func(path, body string) float64 {
		t.Helper()
		r := Call(t, "POST", srv.URL+path, "elastic", ElasticPW, body)
		ExpectStatus(t, r, 200, path+" "+body)
		c, _ := r.JSON["count"].(float64)
		if strings.Contains(path, "_search") {
			c, _ = Dig(r.JSON, "hits", "total", "value").(float64)
		}
		return c
	}
	cases := []struct {
		path, body string
		want       float64
	}{
		{"/logs-*/_count", "", 3},
		{"/logs-a/_count", "", 2},
		{"/logs-a,logs-b/_count", "", 3},
		{"/logs-*,-logs-b/_count", "", 2},
		{"/logs-*/_search?q=level:info", "", 2},
		{"/logs-*/_search?q=message:world", "", 2},
		{"/logs-*/_search?q=world", "", 2},
		{"/logs-*/_search?q=message:%22hello%20world%22", "", 1},
		{"/logs-*/_search?q=code:500", "", 1},
		{"/logs-*/_search?q=service.name:registry", "", 1},
		{"/logs-*/_search?q=*", "", 3},
		{"/logs-*/_search", `{"query":{"match_all":{}}}`, 3},
		{"/logs-*/_search", `{"query":{"match":{"message":"HELLO"}}}`, 1},
		{"/logs-*/_search", `{"query":{"match":{"message":{"query":"hello goodbye","operator":"and"}}}}`, 0},
		{"/logs-*/_search", `{"query":{"term":{"level":"error"}}}`, 1},
		{"/logs-*/_search", `{"query":{"term":{"message":"Hello"}}}`, 0},
		{"/logs-*/_search", `{"query":{"term":{"message.keyword":"Hello World"}}}`, 1},
		{"/logs-*/_count", `{"query":{"bool":{"must":[{"match":{"level":"info"}}],"must_not":[{"exists":{"field":"code"}}]}}}`, 1},
		{"/nothing-*/_count", "", 0},
	}
	for _, c := range cases {
		if got := count(c.path, c.body); got != c.want {
			t.Errorf("%s %s: %v hits, want %v", c.path, c.body, got, c.want)
		}
	}

	r = Call(t, "GET", srv.URL+"/logs-*/_search?q=level:info&size=1", "elastic", ElasticPW, "")
	hits := Dig(r.JSON, "hits", "hits").([]any)
	if len(hits) != 1 || Dig(r.JSON, "hits", "total", "value") != 2.0 || Dig(hits[0], "_source", "level") != "info" || Dig(hits[0], "_index") == nil {
		t.Errorf("size=1: %s", r)
	}
	r = Call(t, "GET", srv.URL+"/missing/_search", "elastic", ElasticPW, "")
	ExpectStatus(t, r, 404, "search of a missing index")
	if Dig(r.JSON, "error", "type") != "index_not_found_exception" {
		t.Errorf("404 body %s", r)
	}
	r = Call(t, "POST", srv.URL+"/logs-*/_search", "elastic", ElasticPW, `{"query":{"wildcard":{"a":"b*"}}}`)
	ExpectStatus(t, r, 400, "unknown query")
	r = Call(t, "GET", srv.URL+"/logs-b/_doc/fixed", "elastic", ElasticPW, "")
	ExpectStatus(t, r, 200, "GET by id")
	if Dig(r.JSON, "_source", "message") != "other index" {
		t.Errorf("GET by id = %s", r)
	}

	// Documents survive a restart.
	srv.Close()
	_, srv2 := StartES(t, dir, ElasticPW)
	r = Call(t, "GET", srv2.URL+"/logs-*/_count", "elastic", ElasticPW, "")
	if r.JSON["count"] != 3.0 {
		t.Errorf("count after restart = %s", r)
	}
}

func TestElasticsearchRefusesSecurityOff(t *testing.T) {
	_, err := elasticsearch.New(EnvMap{"path.data": t.TempDir(), "xpack.security.enabled": "false"}.Get)
	if err == nil || !strings.Contains(err.Error(), "security on only") {
		t.Fatalf("err = %v", err)
	}
}

// What prometheus-community/elasticsearch_exporter reads, as the monitor-only user the setup job
// creates: / (cluster info, a semantic version), cluster health and this node's stats; no index.
func TestElasticsearchMonitorUserReadsHealthAndNodeStatsOnly(t *testing.T) {
	dir := t.TempDir()
	es, err := elasticsearch.New(EnvMap{"path.data": dir, "ELASTIC_PASSWORD": ElasticPW, "cluster.name": "dev-logs", "ES_JAVA_OPTS": "-Xms128m -Xmx128m"}.Get)
	if err != nil {
		t.Fatal(err)
	}
	srv := StartServer(t, es)
	for _, s := range []struct {
		method, path, body string
		status             int
	}{
		{"PUT", "/_security/role/prometheus_monitor", `{"cluster":["monitor"]}`, 200},
		{"PUT", "/_security/user/prometheus_monitor", `{"password":"monitor-Pa55word","roles":["prometheus_monitor"]}`, 200},
		{"PUT", "/protocol-logs-x/_doc/1", `{"message":"secret"}`, 201},
	} {
		ExpectStatus(t, Call(t, s.method, srv+s.path, "elastic", ElasticPW, s.body), s.status, s.method+" "+s.path)
	}
	ExpectStatus(t, Call(t, "GET", srv+"/_nodes/_local/stats", "", "", ""), 401, "node stats without credentials")

	r := Call(t, "GET", srv+"/", "prometheus_monitor", "monitor-Pa55word", "")
	ExpectStatus(t, r, 200, "GET / as prometheus_monitor")
	if v, _ := Dig(r.JSON, "version", "number").(string); !regexp.MustCompile(`^\d+\.\d+\.\d+`).MatchString(v) {
		t.Errorf("version.number %q is not a semantic version", v)
	}
	r = Call(t, "GET", srv+"/_cluster/health", "prometheus_monitor", "monitor-Pa55word", "")
	ExpectStatus(t, r, 200, "cluster health as prometheus_monitor")
	if r.JSON["cluster_name"] != "dev-logs" || r.JSON["status"] != "green" {
		t.Errorf("cluster health %s", r)
	}
	for _, path := range []string{"/_nodes/_local/stats", "/_nodes/stats"} {
		r = Call(t, "GET", srv+path, "prometheus_monitor", "monitor-Pa55word", "")
		ExpectStatus(t, r, 200, path+" as prometheus_monitor")
		node := Dig(r.JSON, "nodes", elasticsearch.NodeID)
		if r.JSON["cluster_name"] != "dev-logs" || node == nil {
			t.Fatalf("%s: %s", path, r)
		}
		if got := Dig(node, "jvm", "mem", "heap_max_in_bytes"); got != float64(128<<20) {
			t.Errorf("%s: heap_max_in_bytes %v, want -Xmx 128m", path, got)
		}
		if used, _ := Dig(node, "jvm", "mem", "heap_used_in_bytes").(float64); used <= 0 {
			t.Errorf("%s: heap_used_in_bytes %v", path, used)
		}
		data := Dig(node, "fs", "data", 0)
		total, _ := Dig(data, "total_in_bytes").(float64)
		avail, _ := Dig(data, "available_in_bytes").(float64)
		if Dig(data, "path") != dir || total <= 0 || avail <= 0 || avail > total {
			t.Errorf("%s: fs.data %v", path, data)
		}
	}
	r = Call(t, "GET", srv+"/_nodes/another-node/stats", "prometheus_monitor", "monitor-Pa55word", "")
	if nodes, _ := r.JSON["nodes"].(map[string]any); r.Status != 200 || len(nodes) != 0 {
		t.Errorf("stats of a node that is not this one: %s", r)
	}
	// The monitor privilege reads no document.
	ExpectStatus(t, Call(t, "GET", srv+"/protocol-logs-x/_search", "prometheus_monitor", "monitor-Pa55word", ""), 403, "search as prometheus_monitor")
	ExpectStatus(t, Call(t, "GET", srv+"/_nodes/_local/stats", "prometheus_monitor", "WRONG-Pa55word", ""), 401, "wrong password")
}

// The image's entrypoint refuses an ELASTIC_PASSWORD_FILE that others may read; so does the stand-in.
func TestElasticsearchPasswordFileMustBePrivate(t *testing.T) {
	file := filepath.Join(t.TempDir(), "elastic_password")
	if err := os.WriteFile(file, []byte("file-Pa55word"), 0o444); err != nil {
		t.Fatal(err)
	}
	env := EnvMap{"path.data": t.TempDir(), "ELASTIC_PASSWORD_FILE": file}
	if _, err := elasticsearch.New(env.Get); err == nil || !strings.Contains(err.Error(), "must have file permissions 400 or 600, but actually has: 444") {
		t.Fatalf("a world-readable password file: %v", err)
	}
	if err := os.Chmod(file, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := elasticsearch.New(env.Get); err != nil {
		t.Fatalf("a private password file: %v", err)
	}
}
