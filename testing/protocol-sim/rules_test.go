package main

// The alert rules of stacks/protocol/rules against the simulator's model of them
// (alertModels in harness_test.go) and its modes.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// protocolRuleFiles: the rule files of the Protocol's alerts (its services
// and the exporters watching them; stacks/protocol/rules), every alert of
// which a mode drives or notDriven explains. The stack's own rule files live in
// its services' folders: no mode drives them (but TargetDown, of Prometheus's
// stack.rules.yml: `down` of SPIRE, the agent and the exporters drives it).
func protocolRuleFiles(t *testing.T) []string {
	files, err := filepath.Glob(filepath.Join(protocolDir, "rules", "*.rules.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no rule files in %s: %v", filepath.Join(protocolDir, "rules"), err)
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = filepath.Base(f)
	}
	return names
}

// ruleFilePath: a rule file by its name, in the Protocol's folder or a service's.
func ruleFilePath(t *testing.T, file string) string {
	found, _ := filepath.Glob(filepath.Join(repoDir, "stacks", "*", "rules", file))
	more, _ := filepath.Glob(filepath.Join(repoDir, "stacks", "services", "*", "rules", file))
	found = append(found, more...)
	if len(found) != 1 {
		t.Fatalf("rule file %s: found %d (%v), want one", file, len(found), found)
	}
	return found[0]
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
	data, err := os.ReadFile(ruleFilePath(t, file))
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
	for _, file := range protocolRuleFiles(t) {
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
