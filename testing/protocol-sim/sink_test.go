package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func makeTestCA(t *testing.T, hosts string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tls")
	var out, errs bytes.Buffer
	if code := sinkMain([]string{"--make-ca", dir, "--hosts", hosts}, &out, &errs); code != 0 {
		t.Fatalf("--make-ca: %d %s", code, errs.String())
	}
	return dir
}

func clientTrusting(t *testing.T, caFile string) *http.Client {
	t.Helper()
	pool := x509.NewCertPool()
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil || !pool.AppendCertsFromPEM(pem) {
			t.Fatalf("ca %s: %v", caFile, err)
		}
	}
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

func TestMakeCA(t *testing.T) {
	dir := makeTestCA(t, "sink,localhost,127.0.0.1")
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"))
	if err != nil {
		t.Fatalf("cert.pem and key.pem: %v", err)
	}
	cert, _ := x509.ParseCertificate(pair.Certificate[0])
	if st, err := os.Stat(filepath.Join(dir, "key.pem")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("key.pem mode: %v %v", st.Mode(), err)
	}
	caPEM, _ := os.ReadFile(filepath.Join(dir, "ca.pem"))
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		t.Fatal("ca.pem is not a PEM certificate")
	}
	for _, name := range []string{"sink", "localhost", "127.0.0.1"} {
		if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: name}); err != nil {
			t.Errorf("cert for %s: %v", name, err)
		}
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: "other.example"}); err == nil {
		t.Error("the certificate is valid for a host it was not made for")
	}
	var out, errs bytes.Buffer
	if code := sinkMain([]string{"--make-ca", t.TempDir(), "--hosts", ""}, &out, &errs); code == 0 {
		t.Error("--make-ca without hosts succeeded")
	}
}

func TestSinkRecordsOverTLS(t *testing.T) {
	dir := makeTestCA(t, "localhost,127.0.0.1")
	s, err := startSink("127.0.0.1:0", "127.0.0.1:0", filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), 100, io.Discard, smtpOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	hooks, api := "https://"+s.hooks.address(), "http://"+s.api.address()
	trusting := clientTrusting(t, filepath.Join(dir, "ca.pem"))

	post := func(client *http.Client, path, body string) (int, string, error) {
		resp, err := client.Post(hooks+path, "application/json", strings.NewReader(body))
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), nil
	}

	// PagerDuty Events v2.
	code, body, err := post(trusting, "/v2/enqueue", `{"routing_key":"0123456789abcdef0123456789abcdef","event_action":"trigger","dedup_key":"grp-1","payload":{"summary":"RegistryDown","severity":"critical","source":"prometheus"}}`)
	if err != nil || code != 202 {
		t.Fatalf("PagerDuty: %d %s %v", code, body, err)
	}
	var pd map[string]string
	json.Unmarshal([]byte(body), &pd)
	if pd["status"] != "success" || pd["message"] != "Event processed" || pd["dedup_key"] != "grp-1" {
		t.Errorf("PagerDuty answer: %s", body)
	}
	if code, body, _ := post(trusting, "/v2/enqueue", `{"event_action":"trigger"}`); code != 400 || !strings.Contains(body, "invalid event") {
		t.Errorf("PagerDuty without routing_key: %d %s", code, body)
	}
	// Slack incoming webhook.
	if code, body, err := post(trusting, "/services/T000/B000/XXXX", `{"channel":"#alerts","text":"HighResponseTime"}`); err != nil || code != 200 || body != "ok" {
		t.Errorf("Slack: %d %q %v", code, body, err)
	}
	// Heartbeat: any method.
	resp, err := trusting.Get(hooks + "/heartbeat")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("heartbeat: %v %v", resp, err)
	}
	resp.Body.Close()

	// Negative: a client that trusts nothing, one with only the system roots, and a wrong name.
	var unknown x509.UnknownAuthorityError
	if _, _, err := post(clientTrusting(t, ""), "/v2/enqueue", `{}`); !errors.As(err, &unknown) {
		t.Errorf("a client trusting no CA: %v, want an unknown authority error", err)
	}
	if _, _, err := post(&http.Client{Timeout: 5 * time.Second}, "/services/x", `{}`); err == nil {
		t.Error("a client with the system roots trusted the throw-away CA")
	}
	wrongName := clientTrusting(t, filepath.Join(dir, "ca.pem"))
	wrongName.Transport.(*http.Transport).TLSClientConfig.ServerName = "other.example"
	if _, _, err := post(wrongName, "/services/x", `{}`); err == nil {
		t.Error("the certificate was accepted for other.example")
	}
	// Plain HTTP on the TLS port is refused and not recorded.
	if resp, err := http.Post("http://"+s.hooks.address()+"/services/plain", "application/json", strings.NewReader(`{}`)); err == nil {
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("plain HTTP on the TLS port: %d", resp.StatusCode)
		}
	}

	// The recordings.
	get := func(query string) []Recorded {
		resp, err := http.Get(api + "/requests" + query)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var list []Recorded
		if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
			t.Fatal(err)
		}
		return list
	}
	all := get("")
	if len(all) != 4 {
		t.Fatalf("recorded %d requests, want 4: %+v", len(all), all)
	}
	first := all[0]
	var event struct {
		RoutingKey string `json:"routing_key"`
		Payload    struct{ Summary string }
	}
	if err := json.Unmarshal(first.JSON, &event); err != nil || event.Payload.Summary != "RegistryDown" || first.Method != "POST" ||
		first.Path != "/v2/enqueue" || first.Kind != "pagerduty" || first.Status != 202 || !first.TLS ||
		first.Headers.Get("Content-Type") != "application/json" || time.Since(first.Time) > time.Minute {
		t.Errorf("first recording: %+v", first)
	}
	if got := get("?path=/v2/enqueue"); len(got) != 2 || got[1].Status != 400 {
		t.Errorf("?path=/v2/enqueue: %+v", got)
	}
	if got := get("?path=/services/T000/B000/XXXX"); len(got) != 1 || got[0].Kind != "slack" {
		t.Errorf("?path= Slack: %+v", got)
	}
	if got := get("?path=/heartbeat"); len(got) != 1 || got[0].Method != "GET" || got[0].Kind != "webhook" {
		t.Errorf("?path=/heartbeat: %+v", got)
	}
	req, _ := http.NewRequest("DELETE", api+"/requests", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("DELETE /requests: %v %v", resp, err)
	}
	if got := get(""); len(got) != 0 {
		t.Errorf("after DELETE: %+v", got)
	}
}

func TestSinkPlainHTTPAndLimit(t *testing.T) {
	s, err := startSink("127.0.0.1:0", "127.0.0.1:0", "", "", 3, io.Discard, smtpOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	for i := 0; i < 5; i++ {
		resp, err := http.Post("http://"+s.hooks.address()+"/hook", "text/plain", strings.NewReader("ping "+string(rune('0'+i))))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	resp, err := http.Get("http://" + s.api.address() + "/requests")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list []Recorded
	json.NewDecoder(resp.Body).Decode(&list)
	if len(list) != 3 || list[0].Body != "ping 2" || list[2].ID != 5 || list[2].JSON != nil || list[2].TLS {
		t.Errorf("kept %+v, want the last 3 as text", list)
	}
}
