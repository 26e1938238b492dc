package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// ---------------------------------------------------------------------------
// Elasticsearch: security on, documents in the data directory.

const esMaxBody = 100 << 20 // http.max_content_length

type esUser struct {
	Password pwHash   `json:"password"`
	Roles    []string `json:"roles"`
	FullName string   `json:"full_name,omitempty"`
	Email    string   `json:"email,omitempty"`
	Metadata obj      `json:"metadata,omitempty"`
	Enabled  bool     `json:"enabled"`
}

type esIndexPrivileges struct {
	Names      []string `json:"names"`
	Privileges []string `json:"privileges"`
}

type esRole struct {
	Cluster  []string            `json:"cluster"`
	Indices  []esIndexPrivileges `json:"indices"`
	Metadata obj                 `json:"metadata,omitempty"`
}

// esSecurityState is what the security index holds: persisted as JSON.
type esSecurityState struct {
	Users map[string]*esUser `json:"users"`
	Roles map[string]*esRole `json:"roles"`
}

// Reserved users exist from the start; all but elastic (whose password is
// the bootstrap password) cannot log in until their password is set.
var esReservedUsers = map[string][]string{
	"elastic":                {"superuser"},
	"kibana_system":          {"kibana_system"},
	"kibana":                 {"kibana_system"},
	"logstash_system":        {"logstash_system"},
	"beats_system":           {"beats_system"},
	"apm_system":             {"apm_system"},
	"remote_monitoring_user": {"remote_monitoring_collector", "remote_monitoring_agent"},
}

// Built-in roles, reduced to what the stand-in enforces.
var esBuiltinRoles = map[string]*esRole{
	"superuser": {Cluster: []string{"all"}, Indices: []esIndexPrivileges{{Names: []string{"*"}, Privileges: []string{"all"}}}},
	"kibana_system": {Cluster: []string{"monitor", "manage_index_templates", "manage_ilm", "manage_pipeline"},
		Indices: []esIndexPrivileges{{Names: []string{".kibana*", ".reporting-*", ".apm-*", ".fleet*", ".alerts*", ".internal.alerts*"}, Privileges: []string{"all"}}}},
	"kibana_admin":                {},
	"logstash_system":             {Cluster: []string{"monitor"}},
	"logstash_admin":              {},
	"beats_system":                {Cluster: []string{"monitor"}},
	"beats_admin":                 {},
	"apm_system":                  {Cluster: []string{"monitor"}},
	"remote_monitoring_collector": {Cluster: []string{"monitor"}},
	"remote_monitoring_agent":     {Cluster: []string{"monitor"}},
	"monitoring_user":             {},
	"ingest_admin":                {Cluster: []string{"manage_index_templates", "manage_pipeline"}},
	"viewer":                      {Indices: []esIndexPrivileges{{Names: []string{"*"}, Privileges: []string{"read", "view_index_metadata"}}}},
	"editor":                      {Indices: []esIndexPrivileges{{Names: []string{"*"}, Privileges: []string{"read", "view_index_metadata", "write"}}}},
	"transport_client":            {Cluster: []string{"transport_client"}},
	"snapshot_user":               {},
	"enrich_user":                 {},
	"reporting_user":              {},
	"watcher_admin":               {},
	"watcher_user":                {},
	"machine_learning_admin":      {},
	"machine_learning_user":       {},
}

// Privilege names Elasticsearch knows; a role naming another is refused.
var esClusterPrivilegeNames = strings.Fields(`all cancel_task create_snapshot cross_cluster_replication
	cross_cluster_search delegate_pki grant_api_key manage manage_api_key manage_autoscaling
	manage_behavioral_analytics manage_ccr manage_connector manage_data_frame_transforms
	manage_data_stream_global_retention manage_enrich manage_esql manage_ilm manage_index_templates
	manage_inference manage_ingest_pipelines manage_logstash_pipelines manage_ml manage_oidc
	manage_own_api_key manage_pipeline manage_rollup manage_saml manage_search_application
	manage_search_query_rules manage_search_synonyms manage_security manage_service_account manage_slm
	manage_token manage_transform manage_user_profile manage_watcher monitor monitor_connector
	monitor_data_frame_transforms monitor_data_stream_global_retention monitor_enrich monitor_esql
	monitor_inference monitor_ml monitor_rollup monitor_snapshot monitor_stats monitor_text_structure
	monitor_transform monitor_watcher none post_behavioral_analytics_event read_ccr read_connector_secrets
	read_fleet_secrets read_ilm read_pipeline read_security read_slm transport_client
	write_connector_secrets write_fleet_secrets`)

var esIndexPrivilegeNames = strings.Fields(`all auto_configure create create_doc create_index
	cross_cluster_replication cross_cluster_replication_internal delete delete_index index maintenance
	manage manage_data_stream_lifecycle manage_failure_store manage_follow_index manage_ilm
	manage_leader_index monitor none read read_cross_cluster read_failure_store view_index_metadata write`)

// What grants an action, as Elasticsearch's privilege model has it (reduced).
var esClusterGrants = map[string][]string{
	"monitor":                {"monitor", "manage", "all"},
	"manage_security":        {"manage_security", "all"},
	"read_security":          {"read_security", "manage_security", "all"},
	"manage_index_templates": {"manage_index_templates", "manage", "all"},
}

var esIndexGrants = map[string][]string{
	"read":         {"read", "all"},
	"index":        {"index", "write", "all"},
	"create":       {"create_doc", "create", "index", "write", "all"},
	"create_index": {"auto_configure", "create_index", "manage", "all"},
}

var esClusterActions = map[string]string{
	"monitor":         "cluster:monitor/main",
	"manage_security": "cluster:admin/xpack/security",
	"read_security":   "cluster:admin/xpack/security",
}

var esIndexActions = map[string]string{
	"read":         "indices:data/read/search",
	"index":        "indices:data/write/index",
	"create":       "indices:data/write/index",
	"create_index": "indices:admin/auto_create",
}

type esIndex struct {
	path     string
	file     *os.File         // append handle, opened on first write
	count    int64            // documents written: the next _seq_no
	explicit map[string]int64 // caller-chosen ids → latest _version
}

// esStoredDoc is one line of an index file.
type esStoredDoc struct {
	ID       string          `json:"_id"`
	Version  int64           `json:"_version"`
	SeqNo    int64           `json:"_seq_no"`
	Explicit bool            `json:"x,omitempty"`
	Source   json.RawMessage `json:"_source"`
}

type esServer struct {
	listen      string
	dir         string // <path.data>/standin
	clusterName string
	nodeName    string
	clusterUUID string
	dataPath    string    // path.data, whose file system node stats report
	heapMax     int64     // -Xmx of ES_JAVA_OPTS, bytes (0: not given)
	started     time.Time // for the JVM's uptime in node stats

	mu      sync.RWMutex
	sec     esSecurityState
	indices map[string]*esIndex
}

func newElasticsearch(env envFunc) (*esServer, error) {
	listen, err := portAddr(env, "http.port", 9200)
	if err != nil {
		return nil, err
	}
	if v := strings.ToLower(env("xpack.security.enabled")); v == "false" {
		return nil, errors.New("xpack.security.enabled=false: the stand-in models Elasticsearch with security on only")
	}
	dataDir := envOr(env, "path.data", "/usr/share/elasticsearch/data")
	es := &esServer{
		listen:      listen,
		dir:         filepath.Join(dataDir, "standin"),
		clusterName: envOr(env, "cluster.name", "docker-cluster"),
		nodeName:    envOr(env, "node.name", hostname()),
		dataPath:    dataDir,
		heapMax:     esHeapMax(env("ES_JAVA_OPTS")),
		started:     time.Now(),
		indices:     map[string]*esIndex{},
	}
	if err := os.MkdirAll(filepath.Join(es.dir, "indices"), 0o750); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	if err := es.loadSecurity(env); err != nil {
		return nil, err
	}
	if err := es.loadIndices(); err != nil {
		return nil, err
	}
	return es, nil
}

func (es *esServer) addr() string                    { return es.listen }
func (es *esServer) start(ctx context.Context) error { return nil }

func (es *esServer) securityFile() string { return filepath.Join(es.dir, "security.json") }

// loadSecurity reads the persisted users and roles; on the first start (no
// file yet) the elastic user gets ELASTIC_PASSWORD, like the real bootstrap
// password: later values of ELASTIC_PASSWORD are ignored.
func (es *esServer) loadSecurity(env envFunc) error {
	// As the image's entrypoint: ELASTIC_PASSWORD_FILE must have mode 400 or 600.
	if f := env("ELASTIC_PASSWORD_FILE"); f != "" {
		info, err := os.Stat(f)
		if err != nil {
			return fmt.Errorf("ELASTIC_PASSWORD_FILE: %w", err)
		}
		if perm := info.Mode().Perm(); perm != 0o400 && perm != 0o600 {
			return fmt.Errorf("File %s from ELASTIC_PASSWORD_FILE must have file permissions 400 or 600, but actually has: %o", f, perm)
		}
	}
	bootstrap, err := envFile(env, "ELASTIC_PASSWORD", "ELASTIC_PASSWORD_FILE")
	if err != nil {
		return err
	}
	b, err := os.ReadFile(es.securityFile())
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &es.sec); err != nil {
			return fmt.Errorf("%s: %w", es.securityFile(), err)
		}
		if es.sec.Users == nil {
			es.sec.Users = map[string]*esUser{}
		}
		if es.sec.Roles == nil {
			es.sec.Roles = map[string]*esRole{}
		}
		if e := es.sec.Users["elastic"]; bootstrap != "" && e != nil && !e.Password.matches(bootstrap) {
			logger.Printf("elasticsearch: ELASTIC_PASSWORD differs from the elastic user's password in the data directory;" +
				" as upstream, the bootstrap password only applies on the first start of an empty data directory")
		}
		logger.Printf("elasticsearch: security state loaded from %s", es.securityFile())
		return nil
	case errors.Is(err, os.ErrNotExist):
		if bootstrap == "" {
			bootstrap = randomHex(10)
			logger.Printf("elasticsearch: ELASTIC_PASSWORD is not set; generated password for the elastic user: %s", bootstrap)
		}
		es.sec = esSecurityState{
			Users: map[string]*esUser{"elastic": {Password: newPwHash(bootstrap), Roles: []string{"superuser"}, Enabled: true}},
			Roles: map[string]*esRole{},
		}
		logger.Printf("elasticsearch: first start: the elastic user's password is ELASTIC_PASSWORD (bootstrap password)")
		return es.saveSecurity()
	default:
		return err
	}
}

// saveSecurity persists the security state; call with es.mu held (or before serving).
func (es *esServer) saveSecurity() error {
	b, err := json.MarshalIndent(es.sec, "", " ")
	if err != nil {
		return err
	}
	return writeFileAtomic(es.securityFile(), b, 0o600)
}

func (es *esServer) loadIndices() error {
	dir := filepath.Join(es.dir, "indices")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".ndjson")
		if !ok || e.IsDir() {
			continue
		}
		ix := &esIndex{path: filepath.Join(dir, e.Name()), explicit: map[string]int64{}}
		err := scanIndexFile(ix.path, func(d *esStoredDoc) bool {
			ix.count++
			if d.Explicit {
				ix.explicit[d.ID] = d.Version
			}
			return true
		})
		if err != nil {
			return fmt.Errorf("index %s: %w", name, err)
		}
		es.indices[name] = ix
	}
	if len(es.indices) > 0 {
		logger.Printf("elasticsearch: %d indices loaded from %s", len(es.indices), dir)
	}
	return nil
}

// scanIndexFile calls fn for each stored document, oldest first, until fn returns false.
func scanIndexFile(path string, fn func(*esStoredDoc) bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	rd := bufio.NewReaderSize(f, 64<<10)
	for {
		line, err := rd.ReadBytes('\n')
		if len(line) > 0 && line[len(line)-1] == '\n' { // a torn last line is skipped
			var d esStoredDoc
			if jerr := json.Unmarshal(line, &d); jerr != nil {
				return jerr
			}
			if !fn(&d) {
				return nil
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// ---- errors

type esErr struct {
	status int
	typ    string
	reason string
	extra  obj
	// plain is Elasticsearch's short form {"error": "...", "status": N}.
	plain bool
	auth  bool // add WWW-Authenticate
}

func (e *esErr) Error() string { return e.typ + ": " + e.reason }

func esE(status int, typ, reason string, a ...any) *esErr {
	if len(a) > 0 {
		reason = fmt.Sprintf(reason, a...)
	}
	return &esErr{status: status, typ: typ, reason: reason}
}

func (e *esErr) body() obj {
	if e.plain {
		return obj{"error": e.reason, "status": e.status}
	}
	cause := obj{"type": e.typ, "reason": e.reason}
	for k, v := range e.extra {
		cause[k] = v
	}
	top := obj{"root_cause": []obj{cause}}
	for k, v := range cause {
		top[k] = v
	}
	return obj{"error": top, "status": e.status}
}

func esWriteErr(w http.ResponseWriter, e *esErr) {
	if e.auth {
		w.Header().Add("WWW-Authenticate", `Basic realm="security", charset="UTF-8"`)
		w.Header().Add("WWW-Authenticate", "ApiKey")
	}
	writeJSON(w, e.status, e.body())
}

func esNotModelled(r *http.Request) *esErr {
	return esE(http.StatusNotImplemented, "standin_not_modelled_exception",
		"the Elasticsearch stand-in does not model [%s %s]", r.Method, r.URL.Path)
}

// ---- authentication and authorization

type esPrincipal struct {
	name     string
	roles    []string
	reserved bool
	user     *esUser
}

func (es *esServer) authenticate(r *http.Request) (*esPrincipal, *esErr) {
	name, password, ok := r.BasicAuth()
	if !ok {
		e := esE(401, "security_exception", "missing authentication credentials for REST request [%s]", r.URL.RequestURI())
		e.auth = true
		e.extra = obj{"header": obj{"WWW-Authenticate": []string{`Basic realm="security", charset="UTF-8"`, "ApiKey"}}}
		return nil, e
	}
	es.mu.RLock()
	u := es.sec.Users[name]
	var valid bool
	if u != nil {
		valid = u.Enabled && u.Password.matches(password)
	}
	es.mu.RUnlock()
	if !valid {
		logger.Printf("elasticsearch: authentication of user [%s] failed for [%s %s]", name, r.Method, r.URL.Path)
		e := esE(401, "security_exception", "unable to authenticate user [%s] for REST request [%s]", name, r.URL.RequestURI())
		e.auth = true
		e.extra = obj{"header": obj{"WWW-Authenticate": []string{`Basic realm="security", charset="UTF-8"`, "ApiKey"}}}
		return nil, e
	}
	_, reserved := esReservedUsers[name]
	return &esPrincipal{name: name, roles: append([]string(nil), u.Roles...), reserved: reserved, user: u}, nil
}

// roleDefs resolves role names (built-in first); unknown names grant nothing, as upstream.
func (es *esServer) roleDefs(names []string) []*esRole {
	var out []*esRole
	for _, n := range names {
		if r := esBuiltinRoles[n]; r != nil {
			out = append(out, r)
		} else if r := es.sec.Roles[n]; r != nil {
			out = append(out, r)
		}
	}
	return out
}

func containsAny(have, want []string) bool {
	for _, h := range have {
		for _, w := range want {
			if h == w {
				return true
			}
		}
	}
	return false
}

// hasCluster: with es.mu held (read).
func (es *esServer) hasCluster(p *esPrincipal, class string) bool {
	for _, r := range es.roleDefs(p.roles) {
		if containsAny(r.Cluster, esClusterGrants[class]) {
			return true
		}
	}
	return false
}

// hasIndex: with es.mu held (read).
func (es *esServer) hasIndex(p *esPrincipal, index, class string) bool {
	for _, r := range es.roleDefs(p.roles) {
		for _, ip := range r.Indices {
			if !containsAny(ip.Privileges, esIndexGrants[class]) {
				continue
			}
			for _, pat := range ip.Names {
				if esNameMatch(pat, index) {
					return true
				}
			}
		}
	}
	return false
}

func (p *esPrincipal) effectiveRoles() string {
	r := append([]string(nil), p.roles...)
	sort.Strings(r)
	return strings.Join(r, ",")
}

func esClusterDenied(p *esPrincipal, class, action string) *esErr {
	if action == "" {
		action = esClusterActions[class]
	}
	return esE(403, "security_exception",
		"action [%s] is unauthorized for user [%s] with effective roles [%s], this action is granted by the cluster privileges [%s]",
		action, p.name, p.effectiveRoles(), strings.Join(esClusterGrants[class], ","))
}

func esIndexDenied(p *esPrincipal, class string, indices ...string) *esErr {
	return esE(403, "security_exception",
		"action [%s] is unauthorized for user [%s] with effective roles [%s] on indices [%s], this action is granted by the index privileges [%s]",
		esIndexActions[class], p.name, p.effectiveRoles(), strings.Join(indices, ","), strings.Join(esIndexGrants[class], ","))
}

// esNameMatch matches an index name against a role's or a request's
// pattern: * and ? wildcards, or a /regex/ (Lucene regexp, approximated by Go's).
func esNameMatch(pattern, name string) bool {
	if len(pattern) > 1 && strings.HasPrefix(pattern, "/") && strings.HasSuffix(pattern, "/") {
		re, err := regexp.Compile("^(?:" + pattern[1:len(pattern)-1] + ")$")
		return err == nil && re.MatchString(name)
	}
	return wildcardMatch(pattern, name)
}

func wildcardMatch(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// esValidateIndexName applies Elasticsearch's rules for index names.
func esValidateIndexName(name string) *esErr {
	bad := func(why string) *esErr {
		e := esE(400, "invalid_index_name_exception", "Invalid index name [%s], %s", name, why)
		e.extra = obj{"index": name, "index_uuid": "_na_"}
		return e
	}
	switch {
	case name == "":
		return bad("must not be empty")
	case name != strings.ToLower(name):
		return bad("must be lowercase")
	case strings.ContainsAny(name, `\/*?"<>| ,`):
		return bad(`must not contain the following characters [' ','"','*',',','/','<','>','?','\','|']`)
	case strings.Contains(name, "#"):
		return bad("must not contain '#'")
	case strings.Contains(name, ":"):
		return bad("must not contain ':'")
	case strings.HasPrefix(name, "_") || strings.HasPrefix(name, "-") || strings.HasPrefix(name, "+"):
		return bad("must not start with '_', '-', or '+'")
	case name == "." || name == "..":
		return bad("must not be '.' or '..'")
	case len(name) > 255:
		return bad(fmt.Sprintf("index name is too long, (%d > 255)", len(name)))
	}
	return nil
}

// ---- HTTP

func (es *esServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p, e := es.authenticate(r)
	if e != nil {
		esWriteErr(w, e)
		return
	}
	path := cleanPath(r)
	var segs []string
	if path != "/" {
		segs = strings.Split(strings.TrimPrefix(path, "/"), "/")
	}
	m := r.Method
	get := m == http.MethodGet || m == http.MethodHead
	write := m == http.MethodPost || m == http.MethodPut
	search := m == http.MethodGet || m == http.MethodPost
	n := len(segs)
	switch {
	case n == 0 && get:
		e = es.root(w, p)
	case n == 2 && segs[0] == "_cluster" && segs[1] == "health" && get:
		e = es.clusterHealth(w, r, p)
	case n == 2 && segs[0] == "_nodes" && segs[1] == "stats" && get:
		e = es.nodeStats(w, p, "")
	case n == 3 && segs[0] == "_nodes" && segs[2] == "stats" && get:
		e = es.nodeStats(w, p, segs[1])
	case n >= 1 && segs[0] == "_security":
		e = es.security(w, r, p, segs)
	case n == 1 && segs[0] == "_bulk" && write:
		e = es.bulk(w, r, p, "")
	case n == 1 && (segs[0] == "_search" || segs[0] == "_count") && search:
		e = es.search(w, r, p, "_all", segs[0] == "_count")
	case n == 2 && segs[1] == "_bulk" && write:
		e = es.bulk(w, r, p, segs[0])
	case n == 2 && (segs[1] == "_search" || segs[1] == "_count") && search:
		e = es.search(w, r, p, segs[0], segs[1] == "_count")
	case n == 2 && segs[1] == "_doc" && m == http.MethodPost:
		e = es.indexOne(w, r, p, segs[0], "", "index")
	case n == 3 && segs[1] == "_doc" && write:
		e = es.indexOne(w, r, p, segs[0], segs[2], r.URL.Query().Get("op_type"))
	case n == 3 && segs[1] == "_create" && write:
		e = es.indexOne(w, r, p, segs[0], segs[2], "create")
	case n == 3 && segs[1] == "_doc" && get:
		e = es.getDoc(w, p, segs[0], segs[2])
	case n == 1 && !strings.HasPrefix(segs[0], "_") && m == http.MethodPut:
		e = es.createIndex(w, r, p, segs[0])
	default:
		e = esNotModelled(r)
	}
	if e != nil {
		esWriteErr(w, e)
	}
}

func (es *esServer) root(w http.ResponseWriter, p *esPrincipal) *esErr {
	es.mu.RLock()
	ok := es.hasCluster(p, "monitor")
	es.mu.RUnlock()
	if !ok {
		return esClusterDenied(p, "monitor", "cluster:monitor/main")
	}
	writeJSON(w, 200, obj{
		"name":         es.nodeName,
		"cluster_name": es.clusterName,
		"cluster_uuid": "standin",
		// Semantic versions, as clients (the Elasticsearch exporter) parse them; 0.0.0: no release.
		"version": obj{"number": "0.0.0-standin", "build_flavor": "default", "build_type": "docker", "lucene_version": "0.0.0-standin"},
		"tagline": "You Know, for Search",
	})
	return nil
}

func (es *esServer) clusterHealth(w http.ResponseWriter, r *http.Request, p *esPrincipal) *esErr {
	es.mu.RLock()
	ok := es.hasCluster(p, "monitor")
	shards := len(es.indices)
	es.mu.RUnlock()
	if !ok {
		return esClusterDenied(p, "monitor", "cluster:monitor/health")
	}
	switch s := r.URL.Query().Get("wait_for_status"); s {
	case "", "green", "yellow", "red": // a single node with every shard assigned: green at once
	default:
		return esE(400, "illegal_argument_exception", "unknown cluster health status [%s]", s)
	}
	writeJSON(w, 200, obj{
		"cluster_name": es.clusterName, "status": "green", "timed_out": false,
		"number_of_nodes": 1, "number_of_data_nodes": 1,
		"active_primary_shards": shards, "active_shards": shards,
		"relocating_shards": 0, "initializing_shards": 0, "unassigned_shards": 0,
		"delayed_unassigned_shards": 0, "number_of_pending_tasks": 0, "number_of_in_flight_fetch": 0,
		"task_max_waiting_in_queue_millis": 0, "active_shards_percent_as_number": 100.0,
	})
	return nil
}

// readJSONBody reads a request's JSON object body as Elasticsearch does:
// Content-Type must name a JSON type (406 otherwise).
func esReadJSONBody(r *http.Request, required bool) (map[string]any, []byte, *esErr) {
	body, err := requestBody(r, esMaxBody)
	if err != nil {
		return nil, nil, esE(400, "parse_exception", "%v", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if required {
			return nil, nil, esE(400, "parse_exception", "request body is required")
		}
		return nil, nil, nil
	}
	if e := esCheckContentType(r, false); e != nil {
		return nil, nil, e
	}
	var v map[string]any
	if err := decodeJSON(body, &v); err != nil || v == nil {
		return nil, nil, esE(400, "x_content_parse_exception", "request body is not a JSON object: %v", err)
	}
	return v, body, nil
}

func esCheckContentType(r *http.Request, ndjson bool) *esErr {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return &esErr{status: 406, plain: true, reason: "Content-Type header is missing"}
	}
	mt, _, err := mime.ParseMediaType(ct)
	ok := err == nil && (mt == "application/json" || mt == "application/vnd.elasticsearch+json" ||
		(ndjson && (mt == "application/x-ndjson" || mt == "application/vnd.elasticsearch+x-ndjson")))
	if !ok {
		return &esErr{status: 406, plain: true, reason: fmt.Sprintf("Content-Type header [%s] is not supported", ct)}
	}
	return nil
}

// ---- security API

func (es *esServer) security(w http.ResponseWriter, r *http.Request, p *esPrincipal, segs []string) *esErr {
	m := r.Method
	write := m == http.MethodPut || m == http.MethodPost
	n := len(segs)
	switch {
	case n == 2 && segs[1] == "_authenticate" && m == http.MethodGet:
		writeJSON(w, 200, es.authenticateBody(p))
		return nil
	case n == 3 && segs[1] == "user" && segs[2] == "_password" && write:
		return es.changePassword(w, r, p, p.name)
	case n == 4 && segs[1] == "user" && segs[3] == "_password" && write:
		return es.changePassword(w, r, p, segs[2])
	case n == 3 && segs[1] == "user" && write:
		return es.putUser(w, r, p, segs[2])
	case (n == 2 || n == 3) && segs[1] == "user" && m == http.MethodGet:
		return es.getUsers(w, p, segs[2:])
	case n == 3 && segs[1] == "role" && write:
		return es.putRole(w, r, p, segs[2])
	case (n == 2 || n == 3) && segs[1] == "role" && m == http.MethodGet:
		return es.getRoles(w, p, segs[2:])
	}
	return esNotModelled(r)
}

func (es *esServer) authenticateBody(p *esPrincipal) obj {
	realm := obj{"name": "default_native", "type": "native"}
	meta := obj{}
	if p.reserved {
		realm = obj{"name": "reserved", "type": "reserved"}
		meta["_reserved"] = true
	}
	for k, v := range p.user.Metadata {
		meta[k] = v
	}
	return obj{
		"username": p.name, "roles": p.roles, "full_name": nilIfEmpty(p.user.FullName), "email": nilIfEmpty(p.user.Email),
		"metadata": meta, "enabled": true, "authentication_realm": realm, "lookup_realm": realm,
		"authentication_type": "realm",
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (es *esServer) requireCluster(p *esPrincipal, class string) *esErr {
	es.mu.RLock()
	ok := es.hasCluster(p, class)
	es.mu.RUnlock()
	if !ok {
		return esClusterDenied(p, class, "")
	}
	return nil
}

func esValidatePassword(v any) (string, *esErr) {
	pw, ok := v.(string)
	if !ok || pw == "" {
		return "", esE(400, "action_request_validation_exception", "Validation Failed: 1: password must be specified;")
	}
	if len(pw) < 6 {
		return "", esE(400, "action_request_validation_exception", "Validation Failed: 1: passwords must be at least [6] characters long;")
	}
	return pw, nil
}

func (es *esServer) changePassword(w http.ResponseWriter, r *http.Request, p *esPrincipal, target string) *esErr {
	if target != p.name { // users may change their own password
		if e := es.requireCluster(p, "manage_security"); e != nil {
			return e
		}
	}
	body, _, e := esReadJSONBody(r, true)
	if e != nil {
		return e
	}
	for k := range body {
		if k != "password" {
			return esE(400, "parse_exception", "failed to parse change password request. unexpected field [%s]", k)
		}
	}
	pw, e := esValidatePassword(body["password"])
	if e != nil {
		return e
	}
	es.mu.Lock()
	defer es.mu.Unlock()
	u := es.sec.Users[target]
	if u == nil {
		roles, reserved := esReservedUsers[target]
		if !reserved {
			return esE(400, "validation_exception", "Validation Failed: 1: user must exist in order to change password;")
		}
		u = &esUser{Roles: roles, Enabled: true}
		es.sec.Users[target] = u
	}
	u.Password = newPwHash(pw)
	if err := es.saveSecurity(); err != nil {
		return esE(500, "exception", "saving security state: %v", err)
	}
	logger.Printf("elasticsearch: password of user [%s] set (by [%s])", target, p.name)
	writeJSON(w, 200, obj{})
	return nil
}

func (es *esServer) putUser(w http.ResponseWriter, r *http.Request, p *esPrincipal, name string) *esErr {
	if e := es.requireCluster(p, "manage_security"); e != nil {
		return e
	}
	if _, reserved := esReservedUsers[name]; reserved {
		return esE(400, "validation_exception", "Validation Failed: 1: user [%s] is reserved and only the password can be changed;", name)
	}
	if name == "" || len(name) > 507 || strings.TrimSpace(name) != name || strings.IndexFunc(name, func(c rune) bool { return !unicode.IsPrint(c) }) >= 0 {
		return esE(400, "validation_exception", "Validation Failed: 1: Invalid username [%s]...;", name)
	}
	body, _, e := esReadJSONBody(r, true)
	if e != nil {
		return e
	}
	u := &esUser{Enabled: true}
	var password string
	for k, v := range body {
		switch k {
		case "password":
			pw, e := esValidatePassword(v)
			if e != nil {
				return e
			}
			password = pw
		case "roles":
			roles, ok := stringList(v)
			if !ok {
				return esE(400, "parse_exception", "failed to parse add user request. [roles] must be an array of strings")
			}
			u.Roles = roles
		case "full_name":
			u.FullName, _ = v.(string)
		case "email":
			u.Email, _ = v.(string)
		case "metadata":
			u.Metadata, _ = v.(map[string]any)
		case "enabled":
			b, ok := v.(bool)
			if !ok {
				return esE(400, "parse_exception", "failed to parse add user request. [enabled] must be a boolean")
			}
			u.Enabled = b
		case "password_hash":
			return esE(400, "standin_not_modelled_exception", "the Elasticsearch stand-in does not model [password_hash]")
		default:
			return esE(400, "parse_exception", "failed to parse add user request. unexpected field [%s]", k)
		}
	}
	if _, ok := body["roles"]; !ok {
		return esE(400, "action_request_validation_exception", "Validation Failed: 1: roles are missing;")
	}
	es.mu.Lock()
	defer es.mu.Unlock()
	old := es.sec.Users[name]
	switch {
	case password != "":
		u.Password = newPwHash(password)
	case old != nil:
		u.Password = old.Password
	default:
		return esE(400, "action_request_validation_exception",
			"Validation Failed: 1: password must be specified unless you are updating an existing user;")
	}
	es.sec.Users[name] = u
	if err := es.saveSecurity(); err != nil {
		return esE(500, "exception", "saving security state: %v", err)
	}
	logger.Printf("elasticsearch: user [%s] %s with roles [%s] (by [%s])", name,
		map[bool]string{true: "created", false: "updated"}[old == nil], strings.Join(u.Roles, ","), p.name)
	writeJSON(w, 200, obj{"created": old == nil})
	return nil
}

func stringList(v any) ([]string, bool) {
	switch t := v.(type) {
	case string:
		return []string{t}, true
	case []any:
		out := make([]string, 0, len(t))
		for _, x := range t {
			s, ok := x.(string)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	return nil, false
}

func (es *esServer) userBody(name string, u *esUser) obj {
	meta := obj{}
	for k, v := range u.Metadata {
		meta[k] = v
	}
	if _, reserved := esReservedUsers[name]; reserved {
		meta["_reserved"] = true
	}
	roles := u.Roles
	if roles == nil {
		roles = []string{}
	}
	return obj{"username": name, "roles": roles, "full_name": nilIfEmpty(u.FullName), "email": nilIfEmpty(u.Email),
		"metadata": meta, "enabled": u.Enabled}
}

func (es *esServer) getUsers(w http.ResponseWriter, p *esPrincipal, names []string) *esErr {
	if e := es.requireCluster(p, "read_security"); e != nil {
		return e
	}
	es.mu.RLock()
	defer es.mu.RUnlock()
	out := obj{}
	all := map[string]*esUser{}
	for n, roles := range esReservedUsers {
		all[n] = &esUser{Roles: roles, Enabled: true}
	}
	for n, u := range es.sec.Users {
		all[n] = u
	}
	want := names
	if len(names) == 1 {
		want = strings.Split(names[0], ",")
	}
	for n, u := range all {
		if len(want) == 0 || containsAny(want, []string{n}) {
			out[n] = es.userBody(n, u)
		}
	}
	status := 200
	if len(want) > 0 && len(out) == 0 {
		status = 404
	}
	writeJSON(w, status, out)
	return nil
}

func (es *esServer) putRole(w http.ResponseWriter, r *http.Request, p *esPrincipal, name string) *esErr {
	if e := es.requireCluster(p, "manage_security"); e != nil {
		return e
	}
	if _, reserved := esBuiltinRoles[name]; reserved {
		return esE(400, "illegal_argument_exception", "role [%s] is reserved and cannot be modified", name)
	}
	body, _, e := esReadJSONBody(r, true)
	if e != nil {
		return e
	}
	role := &esRole{Cluster: []string{}, Indices: []esIndexPrivileges{}}
	bad := func(f string, a ...any) *esErr {
		return esE(400, "parse_exception", "failed to parse role [%s]. %s", name, fmt.Sprintf(f, a...))
	}
	for k, v := range body {
		switch k {
		case "cluster":
			privs, ok := stringList(v)
			if !ok {
				return bad("[cluster] must be an array of strings")
			}
			for _, pr := range privs {
				if !containsAny(esClusterPrivilegeNames, []string{pr}) && !strings.Contains(pr, ":") {
					return esE(400, "illegal_argument_exception",
						"unknown cluster privilege [%s]. a privilege must be either one of the predefined cluster privilege names [%s] or a pattern over one of the available cluster actions",
						pr, strings.Join(esClusterPrivilegeNames, ","))
				}
			}
			role.Cluster = privs
		case "indices":
			list, ok := v.([]any)
			if !ok {
				return bad("[indices] must be an array")
			}
			for _, item := range list {
				ip, e := esParseIndexPrivileges(name, item)
				if e != nil {
					return e
				}
				role.Indices = append(role.Indices, ip)
			}
		case "metadata":
			role.Metadata, _ = v.(map[string]any)
		case "applications", "run_as", "description", "transient_metadata", "global", "remote_indices", "remote_cluster":
			if !esEmptyValue(v) {
				return esE(400, "standin_not_modelled_exception", "the Elasticsearch stand-in does not model role field [%s]", k)
			}
		default:
			return bad("unexpected field [%s]", k)
		}
	}
	es.mu.Lock()
	defer es.mu.Unlock()
	_, existed := es.sec.Roles[name]
	es.sec.Roles[name] = role
	if err := es.saveSecurity(); err != nil {
		return esE(500, "exception", "saving security state: %v", err)
	}
	logger.Printf("elasticsearch: role [%s] %s (by [%s])", name, map[bool]string{true: "updated", false: "created"}[existed], p.name)
	writeJSON(w, 200, obj{"role": obj{"created": !existed}})
	return nil
}

func esEmptyValue(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case string:
		return true // a description changes nothing
	case []any:
		return len(t) == 0
	case map[string]any:
		return true // metadata-like objects change nothing
	}
	return false
}

func esParseIndexPrivileges(role string, item any) (esIndexPrivileges, *esErr) {
	var ip esIndexPrivileges
	m, ok := item.(map[string]any)
	if !ok {
		return ip, esE(400, "parse_exception", "failed to parse indices privileges for role [%s]. expected an object", role)
	}
	for k, v := range m {
		switch k {
		case "names":
			names, ok := stringList(v)
			if !ok {
				return ip, esE(400, "parse_exception", "failed to parse indices privileges for role [%s]. [names] must be a string or an array of strings", role)
			}
			ip.Names = names
		case "privileges":
			privs, ok := stringList(v)
			if !ok {
				return ip, esE(400, "parse_exception", "failed to parse indices privileges for role [%s]. [privileges] must be an array of strings", role)
			}
			for _, pr := range privs {
				if !containsAny(esIndexPrivilegeNames, []string{pr}) && !strings.Contains(pr, ":") {
					return ip, esE(400, "illegal_argument_exception",
						"unknown index privilege [%s]. a privilege must be either one of the predefined fixed indices privileges [%s] or a pattern over one of the available index actions",
						pr, strings.Join(esIndexPrivilegeNames, ","))
				}
			}
			ip.Privileges = privs
		case "allow_restricted_indices":
		case "field_security", "query":
			return ip, esE(400, "standin_not_modelled_exception",
				"the Elasticsearch stand-in does not model [%s] (document or field level security)", k)
		default:
			return ip, esE(400, "parse_exception", "failed to parse indices privileges for role [%s]. unexpected field [%s]", role, k)
		}
	}
	if len(ip.Names) == 0 {
		return ip, esE(400, "parse_exception", "failed to parse indices privileges for role [%s]. missing required [names] field", role)
	}
	if len(ip.Privileges) == 0 {
		return ip, esE(400, "parse_exception", "failed to parse indices privileges for role [%s]. missing required [privileges] field", role)
	}
	return ip, nil
}

func (es *esServer) getRoles(w http.ResponseWriter, p *esPrincipal, names []string) *esErr {
	if e := es.requireCluster(p, "read_security"); e != nil {
		return e
	}
	es.mu.RLock()
	defer es.mu.RUnlock()
	all := map[string]*esRole{}
	for n, r := range esBuiltinRoles {
		all[n] = r
	}
	for n, r := range es.sec.Roles {
		all[n] = r
	}
	want := names
	if len(names) == 1 {
		want = strings.Split(names[0], ",")
	}
	out := obj{}
	for n, r := range all {
		if len(want) > 0 && !containsAny(want, []string{n}) {
			continue
		}
		indices := []obj{}
		for _, ip := range r.Indices {
			indices = append(indices, obj{"names": ip.Names, "privileges": ip.Privileges, "allow_restricted_indices": false})
		}
		meta := obj{}
		for k, v := range r.Metadata {
			meta[k] = v
		}
		if _, builtin := esBuiltinRoles[n]; builtin {
			meta["_reserved"] = true
		}
		cluster := r.Cluster
		if cluster == nil {
			cluster = []string{}
		}
		out[n] = obj{"cluster": cluster, "indices": indices, "applications": []any{}, "run_as": []any{},
			"metadata": meta, "transient_metadata": obj{"enabled": true}}
	}
	status := 200
	if len(want) > 0 && len(out) == 0 {
		status = 404
	}
	writeJSON(w, status, out)
	return nil
}

// ---- documents

// write stores one document; with es.mu held. It returns the bulk item
// body (with "status") or an error.
func (es *esServer) write(p *esPrincipal, index, id, opType string, source []byte) (obj, *esErr) {
	if e := esValidateIndexName(index); e != nil {
		return nil, e
	}
	switch opType {
	case "", "index":
		opType = "index"
	case "create":
	default:
		return nil, esE(400, "illegal_argument_exception", "opType must be 'create' or 'index', found: [%s]", opType)
	}
	ix := es.indices[index]
	if ix == nil && !es.hasIndex(p, index, "create_index") {
		return nil, esIndexDenied(p, "create_index", index)
	}
	if !es.hasIndex(p, index, opType) {
		return nil, esIndexDenied(p, opType, index)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, source); err != nil || !bytes.HasPrefix(compact.Bytes(), []byte("{")) {
		return nil, esE(400, "document_parsing_exception", "[1:1] failed to parse: the document is not a JSON object")
	}
	if ix == nil {
		ix = &esIndex{path: filepath.Join(es.dir, "indices", index+".ndjson"), explicit: map[string]int64{}}
		es.indices[index] = ix
		logger.Printf("elasticsearch: [%s] creating index (by [%s])", index, p.name)
	}
	if ix.file == nil {
		f, err := os.OpenFile(ix.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
		if err != nil {
			return nil, esE(500, "exception", "index [%s]: %v", index, err)
		}
		ix.file = f
	}
	explicit := id != ""
	version := int64(1)
	if explicit {
		if cur, ok := ix.explicit[id]; ok {
			if opType == "create" {
				e := esE(409, "version_conflict_engine_exception",
					"[%s]: version conflict, document already exists (current version [%d])", id, cur)
				e.extra = obj{"index": index, "shard": "0"}
				return nil, e
			}
			version = cur + 1
		}
	} else {
		id = randomID()
	}
	line, _ := json.Marshal(esStoredDoc{ID: id, Version: version, SeqNo: ix.count, Explicit: explicit, Source: compact.Bytes()})
	if _, err := ix.file.Write(append(line, '\n')); err != nil {
		return nil, esE(500, "exception", "index [%s]: %v", index, err)
	}
	seq := ix.count
	ix.count++
	if explicit {
		ix.explicit[id] = version
	}
	result, status := "created", 201
	if version > 1 {
		result, status = "updated", 200
	}
	return obj{"_index": index, "_id": id, "_version": version, "result": result,
		"_shards": obj{"total": 1, "successful": 1, "failed": 0}, "_seq_no": seq, "_primary_term": 1, "status": status}, nil
}

func (es *esServer) indexOne(w http.ResponseWriter, r *http.Request, p *esPrincipal, index, id, opType string) *esErr {
	_, body, e := esReadJSONBody(r, true)
	if e != nil {
		return e
	}
	es.mu.Lock()
	item, e := es.write(p, index, id, opType, body)
	es.mu.Unlock()
	if e != nil {
		return e
	}
	status := item["status"].(int)
	delete(item, "status")
	writeJSON(w, status, item)
	return nil
}

func (es *esServer) createIndex(w http.ResponseWriter, r *http.Request, p *esPrincipal, index string) *esErr {
	if _, _, e := esReadJSONBody(r, false); e != nil { // settings, mappings, aliases: accepted, not modelled
		return e
	}
	if e := esValidateIndexName(index); e != nil {
		return e
	}
	es.mu.Lock()
	defer es.mu.Unlock()
	if !es.hasIndex(p, index, "create_index") {
		e := esIndexDenied(p, "create_index", index)
		e.reason = strings.Replace(e.reason, "indices:admin/auto_create", "indices:admin/create", 1)
		return e
	}
	if es.indices[index] != nil {
		e := esE(400, "resource_already_exists_exception", "index [%s/standin] already exists", index)
		e.extra = obj{"index": index, "index_uuid": "standin"}
		return e
	}
	path := filepath.Join(es.dir, "indices", index+".ndjson")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return esE(500, "exception", "index [%s]: %v", index, err)
	}
	es.indices[index] = &esIndex{path: path, file: f, explicit: map[string]int64{}}
	logger.Printf("elasticsearch: [%s] creating index (by [%s])", index, p.name)
	writeJSON(w, 200, obj{"acknowledged": true, "shards_acknowledged": true, "index": index})
	return nil
}

func (es *esServer) getDoc(w http.ResponseWriter, p *esPrincipal, index, id string) *esErr {
	es.mu.RLock()
	defer es.mu.RUnlock()
	if !es.hasIndex(p, index, "read") {
		e := esIndexDenied(p, "read", index)
		e.reason = strings.Replace(e.reason, "indices:data/read/search", "indices:data/read/get", 1)
		return e
	}
	ix := es.indices[index]
	if ix == nil {
		return esIndexNotFound(index)
	}
	var found *esStoredDoc
	err := scanIndexFile(ix.path, func(d *esStoredDoc) bool {
		if d.ID == id && (!d.Explicit || ix.explicit[id] == d.Version) {
			found = d
			return false
		}
		return true
	})
	if err != nil {
		return esE(500, "exception", "index [%s]: %v", index, err)
	}
	if found == nil {
		writeJSON(w, 404, obj{"_index": index, "_id": id, "found": false})
		return nil
	}
	writeJSON(w, 200, obj{"_index": index, "_id": id, "_version": found.Version, "_seq_no": found.SeqNo,
		"_primary_term": 1, "found": true, "_source": found.Source})
	return nil
}

func esIndexNotFound(index string) *esErr {
	e := esE(404, "index_not_found_exception", "no such index [%s]", index)
	e.extra = obj{"resource.type": "index_or_alias", "resource.id": index, "index_uuid": "_na_", "index": index}
	return e
}

// bulk handles the NDJSON bulk API, line by line, as Logstash's
// elasticsearch output sends it: index and create actions.
func (es *esServer) bulk(w http.ResponseWriter, r *http.Request, p *esPrincipal, defaultIndex string) *esErr {
	if e := esCheckContentType(r, true); e != nil {
		return e
	}
	body, err := requestBody(r, esMaxBody)
	if err != nil {
		return esE(400, "parse_exception", "%v", err)
	}
	start := time.Now()
	items := []obj{}
	failed := false
	lines := bytes.Split(body, []byte("\n"))
	for i := 0; i < len(lines); i++ {
		line := bytes.TrimSpace(lines[i])
		if len(line) == 0 {
			continue
		}
		var action map[string]map[string]any
		if err := json.Unmarshal(line, &action); err != nil || len(action) != 1 {
			return esE(400, "illegal_argument_exception", "Malformed action/metadata line [%d], expected a simple value for field [_index] but found an object or invalid JSON", i+1)
		}
		var op string
		var meta map[string]any
		for op, meta = range action {
		}
		switch op {
		case "index", "create", "update":
			i++
			if i >= len(lines) || len(bytes.TrimSpace(lines[i])) == 0 {
				return esE(400, "action_request_validation_exception", "Validation Failed: 1: the bulk request must be terminated by a newline [\\n];")
			}
		case "delete":
		default:
			return esE(400, "illegal_argument_exception", "Malformed action/metadata line [%d], expected one of [create, delete, index, update] but found [%s]", i+1, op)
		}
		index, _ := meta["_index"].(string)
		if index == "" {
			index = defaultIndex
		}
		id, _ := meta["_id"].(string)
		for k := range meta {
			switch k {
			case "_index", "_id", "routing", "pipeline", "require_alias", "require_data_stream", "dynamic_templates",
				"if_seq_no", "if_primary_term", "version", "version_type", "retry_on_conflict", "_source", "list_executed_pipelines":
			default:
				return esE(400, "illegal_argument_exception", "Action/metadata line [%d] contains an unknown parameter [%s]", i, k)
			}
		}
		var item obj
		var e *esErr
		switch {
		case op == "update" || op == "delete":
			e = esE(400, "standin_not_modelled_exception", "the Elasticsearch stand-in does not model bulk [%s]", op)
		case index == "":
			e = esE(400, "action_request_validation_exception", "Validation Failed: 1: index is missing;")
		default:
			es.mu.Lock()
			item, e = es.write(p, index, id, op, lines[i])
			es.mu.Unlock()
		}
		if e != nil {
			failed = true
			var docID any
			if id != "" {
				docID = id
			}
			item = obj{"_index": index, "_id": docID, "status": e.status, "error": e.body()["error"]}
			if e.status == 403 {
				logger.Printf("elasticsearch: bulk %s into [%s] refused: %s", op, index, e.reason)
			}
		}
		items = append(items, obj{op: item})
	}
	if len(items) == 0 {
		return esE(400, "action_request_validation_exception", "Validation Failed: 1: no requests added;")
	}
	writeJSON(w, 200, obj{"took": time.Since(start).Milliseconds(), "errors": failed, "items": items})
	return nil
}

// ---- search

type esQuery func(doc map[string]any) bool

// resolveRead turns an index expression (comma list, wildcards, _all,
// -exclusions) into the indices the principal may read, as Elasticsearch
// security does: wildcards expand to authorized indices only; a concrete
// index the principal may not read is a 403; one that does not exist a 404.
func (es *esServer) resolveRead(p *esPrincipal, expr string) ([]string, *esErr) {
	set := map[string]bool{}
	for _, part := range strings.Split(expr, ",") {
		part = strings.TrimSpace(part)
		switch {
		case part == "":
		case part == "_all" || part == "*" || strings.ContainsAny(part, "*?"):
			exclude := strings.HasPrefix(part, "-")
			pat := strings.TrimPrefix(part, "-")
			if pat == "_all" {
				pat = "*"
			}
			for name := range es.indices {
				if strings.HasPrefix(name, ".") && !strings.HasPrefix(pat, ".") {
					continue // hidden and system indices need an explicit dot
				}
				if !wildcardMatch(pat, name) {
					continue
				}
				if exclude {
					delete(set, name)
				} else if es.hasIndex(p, name, "read") {
					set[name] = true
				}
			}
		case strings.HasPrefix(part, "-"):
			delete(set, part[1:])
		default:
			if !es.hasIndex(p, part, "read") {
				return nil, esIndexDenied(p, "read", part)
			}
			if es.indices[part] == nil {
				return nil, esIndexNotFound(part)
			}
			set[part] = true
		}
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

func (es *esServer) search(w http.ResponseWriter, r *http.Request, p *esPrincipal, expr string, count bool) *esErr {
	q := r.URL.Query()
	size, from := 10, 0
	var query esQuery = func(map[string]any) bool { return true }
	body, _, e := esReadJSONBody(r, false)
	if e != nil {
		return e
	}
	if qs := q.Get("q"); qs != "" {
		if query, e = esParseQueryString(qs); e != nil {
			return e
		}
	}
	for k, v := range body {
		switch k {
		case "query":
			if query, e = esParseQuery(v); e != nil {
				return e
			}
		case "size", "from":
			n, err := strconv.Atoi(fmt.Sprint(v))
			if err != nil || n < 0 {
				return esE(400, "x_content_parse_exception", "[%s] must be a non-negative integer", k)
			}
			if k == "size" {
				size = n
			} else {
				from = n
			}
		case "track_total_hits", "timeout", "terminate_after":
		default:
			return esE(400, "standin_not_modelled_exception", "the Elasticsearch stand-in does not model search body key [%s]", k)
		}
	}
	for _, k := range []string{"size", "from"} {
		if v := q.Get(k); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return esE(400, "illegal_argument_exception", "Failed to parse int parameter [%s] with value [%s]", k, v)
			}
			if k == "size" {
				size = n
			} else {
				from = n
			}
		}
	}
	if !count && from+size > 10000 {
		return esE(400, "illegal_argument_exception",
			"Result window is too large, from + size must be less than or equal to: [10000] but was [%d].", from+size)
	}
	start := time.Now()
	es.mu.RLock()
	defer es.mu.RUnlock()
	indices, e := es.resolveRead(p, expr)
	if e != nil {
		return e
	}
	total := 0
	hits := []obj{}
	for _, name := range indices {
		ix := es.indices[name]
		err := scanIndexFile(ix.path, func(d *esStoredDoc) bool {
			if d.Explicit && ix.explicit[d.ID] != d.Version {
				return true // superseded by a later version
			}
			var doc map[string]any
			if decodeJSON(d.Source, &doc) != nil || !query(doc) {
				return true
			}
			total++
			if !count && total > from && len(hits) < size {
				hits = append(hits, obj{"_index": name, "_id": d.ID, "_score": 1.0, "_source": d.Source})
			}
			return true
		})
		if err != nil {
			return esE(500, "exception", "index [%s]: %v", name, err)
		}
	}
	shards := obj{"total": len(indices), "successful": len(indices), "skipped": 0, "failed": 0}
	if count {
		writeJSON(w, 200, obj{"count": total, "_shards": shards})
		return nil
	}
	var maxScore any
	if len(hits) > 0 {
		maxScore = 1.0
	}
	writeJSON(w, 200, obj{"took": time.Since(start).Milliseconds(), "timed_out": false, "_shards": shards,
		"hits": obj{"total": obj{"value": total, "relation": "eq"}, "max_score": maxScore, "hits": hits}})
	return nil
}

// esParseQuery understands match_all, match_none, match, term, exists and bool.
func esParseQuery(v any) (esQuery, *esErr) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return nil, esE(400, "parsing_exception", "[query] must be an object with exactly one query, got %v", v)
	}
	for kind, body := range m {
		switch kind {
		case "match_all":
			return func(map[string]any) bool { return true }, nil
		case "match_none":
			return func(map[string]any) bool { return false }, nil
		case "match", "term":
			field, val, opts, e := esFieldQuery(kind, body)
			if e != nil {
				return nil, e
			}
			if kind == "term" {
				return func(doc map[string]any) bool { return esTermMatches(doc, field, val) }, nil
			}
			and := false
			if op, _ := opts["operator"].(string); strings.EqualFold(op, "and") {
				and = true
			}
			return func(doc map[string]any) bool { return esMatchMatches(doc, field, val, and) }, nil
		case "exists":
			b, _ := body.(map[string]any)
			field, _ := b["field"].(string)
			if field == "" {
				return nil, esE(400, "parsing_exception", "[exists] must be provided with a [field]")
			}
			return func(doc map[string]any) bool {
				for _, x := range esFieldValues(doc, field) {
					if x != nil {
						return true
					}
				}
				return false
			}, nil
		case "bool":
			return esParseBool(body)
		default:
			return nil, esE(400, "parsing_exception", "unknown query [%s] (the Elasticsearch stand-in models match_all, match, term, exists and bool)", kind)
		}
	}
	return nil, nil
}

// esFieldQuery reads {"field": value} or {"field": {"query"|"value": value, ...}}.
func esFieldQuery(kind string, body any) (string, any, map[string]any, *esErr) {
	m, ok := body.(map[string]any)
	if !ok || len(m) != 1 {
		return "", nil, nil, esE(400, "parsing_exception", "[%s] query doesn't support multiple fields, found %v", kind, body)
	}
	for field, v := range m {
		if opts, ok := v.(map[string]any); ok {
			key := map[string]string{"match": "query", "term": "value"}[kind]
			val, ok := opts[key]
			if !ok {
				return "", nil, nil, esE(400, "parsing_exception", "[%s] query requires [%s] for field [%s]", kind, key, field)
			}
			return field, val, opts, nil
		}
		return field, v, nil, nil
	}
	return "", nil, nil, nil
}

func esParseBool(body any) (esQuery, *esErr) {
	m, ok := body.(map[string]any)
	if !ok {
		return nil, esE(400, "parsing_exception", "[bool] query malformed")
	}
	clauses := map[string][]esQuery{}
	for k, v := range m {
		switch k {
		case "must", "filter", "should", "must_not":
			list, isList := v.([]any)
			if !isList {
				list = []any{v}
			}
			for _, c := range list {
				q, e := esParseQuery(c)
				if e != nil {
					return nil, e
				}
				clauses[k] = append(clauses[k], q)
			}
		case "minimum_should_match", "boost":
		default:
			return nil, esE(400, "parsing_exception", "[bool] query does not support [%s]", k)
		}
	}
	return func(doc map[string]any) bool {
		for _, q := range append(clauses["must"], clauses["filter"]...) {
			if !q(doc) {
				return false
			}
		}
		for _, q := range clauses["must_not"] {
			if q(doc) {
				return false
			}
		}
		if len(clauses["should"]) > 0 && len(clauses["must"])+len(clauses["filter"]) == 0 {
			for _, q := range clauses["should"] {
				if q(doc) {
					return true
				}
			}
			return false
		}
		return true
	}, nil
}

// esParseQueryString understands q=field:value, q=value (any field), q=*
// and space-separated lists of them (OR, the default operator).
func esParseQueryString(qs string) (esQuery, *esErr) {
	var terms []string
	var cur strings.Builder
	quoted := false
	for _, c := range qs {
		switch {
		case c == '"':
			quoted = !quoted
			cur.WriteRune(c)
		case unicode.IsSpace(c) && !quoted:
			if cur.Len() > 0 {
				terms = append(terms, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(c)
		}
	}
	if cur.Len() > 0 {
		terms = append(terms, cur.String())
	}
	var qs2 []esQuery
	for _, t := range terms {
		if t == "*" || t == "*:*" {
			return func(map[string]any) bool { return true }, nil
		}
		field, value, hasField := strings.Cut(t, ":")
		if !hasField {
			field, value = "", t
		}
		unq := strings.Trim(value, `"`)
		if t == "AND" || t == "OR" || t == "NOT" || strings.ContainsAny(unq, `*?()[]{}~^\`) ||
			strings.HasPrefix(t, "+") || strings.HasPrefix(t, "-") || field == "*" || value == "" {
			return nil, esE(400, "query_shard_exception",
				"Failed to parse query [%s]: the Elasticsearch stand-in supports q=field:value, q=value and q=* only", qs)
		}
		f, v := field, unq
		if f == "" {
			qs2 = append(qs2, func(doc map[string]any) bool { return esMatchAny(doc, v) })
		} else {
			qs2 = append(qs2, func(doc map[string]any) bool { return esMatchMatches(doc, f, v, strings.HasPrefix(value, `"`)) })
		}
	}
	return func(doc map[string]any) bool {
		for _, q := range qs2 {
			if q(doc) {
				return true
			}
		}
		return false
	}, nil
}

// esFieldValues returns a field's values: "a.b" is {"a": {"b": v}} or {"a.b": v}; arrays flatten.
func esFieldValues(v any, path string) []any {
	switch t := v.(type) {
	case []any:
		var out []any
		for _, x := range t {
			out = append(out, esFieldValues(x, path)...)
		}
		return out
	case map[string]any:
		var out []any
		if x, ok := t[path]; ok {
			out = append(out, esFlatten(x)...)
		}
		for i := 0; i < len(path); i++ {
			if path[i] == '.' {
				if sub, ok := t[path[:i]]; ok {
					out = append(out, esFieldValues(sub, path[i+1:])...)
				}
			}
		}
		return out
	}
	return nil
}

func esFlatten(v any) []any {
	if list, ok := v.([]any); ok {
		var out []any
		for _, x := range list {
			out = append(out, esFlatten(x)...)
		}
		return out
	}
	return []any{v}
}

// esTokens is a rough standard analyzer: lowercase, split on non-alphanumerics.
func esTokens(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(c rune) bool { return !unicode.IsLetter(c) && !unicode.IsDigit(c) })
}

func esScalarString(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case json.Number:
		return t.String(), true
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(t), true
	}
	return "", false
}

func esNumEqual(a json.Number, b string) bool {
	x, err1 := a.Float64()
	y, err2 := strconv.ParseFloat(b, 64)
	return err1 == nil && err2 == nil && x == y
}

// esMatchMatches: a match query on a dynamically mapped field (text with a
// .keyword sub-field; numbers and booleans compared as values).
func esMatchMatches(doc map[string]any, field string, query any, all bool) bool {
	qs, ok := esScalarString(query)
	if !ok {
		return false
	}
	base, keyword := strings.CutSuffix(field, ".keyword")
	for _, v := range esFieldValues(doc, base) {
		switch t := v.(type) {
		case string:
			if keyword {
				if t == qs {
					return true
				}
				continue
			}
			have := map[string]bool{}
			for _, tok := range esTokens(t) {
				have[tok] = true
			}
			want := esTokens(qs)
			hit := 0
			for _, tok := range want {
				if have[tok] {
					hit++
				}
			}
			if len(want) > 0 && ((all && hit == len(want)) || (!all && hit > 0)) {
				return true
			}
		case json.Number:
			if esNumEqual(t, qs) {
				return true
			}
		case bool:
			if strconv.FormatBool(t) == strings.ToLower(qs) {
				return true
			}
		}
	}
	return false
}

// esTermMatches: an exact term against the indexed terms (text fields are
// indexed as lowercase tokens, .keyword as the whole value).
func esTermMatches(doc map[string]any, field string, term any) bool {
	ts, ok := esScalarString(term)
	if !ok {
		return false
	}
	base, keyword := strings.CutSuffix(field, ".keyword")
	for _, v := range esFieldValues(doc, base) {
		switch t := v.(type) {
		case string:
			if keyword && t == ts {
				return true
			}
			if !keyword {
				for _, tok := range esTokens(t) {
					if tok == ts {
						return true
					}
				}
			}
		case json.Number:
			if esNumEqual(t, ts) {
				return true
			}
		case bool:
			if strconv.FormatBool(t) == ts {
				return true
			}
		}
	}
	return false
}

// esMatchAny matches a value against every field (q=value).
func esMatchAny(doc map[string]any, value string) bool {
	var walk func(v any) bool
	want := esTokens(value)
	walk = func(v any) bool {
		switch t := v.(type) {
		case map[string]any:
			for _, x := range t {
				if walk(x) {
					return true
				}
			}
		case []any:
			for _, x := range t {
				if walk(x) {
					return true
				}
			}
		default:
			s, _ := esScalarString(t)
			for _, tok := range esTokens(s) {
				for _, w := range want {
					if tok == w {
						return true
					}
				}
			}
		}
		return false
	}
	return walk(doc)
}
