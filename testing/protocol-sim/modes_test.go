package main

// Every mode, switched on and off against a simulated Prometheus that scrapes
// and evaluates every 5 s: the alert's expression must hold within two
// intervals, hold without a gap for the alert's `for` (so it would fire),
// touch nothing else, and stop holding after the mode is switched off.

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

// alertFor is each Protocol alert's `for` in stacks/protocol/rules (checked in rules_test.go).
// (0: no `for`, the alert fires at the first evaluation that holds.)
var alertFor = map[string]time.Duration{
	"RegistryDown": 5 * time.Minute, "TEGLayerDown": 5 * time.Minute, "TargetDown": 5 * time.Minute,
	"HighResponseTime": 10 * time.Minute, "RegistryFederationPeersLow": 10 * time.Minute, "NewAgentRegistrations": 0,
	"TreasuryDepleted": 5 * time.Minute, "LowTreasuryBalance": time.Hour, "UnusualTransactionVolume": 10 * time.Minute,
	"AgentHighResponseTime": 10 * time.Minute, "FailedAuthAttempts": 5 * time.Minute, "CertificateExpiringSoon": time.Hour,
	"RegistryDatabaseDown": 5 * time.Minute,
}

// rateWindowed: alerts on a rate over 5 minutes. What a mode adds stays in
// that window for up to 5 minutes after it ends (counters never go down), so
// these clear within the window; the others clear at the next scrape.
var rateWindowed = map[string]bool{"HighResponseTime": true, "UnusualTransactionVolume": true, "FailedAuthAttempts": true, "AgentHighResponseTime": true}

// alsoHolds: alerts whose expression a mode's alert implies, and why. The
// mode must make them hold too (on the same job), for as long as its own.
var alsoHolds = map[string]map[string]string{
	"TreasuryDepleted": {"LowTreasuryBalance": "0 tokens is below the minimum too; Alertmanager inhibits LowTreasuryBalance while TreasuryDepleted fires (stacks/services/alertmanager)"},
}

type modeCase struct{ service, mode, alert, job string }

func modeCases() []modeCase {
	var cases []modeCase
	for _, sp := range specs {
		cases = append(cases, modeCase{sp.name, modeDown, downAlert[sp.kind], sp.job})
		for _, m := range kindModes[sp.kind] {
			if m.alert != "" {
				job := sp.job
				if m.alert == "CertificateExpiringSoon" {
					job = "x509" // the exporter watching SPIRE's certificates
				}
				cases = append(cases, modeCase{sp.name, m.name, m.alert, job})
			}
		}
	}
	return cases
}

// firing evaluates every alert model but the steady ones (steadyAlerts,
// which hold in normal operation); it returns alert → jobs it holds for.
func firing(h *harness, t float64) map[string][]string {
	out := map[string][]string{}
	for _, a := range alertModels {
		if steadyAlerts[a.name] {
			continue
		}
		for _, e := range a.eval(h, t) {
			out[a.name] = append(out[a.name], e.labels["job"])
		}
	}
	return out
}

func describe(f map[string][]string) string {
	var parts []string
	for a, jobs := range f {
		parts = append(parts, a+"("+strings.Join(jobs, ",")+")")
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// measure switches the mode on for onFor, then off; it returns how long after
// switching on the expression first held and how long after switching off it
// last held (0: cleared at the first evaluation after).
func measure(t *testing.T, c modeCase, onFor time.Duration) (onAfter, offAfter float64) {
	h := newHarness(t, testSeed)
	h.run(10*time.Minute, func(at float64) {
		if f := firing(h, at); len(f) > 0 {
			t.Fatalf("normal operation fires %s", describe(f))
		}
	})
	h.run(time.Second, nil) // switch between two scrapes
	on := h.unix()
	h.set(c.service, c.mode, true)
	onAfter = -1
	h.run(onFor, func(at float64) {
		f := firing(h, at)
		holds := len(f[c.alert]) > 0
		if holds && onAfter < 0 {
			onAfter = at - on
		}
		if onAfter >= 0 && !holds {
			t.Fatalf("%s stopped holding %.0f s after switching on: it could not fire (for: %s)", c.alert, at-on, alertFor[c.alert])
		}
		for also := range alsoHolds[c.alert] {
			if holds && !(len(f[also]) == 1 && f[also][0] == c.job) {
				t.Fatalf("%s holds %.0f s after switching on, but %s (which it implies) holds for %v, not for job %s", c.alert, at-on, also, f[also], c.job)
			}
		}
		for a, jobs := range f {
			if _, implied := alsoHolds[c.alert][a]; implied {
				continue
			}
			for _, j := range jobs {
				if a != c.alert || j != c.job {
					t.Fatalf("%s/%s also drives %s for job %s", c.service, c.mode, a, j)
				}
			}
		}
	})
	if onAfter < 0 {
		t.Fatalf("%s never held while %s/%s was on", c.alert, c.service, c.mode)
	}
	off := h.unix()
	h.set(c.service, c.mode, false)
	// Near the threshold a decaying rate may cross it back and forth a few
	// times (as it would in Prometheus); what counts is when it last holds.
	offAfter = -1
	h.run(10*time.Minute, func(at float64) {
		f := firing(h, at)
		if len(f[c.alert]) > 0 {
			offAfter = at - off
		}
		delete(f, c.alert)
		if len(f) > 0 {
			t.Fatalf("after switching off, %s", describe(f))
		}
	})
	if offAfter > 9*60 {
		t.Fatalf("%s still holds 10 minutes after switching off", c.alert)
	}
	offAfter = max(offAfter, 0)
	return onAfter, offAfter
}

func TestModesDriveTheirAlerts(t *testing.T) {
	for _, c := range modeCases() {
		c := c
		t.Run(c.service+"/"+c.mode, func(t *testing.T) {
			t.Parallel()
			onFor := alertFor[c.alert] + time.Minute
			onAfter, offAfter := measure(t, c, onFor)
			if onAfter > 10 {
				t.Errorf("%s first held %.0f s after switching on; want within two 5 s intervals", c.alert, onAfter)
			}
			limit := 5.0
			if rateWindowed[c.alert] {
				limit = 300
			}
			if offAfter > limit {
				t.Errorf("%s held %.0f s after switching off; want at most %.0f s", c.alert, offAfter, limit)
			}
			msg := fmt.Sprintf("%s/%s → %s: holds %.0f s after on, without a gap for %s; last holds %.0f s after off",
				c.service, c.mode, c.alert, onAfter, onFor, offAfter)
			if rateWindowed[c.alert] {
				// A short switch: the burst stays in the 5-minute window.
				_, shortOff := measure(t, c, 30*time.Second)
				if shortOff > 300 {
					t.Errorf("after 30 s on, %s held %.0f s after switching off; want at most 300 s", c.alert, shortOff)
				}
				msg += fmt.Sprintf(" (%.0f s after a 30 s switch)", shortOff)
			}
			t.Log(msg)
		})
	}
}

// The p99 from two scrapes' bucket deltas: normal well below 2 s, `slow` above.
func TestSlowP99FromTwoScrapes(t *testing.T) {
	h := newHarness(t, 3)
	p99 := func(before, after exposition) float64 {
		counts := map[string]float64{}
		for _, s := range before.samples {
			if s.name == "http_request_duration_seconds_bucket" {
				counts[s.labels["le"]] -= s.value
			}
		}
		var deltas []vecElem
		for _, s := range after.samples {
			if s.name == "http_request_duration_seconds_bucket" {
				deltas = append(deltas, vecElem{map[string]string{"le": s.labels["le"]}, counts[s.labels["le"]] + s.value})
			}
		}
		q := histogramQuantile(0.99, deltas)
		if len(q) != 1 {
			t.Fatalf("no quantile from %v", deltas)
		}
		return q[0].v
	}
	scrape := func(service string) exposition {
		e, err := parseExposition(h.scrapeText(service))
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	a := scrape("registry-a")
	h.run(5*time.Minute, nil)
	b, otherBefore := scrape("registry-a"), scrape("registry-b")
	if v := p99(a, b); v >= 1 {
		t.Errorf("normal p99 over 5 minutes is %.2f s, want below 1 s", v)
	}
	h.set("registry-a", "slow", true)
	h.run(5*time.Second, nil)
	c := scrape("registry-a")
	if v := p99(b, c); v <= 2.5 {
		t.Errorf("p99 of the 5 s after switching slow on is %.2f s, want above 2.5 s", v)
	}
	h.run(5*time.Minute, nil)
	if v := p99(c, scrape("registry-a")); v <= 2.5 {
		t.Errorf("p99 of 5 minutes of slow is %.2f s, want above 2.5 s", v)
	}
	if v := p99(otherBefore, scrape("registry-b")); v >= 1 {
		t.Errorf("registry-b's p99 is %.2f s while registry-a is slow", v)
	}
}

// federation-lost and `down` of one registry on the other's peers: the other
// keeps at least one (its external peers), so RegistryFederationPeersLow
// stays with the registry that lost its federation.
func TestFederationPeers(t *testing.T) {
	h := newHarness(t, 5)
	peers := func(job string) float64 {
		v := h.instant("registry_federation_peers", jobIs(job), h.unix())
		if len(v) != 1 {
			t.Fatalf("%s: %d federation peer series", job, len(v))
		}
		return v[0].v
	}
	h.run(10*time.Minute, func(float64) {
		if peers("registry_a") < 2 || peers("registry_b") < 2 {
			t.Fatalf("federation peers %v %v, want at least 2 (the other registry and an external one)", peers("registry_a"), peers("registry_b"))
		}
	})
	h.set("registry-a", "federation-lost", true)
	h.run(5*time.Second, nil)
	if peers("registry_a") != 0 || peers("registry_b") < 1 {
		t.Errorf("federation-lost: peers %v and %v, want 0 and at least 1", peers("registry_a"), peers("registry_b"))
	}
	h.set("registry-a", "federation-lost", false)
	b := peers("registry_b")
	h.set("registry-a", modeDown, true)
	h.run(5*time.Second, nil)
	if got := peers("registry_b"); got >= b && got > 1 {
		t.Errorf("registry-b still counts %v peers while registry-a is down (had %v)", got, b)
	}
	h.set("registry-a", modeDown, false)
	h.run(5*time.Second, nil)
	if peers("registry_a") < 2 {
		t.Errorf("peers %v after federation-lost was switched off", peers("registry_a"))
	}
}

// Gauges stay in plausible ranges, and nothing fires but the steady alerts,
// over two hours of normal operation. The steady alerts hold for every
// registry once it has had time to accept a registration.
func TestNormalOperation(t *testing.T) {
	h := newHarness(t, 11)
	h.run(2*time.Hour, func(at float64) {
		if f := firing(h, at); len(f) > 0 {
			t.Fatalf("normal operation fires %s after %.0f s", describe(f), at-float64(epoch.Unix()))
		}
		if at-float64(epoch.Unix()) >= 600 {
			for name := range steadyAlerts {
				var jobs []string
				for _, e := range alertModelNamed(name).eval(h, at) {
					jobs = append(jobs, e.labels["job"])
				}
				sort.Strings(jobs)
				if strings.Join(jobs, ",") != "registry_a,registry_b" {
					t.Fatalf("%s holds for [%s] after %.0f s of normal operation; notDriven says it always holds for both registries", name, strings.Join(jobs, " "), at-float64(epoch.Unix()))
				}
			}
		}
		for _, c := range []struct {
			name   string
			lo, hi float64
		}{
			{"teg_treasury_balance", 10000, 100000}, {"teg_staking_total", 100000, 500000},
			{"registry_active_agents", 10, 100}, {"registry_federation_peers", 1, 5},
			{"process_resident_memory_bytes", 20e6, 300e6},
		} {
			for _, e := range h.instant(c.name, nil, at) {
				if e.v < c.lo || e.v > c.hi {
					t.Fatalf("%s{job=%q} = %v, outside [%v, %v]", c.name, e.labels["job"], e.v, c.lo, c.hi)
				}
			}
		}
	})
	rates := map[string]float64{}
	for _, name := range []string{"teg_transfers_total", "auth_failures_total", "registry_agent_registrations_total", "http_request_duration_seconds_count", "requests_total", "teg_fees_collected_total", "process_cpu_seconds_total"} {
		for _, e := range h.rate(name, nil, 3600, h.unix()) {
			rates[name+" "+e.labels["job"]] += e.v * 60
		}
	}
	for k, v := range rates {
		if v <= 0 {
			t.Errorf("%s does not increase", k)
		}
	}
	t.Logf("per minute over the last hour: %v", rates)
}

var testSeed uint64 = 7
