package main

// The sink command: a recording stand-in for the notification endpoints
// Alertmanager talks to (Slack incoming webhooks, the PagerDuty Events v2
// API, a heartbeat webhook), with its recordings served on a separate,
// plain-HTTP listener.

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

const maxBody = 1 << 20

// Recorded is one request the sink received.
type Recorded struct {
	ID      int             `json:"id"`
	Time    time.Time       `json:"time"`
	Method  string          `json:"method"`
	Path    string          `json:"path"`
	Query   string          `json:"query,omitempty"`
	Headers http.Header     `json:"headers"`
	JSON    json.RawMessage `json:"json,omitempty"` // the body, when it is JSON
	Body    string          `json:"body,omitempty"` // the body, when it is not
	TLS     bool            `json:"tls"`
	Kind    string          `json:"kind"`   // pagerduty | slack | webhook
	Status  int             `json:"status"` // what the sink answered
}

type recorder struct {
	mu   sync.Mutex
	max  int
	next int
	list []Recorded
	log  *Logger
	now  func() time.Time
}

func (rec *recorder) add(r Recorded) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.next++
	r.ID = rec.next
	rec.list = append(rec.list, r)
	if len(rec.list) > rec.max {
		rec.list = rec.list[len(rec.list)-rec.max:]
	}
}

// hooks answers like the services it stands in for, and records every request.
func (rec *recorder) hooks() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, maxBody))
		entry := Recorded{Time: rec.now().UTC(), Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
			Headers: r.Header.Clone(), TLS: r.TLS != nil}
		isJSON := len(bytes.TrimSpace(body)) > 0 && json.Valid(body)
		if isJSON {
			entry.JSON = json.RawMessage(body)
		} else {
			entry.Body = string(body)
		}
		switch {
		case r.URL.Path == "/v2/enqueue":
			entry.Kind = "pagerduty"
			entry.Status = pagerDuty(w, r.Method, body, isJSON)
		case strings.HasPrefix(r.URL.Path, "/services/"):
			entry.Kind = "slack"
			entry.Status = slack(w, r.Method, isJSON)
		default:
			entry.Kind = "webhook"
			entry.Status = http.StatusOK
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			io.WriteString(w, "OK")
		}
		rec.add(entry)
		rec.log.Log("info", "notification-sink", "protocol_sim.sink", "request_recorded",
			kv{"method", r.Method}, kv{"path", r.URL.Path}, kv{"kind", entry.Kind}, kv{"status", entry.Status})
	})
}

// pagerDuty answers like the Events API v2: 202 with status, message and
// dedup_key for a valid event, 400 "invalid event" otherwise.
func pagerDuty(w http.ResponseWriter, method string, body []byte, isJSON bool) int {
	var ev struct {
		RoutingKey  string `json:"routing_key"`
		EventAction string `json:"event_action"`
		DedupKey    string `json:"dedup_key"`
	}
	var problems []string
	if method != http.MethodPost {
		problems = append(problems, "Events must be POSTed")
	} else if !isJSON || json.Unmarshal(body, &ev) != nil {
		problems = append(problems, "Request body is not a JSON object")
	} else {
		if ev.RoutingKey == "" {
			problems = append(problems, "'routing_key' is missing or blank")
		}
		if ev.EventAction != "trigger" && ev.EventAction != "acknowledge" && ev.EventAction != "resolve" {
			problems = append(problems, "'event_action' is invalid (must be one of the following: 'trigger', 'acknowledge' or 'resolve')")
		}
	}
	if len(problems) > 0 {
		writeJSON(w, http.StatusBadRequest, map[string]any{"status": "invalid event", "message": "Event object is invalid", "errors": problems})
		return http.StatusBadRequest
	}
	if ev.DedupKey == "" {
		b := make([]byte, 16)
		rand.Read(b)
		ev.DedupKey = hex.EncodeToString(b)
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "success", "message": "Event processed", "dedup_key": ev.DedupKey})
	return http.StatusAccepted
}

// slack answers like an incoming webhook: "ok", or 400 invalid_payload.
func slack(w http.ResponseWriter, method string, isJSON bool) int {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if method != http.MethodPost || !isJSON {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, "invalid_payload")
		return http.StatusBadRequest
	}
	io.WriteString(w, "ok")
	return http.StatusOK
}

// api serves the recordings: GET /requests[?path=P], DELETE /requests.
func (rec *recorder) api() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /requests", func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.Query().Get("path")
		rec.mu.Lock()
		out := []Recorded{}
		for _, e := range rec.list {
			if path == "" || e.Path == path {
				out = append(out, e)
			}
		}
		rec.mu.Unlock()
		writeJSON(w, http.StatusOK, out)
	})
	mux.HandleFunc("DELETE /requests", func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		n := len(rec.list)
		rec.list = nil
		rec.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]int{"cleared": n})
	})
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "healthy"})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "GET /requests[?path=P] or DELETE /requests"})
	})
	return mux
}

type sinkServer struct {
	hooks, api *endpoint
	smtp       *smtpServer // nil unless --smtp
	rec        *recorder
}

// smtpOptions turn on the SMTP listener (STARTTLS with the hooks' certificate, one login).
type smtpOptions struct{ addr, user, pass string }

// startSink serves the hooks (over TLS when cert and key are given) and the API.
func startSink(listen, apiAddr, certFile, keyFile string, max int, logw io.Writer, mail smtpOptions) (*sinkServer, error) {
	rec := &recorder{max: max, now: time.Now, log: &Logger{w: logw, now: time.Now}}
	s := &sinkServer{hooks: &endpoint{addr: listen, handler: rec.hooks()}, api: &endpoint{addr: apiAddr, handler: rec.api()}, rec: rec}
	if certFile != "" || keyFile != "" {
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("TLS certificate: %w", err)
		}
		s.hooks.tls = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	}
	if err := s.hooks.start(); err != nil {
		return nil, fmt.Errorf("listen %s: %w", listen, err)
	}
	if err := s.api.start(); err != nil {
		s.hooks.stop()
		return nil, fmt.Errorf("api %s: %w", apiAddr, err)
	}
	if mail.addr != "" {
		smtp, err := startSMTP(mail.addr, s.hooks.tls, mail.user, mail.pass, rec)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("smtp %s: %w", mail.addr, err)
		}
		s.smtp = smtp
	}
	return s, nil
}

func (s *sinkServer) close() {
	s.hooks.stop()
	s.api.stop()
	if s.smtp != nil {
		s.smtp.stop()
	}
}

// makeCA writes a throw-away CA (ca.pem) and a server certificate for hosts
// (cert.pem, key.pem; names or IP addresses) signed by it into dir.
func makeCA(dir string, hosts []string, validity time.Duration) error {
	if len(hosts) == 0 {
		return fmt.Errorf("--hosts is empty: name at least one host name or IP address")
	}
	now := time.Now()
	serial := func() *big.Int { n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120)); return n }
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	caTmpl := &x509.Certificate{SerialNumber: serial(), Subject: pkix.Name{CommonName: "protocol-sim throw-away CA", Organization: []string{"protocol-monitoring tests"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(validity), IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{SerialNumber: serial(), Subject: pkix.Name{CommonName: hosts[0]},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(validity),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	files := []struct {
		name, typ string
		der       []byte
		mode      os.FileMode
	}{{"ca.pem", "CERTIFICATE", caDER, 0o644}, {"cert.pem", "CERTIFICATE", der, 0o644}, {"key.pem", "PRIVATE KEY", keyDER, 0o600}}
	for _, f := range files {
		data := pem.EncodeToMemory(&pem.Block{Type: f.typ, Bytes: f.der})
		if err := os.WriteFile(filepath.Join(dir, f.name), data, f.mode); err != nil {
			return err
		}
	}
	return nil
}

func sinkMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("protocol-sim sink", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", ":8443", "listen address of the webhooks (HTTPS with --tls-cert/--tls-key, else HTTP)")
	apiAddr := fs.String("api", ":8444", "listen address of the recordings API (always plain HTTP)")
	bind := fs.String("bind", "", "host for every address given as :PORT, e.g. 127.0.0.1 (default: all interfaces)")
	certFile := fs.String("tls-cert", "", "PEM server certificate for the webhooks")
	keyFile := fs.String("tls-key", "", "PEM private key of --tls-cert")
	max := fs.Int("max-requests", 10000, "recordings kept (the oldest are dropped)")
	caDir := fs.String("make-ca", "", "write a throw-away CA and a server certificate (ca.pem, cert.pem, key.pem) into this directory, then exit")
	hosts := fs.String("hosts", "localhost,127.0.0.1", "with --make-ca: comma-separated host names and IP addresses the certificate is for")
	days := fs.Int("days", 30, "with --make-ca: validity in days")
	smtpAddr := fs.String("smtp", "", "listen address of an SMTP relay (STARTTLS with --tls-cert, login required); off when empty")
	smtpUser := fs.String("smtp-user", "", "with --smtp: the one user it accepts")
	smtpPass := fs.String("smtp-password", "", "with --smtp: that user's password")
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: protocol-sim sink [flags]
       protocol-sim sink --make-ca DIR --hosts sink,localhost,127.0.0.1

Webhooks: POST /v2/enqueue (PagerDuty Events v2: 202), POST /services/... (Slack
incoming webhook: "ok"), any other method and path (heartbeat webhooks: 200 "OK").
With --smtp: a mail relay (STARTTLS, then AUTH PLAIN or LOGIN as --smtp-user);
its mails are recorded under the path /smtp, decoded.
Recordings API: GET /requests[?path=P], DELETE /requests.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *caDir != "" {
		if err := makeCA(*caDir, splitList(*hosts), time.Duration(*days)*24*time.Hour); err != nil {
			fmt.Fprintf(stderr, "protocol-sim sink --make-ca: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "wrote %s, %s and %s\n", filepath.Join(*caDir, "ca.pem"), filepath.Join(*caDir, "cert.pem"), filepath.Join(*caDir, "key.pem"))
		return 0
	}
	if (*certFile == "") != (*keyFile == "") {
		fmt.Fprintln(stderr, "protocol-sim sink: --tls-cert and --tls-key go together")
		return 2
	}
	s, err := startSink(withBind(*listen, *bind), withBind(*apiAddr, *bind), *certFile, *keyFile, *max, stdout, smtpOptions{withBind(*smtpAddr, *bind), *smtpUser, *smtpPass})
	if err != nil {
		fmt.Fprintf(stderr, "protocol-sim sink: %v\n", err)
		return 1
	}
	defer s.close()
	s.rec.log.Log("info", "notification-sink", "protocol_sim.sink", "sink_started",
		kv{"listen", s.hooks.address()}, kv{"tls", *certFile != ""}, kv{"api", s.api.address()})
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return 0
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
