package elasticsearch_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"protocol-monitoring/standin/elasticsearch"
	"protocol-monitoring/standin/internal/shared"
	. "protocol-monitoring/standin/internal/standintest"
)

func TestElasticsearchServesHTTPSOnlyWhenItsSettingsSaySo(t *testing.T) {
	p := NewPKI(t)
	es, _ := StartES(t, t.TempDir(), ElasticPW)
	url := ServeRole(t, es, elasticsearch.TLS, ESTLSEnv(p))
	if !strings.HasPrefix(url, "https://") {
		t.Fatalf("TLS on: %s", url)
	}
	plain := strings.Replace(url, "https://", "http://", 1)
	status, body, err := Fetch(t, &http.Client{}, plain+"/_cluster/health", "elastic", ElasticPW)
	if err != nil || status != 400 || !strings.Contains(body, "Client sent an HTTP request to an HTTPS server") {
		t.Errorf("plain HTTP to the TLS port: %d %q %v", status, body, err)
	}
	if _, _, err := Fetch(t, shared.ClientTrusting(nil, 5*time.Second), url+"/_cluster/health", "elastic", ElasticPW); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("a client that does not trust the CA: %v", err)
	}
	if status, _, err := Fetch(t, p.Client(t), url+"/_cluster/health", "", ""); err != nil || status != 401 {
		t.Errorf("HTTPS without credentials: %d %v", status, err)
	}
	if status, _, err := Fetch(t, p.Client(t), url+"/_cluster/health", "elastic", "wrong-Pa55word"); err != nil || status != 401 {
		t.Errorf("HTTPS with a wrong password: %d %v", status, err)
	}
	if status, body, err := Fetch(t, p.Client(t), url+"/_cluster/health", "elastic", ElasticPW); err != nil || status != 200 {
		t.Errorf("HTTPS with the password: %d %s %v", status, body, err)
	}
	// Off (the default): plain HTTP.
	if plainURL := ServeRole(t, es, elasticsearch.TLS, EnvMap{}); !strings.HasPrefix(plainURL, "http://") {
		t.Errorf("TLS off: %s", plainURL)
	}
}
