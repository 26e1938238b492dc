package main

// The real listeners: `down` closes a service's port (and its kept-alive
// connections) and brings it back on the same address; the control API.

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func startLocal(t *testing.T) *simulator {
	t.Helper()
	addrs := map[string]string{}
	for _, sp := range specs {
		addrs[sp.name] = "127.0.0.1:0"
	}
	x, err := startSimulator(newSim(time.Now, 1, io.Discard, nil), addrs, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(x.close)
	return x
}

func call(t *testing.T, client *http.Client, method, url string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestServicesAnswerTheirPaths(t *testing.T) {
	x := startLocal(t)
	paths := map[string][]string{
		kindRegistry: {"/metrics", "/health", "/api/federation/status"},
		kindTEG:      {"/api/metrics", "/health"},
		kindSPIRE:    {"/metrics", "/live", "/ready"},
		kindAgent:    {"/metrics", "/health"},
		kindX509:     {"/metrics"},
		kindPostgres: {"/metrics"},
	}
	for _, sp := range specs {
		base := "http://" + x.endpoints[sp.name].address()
		for _, p := range paths[sp.kind] {
			if code, body := call(t, http.DefaultClient, "GET", base+p); code != 200 || body == "" {
				t.Errorf("%s %s: %d %q", sp.name, p, code, body)
			}
		}
		if code, _ := call(t, http.DefaultClient, "GET", base+"/nowhere"); code != 404 {
			t.Errorf("%s /nowhere: %d", sp.name, code)
		}
	}
	// The TEG layer serves its metrics on /api/metrics only, as in the guide.
	if code, _ := call(t, http.DefaultClient, "GET", "http://"+x.endpoints["teg"].address()+"/metrics"); code != 404 {
		t.Errorf("teg /metrics: %d, want 404", code)
	}
}

func TestDownClosesThePort(t *testing.T) {
	x := startLocal(t)
	control := "http://" + x.control.address()
	addr := x.endpoints["registry-a"].address()
	keepAlive := &http.Client{Timeout: 3 * time.Second} // pools its connection
	if code, _ := call(t, keepAlive, "GET", "http://"+addr+"/health"); code != 200 {
		t.Fatalf("health before down: %d", code)
	}
	if code, body := call(t, http.DefaultClient, "POST", control+"/modes/registry-a/down"); code != 200 || !strings.Contains(body, `"changed": true`) {
		t.Fatalf("POST down: %d %s", code, body)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatalf("%s still accepts connections while down", addr)
	}
	for _, p := range []string{"/health", "/metrics"} {
		if resp, err := keepAlive.Get("http://" + addr + p); err == nil {
			resp.Body.Close()
			t.Errorf("%s answered %d on a kept-alive connection while down", p, resp.StatusCode)
		}
	}
	// The other services are untouched.
	if code, _ := call(t, http.DefaultClient, "GET", "http://"+x.endpoints["registry-b"].address()+"/health"); code != 200 {
		t.Errorf("registry-b: %d while registry-a is down", code)
	}
	_, body := call(t, http.DefaultClient, "GET", control+"/modes")
	var listed struct{ Active []ActiveMode }
	if err := json.Unmarshal([]byte(body), &listed); err != nil || len(listed.Active) != 1 || listed.Active[0].Service != "registry-a" || listed.Active[0].Mode != "down" {
		t.Errorf("GET /modes: %s", body)
	}
	if code, body := call(t, http.DefaultClient, "DELETE", control+"/modes/registry-a/down"); code != 200 {
		t.Fatalf("DELETE down: %d %s", code, body)
	}
	if x.endpoints["registry-a"].address() != addr {
		t.Fatalf("came back on %s, not %s", x.endpoints["registry-a"].address(), addr)
	}
	for _, p := range []string{"/health", "/metrics"} {
		if code, _ := call(t, keepAlive, "GET", "http://"+addr+p); code != 200 {
			t.Errorf("%s after down was switched off: %d", p, code)
		}
	}
}

func TestControlAPI(t *testing.T) {
	x := startLocal(t)
	control := "http://" + x.control.address()
	for _, c := range []struct {
		method, path string
		code         int
	}{
		{"POST", "/modes/registry-c/down", 404},       // unknown service
		{"POST", "/modes/teg/slow", 404},              // a mode of another kind
		{"POST", "/modes/registry-a/sluggish", 404},   // unknown mode
		{"DELETE", "/modes/nope/down", 404},           // unknown service, switching off
		{"POST", "/modes/registry-a", 404},            // no mode
		{"POST", "/modes/registry-a/slow/extra", 404}, // too long
		{"PUT", "/modes/registry-a/slow", 405},
		{"GET", "/modes/registry-a/slow", 405},
		{"GET", "/", 200},
		{"GET", "/health", 200},
		{"POST", "/modes/registry-a/slow", 200},
		{"POST", "/modes/teg/transfer-burst", 200},
		{"DELETE", "/modes/registry-a/slow", 200},
		{"DELETE", "/modes/registry-a/slow", 200}, // already off: still fine
		{"DELETE", "/modes", 200},
	} {
		code, body := call(t, http.DefaultClient, c.method, control+c.path)
		if code != c.code {
			t.Errorf("%s %s: %d, want %d (%s)", c.method, c.path, code, c.code, body)
		}
		if code >= 400 && code < 500 && !strings.Contains(body, "error") {
			t.Errorf("%s %s: %d without an error message: %s", c.method, c.path, code, body)
		}
	}
	if got := x.sim.Active(); len(got) != 0 {
		t.Errorf("DELETE /modes left %v", got)
	}
	_, body := call(t, http.DefaultClient, "POST", control+"/modes/spire/cert-expiry")
	_, again := call(t, http.DefaultClient, "POST", control+"/modes/spire/cert-expiry")
	if !strings.Contains(body, `"changed": true`) || !strings.Contains(again, `"changed": false`) {
		t.Errorf("switching on twice: %s then %s", body, again)
	}
	// GET / lists every service with its address and modes.
	_, body = call(t, http.DefaultClient, "GET", control+"/")
	var index struct{ Services map[string]serviceInfo }
	if err := json.Unmarshal([]byte(body), &index); err != nil || len(index.Services) != len(specs) || index.Services["teg"].Modes["transfer-burst"] != "UnusualTransactionVolume" {
		t.Errorf("GET /: %s", body)
	}
}
