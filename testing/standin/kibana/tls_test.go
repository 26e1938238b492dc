package kibana

import (
	"net/http"
	"strings"
	"testing"

	"protocol-monitoring/standin/elasticsearch"
	. "protocol-monitoring/standin/internal/standintest"
)

func TestKibanaOverTLSChecksElasticsearchAgainstItsCAAndAsksForALogin(t *testing.T) {
	p := NewPKI(t)
	es, _ := StartES(t, t.TempDir(), ElasticPW)
	esURL := ServeRole(t, es, elasticsearch.TLS, ESTLSEnv(p))
	SetupUsersWith(t, p.Client(t), esURL)
	env := EnvMap{"ELASTICSEARCH_HOSTS": esURL, "ELASTICSEARCH_USERNAME": "kibana_system", "ELASTICSEARCH_PASSWORD": "kibana-Pa55word",
		"SERVER_SSL_ENABLED": "true", "SERVER_SSL_CERTIFICATE": p.ServerCert, "SERVER_SSL_KEY": p.ServerKey}

	// Without the CA it cannot trust Elasticsearch: unavailable.
	untrusting, err := New(env.Get)
	if err != nil {
		t.Fatal(err)
	}
	if ok, reason := untrusting.check(Context(t)); ok || !strings.Contains(reason, "certificate") {
		t.Errorf("Kibana without the CA: %v %q", ok, reason)
	}

	env["ELASTICSEARCH_SSL_CERTIFICATEAUTHORITIES"] = p.CA
	k, err := New(env.Get)
	if err != nil {
		t.Fatal(err)
	}
	url := ServeRole(t, k, TLS, env)
	client := p.Client(t)
	if status, body, err := Fetch(t, client, url+"/api/status", "", ""); err != nil || status != 200 || !strings.Contains(body, `"available"`) {
		t.Errorf("status over HTTPS with the CA: %d %s %v", status, body, err)
	}
	if status, _, err := Fetch(t, client, url+"/app/home", "", ""); err != nil || status != 401 {
		t.Errorf("the app without a login: %d %v", status, err)
	}
	if status, _, err := Fetch(t, client, url+"/app/home", "elastic", "wrong-Pa55word"); err != nil || status != 401 {
		t.Errorf("the app with a wrong password: %d %v", status, err)
	}
	if status, _, err := Fetch(t, client, url+"/app/home", "elastic", ElasticPW); err != nil || status != 200 {
		t.Errorf("the app with a user's password: %d %v", status, err)
	}
	if status, body, err := Fetch(t, &http.Client{}, strings.Replace(url, "https://", "http://", 1)+"/api/status", "", ""); err != nil || status != 400 || !strings.Contains(body, "HTTPS server") {
		t.Errorf("plain HTTP to Kibana's TLS port: %d %q %v", status, body, err)
	}
}
