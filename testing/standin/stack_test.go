package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"protocol-monitoring/standin/elasticsearch"
	"protocol-monitoring/standin/grafana"
	"protocol-monitoring/standin/internal/shared"
	. "protocol-monitoring/standin/internal/standintest"
	"protocol-monitoring/standin/kibana"
	"protocol-monitoring/standin/logstash"
)

// stackContainer is one container of a synthesized stack: its environment
// (Terraform references such as ${var.elastic_password} unresolved) and
// the files uploaded into it.
type stackContainer struct {
	Env   map[string]string `json:"env"`
	Files map[string]string `json:"files"`
}

type stackFiles struct {
	Containers map[string]stackContainer `json:"containers"`
}

// loadStack reads the synthesized dev stack that the jest unit test writes
// (STANDIN_STACK), or, for a plain `go test`, assembles the same from the
// repository's files and what stacks/services/<name>/ sets.
func loadStack(t *testing.T) stackFiles {
	t.Helper()
	if f := os.Getenv("STANDIN_STACK"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var s stackFiles
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	const esSecrets = "/usr/share/elasticsearch/config/secrets"
	dashboards := map[string]string{
		"/etc/grafana/secrets/admin_password":         "${var.grafana_admin_password}",
		"/etc/grafana/secrets/elasticsearch_password": "${var.grafana_es_password}",
		"/etc/grafana/provisioning/datasources/datasources.yml": strings.NewReplacer("ES_URL", "http://elasticsearch:9200",
			"$__env{GRAFANA_ES_PASSWORD}", "$__file{/etc/grafana/secrets/elasticsearch_password}").Replace(GrafanaDatasources),
		"/etc/grafana/provisioning/dashboards/provider.yml": strings.ReplaceAll(GrafanaProvider, "DASHBOARDS", "/etc/grafana/dashboards"),
	}
	files, _ := filepath.Glob(Repo("stacks", "services", "grafana", "dashboards", "*.json"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		dashboards["/etc/grafana/dashboards/"+filepath.Base(f)] = string(b)
	}
	return stackFiles{Containers: map[string]stackContainer{
		"elasticsearch": {Env: map[string]string{"ELASTIC_PASSWORD": "${var.elastic_password}", "xpack.security.enabled": "true", "cluster.name": "dev-logs"}},
		"elasticsearch-setup": {
			Env: map[string]string{"ES_URL": "http://elasticsearch:9200", "SECRETS_DIR": esSecrets, "MONITOR_USER": "prometheus_monitor"},
			Files: map[string]string{"/usr/local/bin/es-setup.sh": ReadRepoFile(t, "stacks", "services", "elasticsearch", "setup.sh"),
				esSecrets + "/elastic_password": "${var.elastic_password}", esSecrets + "/kibana_system_password": "${var.kibana_system_password}",
				esSecrets + "/logstash_writer_password": "${var.logstash_writer_password}", esSecrets + "/grafana_es_password": "${var.grafana_es_password}",
				esSecrets + "/elasticsearch_monitor_password": "${var.elasticsearch_monitor_password}"},
		},
		"elasticsearch-exporter": {Env: map[string]string{"ES_USERNAME": "prometheus_monitor", "ES_PASSWORD": "${var.elasticsearch_monitor_password}"}},
		"kibana": {Env: map[string]string{"ELASTICSEARCH_HOSTS": "http://elasticsearch:9200", "ELASTICSEARCH_USERNAME": "kibana_system",
			"ELASTICSEARCH_PASSWORD": "${var.kibana_system_password}", "XPACK_SECURITY_ENCRYPTIONKEY": `${sha256("security:${var.kibana_encryption_key}")}`}},
		"logstash": {Env: map[string]string{"LOGSTASH_WRITER_PASSWORD": "${var.logstash_writer_password}"},
			Files: map[string]string{"/usr/share/logstash/pipeline/logstash.conf": ReadRepoFile(t, "stacks", "services", "logstash", "pipeline.conf")}},
		"grafana": {Env: map[string]string{"GF_SECURITY_ADMIN_USER": "admin", "GF_SECURITY_ADMIN_PASSWORD__FILE": "/etc/grafana/secrets/admin_password"}, Files: dashboards},
	}}
}

var (
	tfVar    = regexp.MustCompile(`\$\{var\.([a-z0-9_]+)\}`)
	tfSha256 = regexp.MustCompile(`^\$\{sha256\("(.*)"\)\}$`)
)

// resolve gives each Terraform variable a test value, as `apply` would, and
// points the service names at the test servers.
func resolve(t *testing.T, v string, hosts map[string]string) string {
	t.Helper()
	if m := tfSha256.FindStringSubmatch(v); m != nil {
		sum := sha256.Sum256([]byte(resolve(t, m[1], hosts)))
		return hex.EncodeToString(sum[:])
	}
	v = tfVar.ReplaceAllString(v, "test-$1-Pa55")
	if strings.Contains(v, "${") {
		t.Fatalf("unresolved Terraform interpolation in %q", v)
	}
	for from, to := range hosts {
		v = strings.ReplaceAll(v, from, to)
	}
	return v
}

func (c stackContainer) env(t *testing.T, hosts map[string]string) EnvMap {
	e := EnvMap{}
	for k, v := range c.Env {
		e[k] = resolve(t, v, hosts)
	}
	return e
}

// rooted writes the container's uploaded files under a temp dir, as apply
// uploads them (Terraform variables given their test values, service names
// pointed at the test servers), and returns that dir and the container's
// environment with each path into the uploads (a file, or a folder of them:
// ELASTIC_PASSWORD_FILE, SECRETS_DIR, GF_..._PASSWORD__FILE) moved there too.
func (c stackContainer) rooted(t *testing.T, hosts map[string]string) (string, EnvMap) {
	t.Helper()
	root := t.TempDir()
	for path, content := range c.Files {
		content = resolveFileHosts(tfVar.ReplaceAllString(content, "test-$1-Pa55"), hosts)
		content = strings.ReplaceAll(content, "$__file{/", "$__file{"+root+"/")
		WriteFile(t, filepath.Join(root, path), content)
	}
	env := c.env(t, hosts)
	for k, v := range env {
		for path := range c.Files {
			if strings.HasPrefix(v, "/") && (path == v || strings.HasPrefix(path, v+"/")) {
				env[k] = filepath.Join(root, v)
				break
			}
		}
	}
	return root, env
}

// TestStackWiring runs what the stack runs, wired as the stack wires it:
// Elasticsearch, the setup script (through the stand-in's curl), then
// Kibana, Logstash and Grafana with their own environment and files. A
// mismatched secret, user, index pattern or datasource fails here.
func TestStackWiring(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	stack := loadStack(t)
	need := func(name string) stackContainer {
		c, ok := stack.Containers[name]
		if !ok {
			t.Fatalf("the stack has no %s container", name)
		}
		return c
	}

	// Elasticsearch with its environment and files.
	_, esEnv := need("elasticsearch").rooted(t, nil)
	esEnv["path.data"] = t.TempDir()
	es, err := elasticsearch.New(esEnv.Get)
	if err != nil {
		t.Fatal(err)
	}
	esSrv := StartServer(t, es)
	hosts := map[string]string{"http://elasticsearch:9200": esSrv, "http://prometheus:9090": "http://127.0.0.1:1"}

	// The setup script, verbatim but for where it leaves its done marker.
	setup := need("elasticsearch-setup")
	var script string
	for path, content := range setup.Files {
		if strings.HasSuffix(path, ".sh") {
			script = content
		}
	}
	dir := t.TempDir()
	done := filepath.Join(dir, "es-setup.done")
	if !strings.Contains(script, "/tmp/es-setup.done") {
		t.Fatal("the setup script no longer writes /tmp/es-setup.done: update this test")
	}
	WriteFile(t, filepath.Join(dir, "setup.sh"), strings.ReplaceAll(script, "/tmp/es-setup.done", done))
	_, setupEnv := setup.rooted(t, hosts)
	runSetup(t, dir, done, setupEnv)

	// The Elasticsearch exporter reads what it reads with the login the stack gives it, and no index.
	exporter := need("elasticsearch-exporter").env(t, hosts)
	for _, path := range []string{"/", "/_cluster/health", "/_nodes/_local/stats"} {
		ExpectStatus(t, Call(t, "GET", esSrv+path, exporter["ES_USERNAME"], exporter["ES_PASSWORD"], ""), 200, "the Elasticsearch exporter's "+path)
	}

	// Kibana logs in as the stack configures it.
	kenv := need("kibana").env(t, hosts)
	k, err := kibana.New(kenv.Get)
	if err != nil {
		t.Fatal(err)
	}
	kSrv := StartServer(t, k)
	r := Call(t, "GET", kSrv+"/api/status", "", "", "")
	if r.Status != 200 || Dig(r.JSON, "status", "overall", "level") != "available" {
		t.Errorf("Kibana: %s", r)
	}

	// Logstash runs the uploaded pipeline and ships a JSON line and a GELF message.
	ls := need("logstash")
	var pipeline string
	for path, content := range ls.Files {
		if strings.HasPrefix(path, "/usr/share/logstash/pipeline/") {
			pipeline = content
		}
	}
	pipeline = regexp.MustCompile(`port => \d+`).ReplaceAllString(resolveFileHosts(pipeline, hosts), "port => 0")
	l, err := logstash.New(PipelineEnv(t, pipeline, ls.env(t, hosts)).Get)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Start(Context(t)); err != nil {
		t.Fatal(err)
	}
	lSrv := StartServer(t, l)
	ExpectStatus(t, Call(t, "GET", lSrv+"/", "", "", ""), 200, "Logstash API")
	c, err := net.Dial("tcp", LocalAddr(l.InputAddr("tcp")))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(c, `{"message":"jsonline wired","timestamp":"2024-02-03T04:05:06Z"}`)
	c.Close()
	if addr := l.InputAddr("gelf"); addr == "" {
		t.Error("the pipeline has no gelf input")
	} else if u, err := net.Dial("udp", LocalAddr(addr)); err == nil {
		u.Write([]byte(`{"version":"1.1","host":"h","short_message":"gelfline wired","timestamp":1706933106}`))
		// A service's structlog line, as Docker's gelf log driver sends it.
		u.Write([]byte(`{"version":"1.1","host":"h","short_message":` + strconv.Quote(structlogLine) +
			`,"timestamp":1706933107.5,"level":6,"_container_name":"dev-registry-a"}`))
		u.Close()
	}

	// Grafana: the uploaded provisioning files and secrets, rooted in a temp dir.
	gf := need("grafana")
	root, genv := gf.rooted(t, hosts)
	for path := range gf.Files {
		if strings.HasSuffix(path, ".yml") || strings.HasSuffix(path, ".yaml") {
			file := filepath.Join(root, path)
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			WriteFile(t, file, regexp.MustCompile(`(?m)^(\s*path:\s*)/`).ReplaceAllString(string(b), "${1}"+root+"/"))
		}
	}
	genv["GF_PATHS_PROVISIONING"] = filepath.Join(root, "etc/grafana/provisioning")
	genv["GF_PATHS_DATA"] = t.TempDir()
	g, err := grafana.New(genv.Get)
	if err != nil {
		t.Fatal(err)
	}
	gSrv := StartServer(t, g)
	r = Call(t, "GET", gSrv+"/api/health", "", "", "")
	ExpectStatus(t, r, 200, "Grafana health")
	adminPW, err := shared.EnvFile(genv.Get, "GF_SECURITY_ADMIN_PASSWORD", "GF_SECURITY_ADMIN_PASSWORD__FILE")
	if err != nil || adminPW == "" {
		t.Fatalf("Grafana's admin password: %q, %v", adminPW, err)
	}
	admin := genv["GF_SECURITY_ADMIN_USER"]
	if admin == "" {
		admin = "admin"
	}
	ExpectStatus(t, Call(t, "GET", gSrv+"/api/search", admin, adminPW, ""), 200, "Grafana API as admin")

	// The logs arrive, readable by Grafana's Elasticsearch datasource.
	for _, q := range []string{"message:jsonline", "message:gelfline"} {
		q := q
		Eventually(t, 10*time.Second, func() string {
			r := Call(t, "GET", gSrv+"/api/datasources/uid/elasticsearch/health", admin, adminPW, "")
			if r.Status != 200 {
				return "Grafana's Elasticsearch datasource: " + r.String()
			}
			r = Call(t, "GET", esSrv+"/protocol-logs-*/_count?q="+q, "grafana_reader", resolve(t, "${var.grafana_es_password}", nil), "")
			if r.JSON["count"] != 1.0 {
				return fmt.Sprintf("%s: %s", q, r)
			}
			return ""
		})
	}
	// The exporter's user reads no log: the index pattern resolves to no index it may read.
	if r := Call(t, "GET", esSrv+"/protocol-logs-*/_count?q=message:jsonline", exporter["ES_USERNAME"], exporter["ES_PASSWORD"], ""); r.Status != 200 || r.JSON["count"] != 0.0 {
		t.Errorf("the Elasticsearch exporter's user counts logs: %s", r)
	}
	// The structlog line's keys are fields, searchable; its timestamp is the event's.
	for _, q := range []string{"service:registry-a", "level:info", "event:ready", "container_name:dev-registry-a"} {
		var hit any
		Eventually(t, 10*time.Second, func() string {
			r := Call(t, "GET", esSrv+"/protocol-logs-*/_search?q="+url.QueryEscape(q), "grafana_reader", resolve(t, "${var.grafana_es_password}", nil), "")
			if Dig(r.JSON, "hits", "total", "value") != 1.0 {
				return fmt.Sprintf("%s: %s", q, r)
			}
			hit = Dig(r.JSON, "hits", "hits", 0)
			return ""
		})
		src, _ := Dig(hit, "_source").(map[string]any)
		if src["service"] != "registry-a" || src["level"] != "info" || src["event"] != "registry ready" ||
			src["@timestamp"] != "2024-02-03T04:05:07.123Z" || src["message"] != structlogLine || Dig(hit, "_index") != "protocol-logs-2024.02.03" {
			t.Errorf("%s: %v", q, hit)
		}
		if _, ok := src["timestamp"]; ok {
			t.Errorf("%s: timestamp is parsed into @timestamp and removed: %v", q, src)
		}
	}
}

const structlogLine = `{"event":"registry ready","level":"info","timestamp":"2024-02-03T04:05:07.123456Z","service":"registry-a","shared.Logger":"registry.app"}`

func resolveFileHosts(content string, hosts map[string]string) string {
	for from, to := range hosts {
		content = strings.ReplaceAll(content, from, to)
	}
	return content
}

// syncBuffer collects a process's output while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// runSetup runs setup.sh with the stand-in as curl until it has written its
// done marker (then it idles, as in its container: stop it).
func runSetup(t *testing.T, dir, done string, env EnvMap) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(self, filepath.Join(bin, "curl")); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", filepath.Join(dir, "setup.sh"))
	cmd.Env = []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) // the script and its sleep
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
	}()
	deadline := time.After(30 * time.Second)
	for {
		if _, err := os.Stat(done); err == nil {
			if !strings.Contains(out.String(), "es-setup: done") {
				t.Errorf("setup output: %s", out.String())
			}
			return
		}
		select {
		case err := <-exited:
			t.Fatalf("setup script exited (%v) before it was done:\n%s", err, out.String())
		case <-deadline:
			t.Fatalf("setup script not done after 30 s:\n%s", out.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
