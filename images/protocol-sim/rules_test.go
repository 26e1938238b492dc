package main

// The alert rules of assets/rules against the simulator's model of them
// (alertModels in harness_test.go) and its modes.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// notDriven: Protocol alerts no mode drives, and why (the one place).
var notDriven = map[string]string{
	"RegistryAbsent": "fires when no registry_* target is configured at all: Prometheus's configuration, not a service's behaviour",
	"TEGLayerAbsent": "fires when no teg_layer target is configured at all: Prometheus's configuration, not a service's behaviour",
}

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
		if d, err := time.ParseDuration(r.For); err != nil || d != alertFor[a.name] {
			t.Errorf("%s: for %q in %s, the tests assume %s", a.name, r.For, a.file, alertFor[a.name])
		}
	}
}

func TestEveryProtocolAlertIsDrivenByAMode(t *testing.T) {
	driven := map[string]bool{}
	for _, c := range modeCases() {
		alertModelNamed(c.alert) // panics for a mode whose alert has no model
		driven[c.alert] = true
	}
	for name := range readRules(t, "protocol.rules.yml") {
		if _, ok := notDriven[name]; !driven[name] && !ok {
			t.Errorf("no mode drives %s, and notDriven (rules_test.go) gives no reason", name)
		}
	}
}
