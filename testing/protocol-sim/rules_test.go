package main

// The alert rules of assets/rules against the simulator's model of them
// (alertModels in harness_test.go) and its modes.

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// protocolRuleFiles: the rule files of the Protocol's alerts (its services
// and the exporters watching them), every alert of which a mode drives or
// notDriven explains.
var protocolRuleFiles = []string{"registry.rules.yml", "teg.rules.yml", "security.rules.yml", "agents.rules.yml", "database.rules.yml"}

// otherRuleFiles: the rule files of the monitoring stack itself, and why no
// mode of the simulator can drive them (only TargetDown, of stack.rules.yml,
// is modelled: `down` of SPIRE, the agent and the exporters drives it).
var otherRuleFiles = map[string]string{
	"stack.rules.yml":         "Prometheus's own alerts, and TargetDown for every other target",
	"alertmanager.rules.yml":  "Alertmanager's own metrics",
	"host.rules.yml":          "the Docker host, as Node Exporter reports it",
	"elasticsearch.rules.yml": "the log cluster, as elasticsearch_exporter reports it",
	"probes.rules.yml":        "probe_success of the blackbox exporter, which probes the real endpoints (e2e deploy.test.ts)",
	"containers.rules.yml":    "the stack's own containers, as cAdvisor reports them",
}

// notDriven: Protocol alerts no mode drives, and why (the one place).
var notDriven = map[string]string{
	"RegistryAbsent": "fires when no registry_* target is configured at all: Prometheus's configuration, not a service's behaviour",
	"TEGLayerAbsent": "fires when no teg_layer target is configured at all: Prometheus's configuration, not a service's behaviour",
	"NewAgentRegistrations": "holds whenever a registry accepted a registration in the last hour, so it holds throughout normal operation " +
		"(the simulated registries, like live ones, accept about one a minute): no mode can switch it on, and the mode tests leave it out (steadyAlerts)",
}

// steadyAlerts: Protocol alerts whose expression holds in normal operation
// (their reason is in notDriven). The mode tests do not count them as driven
// by a mode; TestNormalOperation checks that they do hold.
var steadyAlerts = map[string]bool{"NewAgentRegistrations": true}

type rule struct {
	Alert string `yaml:"alert"`
	Expr  string `yaml:"expr"`
	For   string `yaml:"for"`
}

func readRules(t *testing.T, file string) map[string]rule {
	data, err := os.ReadFile(filepath.Join(assetsDir, "rules", file))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Groups []struct {
			Rules []rule `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	out := map[string]rule{}
	for _, g := range doc.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" {
				out[r.Alert] = r
			}
		}
	}
	return out
}

func normalize(expr string) string { return strings.Join(strings.Fields(expr), " ") }

func TestAlertModelsMatchTheRules(t *testing.T) {
	files := map[string]map[string]rule{}
	for _, a := range alertModels {
		if files[a.file] == nil {
			files[a.file] = readRules(t, a.file)
		}
		r, ok := files[a.file][a.name]
		if !ok {
			t.Errorf("%s: no such alert in %s any more; update alertModels", a.name, a.file)
			continue
		}
		if normalize(r.Expr) != normalize(a.expr) {
			t.Errorf("%s changed in %s:\n  rule:  %s\n  model: %s\nupdate its model in harness_test.go (and the mode that drives it)", a.name, a.file, normalize(r.Expr), normalize(a.expr))
		}
		want, known := alertFor[a.name]
		if !known {
			t.Errorf("%s: no `for` in alertFor (modes_test.go)", a.name)
			continue
		}
		d, err := time.Duration(0), error(nil)
		if r.For != "" { // no `for`: fires at the first evaluation that holds
			d, err = time.ParseDuration(r.For)
		}
		if err != nil || d != want {
			t.Errorf("%s: for %q in %s, the tests assume %s", a.name, r.For, a.file, want)
		}
	}
}

func TestEveryProtocolAlertIsDrivenByAMode(t *testing.T) {
	driven := map[string]bool{}
	for _, c := range modeCases() {
		alertModelNamed(c.alert) // panics for a mode whose alert has no model
		driven[c.alert] = true
	}
	protocol := map[string]string{} // alert → its file
	for _, file := range protocolRuleFiles {
		rules := readRules(t, file)
		if len(rules) == 0 {
			t.Errorf("%s has no alerts", file)
		}
		for name := range rules {
			protocol[name] = file
		}
	}
	for name, file := range protocol {
		_, excused := notDriven[name]
		switch {
		case driven[name] && excused:
			t.Errorf("%s (%s) is driven by a mode, yet notDriven (rules_test.go) says why not", name, file)
		case !driven[name] && !excused:
			t.Errorf("no mode drives %s (%s), and notDriven (rules_test.go) gives no reason", name, file)
		}
	}
	for name := range notDriven {
		if protocol[name] == "" {
			t.Errorf("notDriven lists %s, which no Protocol rule file has any more", name)
		}
	}
	for name := range steadyAlerts {
		if _, ok := notDriven[name]; !ok {
			t.Errorf("steadyAlerts lists %s without its reason in notDriven", name)
		}
		alertModelNamed(name)
	}
}

// Every rule file is either the Protocol's or the stack's, so a new file is not left out.
func TestEveryRuleFileIsClassified(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(assetsDir, "rules", "*.rules.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no rule files in %s: %v", filepath.Join(assetsDir, "rules"), err)
	}
	known := map[string]bool{}
	for _, f := range protocolRuleFiles {
		known[f] = true
	}
	for f := range otherRuleFiles {
		if known[f] {
			t.Errorf("%s is listed both as a Protocol rule file and in otherRuleFiles", f)
		}
		known[f] = true
	}
	var seen []string
	for _, path := range files {
		name := filepath.Base(path)
		seen = append(seen, name)
		if !known[name] {
			t.Errorf("%s: neither in protocolRuleFiles nor in otherRuleFiles (rules_test.go)", name)
		}
		delete(known, name)
	}
	for name := range known {
		t.Errorf("%s is listed in rules_test.go but is not in assets/rules", name)
	}
	sort.Strings(seen)
	t.Logf("rule files: %s", strings.Join(seen, " "))
}
