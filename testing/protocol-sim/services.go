package main

// What each kind of simulated service exports and logs. Metric names, types
// and labels follow stacks/protocol/metrics.yml (the registries and the TEG layer as
// instrumented in the monitoring setup guide, with prometheus_client); the
// catalog test (catalog_test.go) holds them to it.

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Tuning of the modes against the rules in stacks/protocol/rules/*.rules.yml and their
// default thresholds (stacks/environment.ts). A mode that drives a rate over a
// 5-minute window adds a burst at once (enough for the next scrape to cross
// the threshold) and keeps a rate 1.5 times the threshold while on.
const (
	registryRequestRate = 4.0  // requests a second, per registry
	slowFraction        = 0.02 // of requests taking 3-9 s in `slow`: p99 ≈ 6 s, p98 normal
	// slowBurst: 3% of five minutes of requests finish slowly at once, so the
	// p99 of the next scrape's 5-minute window is already past 2.5 s.
	slowBurst = 36

	authFailureRate      = 1.0 / 60  // a second, normally
	authFailureModeRate  = 15.0 / 60 // a second more in `auth-failures` (threshold 10/min)
	authFailureBurst     = 75        // at once: 75 in a 5-minute window is 15/min
	transfersModeRate    = 150.0 / 60
	transfersBurst       = 750 // 150/min over a 5-minute window (threshold 100/min)
	treasuryNormalMean   = 52000.0
	treasuryLowMean      = 650.0 // below the default minimum of 1000 tokens
	certExpiringLifetime = 3 * 24 * time.Hour
	certFreshLifetime    = 90 * 24 * time.Hour
)

// The agent's `slow`: a mean over a 5-minute window, so a burst too.
const (
	agentRequestRate   = 2.0  // requests a second
	agentMedianLatency = 0.15 // seconds, normally (mean about 0.19 s)
	// agentStall: when `slow` starts, the requests that arrived during a stall
	// of this many seconds complete at once, having waited up to that long.
	// With the 2-4 s of every later request, the mean of the next scrape's
	// 5-minute window is already above 1 s (the stall adds about 930 s for 60
	// requests to a window of about 600 requests and 115 s).
	agentStall = 30.0
)

// created is the _created gauge prometheus_client adds to a counter or histogram.
func created(name, help string, at float64, labels ...label) family {
	f := family{name: name + "_created", help: help, typ: "gauge"}
	f.add(at, labels...)
	return f
}

func single(name, help, typ string, v float64, labels ...label) family {
	f := family{name: name, help: help, typ: typ}
	f.add(v, labels...)
	return f
}

func (s *Sim) startedUnix() float64 { return float64(s.started.UnixMilli()) / 1000 }

func (s *Sim) pick(list ...string) string { return list[s.rng.IntN(len(list))] }

func (s *Sim) agentID() string { return fmt.Sprintf("did:sov:agent-%04d", s.rng.IntN(400)) }

func (s *Sim) requestID() string { return fmt.Sprintf("%08x", s.rng.Uint32()) }

// fastLatency: median 35 ms, nothing above 0.9 s.
func (s *Sim) fastLatency(median float64) float64 {
	return math.Min(0.9, median*math.Exp(0.7*s.rng.NormFloat64()))
}

// ---------------------------------------------------------------------------
// Registries

var policies = []struct {
	name string
	rate float64 // a second
}{{"capability_scope", 0.3 / 60}, {"rate_limit", 0.5 / 60}, {"federation_trust", 0.1 / 60}}

type registry struct {
	name, other     string // this registry's and the other one's service names
	registrations   counter
	registrationHz  float64
	active, peers   wander
	requests        *histogram
	reqAcc, slowAcc float64
	authFailures    counter
	violations      []counter
}

func newRegistry(s *Sim, name string) *registry {
	r := &registry{name: name, other: "registry-b", registrationHz: 1.2 / 60, requests: newHistogram(pythonBuckets),
		active:     wander{value: 48, mean: 48, lo: 30, hi: 70, tau: 900, sigma: 2},
		peers:      wander{value: 2, mean: 2, lo: 1, hi: 3, tau: 1800, sigma: 0.4},
		violations: make([]counter, len(policies))}
	if name == "registry-b" {
		r.other, r.registrationHz = "registry-a", 0.8/60
		r.active = wander{value: 31, mean: 31, lo: 18, hi: 50, tau: 900, sigma: 1.5}
	}
	return r
}

func (r *registry) me(s *Sim) *Service { return s.byName[r.name] }

func (r *registry) advance(s *Sim, dt float64) {
	me := r.me(s)
	r.registrations.run(s, r.registrationHz, dt)
	r.active.advance(s, dt)
	r.peers.advance(s, dt)
	r.reqAcc += registryRequestRate * dt * s.jitter(0.2)
	n := math.Floor(r.reqAcc)
	r.reqAcc -= n
	slow := 0.0
	if me.on("slow") {
		r.slowAcc += n * slowFraction
		slow = math.Floor(r.slowAcc)
		r.slowAcc -= slow
	}
	for i := 0; i < int(math.Min(n-slow, 200000)); i++ {
		r.requests.observe(s.fastLatency(0.035))
	}
	r.observeSlow(s, int(slow))
	rate := authFailureRate
	if me.on("auth-failures") {
		rate += authFailureModeRate
	}
	r.authFailures.run(s, rate, dt)
	for i, p := range policies {
		r.violations[i].run(s, p.rate, dt)
	}
}

func (r *registry) observeSlow(s *Sim, n int) {
	for i := 0; i < n; i++ {
		r.requests.observe(3 + 6*s.rng.Float64())
	}
}

func (r *registry) switched(s *Sim, mode string, on bool) {
	if !on {
		return
	}
	switch mode {
	case "slow":
		r.observeSlow(s, slowBurst)
	case "auth-failures":
		r.authFailures.value += authFailureBurst
	}
}

// federationPeers: the external peers, plus the other registry while it answers.
func (r *registry) federationPeers(s *Sim) float64 {
	if r.me(s).on("federation-lost") {
		return 0
	}
	n := math.Round(r.peers.value)
	if o := s.byName[r.other]; o != nil && !o.on(modeDown) {
		n++
	}
	return n
}

func (r *registry) families(s *Sim) []family {
	t := s.startedUnix()
	list := []family{
		single("registry_agent_registrations_total", "Total agent registrations", "counter", r.registrations.value),
		created("registry_agent_registrations", "Total agent registrations", t),
		single("registry_active_agents", "Number of active agents", "gauge", math.Round(r.active.value)),
		r.requests.family(pythonStyle, "http_request_duration_seconds", "HTTP request duration"),
		created("http_request_duration_seconds", "HTTP request duration", t),
		single("registry_federation_peers", "Number of federation peers", "gauge", r.federationPeers(s)),
		single("auth_failures_total", "Total authentication failures", "counter", r.authFailures.value),
		created("auth_failures", "Total authentication failures", t),
	}
	v := family{name: "registry_policy_violations_total", help: "Requests denied by a policy", typ: "counter"}
	c := family{name: "registry_policy_violations_created", help: "Requests denied by a policy", typ: "gauge"}
	for i, p := range policies {
		v.add(r.violations[i].value, label{"policy", p.name})
		c.add(t, label{"policy", p.name})
	}
	return append(list, v, c)
}

func (r *registry) logEvents(s *Sim) []logEvent {
	me := r.me(s)
	job := me.spec.job
	request := func(slow bool) func() []kv {
		return func() []kv {
			d := s.fastLatency(0.035)
			if slow {
				d = 3 + 6*s.rng.Float64()
			}
			method, path := "GET", s.pick("/api/agents", "/api/agents/discover", "/api/federation/status")
			if s.rng.IntN(4) == 0 {
				method, path = "POST", "/api/agents/register"
			}
			return []kv{{"request_id", s.requestID()}, {"method", method}, {"path", path}, {"status", 200},
				{"duration_ms", math.Round(d * 1000)}, {"agent_id", s.agentID()}, {"registry", job}}
		}
	}
	authRate := authFailureRate
	if me.on("auth-failures") {
		authRate += authFailureModeRate
	}
	events := []logEvent{
		{0.2, "info", "request_completed", request(false)},
		{r.registrationHz, "info", "agent_registered", func() []kv {
			return []kv{{"agent_id", s.agentID()}, {"capabilities", []string{s.pick("search", "translate", "summarize", "pay")}}, {"registry", job}}
		}},
		{0.02, "info", "federation_sync", func() []kv { return []kv{{"peers", r.federationPeers(s)}, {"registry", job}} }},
		{authRate, "warning", "auth_failed", func() []kv {
			return []kv{{"agent_id", s.agentID()}, {"reason", s.pick("invalid_signature", "expired_token", "unknown_did")},
				{"remote_addr", fmt.Sprintf("10.0.%d.%d", s.rng.IntN(4), 2+s.rng.IntN(250))}, {"registry", job}}
		}},
		{0.015, "warning", "policy_violation", func() []kv {
			return []kv{{"policy", policies[s.rng.IntN(len(policies))].name}, {"agent_id", s.agentID()}, {"registry", job}}
		}},
	}
	if me.on("slow") {
		events = append(events, logEvent{0.2, "warning", "slow_request", request(true)})
	}
	if me.on("federation-lost") {
		events = append(events, logEvent{0.1, "error", "federation_peer_unreachable", func() []kv {
			return []kv{{"peer", s.pick("registry_a", "registry_b", "registry.partner.example")}, {"registry", job}}
		}})
	}
	return events
}

// ---------------------------------------------------------------------------
// TEG layer

var transferTypes = []struct {
	name  string
	rate  float64 // a second, normally
	share float64 // of a burst
}{{"transfer", 18.0 / 60, 0.8}, {"stake", 4.0 / 60, 0.15}, {"unstake", 2.0 / 60, 0.05}}

type teg struct {
	transfers []counter
	fees      float64
	treasury  wander
	staking   wander
}

func newTEG(s *Sim) *teg {
	t := &teg{transfers: make([]counter, len(transferTypes)),
		staking: wander{value: 240000, mean: 240000, lo: 150000, hi: 400000, tau: 3600, sigma: 4000}}
	t.setTreasury(s)
	return t
}

// setTreasury sets the treasury for the TEG layer's modes: a healthy one
// wanders around 52k tokens; a low one (a large payout drained it) around 650,
// always below the minimum of 1000; a depleted one holds 0 (every fee that
// comes in goes straight to the payouts waiting for it). `treasury-depleted`
// wins over `treasury-low`; switching it off leaves the treasury low if
// `treasury-low` is still on.
func (t *teg) setTreasury(s *Sim) {
	me := s.byName["teg"]
	switch {
	case me != nil && me.on("treasury-depleted"):
		t.treasury = wander{mean: 0, lo: 0, hi: 0, tau: 60}
	case me != nil && me.on("treasury-low"):
		t.treasury = wander{mean: treasuryLowMean, lo: 120, hi: 950, tau: 120, sigma: 80}
	default:
		t.treasury = wander{mean: treasuryNormalMean, lo: 20000, hi: 90000, tau: 1800, sigma: 1500}
	}
	t.treasury.value = t.treasury.mean * s.jitter(0.05)
}

// addTransfers records n transfers of type i with their 1% fee on token transfers.
func (t *teg) addTransfers(s *Sim, i, n int) {
	t.transfers[i].value += float64(n)
	if transferTypes[i].name == "transfer" {
		for k := 0; k < n; k++ {
			t.fees += 0.01 * math.Round(40*math.Exp(0.8*s.rng.NormFloat64())*100) / 100
		}
	}
}

func (t *teg) advance(s *Sim, dt float64) {
	burst := s.byName["teg"].on("transfer-burst")
	for i, tt := range transferTypes {
		rate := tt.rate
		if burst {
			rate += transfersModeRate * tt.share
		}
		t.addTransfers(s, i, t.transfers[i].due(s, rate, dt))
	}
	t.treasury.advance(s, dt)
	t.staking.advance(s, dt)
}

func (t *teg) switched(s *Sim, mode string, on bool) {
	switch mode {
	case "treasury-low", "treasury-depleted":
		t.setTreasury(s)
	case "transfer-burst":
		if on {
			for i, tt := range transferTypes {
				t.addTransfers(s, i, int(math.Round(transfersBurst*tt.share)))
			}
		}
	}
}

func (t *teg) families(s *Sim) []family {
	at := s.startedUnix()
	tr := family{name: "teg_transfers_total", help: "Total token transfers", typ: "counter"}
	cr := family{name: "teg_transfers_created", help: "Total token transfers", typ: "gauge"}
	for i, tt := range transferTypes {
		tr.add(t.transfers[i].value, label{"type", tt.name})
		cr.add(at, label{"type", tt.name})
	}
	return []family{tr, cr,
		single("teg_treasury_balance", "Current treasury balance", "gauge", math.Round(t.treasury.value*100)/100),
		single("teg_staking_total", "Total staked tokens", "gauge", math.Round(t.staking.value*100)/100),
		single("teg_fees_collected_total", "Total fees collected", "counter", math.Round(t.fees*1e6)/1e6),
		created("teg_fees_collected", "Total fees collected", at),
	}
}

func (t *teg) logEvents(s *Sim) []logEvent {
	me := s.byName["teg"]
	transfer := func() []kv {
		amount := math.Round(40*math.Exp(0.8*s.rng.NormFloat64())*100) / 100
		return []kv{{"tx_id", s.requestID()}, {"type", "transfer"}, {"from_did", s.agentID()}, {"to_did", s.agentID()},
			{"amount", amount}, {"fee", math.Round(amount) / 100}}
	}
	rate := 0.3
	events := []logEvent{
		{0.03, "info", "tokens_staked", func() []kv { return []kv{{"agent_id", s.agentID()}, {"amount", 100 * (1 + s.rng.IntN(20))}} }},
	}
	if me.on("transfer-burst") {
		rate = 0.7
		events = append(events, logEvent{0.05, "warning", "transfer_volume_high", func() []kv {
			return []kv{{"transfers_per_minute", math.Round(60 * (transfersModeRate + 24.0/60))}}
		}})
	}
	switch {
	case me.on("treasury-depleted"):
		events = append(events, logEvent{0.1, "error", "treasury_payout_failed", func() []kv {
			return []kv{{"to_did", s.agentID()}, {"amount", 50 * (1 + s.rng.IntN(10))}, {"balance", 0}, {"reason", "insufficient_treasury_balance"}}
		}})
	case me.on("treasury-low"):
		events = append(events, logEvent{0.1, "warning", "treasury_balance_low", func() []kv {
			return []kv{{"balance", math.Round(t.treasury.value*100) / 100}, {"minimum", 1000}}
		}})
	}
	return append(events, logEvent{rate, "info", "transfer_completed", transfer})
}

// ---------------------------------------------------------------------------
// SPIRE server: a few series in the shape of its Prometheus telemetry (none
// is in the catalog). Its certificates are watched by the x509 exporter.

type spire struct {
	svids, renewals, entryLists counter
	agents                      wander
}

func newSPIRE(s *Sim) *spire {
	return &spire{agents: wander{value: 12, mean: 12, lo: 8, hi: 16, tau: 1800, sigma: 1}}
}

func (p *spire) advance(s *Sim, dt float64) {
	p.svids.run(s, 0.5, dt)
	p.renewals.run(s, 0.01, dt)
	p.entryLists.run(s, 0.2, dt)
	p.agents.advance(s, dt)
}

func (p *spire) switched(s *Sim, mode string, on bool) {
	if mode == "cert-expiry" {
		s.certs[0] = newCert(s, "spire-server", "spire-upstream-ca", "/run/spire/certs/server.crt", on)
	}
}

func (p *spire) families(s *Sim) []family {
	ok := label{"status", "OK"}
	return []family{
		single("spire_server_uptime_in_ms", "spire_server_uptime_in_ms", "gauge", float64(s.now().Sub(s.started).Milliseconds())),
		single("spire_server_rpc_svid_v1_svid_batch_new_x509_svid", "spire_server_rpc_svid_v1_svid_batch_new_x509_svid", "counter", p.svids.value, ok),
		single("spire_server_rpc_agent_v1_agent_renew_agent", "spire_server_rpc_agent_v1_agent_renew_agent", "counter", p.renewals.value, ok),
		single("spire_server_datastore_registration_entry_list", "spire_server_datastore_registration_entry_list", "counter", p.entryLists.value, ok),
		single("spire_server_node_agents_by_id_cache_count", "spire_server_node_agents_by_id_cache_count", "gauge", math.Round(p.agents.value)),
	}
}

func (p *spire) logEvents(s *Sim) []logEvent {
	events := []logEvent{{0.12, "info", "x509_svid_signed", func() []kv {
		return []kv{{"spiffe_id", "spiffe://protocol.example/agent/" + strings.TrimPrefix(s.agentID(), "did:sov:")}, {"ttl_seconds", 3600}}
	}}}
	if s.byName["spire"].on("cert-expiry") {
		c := s.certs[0]
		events = append(events, logEvent{0.1, "warning", "certificate_expiring", func() []kv {
			return []kv{{"subject_cn", c.cn}, {"not_after", c.notAfter.UTC().Format(time.RFC3339)}, {"path", c.path}}
		}})
	}
	return events
}

// ---------------------------------------------------------------------------
// x509-certificate-exporter watching SPIRE's certificate files.

type cert struct {
	serial, cn, issuer, path string
	notBefore, notAfter      time.Time
}

// newCert makes the watched certificate: a fresh one (90 days, issued 20 days
// ago), or, `expiring`, one that expires in 3 days.
func newCert(s *Sim, cn, issuer, path string, expiring bool) cert {
	now := s.now()
	c := cert{serial: fmt.Sprint(s.rng.Uint64()), cn: cn, issuer: issuer, path: path,
		notBefore: now.Add(-20 * 24 * time.Hour).Truncate(time.Second)}
	c.notAfter = c.notBefore.Add(certFreshLifetime)
	if expiring {
		c.notAfter = now.Add(certExpiringLifetime).Truncate(time.Second)
		c.notBefore = c.notAfter.Add(-certFreshLifetime)
	}
	return c
}

// x509Labels are the labels the exporter puts on every per-certificate series
// (stacks/protocol/metrics.yml); those that do not apply to a file are empty, which
// Prometheus stores as absent.
func (c cert) labels() []label {
	dir, file := c.path[:strings.LastIndexByte(c.path, '/')], c.path[strings.LastIndexByte(c.path, '/')+1:]
	return []label{{"serial_number", c.serial},
		{"subject_C", ""}, {"subject_ST", ""}, {"subject_L", ""}, {"subject_O", "Protocol"}, {"subject_OU", "spire"}, {"subject_CN", c.cn},
		{"issuer_C", ""}, {"issuer_ST", ""}, {"issuer_L", ""}, {"issuer_O", "Protocol"}, {"issuer_OU", "spire"}, {"issuer_CN", c.issuer},
		{"filename", file}, {"filepath", dir + "/" + file},
		{"embedded_kind", ""}, {"embedded_key", ""}, {"secret_namespace", ""}, {"secret_name", ""}, {"secret_key", ""}, {"discriminator", ""}}
}

type x509exporter struct{}

func newX509(s *Sim) *x509exporter { return &x509exporter{} }

func (x *x509exporter) advance(s *Sim, dt float64)            {}
func (x *x509exporter) switched(s *Sim, mode string, on bool) {}

func (x *x509exporter) families(s *Sim) []family {
	nb := family{name: "x509_cert_not_before", help: "Certificate validity start date", typ: "gauge"}
	na := family{name: "x509_cert_not_after", help: "Certificate expiration date", typ: "gauge"}
	ex := family{name: "x509_cert_expired", help: "Indicates if the certificate is currently expired", typ: "gauge"}
	now := s.now()
	for _, c := range s.certs {
		nb.add(float64(c.notBefore.Unix()), c.labels()...)
		na.add(float64(c.notAfter.Unix()), c.labels()...)
		expired := 0.0
		if now.After(c.notAfter) {
			expired = 1
		}
		ex.add(expired, c.labels()...)
	}
	return []family{nb, na, ex, single("x509_read_errors", "Indicates the number of read failures", "gauge", 0)}
}

func (x *x509exporter) logEvents(s *Sim) []logEvent {
	return []logEvent{{0.02, "info", "certificates_scanned", func() []kv { return []kv{{"certificates", len(s.certs)}, {"errors", 0}} }}}
}

// ---------------------------------------------------------------------------
// An agent, with the SDK's metrics as the guide uses them: the counter
// requests_total and the timer request_duration, a summary in seconds
// (_sum and _count, no quantiles: prometheus_client's Summary), as
// stacks/protocol/metrics.yml catalogues it.

type agent struct {
	id       string
	requests counter
	duration *summary
}

func newAgent(s *Sim) *agent {
	return &agent{id: fmt.Sprintf("did:sov:agent-%04d", s.rng.IntN(400)), duration: &summary{}}
}

func (a *agent) slow(s *Sim) bool { return s.byName["agent"].on("slow") }

// slowLatency: an upstream (a model, a tool) answering slowly, 2-4 s a request.
func (s *Sim) slowLatency() float64 { return 2 + 2*s.rng.Float64() }

func (a *agent) advance(s *Sim, dt float64) {
	n := a.requests.run(s, agentRequestRate, dt)
	slow := a.slow(s)
	for i := 0; i < n && i < 200000; i++ {
		if slow {
			a.duration.observe(s.slowLatency())
		} else {
			a.duration.observe(s.fastLatency(agentMedianLatency))
		}
	}
}

func (a *agent) switched(s *Sim, mode string, on bool) {
	if mode == "slow" && on {
		// The stall: the requests that arrived during it complete now.
		n := int(agentRequestRate * agentStall)
		for i := 0; i < n; i++ {
			a.duration.observe(agentStall*float64(n-i)/float64(n) + s.fastLatency(agentMedianLatency))
		}
		a.requests.value += float64(n)
	}
}

func (a *agent) families(s *Sim) []family {
	t := s.startedUnix()
	return []family{
		single("requests_total", "Requests handled by the agent", "counter", a.requests.value),
		created("requests", "Requests handled by the agent", t),
		a.duration.family(pythonStyle, "request_duration", "Time spent handling a request, in seconds"),
		created("request_duration", "Time spent handling a request, in seconds", t),
	}
}

func (a *agent) logEvents(s *Sim) []logEvent {
	slow := a.slow(s)
	handled := func() []kv {
		d := s.fastLatency(agentMedianLatency)
		if slow {
			d = s.slowLatency()
		}
		return []kv{{"agent_id", a.id}, {"request_id", s.requestID()}, {"capability", s.pick("search", "translate", "summarize")},
			{"duration_ms", math.Round(d * 1000)}}
	}
	events := []logEvent{{0.2, "info", "request_handled", handled}}
	if slow {
		events = append(events, logEvent{0.1, "warning", "upstream_slow", func() []kv {
			return []kv{{"agent_id", a.id}, {"upstream", s.pick("llm", "search_api", "vector_store")}, {"duration_ms", math.Round(s.slowLatency() * 1000)}}
		}})
	}
	return events
}

// ---------------------------------------------------------------------------
// postgres_exporter (prometheus-community) watching the registries'
// database: pg_up is 1 while it can connect, 0 in `database-down` (the
// exporter itself keeps answering; `down` is the exporter gone).

type postgresExporter struct{}

func newPostgresExporter(s *Sim) *postgresExporter { return &postgresExporter{} }

func (p *postgresExporter) advance(s *Sim, dt float64)            {}
func (p *postgresExporter) switched(s *Sim, mode string, on bool) {}

func (p *postgresExporter) databaseUp(s *Sim) bool {
	return !s.byName["postgres-exporter"].on("database-down")
}

func (p *postgresExporter) families(s *Sim) []family {
	up := 1.0
	if !p.databaseUp(s) {
		up = 0
	}
	return []family{single("pg_up", "Whether the last scrape of metrics from PostgreSQL was able to connect to the server (1 for yes, 0 for no).", "gauge", up)}
}

func (p *postgresExporter) logEvents(s *Sim) []logEvent {
	if p.databaseUp(s) {
		return []logEvent{{0.02, "info", "scrape_completed", func() []kv { return []kv{{"server", "registry-db:5432"}} }}}
	}
	return []logEvent{{0.2, "error", "database_connection_failed", func() []kv {
		return []kv{{"server", "registry-db:5432"}, {"err", "dial tcp: connect: connection refused"}}
	}}}
}
