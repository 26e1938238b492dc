package main

// A small stand-in for Prometheus, for the tests: it scrapes the simulated
// services through their HTTP handlers on a virtual clock, stores the
// samples (with `up`, job/instance labels and staleness), and evaluates the
// alert expressions of stacks/protocol/rules with Prometheus's own arithmetic for
// rate() (extrapolation) and histogram_quantile() (linear interpolation).

import (
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ---------------------------------------------------------------------------
// The text exposition format, parsed.

type parsedSample struct {
	name   string
	labels map[string]string
	value  float64
}

type exposition struct {
	types   map[string]string // family name → type
	samples []parsedSample
}

func parseExposition(text string) (exposition, error) {
	out := exposition{types: map[string]string{}}
	for n, line := range strings.Split(text, "\n") {
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "#") {
			f := strings.Fields(line)
			if len(f) >= 4 && f[1] == "TYPE" {
				if _, dup := out.types[f[2]]; dup {
					return out, fmt.Errorf("line %d: second TYPE for %s", n+1, f[2])
				}
				out.types[f[2]] = f[3]
			}
			continue
		}
		s, err := parseSampleLine(line)
		if err != nil {
			return out, fmt.Errorf("line %d %q: %v", n+1, line, err)
		}
		out.samples = append(out.samples, s)
	}
	return out, nil
}

func parseSampleLine(line string) (parsedSample, error) {
	s := parsedSample{labels: map[string]string{}}
	i := strings.IndexAny(line, "{ ")
	if i <= 0 {
		return s, fmt.Errorf("no metric name")
	}
	s.name = line[:i]
	rest := line[i:]
	if rest[0] == '{' {
		rest = rest[1:]
		for {
			if strings.HasPrefix(rest, "}") {
				rest = rest[1:]
				break
			}
			eq := strings.Index(rest, `="`)
			if eq <= 0 {
				return s, fmt.Errorf("bad label")
			}
			name := rest[:eq]
			rest = rest[eq+2:]
			var v strings.Builder
			for {
				if rest == "" {
					return s, fmt.Errorf("unterminated label value")
				}
				c := rest[0]
				rest = rest[1:]
				if c == '"' {
					break
				}
				if c == '\\' && rest != "" {
					switch rest[0] {
					case 'n':
						v.WriteByte('\n')
					default:
						v.WriteByte(rest[0])
					}
					rest = rest[1:]
					continue
				}
				v.WriteByte(c)
			}
			if _, dup := s.labels[name]; dup {
				return s, fmt.Errorf("label %s twice", name)
			}
			s.labels[name] = v.String()
			rest = strings.TrimPrefix(rest, ",")
		}
	}
	f := strings.Fields(rest)
	if len(f) != 1 {
		return s, fmt.Errorf("want one value, got %q", rest)
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return s, err
	}
	s.value = v
	return s, nil
}

// ---------------------------------------------------------------------------
// The virtual clock and the scraper.

type vclock struct{ t time.Time }

func (c *vclock) now() time.Time { return c.t }

type point struct {
	t     float64 // Unix seconds
	v     float64
	stale bool
}

type series struct {
	name   string
	labels map[string]string // with job and instance
	points []point
}

type target struct {
	service, job, instance string
	present                map[string]bool   // series keys of the last scrape
	keys                   map[string]string // sample line without its value → series key
}

type harness struct {
	t       *testing.T
	clock   *vclock
	sim     *Sim
	x       *simulator
	logs    *strings.Builder
	db      map[string]*series
	byName  map[string][]*series
	targets []*target
	handler map[string]http.Handler
}

var epoch = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// newHarness starts a simulator on a virtual clock, with every service, and
// targets named as the project's environments name them.
func newHarness(t *testing.T, seed uint64) *harness {
	h := &harness{t: t, clock: &vclock{epoch}, logs: &strings.Builder{}, db: map[string]*series{}, byName: map[string][]*series{}}
	h.sim = newSim(h.clock.now, seed, h.logs, nil)
	h.x = &simulator{sim: h.sim}
	h.handler = map[string]http.Handler{}
	for i, sp := range specs {
		h.handler[sp.name] = h.x.serviceHandler(sp)
		h.targets = append(h.targets, &target{service: sp.name, job: sp.job, instance: fmt.Sprintf("sim:%d", 8000+i), present: map[string]bool{}, keys: map[string]string{}})
	}
	return h
}

func (h *harness) unix() float64 { return float64(h.clock.t.UnixMilli()) / 1000 }

func seriesKey(name string, labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(name)
	for _, k := range keys {
		b.WriteString("|" + k + "=" + labels[k])
	}
	return b.String()
}

func (h *harness) append(name string, labels map[string]string, p point) string {
	key := seriesKey(name, labels)
	s := h.db[key]
	if s == nil {
		s = &series{name: name, labels: labels}
		h.db[key] = s
		h.byName[name] = append(h.byName[name], s)
	}
	s.points = append(s.points, p)
	return key
}

// scrapeText fetches a service's exposition through its handler, as Prometheus would.
func (h *harness) scrapeText(service string) string {
	var spec serviceSpec
	for _, sp := range specs {
		if sp.name == service {
			spec = sp
		}
	}
	rec := httptest.NewRecorder()
	h.handler[service].ServeHTTP(rec, httptest.NewRequest("GET", spec.metricsPath, nil))
	if rec.Code != 200 {
		h.t.Fatalf("scrape %s: %d", service, rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != contentType {
		h.t.Fatalf("scrape %s: Content-Type %q", service, ct)
	}
	return rec.Body.String()
}

// scrape scrapes every target once: up is 0 for a service that is down (its
// listener is closed), and its series go stale, as in Prometheus.
func (h *harness) scrape() {
	now := h.unix()
	for _, tg := range h.targets {
		base := map[string]string{"job": tg.job, "instance": tg.instance}
		seen := map[string]bool{}
		up := 1.0
		if h.sim.IsOn(tg.service, modeDown) {
			up = 0
		} else {
			for _, line := range strings.Split(h.scrapeText(tg.service), "\n") {
				if line == "" || line[0] == '#' {
					continue
				}
				sp := strings.LastIndexByte(line, ' ')
				key, known := tg.keys[line[:sp]]
				if !known {
					s, err := parseSampleLine(line)
					if err != nil {
						h.t.Fatalf("%s: %q: %v", tg.service, line, err)
					}
					labels := map[string]string{}
					for k, v := range s.labels {
						if v != "" { // Prometheus drops empty labels
							labels[k] = v
						}
					}
					for k, v := range base {
						labels[k] = v
					}
					key = seriesKey(s.name, labels)
					if h.db[key] == nil {
						h.db[key] = &series{name: s.name, labels: labels}
						h.byName[s.name] = append(h.byName[s.name], h.db[key])
					}
					tg.keys[line[:sp]] = key
				}
				v, err := strconv.ParseFloat(line[sp+1:], 64)
				if err != nil {
					h.t.Fatalf("%s: %q: %v", tg.service, line, err)
				}
				h.db[key].points = append(h.db[key].points, point{t: now, v: v})
				seen[key] = true
			}
		}
		for key := range tg.present {
			if !seen[key] {
				h.db[key].points = append(h.db[key].points, point{t: now, stale: true})
			}
		}
		tg.present = seen
		h.append("up", base, point{t: now, v: up})
	}
}

// run advances the clock second by second for d, writing logs every second
// and scraping and evaluating every 5 s (on whole multiples of 5 s since
// the epoch). each is called after every evaluation.
func (h *harness) run(d time.Duration, each func(t float64)) {
	end := h.clock.t.Add(d)
	for h.clock.t.Before(end) {
		h.clock.t = h.clock.t.Add(time.Second)
		h.sim.Tick(1)
		if h.clock.t.Sub(epoch)%(5*time.Second) == 0 {
			h.scrape()
			if each != nil {
				each(h.unix())
			}
		}
	}
}

func (h *harness) set(service, mode string, on bool) {
	if _, err := h.x.sim.SetMode(service, mode, on); err != nil {
		h.t.Fatal(err)
	}
}

// ---------------------------------------------------------------------------
// PromQL, the parts the rules use.

const lookback = 300.0 // Prometheus's staleness lookback, 5 minutes

type vecElem struct {
	labels map[string]string
	v      float64
}

// instant is a plain selector: each series' latest sample within the lookback, unless stale.
func (h *harness) instant(name string, match func(map[string]string) bool, t float64) []vecElem {
	var out []vecElem
	for _, s := range h.byName[name] {
		if match != nil && !match(s.labels) {
			continue
		}
		for i := len(s.points) - 1; i >= 0; i-- {
			p := s.points[i]
			if p.t > t {
				continue
			}
			if !p.stale && t-p.t <= lookback {
				out = append(out, vecElem{s.labels, p.v})
			}
			break
		}
	}
	return out
}

// rate is Prometheus's extrapolatedRate for counters over [t-window, t].
func (h *harness) rate(name string, match func(map[string]string) bool, window, t float64) []vecElem {
	var out []vecElem
	for _, s := range h.byName[name] {
		if match != nil && !match(s.labels) {
			continue
		}
		var pts []point
		from := sort.Search(len(s.points), func(i int) bool { return s.points[i].t > t-window })
		for _, p := range s.points[from:] {
			if !p.stale && p.t <= t {
				pts = append(pts, p)
			}
		}
		if len(pts) < 2 {
			continue
		}
		first, last := pts[0], pts[len(pts)-1]
		result := last.v - first.v
		for i := 1; i < len(pts); i++ {
			if pts[i].v < pts[i-1].v {
				result += pts[i-1].v // counter reset
			}
		}
		start, end := t-window, t
		durToStart, durToEnd := first.t-start, end-last.t
		sampled := last.t - first.t
		avg := sampled / float64(len(pts)-1)
		if result > 0 && first.v >= 0 {
			if durToZero := sampled * (first.v / result); durToZero < durToStart {
				durToStart = durToZero
			}
		}
		threshold := avg * 1.1
		interval := sampled
		if durToStart < threshold {
			interval += durToStart
		} else {
			interval += avg / 2
		}
		if durToEnd < threshold {
			interval += durToEnd
		} else {
			interval += avg / 2
		}
		out = append(out, vecElem{s.labels, result * (interval / sampled) / window})
	}
	return out
}

// increase is Prometheus's increase(): the extrapolated rate times the window.
func (h *harness) increase(name string, match func(map[string]string) bool, window, t float64) []vecElem {
	out := h.rate(name, match, window, t)
	for i := range out {
		out[i].v *= window
	}
	return out
}

// sumBy sums elements by the given labels (dropping the others).
func sumBy(in []vecElem, by ...string) []vecElem {
	groups := map[string]*vecElem{}
	var order []string
	for _, e := range in {
		labels := map[string]string{}
		for _, l := range by {
			if v, ok := e.labels[l]; ok {
				labels[l] = v
			}
		}
		k := seriesKey("", labels)
		if groups[k] == nil {
			groups[k] = &vecElem{labels: labels}
			order = append(order, k)
		}
		groups[k].v += e.v
	}
	out := make([]vecElem, 0, len(order))
	for _, k := range order {
		out = append(out, *groups[k])
	}
	return out
}

// histogramQuantile is Prometheus's bucketQuantile, per group of the
// non-le labels.
func histogramQuantile(q float64, buckets []vecElem) []vecElem {
	type bucket struct{ le, count float64 }
	groups := map[string][]bucket{}
	labelsOf := map[string]map[string]string{}
	for _, e := range buckets {
		rest := map[string]string{}
		for k, v := range e.labels {
			if k != "le" {
				rest[k] = v
			}
		}
		le, err := strconv.ParseFloat(e.labels["le"], 64)
		if err != nil {
			continue
		}
		k := seriesKey("", rest)
		groups[k] = append(groups[k], bucket{le, e.v})
		labelsOf[k] = rest
	}
	var out []vecElem
	for k, bs := range groups {
		sort.Slice(bs, func(i, j int) bool { return bs[i].le < bs[j].le })
		if len(bs) < 2 || !math.IsInf(bs[len(bs)-1].le, +1) {
			continue
		}
		for i := 1; i < len(bs); i++ { // ensure monotonicity
			if bs[i].count < bs[i-1].count {
				bs[i].count = bs[i-1].count
			}
		}
		total := bs[len(bs)-1].count
		if total == 0 {
			continue // NaN
		}
		rank := q * total
		b := sort.Search(len(bs)-1, func(i int) bool { return bs[i].count >= rank })
		var v float64
		switch {
		case b == len(bs)-1:
			v = bs[len(bs)-2].le
		case b == 0 && bs[0].le <= 0:
			v = bs[0].le
		default:
			start, end, count := 0.0, bs[b].le, bs[b].count
			if b > 0 {
				start = bs[b-1].le
				count -= bs[b-1].count
				rank -= bs[b-1].count
			}
			v = start + (end-start)*(rank/count)
		}
		out = append(out, vecElem{labelsOf[k], v})
	}
	return out
}

func filter(in []vecElem, keep func(float64) bool) []vecElem {
	var out []vecElem
	for _, e := range in {
		if keep(e.v) {
			out = append(out, e)
		}
	}
	return out
}

func jobIs(job string) func(map[string]string) bool {
	return func(l map[string]string) bool { return l["job"] == job }
}

func jobPrefix(prefix string) func(map[string]string) bool {
	return func(l map[string]string) bool { return strings.HasPrefix(l["job"], prefix) }
}

// ---------------------------------------------------------------------------
// The alert expressions of stacks/protocol/rules, with the default thresholds of
// stacks/environment.ts and the default agents job of stacks/services/prometheus/rules.ts.
// rules_test.go checks that each expr below is still what the rule file says,
// so a changed rule fails here until it is modelled.

const (
	latencyP99Seconds        = 2.0
	treasuryMinimumTokens    = 1000.0
	transfersPerMinuteMax    = 100.0
	authFailuresPerMinuteMax = 10.0
	certificateExpiryDays    = 7.0
	federationPeersMin       = 1.0
	agentLatencySeconds      = 1.0
	agentsJob                = "agents"
)

type alertModel struct {
	name, file, expr string
	eval             func(h *harness, t float64) []vecElem // the elements for which the expression holds
}

var alertModels = []alertModel{
	{"RegistryDown", "registry.rules.yml", `up{job=~"registry_.*"} == 0`,
		func(h *harness, t float64) []vecElem {
			return filter(h.instant("up", jobPrefix("registry_"), t), func(v float64) bool { return v == 0 })
		}},
	{"TEGLayerDown", "teg.rules.yml", `up{job="teg_layer"} == 0`,
		func(h *harness, t float64) []vecElem {
			return filter(h.instant("up", jobIs("teg_layer"), t), func(v float64) bool { return v == 0 })
		}},
	{"TargetDown", "stack.rules.yml", `up{job!~"registry_.*|teg_layer|blackbox"} == 0`,
		func(h *harness, t float64) []vecElem {
			other := func(l map[string]string) bool {
				return !strings.HasPrefix(l["job"], "registry_") && l["job"] != "teg_layer" && l["job"] != "blackbox"
			}
			return filter(h.instant("up", other, t), func(v float64) bool { return v == 0 })
		}},
	{"HighResponseTime", "registry.rules.yml",
		`histogram_quantile(0.99, sum by (le, job, instance) (rate(http_request_duration_seconds_bucket{job=~"registry_.*"}[5m]))) > [[ latencyP99Seconds ]]`,
		func(h *harness, t float64) []vecElem {
			rates := sumBy(h.rate("http_request_duration_seconds_bucket", jobPrefix("registry_"), 300, t), "le", "job", "instance")
			return filter(histogramQuantile(0.99, rates), func(v float64) bool { return v > latencyP99Seconds })
		}},
	{"RegistryFederationPeersLow", "registry.rules.yml", `registry_federation_peers < [[ federationPeersMin ]]`,
		func(h *harness, t float64) []vecElem {
			return filter(h.instant("registry_federation_peers", nil, t), func(v float64) bool { return v < federationPeersMin })
		}},
	{"NewAgentRegistrations", "registry.rules.yml", `sum by (job, instance) (increase(registry_agent_registrations_total[1h])) > 0`,
		func(h *harness, t float64) []vecElem {
			return filter(sumBy(h.increase("registry_agent_registrations_total", nil, 3600, t), "job", "instance"), func(v float64) bool { return v > 0 })
		}},
	{"TreasuryDepleted", "teg.rules.yml", `teg_treasury_balance <= 0`,
		func(h *harness, t float64) []vecElem {
			return filter(h.instant("teg_treasury_balance", nil, t), func(v float64) bool { return v <= 0 })
		}},
	{"LowTreasuryBalance", "teg.rules.yml", `teg_treasury_balance < [[ treasuryMinimumTokens ]]`,
		func(h *harness, t float64) []vecElem {
			return filter(h.instant("teg_treasury_balance", nil, t), func(v float64) bool { return v < treasuryMinimumTokens })
		}},
	{"UnusualTransactionVolume", "teg.rules.yml", `sum by (job, instance) (rate(teg_transfers_total[5m])) * 60 > [[ transfersPerMinuteMax ]]`,
		func(h *harness, t float64) []vecElem {
			return filter(perMinute(sumBy(h.rate("teg_transfers_total", nil, 300, t), "job", "instance")), func(v float64) bool { return v > transfersPerMinuteMax })
		}},
	{"AgentHighResponseTime", "agents.rules.yml",
		`sum by (job, instance) (rate(request_duration_sum{job="[[ agentsJob ]]"}[5m])) / sum by (job, instance) (rate(request_duration_count{job="[[ agentsJob ]]"}[5m])) > [[ agentLatencySeconds ]]`,
		func(h *harness, t float64) []vecElem {
			sum := sumBy(h.rate("request_duration_sum", jobIs(agentsJob), 300, t), "job", "instance")
			count := sumBy(h.rate("request_duration_count", jobIs(agentsJob), 300, t), "job", "instance")
			return filter(divide(sum, count), func(v float64) bool { return v > agentLatencySeconds })
		}},
	{"FailedAuthAttempts", "security.rules.yml", `sum by (job, instance) (rate(auth_failures_total[5m])) * 60 > [[ authFailuresPerMinuteMax ]]`,
		func(h *harness, t float64) []vecElem {
			return filter(perMinute(sumBy(h.rate("auth_failures_total", nil, 300, t), "job", "instance")), func(v float64) bool { return v > authFailuresPerMinuteMax })
		}},
	{"CertificateExpiringSoon", "security.rules.yml", `(x509_cert_not_after - time()) < [[ certificateExpiryDays ]] * 86400`,
		func(h *harness, t float64) []vecElem {
			var left []vecElem
			for _, e := range h.instant("x509_cert_not_after", nil, t) {
				left = append(left, vecElem{e.labels, e.v - t})
			}
			return filter(left, func(v float64) bool { return v < certificateExpiryDays*86400 })
		}},
	{"RegistryDatabaseDown", "database.rules.yml", `pg_up == 0`,
		func(h *harness, t float64) []vecElem {
			return filter(h.instant("pg_up", nil, t), func(v float64) bool { return v == 0 })
		}},
}

// divide is a / b between vectors with the same label sets (one-to-one
// matching); a division by 0 gives ±Inf or NaN, as in PromQL.
func divide(a, b []vecElem) []vecElem {
	by := map[string]float64{}
	for _, e := range b {
		by[seriesKey("", e.labels)] = e.v
	}
	var out []vecElem
	for _, e := range a {
		if d, ok := by[seriesKey("", e.labels)]; ok {
			out = append(out, vecElem{e.labels, e.v / d})
		}
	}
	return out
}

func perMinute(in []vecElem) []vecElem {
	for i := range in {
		in[i].v *= 60
	}
	return in
}

func alertModelNamed(name string) alertModel {
	for _, a := range alertModels {
		if a.name == name {
			return a
		}
	}
	panic("no model for alert " + name)
}
