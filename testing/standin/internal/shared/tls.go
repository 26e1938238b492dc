package shared

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// ---------------------------------------------------------------------------
// TLS, as the upstream programs turn it on: the settings that enable it for a
// role's HTTP API, and clients that trust a given CA (and nothing else).

// TLSSettings names the upstream settings (environment variables) that serve
// a role's HTTP API over TLS: Enabled is "true" (or "https", Grafana's
// protocol), Cert and Key are PEM files.
type TLSSettings struct{ Enabled, Cert, Key string }

// config is the server's TLS config, or nil when TLS is off. TLS on without
// both files, or with files that do not load, is an error, as upstream.
func (s TLSSettings) config(env Env) (*tls.Config, error) {
	if s.Enabled == "" {
		return nil, nil
	}
	switch v := strings.ToLower(env(s.Enabled)); v {
	case "", "false", "http":
		return nil, nil
	case "true", "https":
	default:
		return nil, fmt.Errorf("%s=%q: expected true or false", s.Enabled, v)
	}
	cert, key := env(s.Cert), env(s.Key)
	if cert == "" || key == "" {
		return nil, fmt.Errorf("%s is on, but %s and %s must both name a PEM file", s.Enabled, s.Cert, s.Key)
	}
	pair, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		return nil, fmt.Errorf("%s, %s: %w", s.Cert, s.Key, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, nil
}

// Listen opens the role's HTTP listener: TLS when its settings say so. A
// plain-HTTP request to it is answered by Go's server with 400 "Client sent
// an HTTP request to an HTTPS server", which the stack's healthchecks read.
func Listen(addr string, settings TLSSettings, env Env) (ln net.Listener, scheme string, err error) {
	config, err := settings.config(env)
	if err != nil {
		return nil, "", err
	}
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		return nil, "", err
	}
	if config == nil {
		return ln, "http", nil
	}
	return tls.NewListener(ln, config), "https", nil
}

// CAPool reads the PEM files named (none: nil, the system's roots); a file
// that holds no certificate is an error.
func CAPool(files []string) (*x509.CertPool, error) {
	if len(files) == 0 {
		return nil, nil
	}
	pool := x509.NewCertPool()
	for _, f := range files {
		pemText, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		if !pool.AppendCertsFromPEM(pemText) {
			return nil, fmt.Errorf("%s: no PEM certificate in it", f)
		}
	}
	return pool, nil
}

// ClientTrusting is an HTTP client that checks servers against pool (nil:
// the system's roots, which an environment's own CA is not among).
func ClientTrusting(pool *x509.CertPool, timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
}
