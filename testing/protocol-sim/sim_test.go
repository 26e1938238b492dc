package main

// Counters across mode switches, histogram consistency, and the logs.

import (
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// allModesScenario switches every mode on, a few at a time and overlapping,
// then off again, with normal operation in between; then each mode alone
// (overlapping, a service that is down shows nothing of its other modes).
func allModesScenario(h *harness, each func()) {
	cases := modeCases()
	h.run(2*time.Minute, nil)
	for i, c := range cases {
		h.set(c.service, c.mode, true)
		h.run(20*time.Second, nil)
		if i >= 2 { // three modes on at a time
			p := cases[i-2]
			h.set(p.service, p.mode, false)
		}
		each()
	}
	for _, c := range cases[len(cases)-2:] {
		h.set(c.service, c.mode, false)
	}
	h.run(time.Minute, nil)
	each()
	for _, c := range cases {
		h.set(c.service, c.mode, true)
		h.run(20*time.Second, nil)
		h.set(c.service, c.mode, false)
		h.run(10*time.Second, nil)
		each()
	}
}

// familyType finds the type of the family a sample belongs to.
func familyType(types map[string]string, name string) string {
	if t, ok := types[name]; ok {
		return t
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base := strings.TrimSuffix(name, suffix); base != name && (types[base] == "histogram" || (types[base] == "summary" && suffix != "_bucket")) {
			return types[base]
		}
	}
	return ""
}

func TestCountersOnlyGrow(t *testing.T) {
	h := newHarness(t, 2)
	checkHistograms := func() {
		for _, sp := range specs {
			e, err := parseExposition(h.scrapeText(sp.name))
			if err != nil {
				t.Fatal(err)
			}
			buckets := map[string][][2]float64{}
			counts := map[string]float64{}
			for _, s := range e.samples {
				if base, ok := strings.CutSuffix(s.name, "_bucket"); ok && e.types[base] == "histogram" {
					le, _ := strconv.ParseFloat(s.labels["le"], 64)
					buckets[base] = append(buckets[base], [2]float64{le, s.value})
				}
				if base, ok := strings.CutSuffix(s.name, "_count"); ok && e.types[base] == "histogram" {
					counts[base] = s.value
				}
			}
			for name, bs := range buckets {
				sort.Slice(bs, func(i, j int) bool { return bs[i][0] < bs[j][0] })
				for i := 1; i < len(bs); i++ {
					if bs[i][1] < bs[i-1][1] {
						t.Errorf("%s: %s bucket le=%v (%v) below le=%v (%v)", sp.name, name, bs[i][0], bs[i][1], bs[i-1][0], bs[i-1][1])
					}
				}
				if last := bs[len(bs)-1]; !math.IsInf(last[0], 1) || last[1] != counts[name] {
					t.Errorf("%s: %s +Inf bucket %v, _count %v", sp.name, name, last, counts[name])
				}
			}
		}
	}
	allModesScenario(h, checkHistograms)

	types := map[string]string{}
	for _, sp := range specs {
		e, _ := parseExposition(h.scrapeText(sp.name))
		for k, v := range e.types {
			types[k] = v
		}
	}
	counters := 0
	for _, s := range h.db {
		typ := familyType(types, s.name)
		created := strings.HasSuffix(s.name, "_created")
		if typ != "counter" && typ != "histogram" && typ != "summary" && !created {
			continue
		}
		counters++
		var prev *point
		for i := range s.points {
			p := &s.points[i]
			if p.stale {
				continue
			}
			if prev != nil && (p.v < prev.v || (created && p.v != prev.v)) {
				t.Errorf("%s %v went from %v to %v at +%.0f s", s.name, s.labels, prev.v, p.v, p.t-float64(epoch.Unix()))
				break
			}
			prev = p
		}
	}
	if counters < 50 {
		t.Errorf("only %d counter series checked", counters)
	}
}

func TestLogs(t *testing.T) {
	h := newHarness(t, 4)
	start := h.clock.t
	allModesScenario(h, func() {})
	seconds := h.clock.t.Sub(start).Seconds()
	lines := strings.Split(strings.TrimSuffix(h.logs.String(), "\n"), "\n")
	services := map[string]bool{}
	for _, sp := range specs {
		services[sp.name] = true
	}
	events := map[string]int{}
	switches := 0
	for _, line := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not a JSON object: %s", line)
		}
		event, _ := rec["event"].(string)
		level, _ := rec["level"].(string)
		logger, _ := rec["logger"].(string)
		service, _ := rec["service"].(string)
		ts, _ := rec["timestamp"].(string)
		if event == "" || logger == "" || !services[service] {
			t.Errorf("event, logger or service missing: %s", line)
		}
		if level != "info" && level != "warning" && level != "error" {
			t.Errorf("level %q: %s", level, line)
		}
		if when, err := time.Parse(time.RFC3339Nano, ts); err != nil || !strings.HasSuffix(ts, "Z") || when.Before(start) {
			t.Errorf("timestamp %q is not ISO 8601 UTC: %s", ts, line)
		}
		// structlog's order: the event's fields, then event, logger, level, timestamp.
		if !strings.Contains(line, `"event": "`+event+`", "logger": "`+logger+`", "level": "`+level+`", "timestamp": "`) {
			t.Errorf("fields not in structlog's order: %s", line)
		}
		events[event]++
		switch event {
		case "simulation_mode_enabled", "simulation_mode_disabled":
			switches++
			want := "info"
			if event == "simulation_mode_enabled" {
				want = "warning"
				if rec["mode"] == modeDown {
					want = "error"
				}
			}
			if level != want || rec["mode"] == nil {
				t.Errorf("mode switch logged at %s, want %s: %s", level, want, line)
			}
		case "request_completed":
			for _, f := range []string{"request_id", "method", "path", "status", "duration_ms", "agent_id"} {
				if rec[f] == nil {
					t.Errorf("request_completed without %s: %s", f, line)
				}
			}
		case "transfer_completed":
			for _, f := range []string{"from_did", "to_did", "amount", "fee", "type"} {
				if rec[f] == nil {
					t.Errorf("transfer_completed without %s: %s", f, line)
				}
			}
		}
	}
	if want := 4 * len(modeCases()); switches != want {
		t.Errorf("%d mode switch lines, want %d", switches, want)
	}
	if rate := float64(len(lines)) / seconds; rate > 4 || rate < 0.5 {
		t.Errorf("%.1f log lines a second, want a few", rate)
	}
	for _, e := range []string{"auth_failed", "slow_request", "transfer_volume_high", "treasury_balance_low", "certificate_expiring", "federation_peer_unreachable", "agent_registered", "request_handled", "x509_svid_signed",
		"treasury_payout_failed", "upstream_slow", "database_connection_failed", "scrape_completed"} {
		if events[e] == 0 {
			t.Errorf("no %s line", e)
		}
	}
	t.Logf("%d lines in %.0f s: %v", len(lines), seconds, events)
}
