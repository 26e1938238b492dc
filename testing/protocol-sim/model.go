package main

// The simulation: every service's state, advanced by a clock (the wall clock
// when serving, a virtual one in tests), and the failure modes.

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"
)

// Service kinds.
const (
	kindRegistry = "registry"
	kindTEG      = "teg"
	kindSPIRE    = "spire"
	kindAgent    = "agent"
	kindX509     = "x509"
	kindPostgres = "postgres_exporter"
)

// modeDown exists for every service: its listener closes.
const modeDown = "down"

// serviceSpec describes one simulated service: its name in the control API
// and logs, its kind, the job name the project's scrape configs give it, and
// where it serves its metrics.
type serviceSpec struct {
	name, kind, job, metricsPath string
	defaultPort                  int
}

// specs lists every service the simulator can run, in flag order.
var specs = []serviceSpec{
	{"registry-a", kindRegistry, "registry_a", "/metrics", 8000},
	{"registry-b", kindRegistry, "registry_b", "/metrics", 8001},
	{"teg", kindTEG, "teg_layer", "/api/metrics", 8080},
	{"spire", kindSPIRE, "spire_server", "/metrics", 9988},
	{"agent", kindAgent, "agents", "/metrics", 8090},
	{"x509", kindX509, "x509", "/metrics", 9793},
	{"postgres-exporter", kindPostgres, "postgres", "/metrics", 9187},
}

// modeInfo documents a mode: the alert it drives ("" for none) and how.
type modeInfo struct{ name, alert, note string }

// kindModes lists each kind's failure modes besides `down`.
var kindModes = map[string][]modeInfo{
	kindRegistry: {
		{"slow", "HighResponseTime", "2% of requests take 3-9 s (p99 about 6 s), after a burst of 36 slow ones"},
		{"auth-failures", "FailedAuthAttempts", "auth_failures_total: a burst of 75, then 16 a minute"},
		{"federation-lost", "RegistryFederationPeersLow", "registry_federation_peers 0 (the minimum is 1)"},
	},
	kindTEG: {
		{"treasury-low", "LowTreasuryBalance", "teg_treasury_balance around 650 tokens"},
		{"treasury-depleted", "TreasuryDepleted", "teg_treasury_balance 0 (LowTreasuryBalance holds too; Alertmanager inhibits it)"},
		{"transfer-burst", "UnusualTransactionVolume", "teg_transfers_total: a burst of 750, then about 175 a minute"},
	},
	kindSPIRE: {
		{"cert-expiry", "CertificateExpiringSoon", "the x509 listener's spire-server certificate expires in 3 days"},
	},
	kindAgent: {
		{"slow", "AgentHighResponseTime", "every request takes 2-4 s (mean request_duration about 3 s), after a 30 s stall"},
	},
	kindPostgres: {
		{"database-down", "RegistryDatabaseDown", "pg_up 0: the exporter answers, the database does not"},
	},
}

// downAlert is the alert `down` drives, per kind.
var downAlert = map[string]string{
	kindRegistry: "RegistryDown",
	kindTEG:      "TEGLayerDown",
	kindSPIRE:    "TargetDown",
	kindAgent:    "TargetDown",
	kindX509:     "TargetDown",
	kindPostgres: "TargetDown",
}

func modesOf(kind string) []string {
	list := []string{modeDown}
	for _, m := range kindModes[kind] {
		list = append(list, m.name)
	}
	return list
}

// model is what each kind of service implements.
type model interface {
	// advance integrates dt seconds of activity.
	advance(s *Sim, dt float64)
	// switched applies a mode's immediate effect (a jump, a new certificate...).
	switched(s *Sim, mode string, on bool)
	// families returns the service's own metric families (process_* are added by the caller).
	families(s *Sim) []family
	// logEvents is the service's log mix: events and their rates per second.
	logEvents(s *Sim) []logEvent
}

type logEvent struct {
	rate   float64 // lines per second
	level  string
	event  string
	fields func() []kv
}

// Service is one simulated service.
type Service struct {
	spec  serviceSpec
	modes map[string]time.Time // active modes, since when
	last  time.Time            // state computed up to here
	model model
	proc  *process
	style style
}

func (sv *Service) on(mode string) bool { _, ok := sv.modes[mode]; return ok }

// Sim holds every service. All access goes through its mutex.
type Sim struct {
	mu       sync.Mutex
	now      func() time.Time
	rng      *rand.Rand
	log      *Logger
	started  time.Time
	services []*Service
	byName   map[string]*Service
	certs    []cert // SPIRE's certificate files, as the x509 exporter reads them
}

// newSim creates the named services (all of specs when names is empty).
func newSim(now func() time.Time, seed uint64, logw io.Writer, names []string) *Sim {
	s := &Sim{now: now, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), started: now(), byName: map[string]*Service{}}
	s.log = &Logger{w: logw, now: now}
	s.certs = []cert{
		newCert(s, "spire-server", "spire-upstream-ca", "/run/spire/certs/server.crt", false),
		{serial: fmt.Sprint(s.rng.Uint64()), cn: "spire-upstream-ca", issuer: "spire-upstream-ca", path: "/run/spire/certs/upstream-ca.crt",
			notBefore: s.started.Add(-65 * 24 * time.Hour).Truncate(time.Second), notAfter: s.started.Add(300 * 24 * time.Hour).Truncate(time.Second)},
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	for _, spec := range specs {
		if len(names) > 0 && !want[spec.name] {
			continue
		}
		sv := &Service{spec: spec, modes: map[string]time.Time{}, last: s.started}
		switch spec.kind {
		case kindRegistry:
			sv.model, sv.style = newRegistry(s, spec.name), pythonStyle
		case kindTEG:
			sv.model, sv.style = newTEG(s), pythonStyle
		case kindSPIRE:
			sv.model, sv.style = newSPIRE(s), goStyle
		case kindAgent:
			sv.model, sv.style = newAgent(s), pythonStyle
		case kindX509:
			sv.model, sv.style = newX509(s), goStyle
		case kindPostgres:
			sv.model, sv.style = newPostgresExporter(s), goStyle
		}
		sv.proc = newProcess(s, sv.style == pythonStyle)
		s.services = append(s.services, sv)
		s.byName[spec.name] = sv
	}
	return s
}

// advanceLocked brings every service's state up to now. A service that is down
// is frozen (a hung process: nothing happens, nothing is lost).
func (s *Sim) advanceLocked(now time.Time) {
	for _, sv := range s.services {
		dt := now.Sub(sv.last).Seconds()
		if dt <= 0 {
			continue
		}
		sv.last = now
		if sv.on(modeDown) {
			continue
		}
		sv.model.advance(s, dt)
		sv.proc.advance(s, dt, len(sv.modes) > 0)
	}
}

// Metrics returns a service's exposition text as of now.
func (s *Sim) Metrics(name string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sv := s.byName[name]
	if sv == nil {
		return "", fmt.Errorf("unknown service %q", name)
	}
	s.advanceLocked(s.now())
	fams := append(sv.proc.families(s, sv.style == pythonStyle), sv.model.families(s)...)
	return render(sv.style, fams), nil
}

// ModeError is a request for a service or mode that does not exist.
type ModeError struct{ msg string }

func (e *ModeError) Error() string { return e.msg }

func (s *Sim) check(service, mode string) (*Service, error) {
	sv := s.byName[service]
	if sv == nil {
		names := make([]string, 0, len(s.services))
		for _, x := range s.services {
			names = append(names, x.spec.name)
		}
		return nil, &ModeError{fmt.Sprintf("unknown service %q (running: %s)", service, strings.Join(names, ", "))}
	}
	for _, m := range modesOf(sv.spec.kind) {
		if m == mode {
			return sv, nil
		}
	}
	return nil, &ModeError{fmt.Sprintf("service %s has no mode %q (modes: %s)", service, mode, strings.Join(modesOf(sv.spec.kind), ", "))}
}

// SetMode switches a mode on or off; it reports whether anything changed.
func (s *Sim) SetMode(service, mode string, on bool) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sv, err := s.check(service, mode)
	if err != nil {
		return false, err
	}
	if sv.on(mode) == on {
		return false, nil
	}
	now := s.now()
	s.advanceLocked(now) // what happened until now happened in the old mode
	if on {
		sv.modes[mode] = now
	} else {
		delete(sv.modes, mode)
	}
	sv.model.switched(s, mode, on)
	level, event := "info", "simulation_mode_disabled"
	if on {
		level, event = "warning", "simulation_mode_enabled"
		if mode == modeDown {
			level = "error"
		}
	}
	s.log.Log(level, service, "protocol_sim.control", event, kv{"mode", mode}, kv{"job", sv.spec.job})
	return true, nil
}

// ActiveMode is one entry of GET /modes.
type ActiveMode struct {
	Service string    `json:"service"`
	Mode    string    `json:"mode"`
	Since   time.Time `json:"since"`
}

func (s *Sim) Active() []ActiveMode {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := []ActiveMode{}
	for _, sv := range s.services {
		for m, since := range sv.modes {
			list = append(list, ActiveMode{sv.spec.name, m, since})
		}
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].Service != list[j].Service {
			return list[i].Service < list[j].Service
		}
		return list[i].Mode < list[j].Mode
	})
	return list
}

func (s *Sim) IsOn(service, mode string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	sv := s.byName[service]
	return sv != nil && sv.on(mode)
}

// Tick advances the simulation and writes the log lines of the elapsed dt
// seconds: at most one line per service per tick, so a few per second in all.
func (s *Sim) Tick(dt float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(s.now())
	for _, sv := range s.services {
		if sv.on(modeDown) {
			continue // a service that does not answer does not log either
		}
		events := sv.model.logEvents(s)
		total := 0.0
		for _, e := range events {
			total += e.rate
		}
		if total == 0 || s.rng.Float64() >= math.Min(1, total*dt) {
			continue
		}
		pick := s.rng.Float64() * total
		for _, e := range events {
			if pick -= e.rate; pick < 0 {
				var fields []kv
				if e.fields != nil {
					fields = e.fields()
				}
				s.log.Log(e.level, sv.spec.name, loggerName[sv.spec.kind], e.event, fields...)
				break
			}
		}
	}
}

var loggerName = map[string]string{
	kindRegistry: "registry.api",
	kindTEG:      "teg.ledger",
	kindSPIRE:    "spire.server",
	kindAgent:    "agent.runtime",
	kindX509:     "x509.exporter",
	kindPostgres: "postgres_exporter",
}

// ---------------------------------------------------------------------------
// Building blocks

// jitter returns 1 ± j, uniformly.
func (s *Sim) jitter(j float64) float64 { return 1 + j*(2*s.rng.Float64()-1) }

// counter counts events: a rate integrates into whole increments (a
// fractional remainder carries over), so it only ever grows, by whole steps.
type counter struct{ value, acc float64 }

// due returns how many of rate*dt events (±25% jitter) are complete, without counting them.
func (c *counter) due(s *Sim, rate, dt float64) int {
	c.acc += rate * dt * s.jitter(0.25)
	n := math.Floor(c.acc)
	c.acc -= n
	return int(n)
}

// run counts rate*dt events (±25% jitter); it returns how many were added.
func (c *counter) run(s *Sim, rate, dt float64) int {
	n := c.due(s, rate, dt)
	c.value += float64(n)
	return n
}

// wander is a gauge that reverts to a mean with noise (an Ornstein-Uhlenbeck
// process), kept within [lo, hi].
type wander struct {
	value, mean, lo, hi float64
	tau                 float64 // seconds to revert about 63% of the way to the mean
	sigma               float64 // standard deviation of the noise over one tau
}

func (w *wander) advance(s *Sim, dt float64) {
	k := math.Min(1, dt/w.tau)
	w.value += (w.mean-w.value)*k + w.sigma*math.Sqrt(k)*s.rng.NormFloat64()
	w.value = math.Max(w.lo, math.Min(w.hi, w.value))
}

// process is the process_* series a client library exports.
type process struct {
	cpu, rss, fds wander
	cpuSeconds    float64
	startTime     float64
	maxFDs        float64
}

func newProcess(s *Sim, python bool) *process {
	rss := 96e6
	if !python {
		rss = 48e6
	}
	return &process{
		cpu:       wander{value: 0.03, mean: 0.03, lo: 0.005, hi: 0.5, tau: 60, sigma: 0.01},
		rss:       wander{value: rss, mean: rss, lo: rss * 0.7, hi: rss * 2, tau: 300, sigma: rss * 0.04},
		fds:       wander{value: 24, mean: 24, lo: 12, hi: 200, tau: 60, sigma: 3},
		startTime: s.startedUnix(),
		maxFDs:    1048576,
	}
}

// advance runs the process for dt seconds; a service in a failure mode works harder.
func (p *process) advance(s *Sim, dt float64, busy bool) {
	p.cpu.mean = 0.03
	if busy {
		p.cpu.mean = 0.12
	}
	p.cpu.advance(s, dt)
	p.rss.advance(s, dt)
	p.fds.advance(s, dt)
	p.cpuSeconds += p.cpu.value * dt
}

func (p *process) families(s *Sim, python bool) []family {
	fam := func(name, help, typ string, v float64) family {
		f := family{name: name, help: help, typ: typ}
		f.add(v)
		return f
	}
	list := []family{
		fam("process_virtual_memory_bytes", "Virtual memory size in bytes.", "gauge", math.Round(p.rss.value*4.2/4096)*4096),
		fam("process_resident_memory_bytes", "Resident memory size in bytes.", "gauge", math.Round(p.rss.value/4096)*4096),
		fam("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", "gauge", math.Round(p.startTime*100)/100),
		fam("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", "counter", math.Round(p.cpuSeconds*100)/100),
		fam("process_open_fds", "Number of open file descriptors.", "gauge", math.Round(p.fds.value)),
		fam("process_max_fds", "Maximum number of open file descriptors.", "gauge", p.maxFDs),
	}
	if python {
		info := family{name: "python_info", help: "Python platform information", typ: "gauge"}
		info.add(1, label{"implementation", "CPython"}, label{"major", "3"}, label{"minor", "11"}, label{"patchlevel", "9"}, label{"version", "3.11.9"})
		return append([]family{info}, list...)
	}
	gor := fam("go_goroutines", "Number of goroutines that currently exist.", "gauge", math.Round(20+p.cpu.value*200))
	info := family{name: "go_info", help: "Information about the Go environment.", typ: "gauge"}
	info.add(1, label{"version", "go1.22.5"})
	return append([]family{gor, info}, list...)
}

// ---------------------------------------------------------------------------
// Logs: one JSON object per line, shaped like the guide's structlog setup
// (JSONRenderer after add_logger_name, add_log_level and TimeStamper(fmt="iso")):
// the event's fields, then event, logger, level, timestamp.

type kv struct {
	key   string
	value any
}

type Logger struct {
	mu  sync.Mutex
	w   io.Writer
	now func() time.Time
}

func (l *Logger) Log(level, service, logger, event string, fields ...kv) {
	if l == nil || l.w == nil {
		return
	}
	all := append([]kv{{"service", service}}, fields...)
	all = append(all, kv{"event", event}, kv{"logger", logger}, kv{"level", level},
		kv{"timestamp", l.now().UTC().Format("2006-01-02T15:04:05.000000Z")})
	var b strings.Builder
	b.WriteByte('{')
	for i, f := range all {
		if i > 0 {
			b.WriteString(", ")
		}
		k, _ := json.Marshal(f.key)
		v, err := json.Marshal(f.value)
		if err != nil {
			v, _ = json.Marshal(fmt.Sprint(f.value))
		}
		b.Write(k)
		b.WriteString(": ")
		b.Write(v)
	}
	b.WriteString("}\n")
	l.mu.Lock()
	defer l.mu.Unlock()
	io.WriteString(l.w, b.String())
}
