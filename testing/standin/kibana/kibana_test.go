package kibana

import (
	"net/http/httptest"
	"strings"
	"testing"

	. "protocol-monitoring/standin/internal/standintest"
)

func TestMain(m *testing.M) { Main(m) }

func startKibana(t *testing.T, env EnvMap) *httptest.Server {
	t.Helper()
	k, err := New(env.Get)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Start(Context(t)); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(k)
	t.Cleanup(srv.Close)
	return srv
}

func kibanaLevel(t *testing.T, srv *httptest.Server) (int, any) {
	t.Helper()
	r := Call(t, "GET", srv.URL+"/api/status", "", "", "")
	return r.Status, Dig(r.JSON, "status", "overall", "level")
}

func TestKibanaLogsInWithItsCredentials(t *testing.T) {
	_, es := StartES(t, t.TempDir(), ElasticPW)
	env := EnvMap{"ELASTICSEARCH_HOSTS": es.URL, "ELASTICSEARCH_USERNAME": "kibana_system", "ELASTICSEARCH_PASSWORD": "kibana-Pa55word"}

	// Before the setup job has set kibana_system's password: unavailable.
	before := startKibana(t, env)
	if status, level := kibanaLevel(t, before); status != 503 || level != "unavailable" {
		t.Errorf("before setup: %d %v", status, level)
	}
	SetupUsers(t, es.URL, "kibana-Pa55word", "writer-Pa55word", "reader-Pa55word")

	ok := startKibana(t, env)
	if status, level := kibanaLevel(t, ok); status != 200 || level != "available" {
		t.Errorf("right password: %d %v", status, level)
	}

	env["ELASTICSEARCH_PASSWORD"] = "WRONG-Pa55word"
	wrong := startKibana(t, env)
	r := Call(t, "GET", wrong.URL+"/api/status", "", "", "")
	if r.Status != 503 || Dig(r.JSON, "status", "overall", "level") != "unavailable" {
		t.Errorf("wrong password: %s", r)
	}
	if s, _ := Dig(r.JSON, "status", "core", "elasticsearch", "summary").(string); !strings.Contains(s, "unable to authenticate user [kibana_system]") {
		t.Errorf("summary should say why: %q", s)
	}
}

func TestKibanaUnavailableWhenElasticsearchIsDown(t *testing.T) {
	srv := startKibana(t, EnvMap{"ELASTICSEARCH_HOSTS": "http://127.0.0.1:1", "ELASTICSEARCH_USERNAME": "kibana_system", "ELASTICSEARCH_PASSWORD": "x"})
	if status, level := kibanaLevel(t, srv); status != 503 || level != "unavailable" {
		t.Errorf("unreachable Elasticsearch: %d %v", status, level)
	}
}

func TestKibanaRefusesTheElasticSuperuser(t *testing.T) {
	_, err := New(EnvMap{"ELASTICSEARCH_USERNAME": "elastic", "ELASTICSEARCH_PASSWORD": ElasticPW}.Get)
	if err == nil || !strings.Contains(err.Error(), `value of "elastic" is forbidden`) {
		t.Fatalf("err = %v", err)
	}
	_, err = New(EnvMap{"ELASTICSEARCH_USERNAME": "kibana_system", "XPACK_SECURITY_ENCRYPTIONKEY": "too-short"}.Get)
	if err == nil || !strings.Contains(err.Error(), "minimum length of [32]") {
		t.Fatalf("short encryption key: err = %v", err)
	}
}
