package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testPKI is an environment's CA as the stack makes it: a server certificate
// for 127.0.0.1 and a client certificate, plus a client certificate of
// another CA, in PEM files.
type testPKI struct{ ca, serverCert, serverKey, clientCert, clientKey, foreignCert, foreignKey string }

func newTestPKI(t *testing.T) testPKI {
	t.Helper()
	dir := t.TempDir()
	write := func(name, kind string, der []byte) string {
		return writeFile(t, filepath.Join(dir, name), string(pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der})))
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
	return testPKI{
		ca:          write("ca.crt", "CERTIFICATE", caDER),
		serverCert:  write("tls.crt", "CERTIFICATE", serverDER),
		serverKey:   write("tls.key", "EC PRIVATE KEY", keyDER(serverKey)),
		clientCert:  write("client.crt", "CERTIFICATE", clientDER),
		clientKey:   write("client.key", "EC PRIVATE KEY", keyDER(clientKey)),
		foreignCert: write("foreign.crt", "CERTIFICATE", foreignDER),
		foreignKey:  write("foreign.key", "EC PRIVATE KEY", keyDER(foreignClientKey)),
	}
}

// serveRole serves a role's handler as serve() does: through listen(), TLS when env says so.
func serveRole(t *testing.T, handler http.Handler, settings tlsSettings, env envMap) string {
	t.Helper()
	ln, scheme, err := listen("127.0.0.1:0", settings, env.get)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: handler, ErrorLog: logger}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return scheme + "://" + ln.Addr().String()
}

func (p testPKI) client(t *testing.T) *http.Client {
	pool, err := caPool([]string{p.ca})
	if err != nil {
		t.Fatal(err)
	}
	return clientTrusting(pool, 5*time.Second)
}

func get(t *testing.T, client *http.Client, url, user, password string) (int, string, error) {
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

var esTLS = roles["elasticsearch"].tls

func esTLSEnv(p testPKI) envMap {
	return envMap{"xpack.security.http.ssl.enabled": "true", "xpack.security.http.ssl.certificate": p.serverCert, "xpack.security.http.ssl.key": p.serverKey}
}

func TestElasticsearchServesHTTPSOnlyWhenItsSettingsSaySo(t *testing.T) {
	p := newTestPKI(t)
	es, _ := startES(t, t.TempDir(), elasticPW)
	url := serveRole(t, es, esTLS, esTLSEnv(p))
	if !strings.HasPrefix(url, "https://") {
		t.Fatalf("TLS on: %s", url)
	}
	plain := strings.Replace(url, "https://", "http://", 1)
	status, body, err := get(t, &http.Client{}, plain+"/_cluster/health", "elastic", elasticPW)
	if err != nil || status != 400 || !strings.Contains(body, "Client sent an HTTP request to an HTTPS server") {
		t.Errorf("plain HTTP to the TLS port: %d %q %v", status, body, err)
	}
	if _, _, err := get(t, clientTrusting(nil, 5*time.Second), url+"/_cluster/health", "elastic", elasticPW); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("a client that does not trust the CA: %v", err)
	}
	if status, _, err := get(t, p.client(t), url+"/_cluster/health", "", ""); err != nil || status != 401 {
		t.Errorf("HTTPS without credentials: %d %v", status, err)
	}
	if status, _, err := get(t, p.client(t), url+"/_cluster/health", "elastic", "wrong-Pa55word"); err != nil || status != 401 {
		t.Errorf("HTTPS with a wrong password: %d %v", status, err)
	}
	if status, body, err := get(t, p.client(t), url+"/_cluster/health", "elastic", elasticPW); err != nil || status != 200 {
		t.Errorf("HTTPS with the password: %d %s %v", status, body, err)
	}
	// Off (the default): plain HTTP.
	if plainURL := serveRole(t, es, esTLS, envMap{}); !strings.HasPrefix(plainURL, "http://") {
		t.Errorf("TLS off: %s", plainURL)
	}
}

func TestTLSOnWithoutItsFilesIsAnError(t *testing.T) {
	p := newTestPKI(t)
	for name, env := range map[string]envMap{
		"no key":         {"xpack.security.http.ssl.enabled": "true", "xpack.security.http.ssl.certificate": p.serverCert},
		"a missing file": {"xpack.security.http.ssl.enabled": "true", "xpack.security.http.ssl.certificate": p.serverCert, "xpack.security.http.ssl.key": "/nonexistent"},
		"not a boolean":  {"xpack.security.http.ssl.enabled": "yes"},
	} {
		if _, _, err := listen("127.0.0.1:0", esTLS, env.get); err == nil || !strings.Contains(err.Error(), "xpack.security.http.ssl") && !strings.Contains(err.Error(), "/nonexistent") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if _, _, err := listen("127.0.0.1:0", roles["grafana"].tls, envMap{"GF_SERVER_PROTOCOL": "https"}.get); err == nil || !strings.Contains(err.Error(), "GF_SERVER_CERT_FILE") {
		t.Errorf("Grafana https without its files: %v", err)
	}
}

func TestKibanaOverTLSChecksElasticsearchAgainstItsCAAndAsksForALogin(t *testing.T) {
	p := newTestPKI(t)
	es, _ := startES(t, t.TempDir(), elasticPW)
	esURL := serveRole(t, es, esTLS, esTLSEnv(p))
	setupUsersWith(t, p.client(t), esURL)
	env := envMap{"ELASTICSEARCH_HOSTS": esURL, "ELASTICSEARCH_USERNAME": "kibana_system", "ELASTICSEARCH_PASSWORD": "kibana-Pa55word",
		"SERVER_SSL_ENABLED": "true", "SERVER_SSL_CERTIFICATE": p.serverCert, "SERVER_SSL_KEY": p.serverKey}

	// Without the CA it cannot trust Elasticsearch: unavailable.
	untrusting, err := newKibana(env.get)
	if err != nil {
		t.Fatal(err)
	}
	if ok, reason := untrusting.check(testContext(t)); ok || !strings.Contains(reason, "certificate") {
		t.Errorf("Kibana without the CA: %v %q", ok, reason)
	}

	env["ELASTICSEARCH_SSL_CERTIFICATEAUTHORITIES"] = p.ca
	k, err := newKibana(env.get)
	if err != nil {
		t.Fatal(err)
	}
	url := serveRole(t, k, roles["kibana"].tls, env)
	client := p.client(t)
	if status, body, err := get(t, client, url+"/api/status", "", ""); err != nil || status != 200 || !strings.Contains(body, `"available"`) {
		t.Errorf("status over HTTPS with the CA: %d %s %v", status, body, err)
	}
	if status, _, err := get(t, client, url+"/app/home", "", ""); err != nil || status != 401 {
		t.Errorf("the app without a login: %d %v", status, err)
	}
	if status, _, err := get(t, client, url+"/app/home", "elastic", "wrong-Pa55word"); err != nil || status != 401 {
		t.Errorf("the app with a wrong password: %d %v", status, err)
	}
	if status, _, err := get(t, client, url+"/app/home", "elastic", elasticPW); err != nil || status != 200 {
		t.Errorf("the app with a user's password: %d %v", status, err)
	}
	if status, body, err := get(t, &http.Client{}, strings.Replace(url, "https://", "http://", 1)+"/api/status", "", ""); err != nil || status != 400 || !strings.Contains(body, "HTTPS server") {
		t.Errorf("plain HTTP to Kibana's TLS port: %d %q %v", status, body, err)
	}
}

// setupUsersWith does what setupUsers does, through a client of its own (HTTPS).
func setupUsersWith(t *testing.T, client *http.Client, base string) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/_security/user/kibana_system/_password", strings.NewReader(`{"password":"kibana-Pa55word"}`))
	req.SetBasicAuth("elastic", elasticPW)
	req.Header.Set("Content-Type", "application/json")
	r, err := client.Do(req)
	if err != nil || r.StatusCode != 200 {
		t.Fatalf("kibana_system password: %v %v", r, err)
	}
	r.Body.Close()
}

func tlsPipeline(t *testing.T, esURL string, p testPKI, clientAuth string) string {
	t.Helper()
	input := fmt.Sprintf("codec => json_lines\n    ssl_enabled => true\n    ssl_certificate => %q\n    ssl_key => %q\n    ssl_certificate_authorities => [%q]\n%s",
		p.serverCert, p.serverKey, p.ca, clientAuth)
	return strings.Replace(shippedPipeline(t, esURL), "codec => json_lines\n", input, 1)
}

func TestLogstashTCPInputOverTLSTakesOnlyClientsWithACertificateOfItsCA(t *testing.T) {
	p := newTestPKI(t)
	_, es := startES(t, t.TempDir(), elasticPW)
	setupUsers(t, es.URL, "kibana-Pa55word", "writer-Pa55word", "reader-Pa55word")
	l, _ := startLogstash(t, tlsPipeline(t, es.URL, p, `    ssl_client_authentication => "required"`+"\n"), envMap{"LOGSTASH_WRITER_PASSWORD": "writer-Pa55word"})
	addr := localAddr(l.inputAddr("tcp"))
	roots, _ := caPool([]string{p.ca})
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
	if err := send("foreign", pair(p.foreignCert, p.foreignKey), `{"service":"foreignca"}`); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("a client with another CA's certificate: %v", err)
	}
	plain, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(plain, `{"service":"plaintcp"}`)
	plain.Close()
	if err := send("ours", pair(p.clientCert, p.clientKey), `{"service":"withcert"}`); err != nil {
		t.Errorf("a client with the CA's certificate: %v", err)
	}
	waitForHits(t, es.URL, "q=service:withcert", 1)
	for _, refused := range []string{"nocert", "foreignca", "plaintcp"} {
		if r := call(t, "GET", es.URL+"/protocol-logs-*/_count?q=service:"+refused, "elastic", elasticPW, ""); dig(r.json, "count") != float64(0) {
			t.Errorf("%s was indexed: %s", refused, r)
		}
	}
}

func TestLogstashTLSInputRefusesSettingsItDoesNotModel(t *testing.T) {
	p := newTestPKI(t)
	for name, clientAuth := range map[string]string{
		"no ssl_client_authentication": "",
		"an unknown mode":              `    ssl_client_authentication => "sometimes"` + "\n",
	} {
		if _, err := newLogstashFrom(t, tlsPipeline(t, "http://127.0.0.1:1", p, clientAuth), envMap{"LOGSTASH_WRITER_PASSWORD": "x"}); err == nil || !strings.Contains(err.Error(), "ssl_client_authentication") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestLogstashOutputReachesElasticsearchOverHTTPSOnlyWithItsCA(t *testing.T) {
	p := newTestPKI(t)
	es, _ := startES(t, t.TempDir(), elasticPW)
	esURL := serveRole(t, es, esTLS, esTLSEnv(p))
	setupUsersWith(t, p.client(t), esURL)
	for path, body := range map[string]string{
		"/_security/role/writer":          `{"cluster":["monitor"]}`,
		"/_security/user/logstash_writer": `{"password":"writer-Pa55word","roles":["writer"]}`,
	} {
		req, _ := http.NewRequest("PUT", esURL+path, strings.NewReader(body))
		req.SetBasicAuth("elastic", elasticPW)
		req.Header.Set("Content-Type", "application/json")
		if r, err := p.client(t).Do(req); err != nil || r.StatusCode != 200 {
			t.Fatalf("%s: %v %v", path, r, err)
		}
	}
	output := func(settings string) *logstashServer {
		pipeline := strings.Replace(shippedPipeline(t, esURL), `user => "logstash_writer"`, `user => "logstash_writer"`+settings, 1)
		l, err := newLogstashFrom(t, pipeline, envMap{"LOGSTASH_WRITER_PASSWORD": "writer-Pa55word"})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	if ok, reason := output("").check(testContext(t)); ok || !strings.Contains(reason, "certificate") {
		t.Errorf("without the CA: %v %q", ok, reason)
	}
	if ok, reason := output(fmt.Sprintf("\n    ssl_enabled => true\n    ssl_certificate_authorities => [%q]", p.ca)).check(testContext(t)); !ok {
		t.Errorf("with the CA: %q", reason)
	}
}
