package main

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func startKibana(t *testing.T, env envMap) *httptest.Server {
	t.Helper()
	k, err := newKibana(env.get)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.start(testContext(t)); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(k)
	t.Cleanup(srv.Close)
	return srv
}

func kibanaLevel(t *testing.T, srv *httptest.Server) (int, any) {
	t.Helper()
	r := call(t, "GET", srv.URL+"/api/status", "", "", "")
	return r.status, dig(r.json, "status", "overall", "level")
}

func TestKibanaLogsInWithItsCredentials(t *testing.T) {
	_, es := startES(t, t.TempDir(), elasticPW)
	env := envMap{"ELASTICSEARCH_HOSTS": es.URL, "ELASTICSEARCH_USERNAME": "kibana_system", "ELASTICSEARCH_PASSWORD": "kibana-Pa55word"}

	// Before the setup job has set kibana_system's password: unavailable.
	before := startKibana(t, env)
	if status, level := kibanaLevel(t, before); status != 503 || level != "unavailable" {
		t.Errorf("before setup: %d %v", status, level)
	}
	setupUsers(t, es.URL, "kibana-Pa55word", "writer-Pa55word", "reader-Pa55word")

	ok := startKibana(t, env)
	if status, level := kibanaLevel(t, ok); status != 200 || level != "available" {
		t.Errorf("right password: %d %v", status, level)
	}

	env["ELASTICSEARCH_PASSWORD"] = "WRONG-Pa55word"
	wrong := startKibana(t, env)
	r := call(t, "GET", wrong.URL+"/api/status", "", "", "")
	if r.status != 503 || dig(r.json, "status", "overall", "level") != "unavailable" {
		t.Errorf("wrong password: %s", r)
	}
	if s, _ := dig(r.json, "status", "core", "elasticsearch", "summary").(string); !strings.Contains(s, "unable to authenticate user [kibana_system]") {
		t.Errorf("summary should say why: %q", s)
	}
}

func TestKibanaUnavailableWhenElasticsearchIsDown(t *testing.T) {
	srv := startKibana(t, envMap{"ELASTICSEARCH_HOSTS": "http://127.0.0.1:1", "ELASTICSEARCH_USERNAME": "kibana_system", "ELASTICSEARCH_PASSWORD": "x"})
	if status, level := kibanaLevel(t, srv); status != 503 || level != "unavailable" {
		t.Errorf("unreachable Elasticsearch: %d %v", status, level)
	}
}

func TestKibanaRefusesTheElasticSuperuser(t *testing.T) {
	_, err := newKibana(envMap{"ELASTICSEARCH_USERNAME": "elastic", "ELASTICSEARCH_PASSWORD": elasticPW}.get)
	if err == nil || !strings.Contains(err.Error(), `value of "elastic" is forbidden`) {
		t.Fatalf("err = %v", err)
	}
	_, err = newKibana(envMap{"ELASTICSEARCH_USERNAME": "kibana_system", "XPACK_SECURITY_ENCRYPTIONKEY": "too-short"}.get)
	if err == nil || !strings.Contains(err.Error(), "minimum length of [32]") {
		t.Fatalf("short encryption key: err = %v", err)
	}
}
