package main

import (
	"strings"
	"testing"

	"protocol-monitoring/standin/elasticsearch"
	"protocol-monitoring/standin/internal/shared"
	. "protocol-monitoring/standin/internal/standintest"
)

func TestTLSOnWithoutItsFilesIsAnError(t *testing.T) {
	p := NewPKI(t)
	for name, env := range map[string]EnvMap{
		"no key":         {"xpack.security.http.ssl.enabled": "true", "xpack.security.http.ssl.certificate": p.ServerCert},
		"a missing file": {"xpack.security.http.ssl.enabled": "true", "xpack.security.http.ssl.certificate": p.ServerCert, "xpack.security.http.ssl.key": "/nonexistent"},
		"not a boolean":  {"xpack.security.http.ssl.enabled": "yes"},
	} {
		if _, _, err := shared.Listen("127.0.0.1:0", elasticsearch.TLS, env.Get); err == nil || !strings.Contains(err.Error(), "xpack.security.http.ssl") && !strings.Contains(err.Error(), "/nonexistent") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if _, _, err := shared.Listen("127.0.0.1:0", roles["grafana"].tls, EnvMap{"GF_SERVER_PROTOCOL": "https"}.Get); err == nil || !strings.Contains(err.Error(), "GF_SERVER_CERT_FILE") {
		t.Errorf("Grafana https without its files: %v", err)
	}
}
