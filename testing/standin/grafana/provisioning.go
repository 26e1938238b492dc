package grafana

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"protocol-monitoring/standin/internal/shared"

	"gopkg.in/yaml.v3"
)

// yamlFiles lists the .yaml/.yml files of a provisioning folder, sorted.
func yamlFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var out []string
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if !e.IsDir() && (ext == ".yaml" || ext == ".yml") {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out, nil
}

// readProvisioningFile parses one YAML file (its first document, as
// Grafana's yaml.Unmarshal does) and expands $__env{VAR}, $__file{path},
// ${VAR} and $VAR in its values ($$ is a literal $), as Grafana does after
// parsing.
func readProvisioningFile(file string, env shared.Env) (map[string]any, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var v any
	if err := yaml.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	if v == nil {
		return map[string]any{}, nil
	}
	m, ok := gfStringKeys(v).(map[string]any)
	if !ok {
		return nil, errors.New("the file is not a YAML mapping")
	}
	out, err := gfExpandValues(m, env)
	if err != nil {
		return nil, err
	}
	return out.(map[string]any), nil
}

// gfStringKeys turns the map[any]any yaml.v3 makes of a mapping with a
// non-string key (such as 1: or true:) into a map[string]any, recursively,
// so that every mapping reads, and serves as JSON, alike.
func gfStringKeys(v any) any {
	switch t := v.(type) {
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[fmt.Sprint(k)] = gfStringKeys(x)
		}
		return m
	case map[string]any:
		for k, x := range t {
			t[k] = gfStringKeys(x)
		}
	case []any:
		for i, x := range t {
			t[i] = gfStringKeys(x)
		}
	}
	return v
}

var gfMacro = regexp.MustCompile(`\$__(env|file|vault)\{([^}]*)\}`)

func gfExpandValues(v any, env shared.Env) (any, error) {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			y, err := gfExpandValues(x, env)
			if err != nil {
				return nil, err
			}
			t[k] = y
		}
		return t, nil
	case []any:
		for i, x := range t {
			y, err := gfExpandValues(x, env)
			if err != nil {
				return nil, err
			}
			t[i] = y
		}
		return t, nil
	case string:
		return gfInterpolate(t, env)
	}
	return v, nil
}

func gfInterpolate(s string, env shared.Env) (string, error) {
	parts := strings.Split(s, "$$")
	for i, part := range parts {
		var err error
		part = gfMacro.ReplaceAllStringFunc(part, func(m string) string {
			sub := gfMacro.FindStringSubmatch(m)
			switch sub[1] {
			case "env":
				return env(sub[2])
			case "file":
				b, ferr := os.ReadFile(sub[2])
				if ferr != nil && err == nil {
					err = ferr
				}
				return strings.TrimSpace(string(b))
			default:
				if err == nil {
					err = fmt.Errorf("%s is not supported by the stand-in", m)
				}
				return m
			}
		})
		if err != nil {
			return "", err
		}
		parts[i] = os.Expand(part, func(name string) string { return env(name) })
	}
	return strings.Join(parts, "$"), nil
}

func strField(m map[string]any, key string) string {
	switch v := m[key].(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		s, _ := shared.ScalarString(v)
		if s == "" {
			s = fmt.Sprint(v)
		}
		return s
	}
}

func (g *Server) loadDatasources(dir string, env shared.Env) {
	files, err := yamlFiles(dir)
	if err != nil {
		g.problem("datasources: %v", err)
		return
	}
	var defaults []string
	for _, f := range files {
		doc, err := readProvisioningFile(f, env)
		if err != nil {
			g.problem("%s: does not parse: %v", f, err)
			continue
		}
		for k := range doc {
			if k != "apiVersion" && k != "datasources" && k != "deleteDatasources" && k != "prune" {
				g.problem("%s: unknown key %q", f, k)
			}
		}
		list, ok := doc["datasources"].([]any)
		if !ok && doc["datasources"] != nil {
			g.problem("%s: datasources must be a list", f)
			continue
		}
		for i, item := range list {
			ds, ok := item.(map[string]any)
			if !ok {
				g.problem("%s: datasources[%d] is not a mapping", f, i)
				continue
			}
			d := &gfDatasource{file: f, fields: ds, uid: strField(ds, "uid"), name: strField(ds, "name"), typ: strField(ds, "type")}
			switch {
			case d.name == "":
				g.problem("%s: datasources[%d] has no name", f, i)
				continue
			case d.typ == "":
				g.problem("%s: datasource %q has no type", f, d.name)
				continue
			}
			if a := strField(ds, "access"); a != "" && a != "proxy" && a != "direct" {
				g.problem("%s: datasource %q: invalid access value %q (proxy or direct)", f, d.name, a)
			}
			if d.uid == "" {
				d.uid = shared.RandomHex(7) // Grafana generates one: dashboards cannot name it
			}
			if len(d.uid) > 40 {
				g.problem("%s: datasource %q: uid %q is longer than 40 characters", f, d.name, d.uid)
			}
			if other := g.dsByUID[d.uid]; other != nil {
				g.problem("%s: datasource %q has the uid %q of datasource %q (%s)", f, d.name, d.uid, other.name, other.file)
				continue
			}
			if b, _ := ds["isDefault"].(bool); b {
				defaults = append(defaults, d.name)
			}
			d.id = len(g.datasources) + 1
			g.datasources = append(g.datasources, d)
			g.dsByUID[d.uid] = d
			g.dsByName[d.name] = d
		}
	}
	if len(defaults) > 1 {
		g.problem("datasource.yaml config is invalid. Only one datasource per organization can be marked as default (%s)", strings.Join(defaults, ", "))
	}
}

var gfUIDPattern = regexp.MustCompile(`^[a-zA-Z0-9\-_]*$`)

func (g *Server) loadDashboards(dir string, env shared.Env) {
	files, err := yamlFiles(dir)
	if err != nil {
		g.problem("dashboards: %v", err)
		return
	}
	providers := map[string]string{}
	titles := map[string]string{} // folder + title → file
	for _, f := range files {
		doc, err := readProvisioningFile(f, env)
		if err != nil {
			g.problem("%s: does not parse: %v", f, err)
			continue
		}
		list, ok := doc["providers"].([]any)
		if !ok && doc["providers"] != nil {
			g.problem("%s: providers must be a list", f)
			continue
		}
		for i, item := range list {
			pv, ok := item.(map[string]any)
			if !ok {
				g.problem("%s: providers[%d] is not a mapping", f, i)
				continue
			}
			name := strField(pv, "name")
			if name == "" {
				g.problem("%s: providers[%d] has no name", f, i)
				continue
			}
			if other, dup := providers[name]; dup {
				g.problem("%s: dashboard provider name %q is not unique (also in %s)", f, name, other)
				continue
			}
			providers[name] = f
			if t := strField(pv, "type"); t != "" && t != "file" {
				g.problem("%s: provider %q: type %q is not supported (file)", f, name, t)
				continue
			}
			opts, _ := pv["options"].(map[string]any)
			path := strField(opts, "path")
			if path == "" {
				g.problem("%s: provider %q: options.path is not set", f, name)
				continue
			}
			folder := strField(pv, "folder")
			if _, ok := g.folders[folder]; !ok && folder != "" {
				g.folders[folder] = len(g.folders) + 1
			}
			g.loadDashboardFolder(f, name, path, folder, titles)
		}
	}
}

func (g *Server) loadDashboardFolder(providerFile, provider, path, folder string, titles map[string]string) {
	resolved, err := filepath.EvalSymlinks(path)
	if err != nil {
		g.problem("%s: provider %q: cannot read dashboards folder %s: %v", providerFile, provider, path, err)
		return
	}
	var files []string
	_ = filepath.WalkDir(resolved, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(strings.ToLower(p), ".json") {
			files = append(files, p)
		}
		return nil
	})
	sort.Strings(files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			g.problem("%s: %v", f, err)
			continue
		}
		var dash map[string]any
		if err := shared.DecodeJSON(b, &dash); err != nil || dash == nil {
			g.problem("%s: dashboard does not parse: %v", f, err)
			continue
		}
		d := &gfDashboard{file: f, json: dash, uid: strField(dash, "uid"), title: strField(dash, "title"),
			folder: folder, folderID: g.folders[folder], provider: provider}
		if strings.TrimSpace(d.title) == "" {
			g.problem("%s: Dashboard title cannot be empty", f)
			continue
		}
		if len(d.uid) > 40 {
			g.problem("%s: dashboard uid %q is too long (max 40 characters)", f, d.uid)
			continue
		}
		if !gfUIDPattern.MatchString(d.uid) {
			g.problem("%s: dashboard uid %q contains illegal characters", f, d.uid)
			continue
		}
		if d.uid == "" {
			d.uid = shared.RandomHex(7)
		}
		if other := g.dbByUID[d.uid]; other != nil {
			g.problem("%s: dashboard uid %q is used more than once (also by %s)", f, d.uid, other.file)
			continue
		}
		key := folder + "\x00" + strings.ToLower(d.title)
		if other, dup := titles[key]; dup {
			g.problem("%s: A dashboard with the same name in the folder already exists (%q, also %s)", f, d.title, other)
			continue
		}
		titles[key] = f
		d.id = len(g.dashboards) + 1
		g.dashboards = append(g.dashboards, d)
		g.dbByUID[d.uid] = d
	}
}
