package main

// The simulate command: one listener per service, and the control API that
// switches failure modes.

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// endpoint is a listener that can be closed and opened again on the same
// address (mode `down`). Closing the server also cuts kept-alive connections,
// so a scraper with a pooled connection fails too.
type endpoint struct {
	mu      sync.Mutex
	addr    string
	handler http.Handler
	tls     *tls.Config // serve HTTPS when set
	srv     *http.Server
}

var quietLog = log.New(io.Discard, "", 0)

func (e *endpoint) start() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.srv != nil {
		return nil
	}
	ln, err := net.Listen("tcp", e.addr)
	if err != nil {
		return err
	}
	// Keep the host as given; pin a port 0 to the one the kernel chose, so
	// the service comes back where it was.
	if host, port, err := net.SplitHostPort(e.addr); err == nil && port == "0" {
		e.addr = net.JoinHostPort(host, fmt.Sprint(ln.Addr().(*net.TCPAddr).Port))
	}
	e.srv = &http.Server{Handler: e.handler, ReadHeaderTimeout: 10 * time.Second, ErrorLog: quietLog}
	if e.tls != nil {
		ln = tls.NewListener(ln, e.tls)
	}
	go e.srv.Serve(ln)
	return nil
}

func (e *endpoint) stop() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.srv != nil {
		e.srv.Close()
		e.srv = nil
	}
}

func (e *endpoint) address() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.addr
}

// simulator is a running simulate command.
type simulator struct {
	sim       *Sim
	endpoints map[string]*endpoint // by service name
	control   *endpoint
	ctl       sync.Mutex // one mode switch at a time
}

// startSimulator serves every service with an address (an empty one is not
// run) and the control API.
func startSimulator(sim *Sim, addrs map[string]string, controlAddr string) (*simulator, error) {
	x := &simulator{sim: sim, endpoints: map[string]*endpoint{}}
	for _, sv := range sim.services {
		e := &endpoint{addr: addrs[sv.spec.name], handler: x.serviceHandler(sv.spec)}
		if err := e.start(); err != nil {
			x.close()
			return nil, fmt.Errorf("%s: %w", sv.spec.name, err)
		}
		x.endpoints[sv.spec.name] = e
	}
	x.control = &endpoint{addr: controlAddr, handler: x.controlHandler()}
	if err := x.control.start(); err != nil {
		x.close()
		return nil, fmt.Errorf("control: %w", err)
	}
	return x, nil
}

func (x *simulator) close() {
	for _, e := range x.endpoints {
		e.stop()
	}
	if x.control != nil {
		x.control.stop()
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func (x *simulator) serviceHandler(spec serviceSpec) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+spec.metricsPath, func(w http.ResponseWriter, r *http.Request) {
		text, err := x.sim.Metrics(spec.name)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", contentType)
		io.WriteString(w, text)
	})
	healthy := func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "healthy", "service": spec.name})
	}
	switch spec.kind {
	case kindRegistry, kindTEG, kindAgent:
		mux.HandleFunc("GET /health", healthy)
	case kindSPIRE: // the paths of SPIRE's health_checks block
		mux.HandleFunc("GET /live", healthy)
		mux.HandleFunc("GET /ready", healthy)
	}
	if spec.kind == kindRegistry {
		// The guide's health script reads .status here.
		mux.HandleFunc("GET /api/federation/status", func(w http.ResponseWriter, r *http.Request) {
			peers := x.sim.federationPeers(spec.name)
			status := "connected"
			if peers == 0 {
				status = "disconnected"
			}
			writeJSON(w, http.StatusOK, map[string]any{"status": status, "peers": peers})
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"detail": "Not Found"})
	})
	return mux
}

func (s *Sim) federationPeers(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(s.now())
	if r, ok := s.byName[name].model.(*registry); ok {
		return int(r.federationPeers(s))
	}
	return 0
}

// setMode switches a mode and, for `down`, the service's listener.
func (x *simulator) setMode(service, mode string, on bool) (changed bool, err error) {
	x.ctl.Lock()
	defer x.ctl.Unlock()
	if _, err := x.sim.check(service, mode); err != nil {
		return false, err
	}
	if mode == modeDown {
		if e := x.endpoints[service]; on {
			e.stop()
		} else if err := e.start(); err != nil {
			return false, fmt.Errorf("cannot listen on %s again: %w", e.address(), err)
		}
	}
	return x.sim.SetMode(service, mode, on)
}

type serviceInfo struct {
	Job         string            `json:"job"`
	Address     string            `json:"address"`
	MetricsPath string            `json:"metrics_path"`
	Modes       map[string]string `json:"modes"` // mode → the alert it drives
}

func (x *simulator) services() map[string]serviceInfo {
	out := map[string]serviceInfo{}
	for _, sv := range x.sim.services {
		modes := map[string]string{modeDown: downAlert[sv.spec.kind]}
		for _, m := range kindModes[sv.spec.kind] {
			modes[m.name] = m.alert
			if m.alert == "" {
				modes[m.name] = m.note
			}
		}
		out[sv.spec.name] = serviceInfo{sv.spec.job, x.endpoints[sv.spec.name].address(), sv.spec.metricsPath, modes}
	}
	return out
}

func (x *simulator) controlHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{
			"services": x.services(),
			"usage":    "POST /modes/<service>/<mode> switches a mode on, DELETE switches it off, GET /modes lists the active ones, DELETE /modes switches all off",
		})
	})
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "healthy"})
	})
	mux.HandleFunc("GET /modes", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"active": x.sim.Active()})
	})
	mux.HandleFunc("DELETE /modes", func(w http.ResponseWriter, r *http.Request) {
		cleared := x.sim.Active()
		for _, m := range cleared {
			if _, err := x.setMode(m.Service, m.Mode, false); err != nil {
				writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": err.Error()})
				return
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"cleared": cleared, "active": x.sim.Active()})
	})
	switchMode := func(on bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			service, mode := r.PathValue("service"), r.PathValue("mode")
			changed, err := x.setMode(service, mode, on)
			var me *ModeError
			switch {
			case errors.As(err, &me):
				writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
			case err != nil:
				writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": err.Error()})
			default:
				writeJSON(w, http.StatusOK, map[string]any{"service": service, "mode": mode, "active": on, "changed": changed})
			}
		}
	}
	mux.HandleFunc("POST /modes/{service}/{mode}", switchMode(true))
	mux.HandleFunc("DELETE /modes/{service}/{mode}", switchMode(false))
	notAllowed := func(allow string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": r.Method + " not allowed here; use " + allow})
		}
	}
	mux.HandleFunc("/modes/{service}/{mode}", notAllowed("POST, DELETE"))
	mux.HandleFunc("/modes", notAllowed("GET, DELETE"))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such endpoint: " + r.Method + " " + r.URL.Path + " (GET / lists the services and modes)"})
	})
	return mux
}

// modeList formats every service's modes for the help text.
func modeList() string {
	var b strings.Builder
	for _, sp := range specs {
		var ms []string
		for _, m := range modesOf(sp.kind) {
			ms = append(ms, m)
		}
		sort.Strings(ms)
		fmt.Fprintf(&b, "  %-17s %s\n", sp.name, strings.Join(ms, ", "))
	}
	return b.String()
}
