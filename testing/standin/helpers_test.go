package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary act as curl (when started through a link
// named curl), so the setup script can be run against the stand-in.
func TestMain(m *testing.M) {
	if filepath.Base(os.Args[0]) == "curl" {
		os.Exit(curlMain(os.Args[1:], os.Stdout, os.Stderr))
	}
	logger.SetOutput(io.Discard)
	if os.Getenv("STANDIN_TEST_LOG") != "" {
		logger.SetOutput(os.Stderr)
	}
	os.Exit(m.Run())
}

type envMap map[string]string

func (m envMap) get(k string) string { return m[k] }

const elasticPW = "elastic-Pa55word"

// startES runs the Elasticsearch stand-in on dataDir with ELASTIC_PASSWORD.
func startES(t *testing.T, dataDir, password string) (*esServer, *httptest.Server) {
	t.Helper()
	es, err := newElasticsearch(envMap{"path.data": dataDir, "ELASTIC_PASSWORD": password}.get)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(es)
	t.Cleanup(func() {
		srv.Close()
		es.mu.Lock()
		for _, ix := range es.indices {
			if ix.file != nil {
				ix.file.Close()
			}
		}
		es.mu.Unlock()
	})
	return es, srv
}

type resp struct {
	status int
	header http.Header
	body   []byte
	json   map[string]any
}

// call does one request; user "" sends no Authorization header.
func call(t *testing.T, method, url, user, password, body string, headers ...string) resp {
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
	out := resp{status: r.StatusCode, header: r.Header, body: b}
	_ = json.Unmarshal(b, &out.json)
	return out
}

func (r resp) String() string { return string(bytes.TrimSpace(r.body)) }

func expectStatus(t *testing.T, r resp, want int, what string) {
	t.Helper()
	if r.status != want {
		t.Fatalf("%s: status %d, want %d: %s", what, r.status, want, r)
	}
}

// dig walks a decoded JSON value: dig(v, "hits", "hits", 0, "_source").
func dig(v any, path ...any) any {
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

// setupUsers does what assets/elasticsearch/setup.sh does, through the API.
func setupUsers(t *testing.T, base string, kibanaPW, writerPW, readerPW string) {
	t.Helper()
	steps := []struct{ method, path, body string }{
		{"POST", "/_security/user/kibana_system/_password", `{"password":"` + kibanaPW + `"}`},
		{"PUT", "/_security/role/logstash_writer", `{"cluster":["monitor","manage_index_templates","manage_ilm"],"indices":[{"names":["protocol-logs-*"],"privileges":["write","create","create_index","manage","manage_ilm"]}]}`},
		{"PUT", "/_security/user/logstash_writer", `{"password":"` + writerPW + `","roles":["logstash_writer"]}`},
		{"PUT", "/_security/role/grafana_reader", `{"cluster":["monitor"],"indices":[{"names":["protocol-logs-*"],"privileges":["read","view_index_metadata"]}]}`},
		{"PUT", "/_security/user/grafana_reader", `{"password":"` + readerPW + `","roles":["grafana_reader"]}`},
	}
	for _, s := range steps {
		r := call(t, s.method, base+s.path, "elastic", elasticPW, s.body)
		expectStatus(t, r, 200, s.method+" "+s.path)
	}
}

// eventually retries f until it returns "" or the time is up.
func eventually(t *testing.T, d time.Duration, f func() string) {
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

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return ctx
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// repo is the repository root (testing/standin is two levels down).
func repo(parts ...string) string {
	return filepath.Join(append([]string{"..", ".."}, parts...)...)
}

func readRepoFile(t *testing.T, parts ...string) string {
	t.Helper()
	b, err := os.ReadFile(repo(parts...))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
