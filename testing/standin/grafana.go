package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode"

	"gopkg.in/yaml.v3"
)

// ---------------------------------------------------------------------------
// Grafana: provisioning files, checked; the API behind the admin user.

type gfDatasource struct {
	file   string
	id     int
	fields map[string]any // as provisioned, $__env{} expanded
	uid    string
	name   string
	typ    string
}

type gfDashboard struct {
	file     string
	id       int
	uid      string
	title    string
	json     map[string]any
	folder   string
	folderID int
	provider string
}

type grafanaServer struct {
	listen      string
	adminUser   string
	adminPw     pwHash
	datasources []*gfDatasource
	dsByUID     map[string]*gfDatasource
	dsByName    map[string]*gfDatasource
	dashboards  []*gfDashboard
	dbByUID     map[string]*gfDashboard
	folders     map[string]int // title → id
	problems    []string
	client      *http.Client
}

func newGrafana(env envFunc) (*grafanaServer, error) {
	listen, err := portAddr(env, "GF_SERVER_HTTP_PORT", 3000)
	if err != nil {
		return nil, err
	}
	g := &grafanaServer{listen: listen, dsByUID: map[string]*gfDatasource{}, dsByName: map[string]*gfDatasource{},
		dbByUID: map[string]*gfDashboard{}, folders: map[string]int{}, client: &http.Client{Timeout: 5 * time.Second}}
	if err := g.loadAdmin(env); err != nil {
		return nil, err
	}
	prov := envOr(env, "GF_PATHS_PROVISIONING", "/etc/grafana/provisioning")
	g.loadDatasources(filepath.Join(prov, "datasources"), env)
	g.loadDashboards(filepath.Join(prov, "dashboards"), env)
	g.checkReferences()
	for _, p := range g.problems {
		logger.Printf("grafana: provisioning problem: %s", p)
	}
	if len(g.problems) == 0 {
		logger.Printf("grafana: provisioned %d datasources and %d dashboards", len(g.datasources), len(g.dashboards))
	} else {
		logger.Printf("grafana: %d provisioning problems: /api/health answers 503", len(g.problems))
	}
	return g, nil
}

func (g *grafanaServer) addr() string                    { return g.listen }
func (g *grafanaServer) start(ctx context.Context) error { return nil }

func (g *grafanaServer) problem(f string, a ...any) {
	g.problems = append(g.problems, fmt.Sprintf(f, a...))
}

// loadAdmin: the admin user is created on the first start of an empty data
// directory from GF_SECURITY_ADMIN_USER/PASSWORD (default admin/admin); later
// values of those variables are ignored, as upstream.
func (g *grafanaServer) loadAdmin(env envFunc) error {
	dataDir := envOr(env, "GF_PATHS_DATA", "/var/lib/grafana")
	file := filepath.Join(dataDir, "standin-admin.json")
	user := envOr(env, "GF_SECURITY_ADMIN_USER", "admin")
	password, err := envFile(env, "GF_SECURITY_ADMIN_PASSWORD", "GF_SECURITY_ADMIN_PASSWORD__FILE")
	if err != nil {
		return err
	}
	if password == "" {
		password = "admin"
	}
	var stored struct {
		Login    string `json:"login"`
		Password pwHash `json:"password"`
	}
	b, err := os.ReadFile(file)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &stored); err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		if stored.Login != user || !stored.Password.matches(password) {
			logger.Printf("grafana: GF_SECURITY_ADMIN_USER/PASSWORD differ from the admin user in %s; as upstream, they only apply on the first start of an empty data directory", dataDir)
		}
	case errors.Is(err, os.ErrNotExist):
		stored.Login, stored.Password = user, newPwHash(password)
		b, _ := json.Marshal(stored)
		if err := os.MkdirAll(dataDir, 0o750); err != nil {
			return fmt.Errorf("data directory: %w", err)
		}
		if err := writeFileAtomic(file, b, 0o600); err != nil {
			return fmt.Errorf("data directory: %w", err)
		}
		logger.Printf("grafana: created admin user [%s]", user)
	default:
		return err
	}
	g.adminUser, g.adminPw = stored.Login, stored.Password
	return nil
}

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
func readProvisioningFile(file string, env envFunc) (map[string]any, error) {
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

func gfExpandValues(v any, env envFunc) (any, error) {
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

func gfInterpolate(s string, env envFunc) (string, error) {
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
		s, _ := esScalarString(v)
		if s == "" {
			s = fmt.Sprint(v)
		}
		return s
	}
}

func (g *grafanaServer) loadDatasources(dir string, env envFunc) {
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
				d.uid = randomHex(7) // Grafana generates one: dashboards cannot name it
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

func (g *grafanaServer) loadDashboards(dir string, env envFunc) {
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

func (g *grafanaServer) loadDashboardFolder(providerFile, provider, path, folder string, titles map[string]string) {
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
		if err := decodeJSON(b, &dash); err != nil || dash == nil {
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
			d.uid = randomHex(7)
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

// Built-in datasources every Grafana has.
var gfBuiltinDatasources = map[string]bool{"grafana": true, "-- Grafana --": true, "-- Mixed --": true, "-- Dashboard --": true}

var gfVarRef = regexp.MustCompile(`^(?:\$\{([A-Za-z0-9_]+)(?::[^}]*)?\}|\$([A-Za-z0-9_]+)|\[\[([A-Za-z0-9_]+)(?::[^\]]*)?\]\])$`)

// checkReferences: every datasource a dashboard's panels, targets,
// template variables and annotations name must be provisioned (or built
// in, or a template variable of the dashboard).
func (g *grafanaServer) checkReferences() {
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
func (g *grafanaServer) checkRef(ref any, vars map[string]bool) string {
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

// ---- HTTP

func (g *grafanaServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := cleanPath(r)
	switch {
	case p == "/api/health":
		if len(g.problems) > 0 {
			writeJSON(w, 503, obj{"database": "failing", "version": "standin", "commit": "standin", "problems": g.problems})
			return
		}
		writeJSON(w, 200, obj{"database": "ok", "version": "standin", "commit": "standin"})
		return
	case p == "/metrics":
		// Grafana serves Prometheus metrics; the stack scrapes them, so answer in that format.
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		healthy := 1
		if len(g.problems) > 0 {
			healthy = 0
		}
		fmt.Fprintf(w, "# HELP standin_up The Grafana stand-in is serving.\n# TYPE standin_up gauge\nstandin_up 1\n"+
			"# HELP standin_provisioning_ok Whether the provisioning files passed the stand-in's checks.\n"+
			"# TYPE standin_provisioning_ok gauge\nstandin_provisioning_ok %d\n", healthy)
		return
	case p == "/":
		http.Redirect(w, r, "/login", http.StatusFound)
		return
	case p == "/login":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintln(w, "<!DOCTYPE html><title>Grafana stand-in</title><p>Grafana stand-in: the API needs Basic auth.</p>")
		return
	case !strings.HasPrefix(p, "/api/"):
		writeJSON(w, 404, obj{"message": "Not found"})
		return
	}
	user, password, ok := r.BasicAuth()
	if !ok {
		writeJSON(w, 401, obj{"extra": nil, "message": "Unauthorized", "messageId": "auth.unauthorized", "statusCode": 401, "traceID": ""})
		return
	}
	if user != g.adminUser || !g.adminPw.matches(password) {
		logger.Printf("grafana: invalid username or password for [%s] on %s %s", user, r.Method, p)
		writeJSON(w, 401, obj{"message": "Invalid username or password", "messageId": "password-auth.failed", "statusCode": 401, "traceID": ""})
		return
	}
	if r.Method != http.MethodGet {
		writeJSON(w, 405, obj{"message": "the Grafana stand-in's API is read-only"})
		return
	}
	segs := strings.Split(strings.TrimPrefix(p, "/api/"), "/")
	switch {
	case len(segs) == 1 && segs[0] == "datasources":
		list := []obj{}
		for _, d := range g.datasources {
			list = append(list, g.datasourceBody(d))
		}
		writeJSON(w, 200, list)
	case len(segs) == 3 && segs[0] == "datasources" && segs[1] == "uid":
		d := g.dsByUID[segs[2]]
		if d == nil {
			writeJSON(w, 404, obj{"message": "Data source not found"})
			return
		}
		writeJSON(w, 200, g.datasourceBody(d))
	case len(segs) == 4 && segs[0] == "datasources" && segs[1] == "uid" && segs[3] == "health":
		d := g.dsByUID[segs[2]]
		if d == nil {
			writeJSON(w, 404, obj{"message": "Data source not found"})
			return
		}
		g.datasourceHealth(w, r, d)
	case len(segs) == 3 && segs[0] == "dashboards" && segs[1] == "uid":
		d := g.dbByUID[segs[2]]
		if d == nil {
			writeJSON(w, 404, obj{"message": "Dashboard not found"})
			return
		}
		writeJSON(w, 200, g.dashboardBody(d))
	case len(segs) == 1 && segs[0] == "search":
		writeJSON(w, 200, g.search(r.URL.Query()))
	default:
		writeJSON(w, 404, obj{"message": "Not found (the Grafana stand-in models /api/health, /api/datasources, /api/dashboards/uid and /api/search)"})
	}
}

func (g *grafanaServer) datasourceBody(d *gfDatasource) obj {
	body := obj{"id": d.id, "uid": d.uid, "orgId": 1, "name": d.name, "type": d.typ, "typeLogoUrl": "",
		"access": "proxy", "url": "", "user": "", "database": "", "basicAuth": false, "basicAuthUser": "",
		"withCredentials": false, "isDefault": false, "jsonData": obj{}, "secureJsonFields": obj{}, "version": 1, "readOnly": true}
	for k, v := range d.fields {
		switch k {
		case "secureJsonData": // never returned: only which fields are set
			if m, ok := v.(map[string]any); ok {
				set := obj{}
				for sk := range m {
					set[sk] = true
				}
				body["secureJsonFields"] = set
			}
		case "editable":
			if b, ok := v.(bool); ok {
				body["readOnly"] = !b
			}
		case "password", "basicAuthPassword", "orgId":
		default:
			body[k] = v
		}
	}
	return body
}

// datasourceHealth checks a datasource as Grafana's "Save & test" does:
// a query for Prometheus, a search on the configured index (with the
// datasource's Basic auth) for Elasticsearch.
func (g *grafanaServer) datasourceHealth(w http.ResponseWriter, r *http.Request, d *gfDatasource) {
	base := strings.TrimRight(strField(d.fields, "url"), "/")
	jsonData, _ := d.fields["jsonData"].(map[string]any)
	secure, _ := d.fields["secureJsonData"].(map[string]any)
	var target, user, password, okMessage string
	switch d.typ {
	case "prometheus":
		target, okMessage = base+"/api/v1/query?query=1%2B1", "Successfully queried the Prometheus API."
	case "elasticsearch":
		index := strField(jsonData, "index")
		if index == "" {
			index = strField(d.fields, "database")
		}
		target, okMessage = base+"/"+url.PathEscape(index)+"/_search?size=0", "Elasticsearch data source is healthy."
	default:
		writeJSON(w, 400, obj{"status": "ERROR", "message": fmt.Sprintf("the Grafana stand-in cannot check %q datasources", d.typ)})
		return
	}
	if b, _ := d.fields["basicAuth"].(bool); b {
		user, password = strField(d.fields, "basicAuthUser"), strField(secure, "basicAuthPassword")
	}
	client := g.client
	if b, _ := jsonData["tlsAuthWithCACert"].(bool); b {
		// tlsCACert holds the PEM itself ($__file{} expanded at provisioning).
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(strField(secure, "tlsCACert"))) {
			writeJSON(w, 400, obj{"status": "ERROR", "message": "tlsAuthWithCACert: secureJsonData.tlsCACert holds no PEM certificate"})
			return
		}
		client = clientTrusting(pool, g.client.Timeout)
	}
	status, body, err := basicAuthGet(r.Context(), client, target, user, password)
	switch {
	case err != nil:
		writeJSON(w, 400, obj{"status": "ERROR", "message": err.Error()})
	case status != 200:
		writeJSON(w, 400, obj{"status": "ERROR", "message": esErrorReason(status, body)})
	default:
		writeJSON(w, 200, obj{"status": "OK", "message": okMessage})
	}
}

func gfSlug(title string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(title) {
		if unicode.IsLetter(c) || unicode.IsDigit(c) {
			b.WriteRune(c)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

func (g *grafanaServer) dashboardBody(d *gfDashboard) obj {
	dash := make(map[string]any, len(d.json)+2)
	for k, v := range d.json {
		dash[k] = v
	}
	dash["id"], dash["uid"] = d.id, d.uid
	if _, ok := dash["version"]; !ok {
		dash["version"] = 1
	}
	slug := gfSlug(d.title)
	folderTitle := d.folder
	if folderTitle == "" {
		folderTitle = "General"
	}
	rel, _ := filepath.Rel(filepath.Dir(d.file), d.file)
	return obj{"dashboard": dash, "meta": obj{
		"type": "db", "canSave": false, "canEdit": false, "canAdmin": true, "canStar": true, "canDelete": false,
		"slug": slug, "url": "/d/" + d.uid + "/" + slug, "expires": "0001-01-01T00:00:00Z",
		"created": "0001-01-01T00:00:00Z", "updated": "0001-01-01T00:00:00Z", "updatedBy": "Anonymous",
		"createdBy": "Anonymous", "version": dash["version"], "hasAcl": false, "isFolder": false,
		"folderId": d.folderID, "folderUid": gfSlug(d.folder), "folderTitle": folderTitle,
		"folderUrl": "", "provisioned": true, "provisionedExternalId": rel,
	}}
}

func (g *grafanaServer) search(q url.Values) []obj {
	query := strings.ToLower(q.Get("query"))
	tags := q["tag"]
	typ := q.Get("type")
	uids := map[string]bool{}
	for _, u := range q["dashboardUIDs"] {
		for _, x := range strings.Split(u, ",") {
			uids[x] = true
		}
	}
	out := []obj{}
	if typ == "" || typ == "dash-folder" {
		var names []string
		for n := range g.folders {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			if len(tags) > 0 || len(uids) > 0 || !strings.Contains(strings.ToLower(n), query) {
				continue
			}
			out = append(out, obj{"id": g.folders[n], "uid": gfSlug(n), "title": n, "uri": "db/" + gfSlug(n),
				"url": "/dashboards/f/" + gfSlug(n) + "/" + gfSlug(n), "slug": "", "type": "dash-folder",
				"tags": []string{}, "isStarred": false, "sortMeta": 0})
		}
	}
	if typ != "" && typ != "dash-db" {
		return out
	}
	list := append([]*gfDashboard(nil), g.dashboards...)
	sort.Slice(list, func(i, j int) bool { return strings.ToLower(list[i].title) < strings.ToLower(list[j].title) })
	for _, d := range list {
		if !strings.Contains(strings.ToLower(d.title), query) || (len(uids) > 0 && !uids[d.uid]) {
			continue
		}
		dtags, _ := stringList(d.json["tags"])
		if len(tags) > 0 {
			all := true
			for _, t := range tags {
				all = all && containsAny(dtags, []string{t})
			}
			if !all {
				continue
			}
		}
		if dtags == nil {
			dtags = []string{}
		}
		slug := gfSlug(d.title)
		item := obj{"id": d.id, "uid": d.uid, "title": d.title, "uri": "db/" + slug, "url": "/d/" + d.uid + "/" + slug,
			"slug": "", "type": "dash-db", "tags": dtags, "isStarred": false, "sortMeta": 0}
		if d.folder != "" {
			item["folderId"], item["folderUid"], item["folderTitle"] = d.folderID, gfSlug(d.folder), d.folder
			item["folderUrl"] = "/dashboards/f/" + gfSlug(d.folder) + "/" + gfSlug(d.folder)
		}
		out = append(out, item)
	}
	return out
}
