package grafana

import (
	"crypto/x509"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"unicode"

	"protocol-monitoring/standin/internal/shared"
)

// ---- HTTP

func (g *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := shared.CleanPath(r)
	switch {
	case p == "/api/health":
		if len(g.problems) > 0 {
			shared.WriteJSON(w, 503, obj{"database": "failing", "version": "standin", "commit": "standin", "problems": g.problems})
			return
		}
		shared.WriteJSON(w, 200, obj{"database": "ok", "version": "standin", "commit": "standin"})
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
		shared.WriteJSON(w, 404, obj{"message": "Not found"})
		return
	}
	user, password, ok := r.BasicAuth()
	if !ok {
		shared.WriteJSON(w, 401, obj{"extra": nil, "message": "Unauthorized", "messageId": "auth.unauthorized", "statusCode": 401, "traceID": ""})
		return
	}
	if user != g.adminUser || !g.adminPw.Matches(password) {
		shared.Logger.Printf("grafana: invalid username or password for [%s] on %s %s", user, r.Method, p)
		shared.WriteJSON(w, 401, obj{"message": "Invalid username or password", "messageId": "password-auth.failed", "statusCode": 401, "traceID": ""})
		return
	}
	if r.Method != http.MethodGet {
		shared.WriteJSON(w, 405, obj{"message": "the Grafana stand-in's API is read-only"})
		return
	}
	segs := strings.Split(strings.TrimPrefix(p, "/api/"), "/")
	switch {
	case len(segs) == 1 && segs[0] == "datasources":
		list := []obj{}
		for _, d := range g.datasources {
			list = append(list, g.datasourceBody(d))
		}
		shared.WriteJSON(w, 200, list)
	case len(segs) == 3 && segs[0] == "datasources" && segs[1] == "uid":
		d := g.dsByUID[segs[2]]
		if d == nil {
			shared.WriteJSON(w, 404, obj{"message": "Data source not found"})
			return
		}
		shared.WriteJSON(w, 200, g.datasourceBody(d))
	case len(segs) == 4 && segs[0] == "datasources" && segs[1] == "uid" && segs[3] == "health":
		d := g.dsByUID[segs[2]]
		if d == nil {
			shared.WriteJSON(w, 404, obj{"message": "Data source not found"})
			return
		}
		g.datasourceHealth(w, r, d)
	case len(segs) == 3 && segs[0] == "dashboards" && segs[1] == "uid":
		d := g.dbByUID[segs[2]]
		if d == nil {
			shared.WriteJSON(w, 404, obj{"message": "Dashboard not found"})
			return
		}
		shared.WriteJSON(w, 200, g.dashboardBody(d))
	case len(segs) == 1 && segs[0] == "search":
		shared.WriteJSON(w, 200, g.search(r.URL.Query()))
	default:
		shared.WriteJSON(w, 404, obj{"message": "Not found (the Grafana stand-in models /api/health, /api/datasources, /api/dashboards/uid and /api/search)"})
	}
}

func (g *Server) datasourceBody(d *gfDatasource) obj {
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
func (g *Server) datasourceHealth(w http.ResponseWriter, r *http.Request, d *gfDatasource) {
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
		shared.WriteJSON(w, 400, obj{"status": "ERROR", "message": fmt.Sprintf("the Grafana stand-in cannot check %q datasources", d.typ)})
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
			shared.WriteJSON(w, 400, obj{"status": "ERROR", "message": "tlsAuthWithCACert: secureJsonData.tlsCACert holds no PEM certificate"})
			return
		}
		client = shared.ClientTrusting(pool, g.client.Timeout)
	}
	status, body, err := shared.BasicAuthGet(r.Context(), client, target, user, password)
	switch {
	case err != nil:
		shared.WriteJSON(w, 400, obj{"status": "ERROR", "message": err.Error()})
	case status != 200:
		shared.WriteJSON(w, 400, obj{"status": "ERROR", "message": shared.ESErrorReason(status, body)})
	default:
		shared.WriteJSON(w, 200, obj{"status": "OK", "message": okMessage})
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

func (g *Server) dashboardBody(d *gfDashboard) obj {
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

func (g *Server) search(q url.Values) []obj {
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
		dtags, _ := shared.StringList(d.json["tags"])
		if len(tags) > 0 {
			all := true
			for _, t := range tags {
				all = all && shared.ContainsAny(dtags, []string{t})
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
