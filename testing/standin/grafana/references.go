package grafana

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Built-in datasources every Grafana has.
var gfBuiltinDatasources = map[string]bool{"grafana": true, "-- Grafana --": true, "-- Mixed --": true, "-- Dashboard --": true}

var gfVarRef = regexp.MustCompile(`^(?:\$\{([A-Za-z0-9_]+)(?::[^}]*)?\}|\$([A-Za-z0-9_]+)|\[\[([A-Za-z0-9_]+)(?::[^\]]*)?\]\])$`)

// checkReferences: every datasource a dashboard's panels, targets,
// template variables and annotations name must be provisioned (or built
// in, or a template variable of the dashboard).
func (g *Server) checkReferences() {
	var provisioned []string
	for _, d := range g.datasources {
		provisioned = append(provisioned, d.uid)
	}
	sort.Strings(provisioned)
	for _, d := range g.dashboards {
		vars := map[string]bool{}
		templating, _ := d.json["templating"].(map[string]any)
		varList, _ := templating["list"].([]any)
		for _, v := range varList {
			if m, ok := v.(map[string]any); ok {
				vars[strField(m, "name")] = true
			}
		}
		check := func(ref any, where string) {
			if msg := g.checkRef(ref, vars); msg != "" {
				g.problem("%s: %s %s (provisioned datasource uids: %s)", d.file, where, msg, strings.Join(provisioned, ", "))
			}
		}
		var walkPanels func(panels []any)
		walkPanels = func(panels []any) {
			for _, p := range panels {
				panel, ok := p.(map[string]any)
				if !ok {
					continue
				}
				name := fmt.Sprintf("panel %q (id %s)", strField(panel, "title"), strField(panel, "id"))
				if ref, ok := panel["datasource"]; ok {
					check(ref, name)
				}
				targets, _ := panel["targets"].([]any)
				for i, t := range targets {
					if tm, ok := t.(map[string]any); ok {
						if ref, ok := tm["datasource"]; ok {
							check(ref, fmt.Sprintf("%s target %d", name, i))
						}
					}
				}
				if sub, ok := panel["panels"].([]any); ok { // rows
					walkPanels(sub)
				}
			}
		}
		panels, _ := d.json["panels"].([]any)
		walkPanels(panels)
		rows, _ := d.json["rows"].([]any) // the pre-5.0 schema
		for _, r := range rows {
			if rm, ok := r.(map[string]any); ok {
				sub, _ := rm["panels"].([]any)
				walkPanels(sub)
			}
		}
		for _, v := range varList {
			if m, ok := v.(map[string]any); ok {
				if ref, ok := m["datasource"]; ok && strField(m, "type") != "datasource" {
					check(ref, fmt.Sprintf("template variable %q", strField(m, "name")))
				}
			}
		}
		annotations, _ := d.json["annotations"].(map[string]any)
		annList, _ := annotations["list"].([]any)
		for _, a := range annList {
			if m, ok := a.(map[string]any); ok {
				if ref, ok := m["datasource"]; ok {
					check(ref, fmt.Sprintf("annotation %q", strField(m, "name")))
				}
			}
		}
	}
}

// checkRef returns "" when Grafana resolves the reference, else why not.
func (g *Server) checkRef(ref any, vars map[string]bool) string {
	checkVar := func(s string) (bool, string) {
		m := gfVarRef.FindStringSubmatch(s)
		if m == nil {
			return false, ""
		}
		name := m[1] + m[2] + m[3]
		if vars[name] {
			return true, ""
		}
		return true, fmt.Sprintf("names the datasource variable %q, which the dashboard does not define"+
			" (Grafana replaces ${DS_…} inputs only when a dashboard is imported, not when it is provisioned)", s)
	}
	switch t := ref.(type) {
	case nil:
		return "" // the default datasource
	case string:
		if t == "" || gfBuiltinDatasources[t] {
			return ""
		}
		if isVar, msg := checkVar(t); isVar {
			return msg
		}
		if g.dsByName[t] != nil || g.dsByUID[t] != nil {
			return ""
		}
		return fmt.Sprintf("names datasource %q, which is not provisioned", t)
	case map[string]any:
		uid, typ := strField(t, "uid"), strField(t, "type")
		if gfBuiltinDatasources[uid] || typ == "datasource" || typ == "grafana" {
			return ""
		}
		if isVar, msg := checkVar(uid); isVar {
			return msg
		}
		if uid == "" {
			if typ == "" {
				return ""
			}
			for _, d := range g.datasources {
				if d.typ == typ {
					return ""
				}
			}
			return fmt.Sprintf("names a datasource of type %q, and none is provisioned", typ)
		}
		d := g.dsByUID[uid]
		if d == nil {
			return fmt.Sprintf("names datasource uid %q, which is not provisioned", uid)
		}
		if typ != "" && typ != d.typ {
			return fmt.Sprintf("names datasource uid %q with type %q, but it is a %q datasource", uid, typ, d.typ)
		}
		return ""
	}
	return fmt.Sprintf("has a datasource reference of unexpected form %v", ref)
}
