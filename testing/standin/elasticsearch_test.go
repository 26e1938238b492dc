package main

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestElasticsearchRequiresBasicAuthOnEveryEndpoint(t *testing.T) {
	_, srv := startES(t, t.TempDir(), elasticPW)
	for _, path := range []string{"/", "/_cluster/health", "/_security/_authenticate", "/_search", "/protocol-logs-x/_count", "/nope"} {
		r := call(t, "GET", srv.URL+path, "", "", "")
		expectStatus(t, r, 401, "no credentials on "+path)
		if got := r.header.Values("WWW-Authenticate"); len(got) == 0 || !strings.HasPrefix(got[0], "Basic realm=") {
			t.Errorf("%s: WWW-Authenticate = %q", path, got)
		}
		if dig(r.json, "error", "type") != "security_exception" {
			t.Errorf("%s: error body %s", path, r)
		}
	}
	r := call(t, "POST", srv.URL+"/x/_doc", "", "", `{"a":1}`)
	expectStatus(t, r, 401, "POST without credentials")
}

func TestElasticsearchElasticPassword(t *testing.T) {
	_, srv := startES(t, t.TempDir(), elasticPW)
	health := srv.URL + "/_cluster/health?wait_for_status=yellow&timeout=3s"
	r := call(t, "GET", health, "elastic", elasticPW, "")
	expectStatus(t, r, 200, "right password")
	if r.json["status"] != "green" {
		t.Errorf("status %v", r.json["status"])
	}
	expectStatus(t, call(t, "GET", health, "elastic", "WRONG", ""), 401, "wrong password")
	expectStatus(t, call(t, "GET", health, "elastic", "", ""), 401, "empty password")
	expectStatus(t, call(t, "GET", srv.URL+"/", "elastic", "WRONG", ""), 401, "wrong password on /")
	expectStatus(t, call(t, "GET", health, "nobody", elasticPW, ""), 401, "unknown user")
	r = call(t, "GET", srv.URL+"/", "elastic", elasticPW, "")
	expectStatus(t, r, 200, "GET /")
	if r.json["tagline"] != "You Know, for Search" {
		t.Errorf("GET / = %s", r)
	}
}

func TestElasticsearchBootstrapPasswordAppliesOnFirstStartOnly(t *testing.T) {
	dir := t.TempDir()
	es, srv := startES(t, dir, elasticPW)
	srv.Close()
	_ = es
	// Re-created with another ELASTIC_PASSWORD on the same volume: the first one stays.
	_, srv2 := startES(t, dir, "another-Pa55word")
	expectStatus(t, call(t, "GET", srv2.URL+"/_cluster/health", "elastic", elasticPW, ""), 200, "first password after restart")
	expectStatus(t, call(t, "GET", srv2.URL+"/_cluster/health", "elastic", "another-Pa55word", ""), 401, "changed ELASTIC_PASSWORD")

	// Changing it through the API is what works, and persists.
	r := call(t, "POST", srv2.URL+"/_security/user/elastic/_password", "elastic", elasticPW, `{"password":"rotated-Pa55word"}`)
	expectStatus(t, r, 200, "change elastic password")
	srv2.Close()
	_, srv3 := startES(t, dir, elasticPW)
	expectStatus(t, call(t, "GET", srv3.URL+"/_cluster/health", "elastic", "rotated-Pa55word", ""), 200, "rotated password after restart")
	expectStatus(t, call(t, "GET", srv3.URL+"/_cluster/health", "elastic", elasticPW, ""), 401, "old password after rotation")

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
	_, srv := startES(t, t.TempDir(), elasticPW)
	auth := srv.URL + "/_security/_authenticate"

	// kibana_system is reserved: it exists but cannot log in before its password is set.
	expectStatus(t, call(t, "GET", auth, "kibana_system", "kibana-Pa55word", ""), 401, "kibana_system before setup")
	expectStatus(t, call(t, "GET", auth, "logstash_writer", "writer-Pa55word", ""), 401, "logstash_writer before setup")
	setupUsers(t, srv.URL, "kibana-Pa55word", "writer-Pa55word", "reader-Pa55word")

	r := call(t, "GET", auth, "kibana_system", "kibana-Pa55word", "")
	expectStatus(t, r, 200, "kibana_system after setup")
	if r.json["username"] != "kibana_system" || dig(r.json, "authentication_realm", "type") != "reserved" {
		t.Errorf("_authenticate = %s", r)
	}
	r = call(t, "GET", auth, "logstash_writer", "writer-Pa55word", "")
	expectStatus(t, r, 200, "logstash_writer")
	if dig(r.json, "roles", 0) != "logstash_writer" || dig(r.json, "authentication_realm", "type") != "native" {
		t.Errorf("_authenticate = %s", r)
	}
	expectStatus(t, call(t, "GET", auth, "kibana_system", "WRONG-password", ""), 401, "kibana_system wrong password")
	expectStatus(t, call(t, "GET", auth, "logstash_writer", "WRONG-password", ""), 401, "logstash_writer wrong password")
	expectStatus(t, call(t, "GET", auth, "someone", "writer-Pa55word", ""), 401, "unknown user")

	// Running the setup again (as the setup container does on every re-creation) is fine.
	setupUsers(t, srv.URL, "kibana-Pa55word-2", "writer-Pa55word-2", "reader-Pa55word-2")
	expectStatus(t, call(t, "GET", auth, "logstash_writer", "writer-Pa55word", ""), 401, "old writer password after rotation")
	expectStatus(t, call(t, "GET", auth, "logstash_writer", "writer-Pa55word-2", ""), 200, "rotated writer password")

	// Reserved names and typos are refused as upstream does.
	r = call(t, "PUT", srv.URL+"/_security/user/kibana_system", "elastic", elasticPW, `{"password":"kibana-Pa55word","roles":["superuser"]}`)
	expectStatus(t, r, 400, "PUT reserved user")
	r = call(t, "PUT", srv.URL+"/_security/role/superuser", "elastic", elasticPW, `{"cluster":["all"]}`)
	expectStatus(t, r, 400, "PUT reserved role")
	r = call(t, "PUT", srv.URL+"/_security/role/typo", "elastic", elasticPW, `{"cluster":["monitr"]}`)
	expectStatus(t, r, 400, "unknown cluster privilege")
	if !strings.Contains(r.String(), "unknown cluster privilege [monitr]") {
		t.Errorf("reason: %s", r)
	}
	r = call(t, "PUT", srv.URL+"/_security/role/typo", "elastic", elasticPW, `{"indices":[{"names":["x-*"],"privileges":["wrte"]}]}`)
	expectStatus(t, r, 400, "unknown index privilege")
	r = call(t, "PUT", srv.URL+"/_security/user/new", "elastic", elasticPW, `{"password":"short","roles":[]}`)
	expectStatus(t, r, 400, "short password")
	r = call(t, "PUT", srv.URL+"/_security/user/new", "elastic", elasticPW, `{"roles":[]}`)
	expectStatus(t, r, 400, "new user without password")
	r = call(t, "POST", srv.URL+"/_security/user/ghost/_password", "elastic", elasticPW, `{"password":"ghost-Pa55word"}`)
	expectStatus(t, r, 400, "password of a user that does not exist")
	r = call(t, "PUT", srv.URL+"/_security/role/x", "elastic", elasticPW, `{"cluster":["monitor"]}`, "Content-Type", "application/x-www-form-urlencoded")
	expectStatus(t, r, 406, "form-encoded body")

	// Only manage_security may manage security; a user may change its own password.
	r = call(t, "PUT", srv.URL+"/_security/role/evil", "logstash_writer", "writer-Pa55word-2", `{"cluster":["all"]}`)
	expectStatus(t, r, 403, "writer creating a role")
	r = call(t, "POST", srv.URL+"/_security/user/kibana_system/_password", "logstash_writer", "writer-Pa55word-2", `{"password":"hijacked-Pa55word"}`)
	expectStatus(t, r, 403, "writer setting another user's password")
	r = call(t, "POST", srv.URL+"/_security/user/logstash_writer/_password", "logstash_writer", "writer-Pa55word-2", `{"password":"own-Pa55word"}`)
	expectStatus(t, r, 200, "writer setting its own password")

	r = call(t, "GET", srv.URL+"/_security/user/grafana_reader", "elastic", elasticPW, "")
	expectStatus(t, r, 200, "GET user")
	if dig(r.json, "grafana_reader", "roles", 0) != "grafana_reader" {
		t.Errorf("GET user = %s", r)
	}
	r = call(t, "GET", srv.URL+"/_security/role/logstash_writer", "elastic", elasticPW, "")
	if dig(r.json, "logstash_writer", "indices", 0, "names", 0) != "protocol-logs-*" {
		t.Errorf("GET role = %s", r)
	}
}

func TestElasticsearchIndexPrivilegesOfRoles(t *testing.T) {
	_, srv := startES(t, t.TempDir(), elasticPW)
	setupUsers(t, srv.URL, "kibana-Pa55word", "writer-Pa55word", "reader-Pa55word")
	const w, wpw, rd, rpw = "logstash_writer", "writer-Pa55word", "grafana_reader", "reader-Pa55word"

	r := call(t, "POST", srv.URL+"/protocol-logs-2024.01.02/_doc", w, wpw, `{"message":"inside"}`)
	expectStatus(t, r, 201, "writer indexing into protocol-logs-*")
	if r.json["result"] != "created" || r.json["_index"] != "protocol-logs-2024.01.02" {
		t.Errorf("index response %s", r)
	}
	r = call(t, "POST", srv.URL+"/other-logs/_doc", w, wpw, `{"message":"outside"}`)
	expectStatus(t, r, 403, "writer indexing outside its role")
	if !strings.Contains(r.String(), "is unauthorized for user [logstash_writer]") {
		t.Errorf("403 reason: %s", r)
	}
	r = call(t, "POST", srv.URL+"/_bulk", w, wpw, "{\"index\":{\"_index\":\"other-logs\"}}\n{\"a\":1}\n{\"index\":{\"_index\":\"protocol-logs-2024.01.02\"}}\n{\"a\":2}\n",
		"Content-Type", "application/x-ndjson")
	expectStatus(t, r, 200, "bulk")
	if r.json["errors"] != true || dig(r.json, "items", 0, "index", "status") != 403.0 || dig(r.json, "items", 1, "index", "status") != 201.0 {
		t.Errorf("bulk items: %s", r)
	}
	expectStatus(t, call(t, "POST", srv.URL+"/protocol-logs-x/_doc", rd, rpw, `{"a":1}`), 403, "reader writing")

	// A role with write but without create_index cannot create a new index.
	call(t, "PUT", srv.URL+"/_security/role/appender", "elastic", elasticPW, `{"indices":[{"names":["protocol-logs-*"],"privileges":["write"]}]}`)
	call(t, "PUT", srv.URL+"/_security/user/appender", "elastic", elasticPW, `{"password":"appender-Pa55word","roles":["appender"]}`)
	expectStatus(t, call(t, "POST", srv.URL+"/protocol-logs-new/_doc", "appender", "appender-Pa55word", `{"a":1}`), 403, "write without create_index, new index")
	expectStatus(t, call(t, "POST", srv.URL+"/protocol-logs-2024.01.02/_doc", "appender", "appender-Pa55word", `{"a":1}`), 201, "write, existing index")

	// Reading: the reader sees protocol-logs-*, nothing else; the writer reads nothing.
	expectStatus(t, call(t, "POST", srv.URL+"/elastic-only/_doc", "elastic", elasticPW, `{"secret":true}`), 201, "superuser anywhere")
	r = call(t, "GET", srv.URL+"/protocol-logs-*/_count", rd, rpw, "")
	expectStatus(t, r, 200, "reader counting protocol-logs-*")
	if r.json["count"] != 3.0 {
		t.Errorf("reader count = %s", r)
	}
	expectStatus(t, call(t, "GET", srv.URL+"/elastic-only/_search", rd, rpw, ""), 403, "reader searching another index")
	r = call(t, "GET", srv.URL+"/*/_count", rd, rpw, "")
	if r.json["count"] != 3.0 {
		t.Errorf("reader's wildcard must expand to its indices only: %s", r)
	}
	expectStatus(t, call(t, "GET", srv.URL+"/protocol-logs-2024.01.02/_search", w, wpw, ""), 403, "writer reading")
	r = call(t, "GET", srv.URL+"/_count", "elastic", elasticPW, "")
	if r.json["count"] != 4.0 {
		t.Errorf("superuser count = %s", r)
	}
}

func TestElasticsearchDocumentsAndSearch(t *testing.T) {
	dir := t.TempDir()
	_, srv := startES(t, dir, elasticPW)
	post := func(path, body string, headers ...string) resp {
		return call(t, "POST", srv.URL+path, "elastic", elasticPW, body, headers...)
	}
	expectStatus(t, post("/logs-a/_doc", `{"message":"Hello World","level":"info","code":200,"@timestamp":"2024-01-01T00:00:00.000Z"}`), 201, "_doc")
	var bulk bytes.Buffer
	gz := gzip.NewWriter(&bulk)
	gz.Write([]byte(`{"index":{"_index":"logs-a"}}
{"message":"goodbye world","level":"error","code":500,"service":{"name":"registry"}}
{"create":{"_index":"logs-b","_id":"fixed"}}
{"message":"other index","level":"info"}
`))
	gz.Close()
	r := post("/_bulk", bulk.String(), "Content-Encoding", "gzip", "Content-Type", "application/json")
	expectStatus(t, r, 200, "gzip bulk")
	if r.json["errors"] != false || len(r.json["items"].([]any)) != 2 {
		t.Fatalf("bulk: %s", r)
	}
	expectStatus(t, post("/logs-b/_create/fixed", `{"a":1}`), 409, "create an existing id")
	expectStatus(t, post("/Logs-C/_doc", `{"a":1}`), 400, "uppercase index name")
	expectStatus(t, post("/logs-c/_doc", `[1,2]`), 400, "document not an object")
	expectStatus(t, post("/_bulk", "{\"index\":{\"_index\":\"x\"}}\n{}\n", "Content-Type", "text/plain"), 406, "bulk as text/plain")

	count := func(path, body string) float64 {
		t.Helper()
		r := call(t, "POST", srv.URL+path, "elastic", elasticPW, body)
		expectStatus(t, r, 200, path+" "+body)
		c, _ := r.json["count"].(float64)
		if strings.Contains(path, "_search") {
			c, _ = dig(r.json, "hits", "total", "value").(float64)
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

	r = call(t, "GET", srv.URL+"/logs-*/_search?q=level:info&size=1", "elastic", elasticPW, "")
	hits := dig(r.json, "hits", "hits").([]any)
	if len(hits) != 1 || dig(r.json, "hits", "total", "value") != 2.0 || dig(hits[0], "_source", "level") != "info" || dig(hits[0], "_index") == nil {
		t.Errorf("size=1: %s", r)
	}
	r = call(t, "GET", srv.URL+"/missing/_search", "elastic", elasticPW, "")
	expectStatus(t, r, 404, "search of a missing index")
	if dig(r.json, "error", "type") != "index_not_found_exception" {
		t.Errorf("404 body %s", r)
	}
	r = call(t, "POST", srv.URL+"/logs-*/_search", "elastic", elasticPW, `{"query":{"wildcard":{"a":"b*"}}}`)
	expectStatus(t, r, 400, "unknown query")
	r = call(t, "GET", srv.URL+"/logs-b/_doc/fixed", "elastic", elasticPW, "")
	expectStatus(t, r, 200, "GET by id")
	if dig(r.json, "_source", "message") != "other index" {
		t.Errorf("GET by id = %s", r)
	}

	// Documents survive a restart.
	srv.Close()
	_, srv2 := startES(t, dir, elasticPW)
	r = call(t, "GET", srv2.URL+"/logs-*/_count", "elastic", elasticPW, "")
	if r.json["count"] != 3.0 {
		t.Errorf("count after restart = %s", r)
	}
}

func TestElasticsearchRefusesSecurityOff(t *testing.T) {
	_, err := newElasticsearch(envMap{"path.data": t.TempDir(), "xpack.security.enabled": "false"}.get)
	if err == nil || !strings.Contains(err.Error(), "security on only") {
		t.Fatalf("err = %v", err)
	}
}

// What prometheus-community/elasticsearch_exporter reads, as the monitor-only user the setup job
// creates: / (cluster info, a semantic version), cluster health and this node's stats; no index.
func TestElasticsearchMonitorUserReadsHealthAndNodeStatsOnly(t *testing.T) {
	dir := t.TempDir()
	es, err := newElasticsearch(envMap{"path.data": dir, "ELASTIC_PASSWORD": elasticPW, "cluster.name": "dev-logs", "ES_JAVA_OPTS": "-Xms128m -Xmx128m"}.get)
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, es)
	for _, s := range []struct {
		method, path, body string
		status             int
	}{
		{"PUT", "/_security/role/prometheus_monitor", `{"cluster":["monitor"]}`, 200},
		{"PUT", "/_security/user/prometheus_monitor", `{"password":"monitor-Pa55word","roles":["prometheus_monitor"]}`, 200},
		{"PUT", "/protocol-logs-x/_doc/1", `{"message":"secret"}`, 201},
	} {
		expectStatus(t, call(t, s.method, srv+s.path, "elastic", elasticPW, s.body), s.status, s.method+" "+s.path)
	}
	expectStatus(t, call(t, "GET", srv+"/_nodes/_local/stats", "", "", ""), 401, "node stats without credentials")

	r := call(t, "GET", srv+"/", "prometheus_monitor", "monitor-Pa55word", "")
	expectStatus(t, r, 200, "GET / as prometheus_monitor")
	if v, _ := dig(r.json, "version", "number").(string); !regexp.MustCompile(`^\d+\.\d+\.\d+`).MatchString(v) {
		t.Errorf("version.number %q is not a semantic version", v)
	}
	r = call(t, "GET", srv+"/_cluster/health", "prometheus_monitor", "monitor-Pa55word", "")
	expectStatus(t, r, 200, "cluster health as prometheus_monitor")
	if r.json["cluster_name"] != "dev-logs" || r.json["status"] != "green" {
		t.Errorf("cluster health %s", r)
	}
	for _, path := range []string{"/_nodes/_local/stats", "/_nodes/stats"} {
		r = call(t, "GET", srv+path, "prometheus_monitor", "monitor-Pa55word", "")
		expectStatus(t, r, 200, path+" as prometheus_monitor")
		node := dig(r.json, "nodes", esNodeID)
		if r.json["cluster_name"] != "dev-logs" || node == nil {
			t.Fatalf("%s: %s", path, r)
		}
		if got := dig(node, "jvm", "mem", "heap_max_in_bytes"); got != float64(128<<20) {
			t.Errorf("%s: heap_max_in_bytes %v, want -Xmx 128m", path, got)
		}
		if used, _ := dig(node, "jvm", "mem", "heap_used_in_bytes").(float64); used <= 0 {
			t.Errorf("%s: heap_used_in_bytes %v", path, used)
		}
		data := dig(node, "fs", "data", 0)
		total, _ := dig(data, "total_in_bytes").(float64)
		avail, _ := dig(data, "available_in_bytes").(float64)
		if dig(data, "path") != dir || total <= 0 || avail <= 0 || avail > total {
			t.Errorf("%s: fs.data %v", path, data)
		}
	}
	r = call(t, "GET", srv+"/_nodes/another-node/stats", "prometheus_monitor", "monitor-Pa55word", "")
	if nodes, _ := r.json["nodes"].(map[string]any); r.status != 200 || len(nodes) != 0 {
		t.Errorf("stats of a node that is not this one: %s", r)
	}
	// The monitor privilege reads no document.
	expectStatus(t, call(t, "GET", srv+"/protocol-logs-x/_search", "prometheus_monitor", "monitor-Pa55word", ""), 403, "search as prometheus_monitor")
	expectStatus(t, call(t, "GET", srv+"/_nodes/_local/stats", "prometheus_monitor", "WRONG-Pa55word", ""), 401, "wrong password")
}

// The image's entrypoint refuses an ELASTIC_PASSWORD_FILE that others may read; so does the stand-in.
func TestElasticsearchPasswordFileMustBePrivate(t *testing.T) {
	file := filepath.Join(t.TempDir(), "elastic_password")
	if err := os.WriteFile(file, []byte("file-Pa55word"), 0o444); err != nil {
		t.Fatal(err)
	}
	env := envMap{"path.data": t.TempDir(), "ELASTIC_PASSWORD_FILE": file}
	if _, err := newElasticsearch(env.get); err == nil || !strings.Contains(err.Error(), "must have file permissions 400 or 600, but actually has: 444") {
		t.Fatalf("a world-readable password file: %v", err)
	}
	if err := os.Chmod(file, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := newElasticsearch(env.get); err != nil {
		t.Fatalf("a private password file: %v", err)
	}
}
