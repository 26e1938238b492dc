// Package standintest is what the stand-in's tests share: an Elasticsearch
// to talk to, requests and their answers, a PKI, the repository's files. It is
// imported by tests only (dot-imported, so that they read as before the roles
// became packages), never by the stand-in itself.
package standintest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"protocol-monitoring/standin/elasticsearch"
	"protocol-monitoring/standin/internal/shared"
	"regexp"
	"strings"
	"testing"
	"time"
)

type EnvMap map[string]string

// Get reads one variable, as shared.Env does.
func (m EnvMap) Get(k string) string { return m[k] }

const ElasticPW = "elastic-Pa55word"

// StartES runs the Elasticsearch stand-in on dataDir with ELASTIC_PASSWORD.
func StartES(t *testing.T, dataDir, password string) (*elasticsearch.Server, *httptest.Server) {
	t.Helper()
	es, err := elasticsearch.New(EnvMap{"path.data": dataDir, "ELASTIC_PASSWORD": password}.Get)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(es)
	t.Cleanup(func() {
		srv.Close()
		es.Close()
	})
	return es, srv
}

type Resp struct {
	Status int
	Header http.Header
	Body   []byte
	JSON   map[string]any
}

// Call does one request; user "" sends no Authorization header.
func Call(t *testing.T, method, url, user, password, body string, headers ...string) Resp {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	out := Resp{Status: r.StatusCode, Header: r.Header, Body: b}
	_ = json.Unmarshal(b, &out.JSON)
	return out
}

func (r Resp) String() string { return string(bytes.TrimSpace(r.Body)) }

func ExpectStatus(t *testing.T, r Resp, want int, what string) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("%s: status %d, want %d: %s", what, r.Status, want, r)
	}
}

// Dig walks a decoded JSON value: Dig(v, "hits", "hits", 0, "_source").
func Dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

// SetupUsers does what stacks/services/elasticsearch/setup.sh does, through the API.
func SetupUsers(t *testing.T, base string, kibanaPW, writerPW, readerPW string) {
	t.Helper()
	steps := []struct{ method, path, body string }{
		{"POST", "/_security/user/kibana_system/_password", `{"password":"` + kibanaPW + `"}`},
		{"PUT", "/_security/role/logstash_writer", `{"cluster":["monitor","manage_index_templates","manage_ilm"],"indices":[{"names":["protocol-logs-*"],"privileges":["write","create","create_index","manage","manage_ilm"]}]}`},
		{"PUT", "/_security/user/logstash_writer", `{"password":"` + writerPW + `","roles":["logstash_writer"]}`},
		{"PUT", "/_security/role/grafana_reader", `{"cluster":["monitor"],"indices":[{"names":["protocol-logs-*"],"privileges":["read","view_index_metadata"]}]}`},
		{"PUT", "/_security/user/grafana_reader", `{"password":"` + readerPW + `","roles":["grafana_reader"]}`},
	}
	for _, s := range steps {
		r := Call(t, s.method, base+s.path, "elastic", ElasticPW, s.body)
		ExpectStatus(t, r, 200, s.method+" "+s.path)
	}
}

// Eventually retries f until it returns "" or the time is up.
func Eventually(t *testing.T, d time.Duration, f func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		msg := f()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(msg)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Context is a context that ends with the test.
func Context(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return ctx
}

func WriteFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// Repo is a path in the repository (testing/standin, the module, is two
// levels down; a test runs in its package's folder, at any depth below).
func Repo(parts ...string) string {
	dir, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			panic("standintest: no go.mod above " + dir)
		}
		dir = parent
	}
	return filepath.Join(append([]string{dir, "..", ".."}, parts...)...)
}

// Main runs a package's tests with the roles' log discarded (STANDIN_TEST_LOG
// set: on stderr).
func Main(m *testing.M) {
	shared.Logger.SetOutput(io.Discard)
	if os.Getenv("STANDIN_TEST_LOG") != "" {
		shared.Logger.SetOutput(os.Stderr)
	}
	os.Exit(m.Run())
}

// PipelineEnv writes a Logstash pipeline into a folder of its own and returns
// env with PATH_CONFIG pointing there.
func PipelineEnv(t *testing.T, pipeline string, env EnvMap) EnvMap {
	t.Helper()
	dir := t.TempDir()
	WriteFile(t, filepath.Join(dir, "logstash.conf"), pipeline)
	e := EnvMap{"PATH_CONFIG": dir}
	for k, v := range env {
		e[k] = v
	}
	return e
}

func ReadRepoFile(t *testing.T, parts ...string) string {
	t.Helper()
	b, err := os.ReadFile(Repo(parts...))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// PKI is an environment's CA as the stack makes it: a server certificate
// for 127.0.0.1 and a client certificate, plus a client certificate of
// another CA, in PEM files.
type PKI struct{ CA, ServerCert, ServerKey, ClientCert, ClientKey, ForeignCert, ForeignKey string }

func NewPKI(t *testing.T) PKI {
	t.Helper()
	dir := t.TempDir()
	write := func(name, kind string, der []byte) string {
		return WriteFile(t, filepath.Join(dir, name), string(pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der})))
	}
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	serial := int64(1)
	sign := func(tpl, parent *x509.Certificate, key *ecdsa.PrivateKey, parentKey *ecdsa.PrivateKey) (*x509.Certificate, []byte) {
		serial++
		tpl.SerialNumber, tpl.NotBefore, tpl.NotAfter = big.NewInt(serial), time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
		if parent == nil {
			parent, parentKey = tpl, key
		}
		der, err := x509.CreateCertificate(rand.Reader, tpl, parent, &key.PublicKey, parentKey)
		if err != nil {
			t.Fatal(err)
		}
		cert, _ := x509.ParseCertificate(der)
		return cert, der
	}
	keyDER := func(k *ecdsa.PrivateKey) []byte {
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	authority := func(name string) (*x509.Certificate, *ecdsa.PrivateKey, []byte) {
		k := newKey()
		c, der := sign(&x509.Certificate{Subject: pkix.Name{CommonName: name}, IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}, nil, k, nil)
		return c, k, der
	}
	ca, caKey, caDER := authority("test CA")
	foreignCA, foreignKey, _ := authority("another CA")
	leaf := func(parent *x509.Certificate, parentKey *ecdsa.PrivateKey, use x509.ExtKeyUsage) ([]byte, *ecdsa.PrivateKey) {
		k := newKey()
		tpl := &x509.Certificate{Subject: pkix.Name{CommonName: "leaf"}, ExtKeyUsage: []x509.ExtKeyUsage{use}, KeyUsage: x509.KeyUsageDigitalSignature}
		if use == x509.ExtKeyUsageServerAuth {
			tpl.IPAddresses, tpl.DNSNames = []net.IP{net.ParseIP("127.0.0.1")}, []string{"localhost"}
		}
		_, der := sign(tpl, parent, k, parentKey)
		return der, k
	}
	serverDER, serverKey := leaf(ca, caKey, x509.ExtKeyUsageServerAuth)
	clientDER, clientKey := leaf(ca, caKey, x509.ExtKeyUsageClientAuth)
	foreignDER, foreignClientKey := leaf(foreignCA, foreignKey, x509.ExtKeyUsageClientAuth)
	return PKI{
		CA:          write("ca.crt", "CERTIFICATE", caDER),
		ServerCert:  write("tls.crt", "CERTIFICATE", serverDER),
		ServerKey:   write("tls.key", "EC PRIVATE KEY", keyDER(serverKey)),
		ClientCert:  write("client.crt", "CERTIFICATE", clientDER),
		ClientKey:   write("client.key", "EC PRIVATE KEY", keyDER(clientKey)),
		ForeignCert: write("foreign.crt", "CERTIFICATE", foreignDER),
		ForeignKey:  write("foreign.key", "EC PRIVATE KEY", keyDER(foreignClientKey)),
	}
}

// ServeRole serves a role's handler as the stand-in's serve() does: through shared.Listen(), TLS when env says so.
func ServeRole(t *testing.T, handler http.Handler, settings shared.TLSSettings, env EnvMap) string {
	t.Helper()
	ln, scheme, err := shared.Listen("127.0.0.1:0", settings, env.Get)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: handler, ErrorLog: shared.Logger}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return scheme + "://" + ln.Addr().String()
}

func (p PKI) Client(t *testing.T) *http.Client {
	pool, err := shared.CAPool([]string{p.CA})
	if err != nil {
		t.Fatal(err)
	}
	return shared.ClientTrusting(pool, 5*time.Second)
}

// Fetch does one GET through client; user "" sends no Authorization header.
func Fetch(t *testing.T, client *http.Client, url, user, password string) (int, string, error) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	r, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer r.Body.Close()
	body, _ := io.ReadAll(r.Body)
	return r.StatusCode, string(body), nil
}

func ESTLSEnv(p PKI) EnvMap {
	return EnvMap{"xpack.security.http.ssl.enabled": "true", "xpack.security.http.ssl.certificate": p.ServerCert, "xpack.security.http.ssl.key": p.ServerKey}
}

// SetupUsersWith does what SetupUsers does, through a client of its own (HTTPS).
func SetupUsersWith(t *testing.T, client *http.Client, base string) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/_security/user/kibana_system/_password", strings.NewReader(`{"password":"kibana-Pa55word"}`))
	req.SetBasicAuth("elastic", ElasticPW)
	req.Header.Set("Content-Type", "application/json")
	r, err := client.Do(req)
	if err != nil || r.StatusCode != 200 {
		t.Fatalf("kibana_system password: %v %v", r, err)
	}
	r.Body.Close()
}

// ShippedPipeline is stacks/services/logstash/pipeline.conf pointed at a test
// Elasticsearch, its inputs on ephemeral ports.
func ShippedPipeline(t *testing.T, esURL string) string {
	t.Helper()
	p := ReadRepoFile(t, "stacks", "services", "logstash", "pipeline.conf")
	if !strings.Contains(p, "http://elasticsearch:9200") {
		t.Fatal("pipeline.conf no longer names http://elasticsearch:9200: update this test")
	}
	p = strings.ReplaceAll(p, "http://elasticsearch:9200", esURL)
	return regexp.MustCompile(`port => \d+`).ReplaceAllString(p, "port => 0")
}

func LocalAddr(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	return net.JoinHostPort("127.0.0.1", port)
}

// WaitForHits waits for n hits of q (as the reader) and returns the first one's _index and _source.
func WaitForHits(t *testing.T, esURL, q string, n int) (string, map[string]any) {
	t.Helper()
	var hit any
	Eventually(t, 10*time.Second, func() string {
		r := Call(t, "GET", esURL+"/protocol-logs-*/_search?"+q, "grafana_reader", "reader-Pa55word", "")
		if total := Dig(r.JSON, "hits", "total", "value"); total != float64(n) {
			return fmt.Sprintf("%s: %v hits, want %d: %s", q, total, n, r)
		}
		hit = Dig(r.JSON, "hits", "hits", 0)
		return ""
	})
	src, _ := Dig(hit, "_source").(map[string]any)
	index, _ := Dig(hit, "_index").(string)
	return index, src
}

func StartServer(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// GrafanaDatasources and GrafanaProvider: the provisioning files as stacks/services/grafana writes them for an
// environment with Elasticsearch (the stack test checks the real ones).
const GrafanaDatasources = `apiVersion: 1
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

const GrafanaProvider = `apiVersion: 1
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
