package main

// The Prometheus text exposition format (version 0.0.4), written by hand: the
// simulated services export a few dozen series, which does not warrant a
// client library.

import (
	"math"
	"strconv"
	"strings"
)

// contentType is what the Python and Go client libraries answer a scrape with.
const contentType = "text/plain; version=0.0.4; charset=utf-8"

// pythonBuckets are prometheus_client's default histogram buckets, which the
// guide's registries (Histogram('http_request_duration_seconds', ...)) use.
var pythonBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}

type label struct{ name, value string }

// family is one metric family: a # HELP and # TYPE header and its samples.
type family struct {
	name, help, typ string // typ: counter | gauge | histogram | summary | untyped
	samples         []sample
}

type sample struct {
	suffix string // "", "_bucket", "_sum", "_count"
	labels []label
	value  float64
}

func (f *family) add(value float64, labels ...label) {
	f.samples = append(f.samples, sample{labels: labels, value: value})
}

// style picks how numbers are printed: like Python's prometheus_client
// (1.0, le="5.0") for the Python services, like client_golang (1, le="5")
// for the Go ones (SPIRE, the x509 exporter).
type style int

const (
	goStyle style = iota
	pythonStyle
)

func (st style) float(v float64) string {
	switch {
	case math.IsInf(v, +1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	if st == goStyle {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	// Python's repr(float), then prometheus_client's floatToGoString, which
	// switches to an exponent once there are more than 6 digits before the dot.
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if math.Abs(v) >= 1e16 {
		s = strconv.FormatFloat(v, 'e', -1, 64)
	} else if !strings.Contains(s, ".") {
		s += ".0"
	}
	if dot := strings.IndexByte(s, '.'); v > 0 && dot > 6 && !strings.Contains(s, "e") {
		mantissa := strings.TrimRight(s[:1]+"."+s[1:dot]+s[dot+1:], "0.")
		if !strings.Contains(mantissa, ".") {
			mantissa += ".0"
		}
		return mantissa + "e+0" + strconv.Itoa(dot-1)
	}
	return s
}

var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	valueEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

func render(st style, families []family) string {
	var b strings.Builder
	for _, f := range families {
		b.WriteString("# HELP " + f.name + " " + helpEscaper.Replace(f.help) + "\n")
		b.WriteString("# TYPE " + f.name + " " + f.typ + "\n")
		for _, s := range f.samples {
			b.WriteString(f.name + s.suffix)
			if len(s.labels) > 0 {
				b.WriteByte('{')
				for i, l := range s.labels {
					if i > 0 {
						b.WriteByte(',')
					}
					b.WriteString(l.name + `="` + valueEscaper.Replace(l.value) + `"`)
				}
				b.WriteByte('}')
			}
			b.WriteString(" " + st.float(s.value) + "\n")
		}
	}
	return b.String()
}

// histogram counts observations into fixed buckets.
type histogram struct {
	bounds []float64 // upper bounds, ascending, without +Inf
	counts []uint64  // per bucket, not cumulative; the last is (bounds[len-1], +Inf)
	sum    float64
	count  uint64
}

func newHistogram(bounds []float64) *histogram {
	return &histogram{bounds: bounds, counts: make([]uint64, len(bounds)+1)}
}

func (h *histogram) observe(v float64) {
	i := 0
	for i < len(h.bounds) && v > h.bounds[i] {
		i++
	}
	h.counts[i]++
	h.sum += v
	h.count++
}

// family renders the histogram as _bucket (cumulative, with le), _sum and _count.
func (h *histogram) family(st style, name, help string, labels ...label) family {
	f := family{name: name, help: help, typ: "histogram"}
	var cum uint64
	for i := range h.counts {
		cum += h.counts[i]
		le := math.Inf(+1)
		if i < len(h.bounds) {
			le = h.bounds[i]
		}
		ls := append(append([]label{}, labels...), label{"le", st.float(le)})
		f.samples = append(f.samples, sample{suffix: "_bucket", labels: ls, value: float64(cum)})
	}
	f.samples = append(f.samples,
		sample{suffix: "_count", labels: labels, value: float64(h.count)},
		sample{suffix: "_sum", labels: labels, value: h.sum})
	return f
}

// summary is a summary without quantiles, as prometheus_client's Summary
// exports it: _count and _sum.
type summary struct {
	sum   float64
	count uint64
}

func (m *summary) observe(v float64) {
	m.sum += v
	m.count++
}

func (m *summary) family(st style, name, help string, labels ...label) family {
	f := family{name: name, help: help, typ: "summary"}
	f.samples = append(f.samples,
		sample{suffix: "_count", labels: labels, value: float64(m.count)},
		sample{suffix: "_sum", labels: labels, value: m.sum})
	return f
}
