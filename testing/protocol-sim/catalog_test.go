package main

// stacks/protocol/metrics.yml against the simulator: every metric a Protocol service
// exports (or is expected to) has simulator series, of the catalog's type,
// with exactly the catalog's labels.

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// repoDir: the repository, from this package. The Protocol's rule files and metric catalog
// entries are in stacks/protocol (a folder of their own: every source there is a Protocol
// service or an exporter beside it, which the simulator serves); the stack's services keep theirs
// in their folders, and the simulator does not model them.
const repoDir = "../.."

var protocolDir = filepath.Join(repoDir, "stacks", "protocol")

// The one place that says what the simulator leaves out of the catalog, and why.
var (
	// notSimulatedMetrics: single metrics of simulated sources left out (none).
	notSimulatedMetrics = map[string]string{}
)

// simulatedSources: the services whose /metrics must carry each source's metrics.
func simulatedSources() map[string][]string {
	var all []string
	for _, sp := range specs {
		all = append(all, sp.name)
	}
	return map[string][]string{
		"registry":                  {"registry-a", "registry-b"},
		"teg":                       {"teg"},
		"spire":                     {"spire"},
		"client_library":            all, // process_* of every service: all run on client libraries
		"x509-certificate-exporter": {"x509"},
		"agent":                     {"agent"},
		"postgres_exporter":         {"postgres-exporter"},
	}
}

type catalogEntry struct {
	Source string   `yaml:"source"`
	Type   string   `yaml:"type"`
	Labels []string `yaml:"labels"`
	Status string   `yaml:"status"`
}

func readCatalog(t *testing.T) map[string]catalogEntry {
	data, err := os.ReadFile(filepath.Join(protocolDir, "metrics.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Metrics map[string]catalogEntry `yaml:"metrics"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Metrics) == 0 {
		t.Fatal("no metrics in the catalog")
	}
	return doc.Metrics
}

// sampleSuffixes: the sample names of a family of each type. A summary's
// quantiles (the bare name, with `quantile`) are there only where the catalog
// lists `quantile` among its labels (quantileSummary); otherwise a summary is
// _sum and _count, as prometheus_client's Summary exports it.
var sampleSuffixes = map[string][]string{
	"counter": {""}, "gauge": {""}, "histogram": {"_bucket", "_sum", "_count"}, "summary": {"_sum", "_count"},
}

func quantileSummary(m catalogEntry) bool {
	for _, l := range m.Labels {
		if l == "quantile" {
			return true
		}
	}
	return false
}

func TestCatalogMetricsAreSimulated(t *testing.T) {
	catalog := readCatalog(t)
	sources := simulatedSources()
	h := newHarness(t, 1)
	// Long enough for every counter to have moved, with every mode once on.
	for _, c := range modeCases() {
		h.set(c.service, c.mode, true)
		h.run(30*time.Second, nil)
		h.set(c.service, c.mode, false)
	}
	expositions := map[string]exposition{}
	for _, sp := range specs {
		e, err := parseExposition(h.scrapeText(sp.name))
		if err != nil {
			t.Fatalf("%s: %v", sp.name, err)
		}
		expositions[sp.name] = e
	}
	names := make([]string, 0, len(catalog))
	for name := range catalog {
		names = append(names, name)
	}
	sort.Strings(names)
	checked := 0
	for _, name := range names {
		m := catalog[name]
		if _, skip := notSimulatedMetrics[name]; skip {
			continue
		}
		services, ok := sources[m.Source]
		if !ok {
			t.Errorf("%s: source %q is in the Protocol catalog but not simulated", name, m.Source)
			continue
		}
		for _, service := range services {
			checkFamily(t, service, name, m, expositions[service])
			checked++
		}
	}
	for name := range notSimulatedMetrics {
		if _, ok := catalog[name]; !ok {
			t.Errorf("notSimulatedMetrics lists %s, which the catalog no longer has", name)
		}
	}
	t.Logf("%d catalog metric × service pairs checked", checked)
}

func checkFamily(t *testing.T, service, name string, m catalogEntry, e exposition) {
	t.Helper()
	typ, ok := e.types[name]
	if !ok {
		t.Errorf("%s: no %s (%s, %s in the catalog)", service, name, m.Type, m.Source)
		return
	}
	if typ != m.Type {
		t.Errorf("%s: %s is a %s, the catalog says %s", service, name, typ, m.Type)
	}
	suffixes := sampleSuffixes[m.Type]
	if m.Type == "summary" && quantileSummary(m) {
		suffixes = append([]string{""}, suffixes...)
	}
	var want []string
	for _, l := range m.Labels {
		if !(m.Type == "summary" && l == "quantile") {
			want = append(want, l)
		}
	}
	sort.Strings(want)
	seen := map[string]bool{}
	for _, s := range e.samples {
		if m.Type == "summary" && s.name == name && !quantileSummary(m) {
			t.Errorf("%s: %s has quantile samples (%v); the catalog lists none (no `quantile` label)", service, name, s.labels)
			return
		}
		for _, suffix := range suffixes {
			if s.name != name+suffix {
				continue
			}
			seen[suffix] = true
			var got []string
			for l := range s.labels {
				if (l == "le" && suffix == "_bucket") || (l == "quantile" && m.Type == "summary" && suffix == "") {
					continue
				}
				got = append(got, l)
			}
			sort.Strings(got)
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("%s: %s%s has labels [%s], the catalog says [%s]", service, name, suffix, strings.Join(got, " "), strings.Join(want, " "))
				return
			}
			if suffix == "_bucket" && s.labels["le"] == "+Inf" {
				seen["+Inf"] = true
			}
		}
	}
	for _, suffix := range suffixes {
		if !seen[suffix] {
			t.Errorf("%s: %s has no %s%s samples", service, name, name, suffix)
		}
	}
	if m.Type == "histogram" && !seen["+Inf"] {
		t.Errorf("%s: %s has no le=\"+Inf\" bucket", service, name)
	}
}
