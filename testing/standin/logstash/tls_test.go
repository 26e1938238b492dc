package logstash

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"protocol-monitoring/standin/elasticsearch"
	"protocol-monitoring/standin/internal/shared"
	. "protocol-monitoring/standin/internal/standintest"
)

func tlsPipeline(t *testing.T, esURL string, p PKI, clientAuth string) string {
	t.Helper()
	input := fmt.Sprintf("codec => json_lines\n    ssl_enabled => true\n    ssl_certificate => %q\n    ssl_key => %q\n    ssl_certificate_authorities => [%q]\n%s",
		p.ServerCert, p.ServerKey, p.CA, clientAuth)
	return strings.Replace(ShippedPipeline(t, esURL), "codec => json_lines\n", input, 1)
}

func TestLogstashTCPInputOverTLSTakesOnlyClientsWithACertificateOfItsCA(t *testing.T) {
	p := NewPKI(t)
	_, es := StartES(t, t.TempDir(), ElasticPW)
	SetupUsers(t, es.URL, "kibana-Pa55word", "writer-Pa55word", "reader-Pa55word")
	l, _ := startLogstash(t, tlsPipeline(t, es.URL, p, `    ssl_client_authentication => "required"`+"\n"), EnvMap{"LOGSTASH_WRITER_PASSWORD": "writer-Pa55word"})
	addr := LocalAddr(l.InputAddr("tcp"))
	roots, _ := shared.CAPool([]string{p.CA})
	send := func(name string, certificates []tls.Certificate, line string) error {
		c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, Certificates: certificates})
		if err != nil {
			return err
		}
		defer c.Close()
		fmt.Fprintln(c, line)
		// TLS 1.3: a refused client certificate shows on the first read.
		_ = c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		_, err = c.Read(make([]byte, 1))
		if err != nil && !strings.Contains(err.Error(), "timeout") && err != io.EOF {
			return err
		}
		return nil
	}
	pair := func(cert, key string) []tls.Certificate {
		c, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			t.Fatal(err)
		}
		return []tls.Certificate{c}
	}
	if err := send("none", nil, `{"service":"nocert"}`); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("a client without a certificate: %v", err)
	}
	if err := send("foreign", pair(p.ForeignCert, p.ForeignKey), `{"service":"foreignca"}`); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("a client with another CA's certificate: %v", err)
	}
	plain, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(plain, `{"service":"plaintcp"}`)
	plain.Close()
	if err := send("ours", pair(p.ClientCert, p.ClientKey), `{"service":"withcert"}`); err != nil {
		t.Errorf("a client with the CA's certificate: %v", err)
	}
	WaitForHits(t, es.URL, "q=service:withcert", 1)
	for _, refused := range []string{"nocert", "foreignca", "plaintcp"} {
		if r := Call(t, "GET", es.URL+"/protocol-logs-*/_count?q=service:"+refused, "elastic", ElasticPW, ""); Dig(r.JSON, "count") != float64(0) {
			t.Errorf("%s was indexed: %s", refused, r)
		}
	}
}

func TestLogstashTLSInputRefusesSettingsItDoesNotModel(t *testing.T) {
	p := NewPKI(t)
	for name, clientAuth := range map[string]string{
		"no ssl_client_authentication": "",
		"an unknown mode":              `    ssl_client_authentication => "sometimes"` + "\n",
	} {
		if _, err := newLogstashFrom(t, tlsPipeline(t, "http://127.0.0.1:1", p, clientAuth), EnvMap{"LOGSTASH_WRITER_PASSWORD": "x"}); err == nil || !strings.Contains(err.Error(), "ssl_client_authentication") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestLogstashOutputReachesElasticsearchOverHTTPSOnlyWithItsCA(t *testing.T) {
	p := NewPKI(t)
	es, _ := StartES(t, t.TempDir(), ElasticPW)
	esURL := ServeRole(t, es, elasticsearch.TLS, ESTLSEnv(p))
	SetupUsersWith(t, p.Client(t), esURL)
	for path, body := range map[string]string{
		"/_security/role/writer":          `{"cluster":["monitor"]}`,
		"/_security/user/logstash_writer": `{"password":"writer-Pa55word","roles":["writer"]}`,
	} {
		req, _ := http.NewRequest("PUT", esURL+path, strings.NewReader(body))
		req.SetBasicAuth("elastic", ElasticPW)
		req.Header.Set("Content-Type", "application/json")
		if r, err := p.Client(t).Do(req); err != nil || r.StatusCode != 200 {
			t.Fatalf("%s: %v %v", path, r, err)
		}
	}
	output := func(settings string) *Server {
		pipeline := strings.Replace(ShippedPipeline(t, esURL), `user => "logstash_writer"`, `user => "logstash_writer"`+settings, 1)
		l, err := newLogstashFrom(t, pipeline, EnvMap{"LOGSTASH_WRITER_PASSWORD": "writer-Pa55word"})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	if ok, reason := output("").check(Context(t)); ok || !strings.Contains(reason, "certificate") {
		t.Errorf("without the CA: %v %q", ok, reason)
	}
	if ok, reason := output(fmt.Sprintf("\n    ssl_enabled => true\n    ssl_certificate_authorities => [%q]", p.CA)).check(Context(t)); !ok {
		t.Errorf("with the CA: %q", reason)
	}
}
