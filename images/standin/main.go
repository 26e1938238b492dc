// Command standin stands in for upstream images that cannot be obtained on
// this machine: no container registry is reachable, Debian does not package
// Elasticsearch, Logstash or Kibana, and Grafana's licence rules it out. It is
// a test double, NOT an implementation of any of them: each role checks what
// the real service checks where the monitoring stack's wiring could go wrong
// (credentials, provisioning files, the Logstash pipeline), answers with
// upstream-shaped JSON, and refuses, naming it, what it does not model.
//
//	elasticsearch  security on: Basic auth on every endpoint; the elastic
//	               password from the first start's ELASTIC_PASSWORD, kept in
//	               the data directory with the users and roles the security
//	               API creates; index privileges of those roles; documents
//	               (_doc, _bulk) stored in the data directory and found by
//	               _search/_count (q=field:value; match, term, match_all,
//	               bool, exists).
//	kibana         logs in to Elasticsearch with its environment's
//	               credentials; /api/status is 503 "unavailable" until that
//	               works; refuses the elastic superuser, like Kibana 8+.
//	logstash       runs the pipeline file (tcp json_lines, gelf over UDP,
//	               beats accepted but discarded; the date and json filters;
//	               the elasticsearch output with ${VAR} and %{+date} in the
//	               index)
//	               and refuses syntax it does not model; its API (:9600) is
//	               503 while the output cannot log in to Elasticsearch.
//	grafana        reads the provisioning files where Grafana reads them;
//	               /api/health is 503 while one does not parse, a dashboard
//	               names a datasource that is not provisioned, or two
//	               dashboards share a uid; the API needs the admin user.
//
// It is a multi-call binary (built by scripts/build-local-images.sh):
//
//	standin <role>     serve grafana | elasticsearch | logstash | kibana
//	curl [options] URL a minimal curl (when argv[0]'s basename is "curl", or
//	                   as "standin curl ..."), because the upstream images ship
//	                   curl and the stack's healthchecks and setup script use it
//
// Paths and ports come from the upstream settings' environment variables
// (path.data, http.port, SERVER_PORT, PATH_CONFIG, API_HTTP_PORT,
// GF_PATHS_PROVISIONING, GF_PATHS_DATA, GF_SERVER_HTTP_PORT), with the
// upstream images' defaults. Standard library only. scripts/build-local-images.sh
// rebuilds the images when a non-test .go file here, go.mod or go.sum changes.
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"math"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode"
)

func main() {
	args := os.Args[1:]
	if filepath.Base(os.Args[0]) == "curl" {
		os.Exit(curlMain(args, os.Stdout, os.Stderr))
	}
	if len(args) >= 1 && args[0] == "curl" {
		os.Exit(curlMain(args[1:], os.Stdout, os.Stderr))
	}
	if len(args) != 1 || roles[args[0]].open == nil {
		fmt.Fprintf(os.Stderr, "usage: standin {%s}\n       standin curl [options] URL (or invoke as curl)\n",
			strings.Join(roleNames(), "|"))
		os.Exit(2)
	}
	os.Exit(serve(args[0], roles[args[0]]))
}

// ---------------------------------------------------------------------------
// Roles

// envFunc reads the environment: os.Getenv in the images, a map in tests.
type envFunc func(string) string

// A roleServer is one role, configured from the environment: an HTTP handler
// plus what runs beside it (Logstash's inputs and output, Kibana's check).
type roleServer interface {
	http.Handler
	// addr is where the HTTP API listens, e.g. ":9200".
	addr() string
	// start begins the background work; it stops when ctx is done.
	start(ctx context.Context) error
}

type roleDef struct {
	upstream string
	open     func(env envFunc) (roleServer, error)
}

var roles = map[string]roleDef{
	"grafana": {"grafana/grafana", func(env envFunc) (roleServer, error) { return newGrafana(env) }},
	"elasticsearch": {"docker.elastic.co/elasticsearch/elasticsearch",
		func(env envFunc) (roleServer, error) { return newElasticsearch(env) }},
	"logstash": {"docker.elastic.co/logstash/logstash", func(env envFunc) (roleServer, error) { return newLogstash(env) }},
	"kibana":   {"docker.elastic.co/kibana/kibana", func(env envFunc) (roleServer, error) { return newKibana(env) }},
}

func roleNames() []string {
	var names []string
	for n := range roles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

var logger = log.New(os.Stdout, "", log.LstdFlags|log.LUTC)

func serve(name string, def roleDef) int {
	logger.Printf("standin %s: stand-in for %s (a test double: see images/standin)", name, def.upstream)

	// PID 1 in a container ignores SIGTERM unless it handles it: do so, so
	// "docker stop" returns at once instead of after the kill timeout.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	srv, err := def.open(os.Getenv)
	if err != nil {
		logger.Printf("standin %s: FATAL: %v", name, err)
		return 1
	}
	hln, err := net.Listen("tcp", srv.addr())
	if err != nil {
		logger.Printf("standin %s: FATAL: %v", name, err)
		return 1
	}
	if err := srv.start(ctx); err != nil {
		logger.Printf("standin %s: FATAL: %v", name, err)
		return 1
	}
	errc := make(chan error, 1)
	hsrv := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := hsrv.Serve(hln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- err
		}
	}()
	logger.Printf("standin %s: http listening on %s", name, srv.addr())

	select {
	case <-ctx.Done():
		logger.Printf("standin %s: signal received, stopping", name)
	case err := <-errc:
		logger.Printf("standin %s: %v", name, err)
		return 1
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = hsrv.Shutdown(sctx)
	return 0
}

// ---------------------------------------------------------------------------
// Shared helpers

type obj = map[string]any

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func cleanPath(r *http.Request) string {
	p := strings.TrimRight(r.URL.Path, "/")
	if p == "" {
		return "/"
	}
	return p
}

func envOr(env envFunc, key, def string) string {
	if v := env(key); v != "" {
		return v
	}
	return def
}

// envFile reads KEY, or the file KEY_FILE names (as the Elastic and Grafana
// images allow for secrets: ELASTIC_PASSWORD_FILE, GF_..._PASSWORD__FILE).
func envFile(env envFunc, key, fileKey string) (string, error) {
	if f := env(fileKey); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("%s: %w", fileKey, err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	return env(key), nil
}

// portAddr is ":<port>" from a port setting, or its default.
func portAddr(env envFunc, key string, def int) (string, error) {
	v := envOr(env, key, strconv.Itoa(def))
	p, err := strconv.Atoi(v)
	if err != nil || p < 0 || p > 65535 {
		return "", fmt.Errorf("%s=%q is not a port number", key, v)
	}
	return fmt.Sprintf(":%d", p), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// randomID is an Elasticsearch-style 20-character document id.
func randomID() string {
	b := make([]byte, 15)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// pwHash is a salted SHA-256 of a password. The real services store bcrypt
// (Elasticsearch) or PBKDF2 (Grafana) hashes; for a test double a salted
// hash keeps plain passwords out of the data volume, which is what matters.
type pwHash struct {
	Salt string `json:"salt"`
	Hash string `json:"hash"`
}

func newPwHash(password string) pwHash {
	salt := randomHex(16)
	return pwHash{Salt: salt, Hash: hashPw(salt, password)}
}

func hashPw(salt, password string) string {
	sum := sha256.Sum256([]byte(salt + "\x00" + password))
	return hex.EncodeToString(sum[:])
}

func (h pwHash) matches(password string) bool {
	if h.Hash == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(h.Hash), []byte(hashPw(h.Salt, password))) == 1
}

// writeFileAtomic replaces path with data (temp file + rename in its folder).
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// requestBody is the request's body, decompressed per Content-Encoding (gzip
// and deflate, as Elasticsearch accepts and Logstash sends), at most limit
// bytes after decompression.
func requestBody(r *http.Request, limit int64) ([]byte, error) {
	var rd io.Reader = r.Body
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		gz, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, fmt.Errorf("gzip body: %w", err)
		}
		defer gz.Close()
		rd = gz
	case "deflate":
		zr, err := zlib.NewReader(r.Body)
		if err != nil {
			return nil, fmt.Errorf("deflate body: %w", err)
		}
		defer zr.Close()
		rd = zr
	default:
		return nil, fmt.Errorf("unsupported Content-Encoding %q", enc)
	}
	b, err := io.ReadAll(io.LimitReader(rd, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("request body larger than %d bytes", limit)
	}
	return b, nil
}

// decodeJSON decodes with json.Number for numbers, so documents keep them as sent.
func decodeJSON(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "standin"
	}
	return h
}

// basicAuthClient does one GET with Basic auth and returns the status and body.
func basicAuthGet(ctx context.Context, client *http.Client, rawURL, user, password string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return 0, nil, err
	}
	if user != "" || password != "" {
		req.SetBasicAuth(user, password)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, body, err
}

// esErrorReason extracts "type: reason" from an Elasticsearch error body.
func esErrorReason(status int, body []byte) string {
	var e struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && len(e.Error) > 0 {
		var inner struct{ Type, Reason string }
		if json.Unmarshal(e.Error, &inner) == nil && inner.Type != "" {
			return fmt.Sprintf("%d %s: %s", status, inner.Type, inner.Reason)
		}
		var s string
		if json.Unmarshal(e.Error, &s) == nil {
			return fmt.Sprintf("%d %s", status, s)
		}
	}
	return fmt.Sprintf("HTTP %d", status)
}

// healthCache remembers a check's outcome for a moment, so frequent health
// requests do not each reach the upstream.
type healthCache struct {
	mu     sync.Mutex
	at     time.Time
	ok     bool
	reason string
	ttl    time.Duration
	check  func(ctx context.Context) (bool, string)
	onFlip func(ok bool, reason string)
	known  bool
}

func (c *healthCache) get(ctx context.Context) (bool, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.known && time.Since(c.at) < c.ttl {
		return c.ok, c.reason
	}
	ok, reason := c.check(ctx)
	if c.onFlip != nil && (!c.known || ok != c.ok || (!ok && reason != c.reason)) {
		c.onFlip(ok, reason)
	}
	c.ok, c.reason, c.at, c.known = ok, reason, time.Now(), true
	return ok, reason
}

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
		"version":      obj{"number": "standin", "build_flavor": "default", "build_type": "docker", "lucene_version": "standin"},
		"tagline":      "You Know, for Search",
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
	case n == 3 && segs[1] == "user" && m == http.MethodDelete:
		return es.deleteUser(w, p, segs[2])
	case n == 3 && segs[1] == "role" && write:
		return es.putRole(w, r, p, segs[2])
	case (n == 2 || n == 3) && segs[1] == "role" && m == http.MethodGet:
		return es.getRoles(w, p, segs[2:])
	case n == 3 && segs[1] == "role" && m == http.MethodDelete:
		return es.deleteRole(w, p, segs[2])
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

func (es *esServer) deleteUser(w http.ResponseWriter, p *esPrincipal, name string) *esErr {
	if e := es.requireCluster(p, "manage_security"); e != nil {
		return e
	}
	if _, reserved := esReservedUsers[name]; reserved {
		return esE(400, "illegal_argument_exception", "user [%s] is reserved and cannot be deleted", name)
	}
	es.mu.Lock()
	defer es.mu.Unlock()
	_, found := es.sec.Users[name]
	if found {
		delete(es.sec.Users, name)
		if err := es.saveSecurity(); err != nil {
			return esE(500, "exception", "saving security state: %v", err)
		}
		logger.Printf("elasticsearch: user [%s] deleted (by [%s])", name, p.name)
	}
	writeJSON(w, map[bool]int{true: 200, false: 404}[found], obj{"found": found})
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

func (es *esServer) deleteRole(w http.ResponseWriter, p *esPrincipal, name string) *esErr {
	if e := es.requireCluster(p, "manage_security"); e != nil {
		return e
	}
	if _, reserved := esBuiltinRoles[name]; reserved {
		return esE(400, "illegal_argument_exception", "role [%s] is reserved and cannot be deleted", name)
	}
	es.mu.Lock()
	defer es.mu.Unlock()
	_, found := es.sec.Roles[name]
	if found {
		delete(es.sec.Roles, name)
		if err := es.saveSecurity(); err != nil {
			return esE(500, "exception", "saving security state: %v", err)
		}
		logger.Printf("elasticsearch: role [%s] deleted (by [%s])", name, p.name)
	}
	writeJSON(w, map[bool]int{true: 200, false: 404}[found], obj{"found": found})
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

// ---------------------------------------------------------------------------
// Kibana: logs in to Elasticsearch with the credentials of its environment.

type kibanaServer struct {
	listen   string
	name     string
	hosts    []string
	user     string
	password string
	client   *http.Client
	health   *healthCache
}

func newKibana(env envFunc) (*kibanaServer, error) {
	listen, err := portAddr(env, "SERVER_PORT", 5601)
	if err != nil {
		return nil, err
	}
	user := env("ELASTICSEARCH_USERNAME")
	if user == "elastic" {
		// Kibana 8+ refuses the superuser, with this message, and exits.
		return nil, errors.New(`[config validation of [elasticsearch].username]: value of "elastic" is forbidden. ` +
			"This is a superuser account that cannot write to system indices that Kibana needs to function. " +
			"Use a service account token instead")
	}
	for _, k := range []string{"XPACK_SECURITY_ENCRYPTIONKEY", "XPACK_ENCRYPTEDSAVEDOBJECTS_ENCRYPTIONKEY", "XPACK_REPORTING_ENCRYPTIONKEY"} {
		if v := env(k); v != "" && len(v) < 32 {
			setting := map[string]string{"XPACK_SECURITY_ENCRYPTIONKEY": "xpack.security.encryptionKey",
				"XPACK_ENCRYPTEDSAVEDOBJECTS_ENCRYPTIONKEY": "xpack.encryptedSavedObjects.encryptionKey",
				"XPACK_REPORTING_ENCRYPTIONKEY":             "xpack.reporting.encryptionKey"}[k]
			return nil, fmt.Errorf("[config validation of [%s]]: value has length [%d] but it must have a minimum length of [32]", setting, len(v))
		}
	}
	hosts, err := kibanaHosts(envOr(env, "ELASTICSEARCH_HOSTS", "http://elasticsearch:9200"))
	if err != nil {
		return nil, err
	}
	k := &kibanaServer{
		listen:   listen,
		name:     envOr(env, "SERVER_NAME", hostname()),
		hosts:    hosts,
		user:     user,
		password: env("ELASTICSEARCH_PASSWORD"),
		client:   &http.Client{Timeout: 3 * time.Second},
	}
	k.health = &healthCache{ttl: time.Second, check: k.check, onFlip: func(ok bool, reason string) {
		if ok {
			logger.Printf("kibana: Elasticsearch is available: logged in to %s as [%s]", strings.Join(k.hosts, ","), k.user)
		} else {
			logger.Printf("kibana: Elasticsearch is unavailable: %s", reason)
		}
	}}
	return k, nil
}

// kibanaHosts reads elasticsearch.hosts: one URL, a comma list, or a YAML/JSON list.
func kibanaHosts(v string) ([]string, error) {
	v = strings.TrimSpace(v)
	v = strings.TrimSuffix(strings.TrimPrefix(v, "["), "]")
	var hosts []string
	for _, h := range strings.Split(v, ",") {
		h = strings.Trim(strings.TrimSpace(h), `"'`)
		if h == "" {
			continue
		}
		u, err := url.Parse(h)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("[config validation of [elasticsearch].hosts]: expected URI with scheme [http|https], got %q", h)
		}
		hosts = append(hosts, strings.TrimRight(h, "/"))
	}
	if len(hosts) == 0 {
		return nil, errors.New("[config validation of [elasticsearch].hosts]: no host given")
	}
	return hosts, nil
}

func (k *kibanaServer) addr() string { return k.listen }

func (k *kibanaServer) start(ctx context.Context) error {
	go func() {
		// Like Kibana: keep checking the connection (and log when it changes).
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			k.health.get(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return nil
}

// check logs in as Kibana's user (GET /_security/_authenticate).
func (k *kibanaServer) check(ctx context.Context) (bool, string) {
	if k.user == "" && k.password == "" {
		return false, "no elasticsearch.username/password (ELASTICSEARCH_USERNAME, ELASTICSEARCH_PASSWORD) configured"
	}
	var reasons []string
	for _, h := range k.hosts {
		status, body, err := basicAuthGet(ctx, k.client, h+"/_security/_authenticate", k.user, k.password)
		switch {
		case err != nil:
			reasons = append(reasons, fmt.Sprintf("%s: %v", h, err))
		case status == 200:
			return true, ""
		default:
			reasons = append(reasons, fmt.Sprintf("%s: %s", h, esErrorReason(status, body)))
		}
	}
	return false, "Unable to authenticate to Elasticsearch as [" + k.user + "]: " + strings.Join(reasons, "; ")
}

func (k *kibanaServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch p := cleanPath(r); {
	case p == "/api/status":
		ok, reason := k.health.get(r.Context())
		level, status := "available", 200
		esSummary := "Elasticsearch is available"
		soSummary := "SavedObjects service has completed migrations and is available"
		if !ok {
			level, status = "unavailable", 503
			esSummary = reason
			soSummary = "SavedObjects service is not available without a healthy Elasticearch connection"
		}
		summary := map[bool]string{true: "All services and plugins are available", false: "Elasticsearch is unavailable"}[ok]
		writeJSON(w, status, obj{
			"name":    k.name,
			"uuid":    "standin",
			"version": obj{"number": "standin", "build_flavor": "traditional", "build_snapshot": false},
			"status": obj{
				"overall": obj{"level": level, "summary": summary},
				"core": obj{
					"elasticsearch": obj{"level": level, "summary": esSummary, "meta": obj{}},
					"savedObjects":  obj{"level": level, "summary": soSummary, "meta": obj{}},
				},
				"plugins": obj{},
			},
		})
	case p == "/":
		// Kibana redirects its root to the app, as upstream does.
		http.Redirect(w, r, "/app/home", http.StatusFound)
	case strings.HasPrefix(p, "/app/"):
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintln(w, "<!DOCTYPE html><title>Kibana stand-in</title><p>Kibana stand-in: only /api/status is modelled.</p>")
	default:
		writeJSON(w, 404, obj{"statusCode": 404, "error": "Not Found", "message": "Not Found (the Kibana stand-in models /api/status only)"})
	}
}

// ---------------------------------------------------------------------------
// Logstash: runs the pipeline file, refusing what it does not model.

// ---- pipeline syntax

type lsPlugin struct {
	name  string
	file  string
	line  int
	attrs map[string]any // string, float64, []any, map[string]any, *lsPlugin (a codec with settings)
	lines map[string]int
}

type lsNode struct {
	plugin *lsPlugin
	branch *lsBranch
}

type lsBranch struct {
	conds  []func(*lsEvent) bool
	bodies [][]lsNode // one per condition, plus the else body if any
}

type lsParser struct {
	src  string
	pos  int
	file string
	env  envFunc
}

func (p *lsParser) lineNo() int { return 1 + strings.Count(p.src[:p.pos], "\n") }

func (p *lsParser) errf(f string, a ...any) error {
	return fmt.Errorf("%s: line %d: %s", p.file, p.lineNo(), fmt.Sprintf(f, a...))
}

func (p *lsParser) eof() bool { return p.pos >= len(p.src) }

func (p *lsParser) peek() byte {
	if p.eof() {
		return 0
	}
	return p.src[p.pos]
}

func (p *lsParser) snippet() string {
	s := p.src[p.pos:]
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return strings.TrimSpace(s)
}

func (p *lsParser) ws() {
	for !p.eof() {
		switch c := p.src[p.pos]; {
		case c == '#':
			for !p.eof() && p.src[p.pos] != '\n' {
				p.pos++
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			p.pos++
		default:
			return
		}
	}
}

func isBarewordByte(c byte) bool {
	return c == '_' || c == '-' || c == '@' || c == '.' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

func (p *lsParser) bareword() string {
	start := p.pos
	for !p.eof() && isBarewordByte(p.src[p.pos]) {
		p.pos++
	}
	return p.src[start:p.pos]
}

func (p *lsParser) expect(s string) error {
	p.ws()
	if !strings.HasPrefix(p.src[p.pos:], s) {
		if p.eof() {
			return p.errf("expected %q, found the end of the file", s)
		}
		return p.errf("expected %q, found %q", s, p.snippet())
	}
	p.pos += len(s)
	return nil
}

// parseLogstashConfig parses one pipeline file: input/filter/output sections
// of plugins with settings, and if/else if/else branches (in filter and
// output) on the conditions the stand-in evaluates.
func parseLogstashConfig(src, file string, env envFunc) (map[string][]lsNode, error) {
	p := &lsParser{src: src, file: file, env: env}
	sections := map[string][]lsNode{}
	for {
		p.ws()
		if p.eof() {
			return sections, nil
		}
		name := p.bareword()
		if name != "input" && name != "filter" && name != "output" {
			return nil, p.errf("expected input, filter or output, found %q", name+p.snippet())
		}
		if err := p.expect("{"); err != nil {
			return nil, err
		}
		nodes, err := p.block(name)
		if err != nil {
			return nil, err
		}
		sections[name] = append(sections[name], nodes...)
	}
}

func (p *lsParser) block(section string) ([]lsNode, error) {
	var nodes []lsNode
	for {
		p.ws()
		if p.eof() {
			return nil, p.errf("unexpected end of file: missing \"}\"")
		}
		if p.peek() == '}' {
			p.pos++
			return nodes, nil
		}
		line := p.lineNo()
		name := p.bareword()
		switch {
		case name == "":
			return nil, p.errf("expected a plugin name or \"if\", found %q", p.snippet())
		case name == "if" || name == "else":
			if section == "input" || name == "else" {
				return nil, p.errf("%q is not allowed here", name)
			}
			br, err := p.branch(section)
			if err != nil {
				return nil, err
			}
			nodes = append(nodes, lsNode{branch: br})
		default:
			pl, err := p.plugin(name, line)
			if err != nil {
				return nil, err
			}
			nodes = append(nodes, lsNode{plugin: pl})
		}
	}
}

func (p *lsParser) plugin(name string, line int) (*lsPlugin, error) {
	if err := p.expect("{"); err != nil {
		return nil, err
	}
	pl := &lsPlugin{name: name, file: p.file, line: line, attrs: map[string]any{}, lines: map[string]int{}}
	for {
		p.ws()
		if p.eof() {
			return nil, p.errf("unexpected end of file in plugin %q: missing \"}\"", name)
		}
		if p.peek() == '}' {
			p.pos++
			return pl, nil
		}
		aline := p.lineNo()
		var key string
		if c := p.peek(); c == '"' || c == '\'' {
			k, err := p.quoted()
			if err != nil {
				return nil, err
			}
			key = k
		} else {
			key = p.bareword()
		}
		if key == "" {
			return nil, p.errf("expected a setting name in plugin %q, found %q", name, p.snippet())
		}
		if err := p.expect("=>"); err != nil {
			return nil, err
		}
		p.ws()
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		if _, dup := pl.attrs[key]; dup {
			return nil, fmt.Errorf("%s: line %d: setting %q of plugin %q is given twice", p.file, aline, key, name)
		}
		pl.attrs[key] = v
		pl.lines[key] = aline
	}
}

func (p *lsParser) quoted() (string, error) {
	q := p.src[p.pos]
	start := p.pos
	p.pos++
	for !p.eof() {
		c := p.src[p.pos]
		if c == '\\' && p.pos+1 < len(p.src) && p.src[p.pos+1] == q {
			p.pos += 2 // an escaped quote; with config.support_escapes off the backslash stays
			continue
		}
		if c == q {
			p.pos++
			return p.src[start+1 : p.pos-1], nil
		}
		p.pos++
	}
	p.pos = start
	return "", p.errf("unterminated string starting %q", p.snippet())
}

var lsEnvRef = regexp.MustCompile(`\$\{([^}:]*)(?::([^}]*))?\}`)

// substitute replaces ${VAR} and ${VAR:default} as Logstash does for
// setting values (the keystore is not modelled: only the environment).
func (p *lsParser) substitute(s string) (string, error) {
	var err error
	out := lsEnvRef.ReplaceAllStringFunc(s, func(m string) string {
		sub := lsEnvRef.FindStringSubmatch(m)
		name := strings.TrimSpace(sub[1])
		if v := p.env(name); v != "" {
			return v
		}
		if strings.Contains(m, ":") {
			return sub[2]
		}
		if err == nil {
			err = p.errf("Cannot evaluate `${%s}`. Replacement variable `%s` is not defined in a Logstash secret store or as an Environment entry and there is no default value given.", name, name)
		}
		return m
	})
	return out, err
}

var lsNumber = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?`)

func (p *lsParser) value() (any, error) {
	switch c := p.peek(); {
	case c == '"' || c == '\'':
		s, err := p.quoted()
		if err != nil {
			return nil, err
		}
		return p.substitute(s)
	case c == '[':
		p.pos++
		var list []any
		for {
			p.ws()
			if p.peek() == ']' {
				p.pos++
				return list, nil
			}
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			list = append(list, v)
			p.ws()
			switch p.peek() {
			case ',':
				p.pos++
			case ']':
			default:
				return nil, p.errf("expected \",\" or \"]\" in a list, found %q", p.snippet())
			}
		}
	case c == '{':
		p.pos++
		h := map[string]any{}
		for {
			p.ws()
			if p.peek() == '}' {
				p.pos++
				return h, nil
			}
			var key string
			if c := p.peek(); c == '"' || c == '\'' {
				k, err := p.quoted()
				if err != nil {
					return nil, err
				}
				key = k
			} else {
				key = p.bareword()
			}
			if key == "" {
				return nil, p.errf("expected a hash key, found %q", p.snippet())
			}
			if err := p.expect("=>"); err != nil {
				return nil, err
			}
			p.ws()
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			h[key] = v
			p.ws()
			if p.peek() == ',' {
				p.pos++
			}
		}
	case lsNumber.MatchString(p.src[p.pos:]) && !isBarewordAfterNumber(p.src[p.pos:]):
		m := lsNumber.FindString(p.src[p.pos:])
		p.pos += len(m)
		f, _ := strconv.ParseFloat(m, 64)
		return f, nil
	default:
		line := p.lineNo()
		w := p.bareword()
		if w == "" {
			return nil, p.errf("expected a value, found %q", p.snippet())
		}
		save := p.pos
		p.ws()
		if p.peek() == '{' { // a plugin as value: a codec with settings
			return p.plugin(w, line)
		}
		p.pos = save
		return p.substitute(w)
	}
}

func isBarewordAfterNumber(s string) bool {
	m := lsNumber.FindString(s)
	return len(s) > len(m) && isBarewordByte(s[len(m)]) && s[len(m)] != '.'
}

// branch parses `if COND { ... } else if COND { ... } else { ... }` after "if".
func (p *lsParser) branch(section string) (*lsBranch, error) {
	br := &lsBranch{}
	for {
		cond, err := p.condition()
		if err != nil {
			return nil, err
		}
		if err := p.expect("{"); err != nil {
			return nil, err
		}
		body, err := p.block(section)
		if err != nil {
			return nil, err
		}
		br.conds = append(br.conds, cond)
		br.bodies = append(br.bodies, body)
		p.ws()
		save := p.pos
		if p.bareword() != "else" {
			p.pos = save
			return br, nil
		}
		p.ws()
		save = p.pos
		if p.bareword() == "if" {
			continue
		}
		p.pos = save
		if err := p.expect("{"); err != nil {
			return nil, err
		}
		body, err = p.block(section)
		if err != nil {
			return nil, err
		}
		br.bodies = append(br.bodies, body)
		return br, nil
	}
}

const lsConditionHelp = `supported: [field], ![field], [field] == "value", [field] != "value"`

// condition parses the conditions the stand-in evaluates (see lsConditionHelp).
func (p *lsParser) condition() (func(*lsEvent) bool, error) {
	p.ws()
	neg := false
	if p.peek() == '!' {
		neg = true
		p.pos++
		p.ws()
	}
	left, isField, err := p.operand()
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.peek() == '{' {
		if !isField {
			return nil, p.errf("condition on a literal is not supported by the stand-in (%s)", lsConditionHelp)
		}
		path := left.([]string)
		return func(ev *lsEvent) bool {
			v, ok := ev.get(path)
			truthy := ok && v != nil && v != false
			return truthy != neg
		}, nil
	}
	rest := p.src[p.pos:]
	var op string
	switch {
	case strings.HasPrefix(rest, "=="):
		op = "=="
	case strings.HasPrefix(rest, "!=") && !strings.HasPrefix(rest, "!~"):
		op = "!="
	default:
		w := p.snippet()
		if f := strings.Fields(w); len(f) > 0 {
			w = f[0]
		}
		return nil, p.errf("condition operator %q is not supported by the stand-in (%s)", w, lsConditionHelp)
	}
	if neg {
		return nil, p.errf("\"!\" before a comparison is not supported by the stand-in (%s)", lsConditionHelp)
	}
	p.pos += 2
	p.ws()
	right, rightField, err := p.operand()
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.peek() != '{' {
		w := p.snippet()
		if f := strings.Fields(w); len(f) > 0 {
			w = f[0]
		}
		return nil, p.errf("condition operator %q is not supported by the stand-in (%s)", w, lsConditionHelp)
	}
	value := func(x any, field bool, ev *lsEvent) any {
		if field {
			v, _ := ev.get(x.([]string))
			return v
		}
		return x
	}
	return func(ev *lsEvent) bool {
		eq := lsEqual(value(left, isField, ev), value(right, rightField, ev))
		return eq == (op == "==")
	}, nil
}

// operand: a field reference [a][b] (returns []string, true), a string or a number.
func (p *lsParser) operand() (any, bool, error) {
	switch c := p.peek(); {
	case c == '[':
		var path []string
		for p.peek() == '[' {
			end := strings.IndexAny(p.src[p.pos+1:], "[]\n")
			if end < 0 || p.src[p.pos+1+end] != ']' {
				return nil, false, p.errf("malformed field reference %q", p.snippet())
			}
			path = append(path, p.src[p.pos+1:p.pos+1+end])
			p.pos += end + 2
		}
		return path, true, nil
	case c == '"' || c == '\'':
		s, err := p.quoted()
		return s, false, err
	case lsNumber.MatchString(p.src[p.pos:]):
		m := lsNumber.FindString(p.src[p.pos:])
		p.pos += len(m)
		f, _ := strconv.ParseFloat(m, 64)
		return f, false, nil
	default:
		return nil, false, p.errf("condition %q is not supported by the stand-in (%s)", p.snippet(), lsConditionHelp)
	}
}

func lsEqual(a, b any) bool {
	num := func(v any) (float64, bool) {
		switch t := v.(type) {
		case float64:
			return t, true
		case json.Number:
			f, err := t.Float64()
			return f, err == nil
		}
		return 0, false
	}
	if x, ok := num(a); ok {
		if y, ok := num(b); ok {
			return x == y
		}
	}
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return fmt.Sprint(a) == fmt.Sprint(b)
}

// ---- events

type lsEvent struct {
	ts     time.Time
	fields map[string]any
}

func newLSEvent(fields map[string]any) *lsEvent {
	if fields == nil {
		fields = map[string]any{}
	}
	ev := &lsEvent{ts: time.Now().UTC(), fields: fields}
	if raw, ok := fields["@timestamp"]; ok {
		delete(fields, "@timestamp")
		s, _ := raw.(string)
		if t, ok := parseISO8601(s); ok {
			ev.ts = t
		} else {
			ev.addTag("_timestampparsefailure")
			fields["_@timestamp"] = raw
		}
	}
	if _, ok := fields["@version"]; !ok {
		fields["@version"] = "1"
	}
	return ev
}

// parseFieldRef reads "[a][b]" or "a" (a top-level field, dots included).
func parseFieldRef(s string) ([]string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("empty field reference")
	}
	if !strings.HasPrefix(s, "[") {
		return []string{s}, nil
	}
	var path []string
	for s != "" {
		if s[0] != '[' {
			return nil, fmt.Errorf("malformed field reference %q", s)
		}
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return nil, fmt.Errorf("malformed field reference %q", s)
		}
		path = append(path, s[1:end])
		s = s[end+1:]
	}
	return path, nil
}

func (e *lsEvent) get(path []string) (any, bool) {
	if len(path) == 1 && path[0] == "@timestamp" {
		return e.ts.Format("2006-01-02T15:04:05.000Z"), true
	}
	var cur any = e.fields
	for _, k := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func (e *lsEvent) set(path []string, v any) {
	m := e.fields
	for _, k := range path[:len(path)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[path[len(path)-1]] = v
}

func (e *lsEvent) remove(path []string) {
	m := e.fields
	for _, k := range path[:len(path)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			return
		}
		m = next
	}
	delete(m, path[len(path)-1])
}

func (e *lsEvent) addTag(tag string) {
	var tags []any
	switch t := e.fields["tags"].(type) {
	case []any:
		tags = t
	case nil:
	default: // a single tag (a json filter can set one): kept, as Event#tag does
		tags = []any{t}
	}
	for _, t := range tags {
		if t == tag {
			return
		}
	}
	e.fields["tags"] = append(tags, tag)
}

func (e *lsEvent) document() map[string]any {
	doc := make(map[string]any, len(e.fields)+1)
	for k, v := range e.fields {
		doc[k] = v
	}
	doc["@timestamp"] = e.ts.Format("2006-01-02T15:04:05.000Z")
	return doc
}

// lsEventsFromJSON decodes one JSON text as the json/json_lines codecs do:
// an object is an event, an array of objects several; anything else is a
// message tagged _jsonparsefailure.
func lsEventsFromJSON(text []byte) []*lsEvent {
	var v any
	if err := decodeJSON(text, &v); err == nil {
		switch t := v.(type) {
		case map[string]any:
			return []*lsEvent{newLSEvent(t)}
		case []any:
			var evs []*lsEvent
			for _, x := range t {
				if m, ok := x.(map[string]any); ok {
					evs = append(evs, newLSEvent(m))
				}
			}
			if len(evs) == len(t) {
				return evs
			}
		}
	}
	ev := newLSEvent(map[string]any{"message": string(text)})
	ev.addTag("_jsonparsefailure")
	return []*lsEvent{ev}
}

// ---- sprintf: %{field} and %{+joda date format}

type lsTplPart struct {
	lit   string
	field []string
	raw   string
	date  []jodaTok
	epoch bool
	isVar bool
}

type lsTemplate []lsTplPart

func parseTemplate(s string) (lsTemplate, error) {
	var t lsTemplate
	for s != "" {
		i := strings.Index(s, "%{")
		if i < 0 {
			t = append(t, lsTplPart{lit: s})
			break
		}
		if i > 0 {
			t = append(t, lsTplPart{lit: s[:i]})
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			t = append(t, lsTplPart{lit: s[i:]})
			break
		}
		inner := s[i+2 : i+end]
		part := lsTplPart{raw: s[i : i+end+1], isVar: true}
		switch {
		case inner == "+%s":
			part.epoch = true
		case strings.HasPrefix(inner, "+"):
			toks, err := parseJoda(inner[1:])
			if err != nil {
				return nil, fmt.Errorf("%%{%s}: %w", inner, err)
			}
			part.date = toks
		default:
			path, err := parseFieldRef(inner)
			if err != nil {
				return nil, err
			}
			part.field = path
		}
		t = append(t, part)
		s = s[i+end+1:]
	}
	return t, nil
}

func (t lsTemplate) render(ev *lsEvent) string {
	var b strings.Builder
	for _, p := range t {
		switch {
		case !p.isVar:
			b.WriteString(p.lit)
		case p.epoch:
			b.WriteString(strconv.FormatInt(ev.ts.Unix(), 10))
		case p.date != nil:
			b.WriteString(formatJoda(p.date, ev.ts.UTC()))
		default:
			v, ok := ev.get(p.field)
			switch {
			case !ok || v == nil:
				b.WriteString(p.raw) // Logstash leaves an unknown reference as written
			case isScalar(v):
				s, _ := esScalarString(v)
				b.WriteString(s)
			default:
				j, _ := json.Marshal(v)
				b.Write(j)
			}
		}
	}
	return b.String()
}

func isScalar(v any) bool {
	switch v.(type) {
	case string, json.Number, float64, bool:
		return true
	}
	return false
}

type jodaTok struct {
	letter byte
	n      int
	lit    string
}

// parseJoda reads the Joda-Time pattern letters the stand-in formats:
// y Y x (year, year of era, week year), M, d, H, m, s, S, w; quoted text.
func parseJoda(f string) ([]jodaTok, error) {
	var toks []jodaTok
	for i := 0; i < len(f); {
		c := f[i]
		switch {
		case c == '\'':
			end := strings.IndexByte(f[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("unterminated quote in date format %q", f)
			}
			lit := f[i+1 : i+1+end]
			if lit == "" {
				lit = "'"
			}
			toks = append(toks, jodaTok{lit: lit})
			i += end + 2
		case (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
			n := 1
			for i+n < len(f) && f[i+n] == c {
				n++
			}
			if !strings.ContainsRune("yYxMdHmsSw", rune(c)) {
				return nil, fmt.Errorf("date format letter %q (in %q) is not supported by the stand-in (y Y x M d H m s S w)", string(c), f)
			}
			toks = append(toks, jodaTok{letter: c, n: n})
			i += n
		default:
			toks = append(toks, jodaTok{lit: string(c)})
			i++
		}
	}
	return toks, nil
}

func formatJoda(toks []jodaTok, t time.Time) string {
	var b strings.Builder
	pad := func(v, n int) { fmt.Fprintf(&b, "%0*d", n, v) }
	for _, tk := range toks {
		switch tk.letter {
		case 0:
			b.WriteString(tk.lit)
		case 'y', 'Y', 'x':
			year := t.Year()
			if tk.letter == 'x' {
				year, _ = t.ISOWeek()
			}
			if tk.n == 2 {
				pad(year%100, 2)
			} else {
				pad(year, tk.n)
			}
		case 'M':
			switch {
			case tk.n >= 4:
				b.WriteString(t.Month().String())
			case tk.n == 3:
				b.WriteString(t.Month().String()[:3])
			default:
				pad(int(t.Month()), tk.n)
			}
		case 'd':
			pad(t.Day(), tk.n)
		case 'H':
			pad(t.Hour(), tk.n)
		case 'm':
			pad(t.Minute(), tk.n)
		case 's':
			pad(t.Second(), tk.n)
		case 'S':
			frac := fmt.Sprintf("%09d", t.Nanosecond())
			for len(frac) < tk.n {
				frac += "0"
			}
			b.WriteString(frac[:tk.n])
		case 'w':
			_, w := t.ISOWeek()
			pad(w, tk.n)
		}
	}
	return b.String()
}

var iso8601Layouts = []string{
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999Z07",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999Z0700",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
}

// parseISO8601 parses what the date filter's ISO8601 accepts; no zone means UTC.
func parseISO8601(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, l := range iso8601Layouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// ---- plugin settings

// lsOpts reads a plugin's settings and reports any it does not know.
type lsOpts struct {
	pl   *lsPlugin
	used map[string]bool
	err  error
}

func newLSOpts(pl *lsPlugin) *lsOpts { return &lsOpts{pl: pl, used: map[string]bool{"id": true}} }

func (o *lsOpts) fail(key, f string, a ...any) {
	if o.err == nil {
		line := o.pl.line
		if l, ok := o.pl.lines[key]; ok {
			line = l
		}
		o.err = fmt.Errorf("%s: line %d: %s %q: %s", o.pl.file, line, o.pl.name, key, fmt.Sprintf(f, a...))
	}
}

func (o *lsOpts) has(key string) bool {
	_, ok := o.pl.attrs[key]
	return ok
}

func (o *lsOpts) str(key, def string) string {
	o.used[key] = true
	v, ok := o.pl.attrs[key]
	if !ok {
		return def
	}
	switch t := v.(type) {
	case string:
		return t
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	}
	o.fail(key, "expected a string")
	return def
}

func (o *lsOpts) num(key string, def int) int {
	s := o.str(key, strconv.Itoa(def))
	n, err := strconv.Atoi(s)
	if err != nil {
		o.fail(key, "expected a number, got %q", s)
	}
	return n
}

func (o *lsOpts) port(key string, def int) int {
	n := o.num(key, def)
	if n < 0 || n > 65535 {
		o.fail(key, "%d is not a port", n)
	}
	return n
}

func (o *lsOpts) boolean(key string, def bool) bool {
	s := o.str(key, strconv.FormatBool(def))
	switch s {
	case "true":
		return true
	case "false":
		return false
	}
	o.fail(key, "expected true or false, got %q", s)
	return def
}

func (o *lsOpts) list(key string) []string {
	o.used[key] = true
	v, ok := o.pl.attrs[key]
	if !ok {
		return nil
	}
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, x := range t {
			s, ok := x.(string)
			if !ok {
				o.fail(key, "expected a list of strings")
				return nil
			}
			out = append(out, s)
		}
		return out
	}
	o.fail(key, "expected a string or a list of strings")
	return nil
}

func (o *lsOpts) done() error {
	if o.err != nil {
		return o.err
	}
	var unknown []string
	for k := range o.pl.attrs {
		if !o.used[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	if len(unknown) > 0 {
		line := o.pl.lines[unknown[0]]
		return fmt.Errorf("%s: line %d: setting %q of %s is not supported by the stand-in", o.pl.file, line, unknown[0], o.pl.name)
	}
	return nil
}

// ---- inputs

type lsInput struct {
	kind   string // tcp, beats, gelf
	host   string
	port   int
	codec  string // tcp: json_lines or line
	remap  bool   // gelf
	strip  bool   // gelf
	closer io.Closer
	bound  string
}

func compileInput(pl *lsPlugin) (*lsInput, error) {
	o := newLSOpts(pl)
	in := &lsInput{kind: pl.name, host: o.str("host", "0.0.0.0")}
	switch pl.name {
	case "tcp":
		if !o.has("port") {
			o.fail("port", "is required")
		}
		in.port = o.port("port", 0)
		if mode := o.str("mode", "server"); mode != "server" {
			o.fail("mode", "only server mode is supported by the stand-in")
		}
		if c, ok := pl.attrs["codec"].(*lsPlugin); ok {
			o.used["codec"] = true
			o.fail("codec", "codec %q with settings is not supported by the stand-in", c.name)
		}
		in.codec = o.str("codec", "line")
		if in.codec != "json_lines" && in.codec != "line" {
			o.fail("codec", "codec %q is not supported by the stand-in (json_lines, line)", in.codec)
		}
	case "beats":
		if !o.has("port") {
			o.fail("port", "is required")
		}
		in.port = o.port("port", 0)
	case "gelf":
		in.port = o.port("port", 12201)
		if o.has("port_udp") {
			in.port = o.port("port_udp", 12201)
		}
		if !o.boolean("use_udp", true) {
			o.fail("use_udp", "the stand-in models the UDP listener only")
		}
		if o.boolean("use_tcp", false) {
			o.fail("use_tcp", "GELF over TCP is not supported by the stand-in")
		}
		in.remap = o.boolean("remap", true)
		in.strip = o.boolean("strip_leading_underscore", true)
	default:
		return nil, fmt.Errorf("%s: line %d: input plugin %q is not supported by the stand-in (tcp, beats, gelf)", pl.file, pl.line, pl.name)
	}
	return in, o.done()
}

// ---- filters

// lsFilter is a compiled filter plugin: date or json.
type lsFilter interface {
	apply(ev *lsEvent)
}

type lsStep struct {
	filter lsFilter
	output lsOutput
	branch *lsRBranch
}

type lsRBranch struct {
	conds  []func(*lsEvent) bool
	bodies [][]lsStep
}

func compileFilter(pl *lsPlugin) (lsFilter, error) {
	switch pl.name {
	case "date":
		f, err := compileDateFilter(pl)
		if err != nil {
			return nil, err
		}
		return f, nil
	case "json":
		f, err := compileJSONFilter(pl)
		if err != nil {
			return nil, err
		}
		return f, nil
	}
	return nil, fmt.Errorf("%s: line %d: filter plugin %q is not supported by the stand-in (date, json)", pl.file, pl.line, pl.name)
}

// fieldRefs reads a list of field references (remove_field). Logstash
// expands %{...} in them per event; the stand-in does not.
func (o *lsOpts) fieldRefs(key string) [][]string {
	var out [][]string
	for _, r := range o.list(key) {
		if strings.Contains(r, "%{") {
			o.fail(key, "%q: %%{...} in field names is not supported by the stand-in", r)
			continue
		}
		path, err := parseFieldRef(r)
		if err != nil {
			o.fail(key, "%v", err)
			continue
		}
		out = append(out, path)
	}
	return out
}

type lsDateFilter struct {
	field   []string
	formats []string
	target  []string
	remove  [][]string
	tagFail []string
}

func compileDateFilter(pl *lsPlugin) (*lsDateFilter, error) {
	o := newLSOpts(pl)
	f := &lsDateFilter{}
	match := o.list("match")
	if len(match) < 2 {
		o.fail("match", "expected [field, format, ...]")
	} else {
		path, err := parseFieldRef(match[0])
		if err != nil {
			o.fail("match", "%v", err)
		}
		f.field = path
		for _, fm := range match[1:] {
			if fm != "ISO8601" && fm != "UNIX" && fm != "UNIX_MS" {
				o.fail("match", "date format %q is not supported by the stand-in (ISO8601, UNIX, UNIX_MS)", fm)
			}
		}
		f.formats = match[1:]
	}
	target, err := parseFieldRef(o.str("target", "@timestamp"))
	if err != nil {
		o.fail("target", "%v", err)
	}
	f.target = target
	f.remove = o.fieldRefs("remove_field")
	f.tagFail = []string{"_dateparsefailure"}
	if o.has("tag_on_failure") {
		f.tagFail = o.list("tag_on_failure")
	}
	return f, o.done()
}

func (f *lsDateFilter) apply(ev *lsEvent) {
	v, ok := ev.get(f.field)
	if !ok || v == nil {
		return // no field: the filter does nothing
	}
	for _, s := range esFlatten(v) {
		str, _ := esScalarString(s)
		for _, fm := range f.formats {
			var t time.Time
			parsed := false
			switch fm {
			case "ISO8601":
				t, parsed = parseISO8601(str)
			case "UNIX":
				t, parsed = parseEpoch(str, 0)
			case "UNIX_MS":
				t, parsed = parseEpoch(str, 3)
			}
			if parsed {
				if len(f.target) == 1 && f.target[0] == "@timestamp" {
					ev.ts = t
				} else {
					ev.set(f.target, t.Format("2006-01-02T15:04:05.000Z"))
				}
				for _, r := range f.remove {
					ev.remove(r)
				}
				return
			}
		}
	}
	for _, t := range f.tagFail {
		ev.addTag(t)
	}
}

// parseEpoch parses decimal seconds (shift 0) or milliseconds (shift 3)
// since the epoch exactly, without float rounding.
func parseEpoch(s string, shift int) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "eE"); i >= 0 { // 1.7e9, as JSON numbers may be written
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return time.Time{}, false
		}
		s = strconv.FormatFloat(f, 'f', -1, 64)
	}
	neg := strings.HasPrefix(s, "-")
	whole, frac, _ := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	if whole == "" || strings.Trim(whole, "0123456789") != "" || strings.Trim(frac, "0123456789") != "" {
		return time.Time{}, false
	}
	pad := 9 - shift // fraction digits in nanoseconds
	n, err := strconv.ParseInt(whole+(frac + strings.Repeat("0", pad))[:pad], 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	if neg {
		n = -n
	}
	return time.Unix(0, n).UTC(), true
}

// lsJSONFilter is the json filter (logstash-filter-json 3.2): it parses the
// source field's JSON text into the event's root, or into target. Without
// target, an object's keys become fields (a key is a field reference, so
// "[a][b]" sets a nested field); a parsed "@timestamp" becomes the event's
// time. The source field itself stays unless remove_field names it.
// remove_field applies only after a successful parse (filter_matched).
type lsJSONFilter struct {
	where   string // file:line, for the log
	source  []string
	target  []string // nil: the event's root
	skip    bool     // skip_on_invalid_json
	tagFail []string
	remove  [][]string
}

func compileJSONFilter(pl *lsPlugin) (*lsJSONFilter, error) {
	o := newLSOpts(pl)
	f := &lsJSONFilter{where: fmt.Sprintf("%s:%d", pl.file, pl.line)}
	if !o.has("source") {
		o.fail("source", "is required")
	}
	src, err := parseFieldRef(o.str("source", "message"))
	if err != nil {
		o.fail("source", "%v", err)
	}
	f.source = src
	if o.has("target") {
		target, err := parseFieldRef(o.str("target", ""))
		switch {
		case err != nil:
			o.fail("target", "%v", err)
		case len(target) == 1 && target[0] == "@timestamp":
			o.fail("target", "parsing into @timestamp is not supported by the stand-in")
		}
		f.target = target
	}
	f.skip = o.boolean("skip_on_invalid_json", false)
	f.tagFail = []string{"_jsonparsefailure"}
	if o.has("tag_on_failure") {
		f.tagFail = o.list("tag_on_failure")
	}
	f.remove = o.fieldRefs("remove_field")
	if err := o.done(); err != nil {
		return nil, err
	}
	if f.target == nil {
		// Logstash 8+ runs with ECS compatibility v8 and says so at register.
		logger.Printf("logstash: json filter (%s): ECS compatibility is enabled but `target` option was not specified; "+
			"fields are set at the top level of the event, where they may clash with the Elastic Common Schema", f.where)
	}
	return f, nil
}

func (f *lsJSONFilter) fail(ev *lsEvent) {
	for _, t := range f.tagFail {
		ev.addTag(t)
	}
}

func (f *lsJSONFilter) apply(ev *lsEvent) {
	v, ok := ev.get(f.source)
	if !ok || v == nil || v == false {
		return // `return unless source`: no field, null or false
	}
	var parsed any
	text, isText := v.(string)
	if !isText || decodeJSON([]byte(text), &parsed) != nil {
		// Not a string (Logstash's parser refuses it) or not JSON.
		if !f.skip {
			logger.Printf("logstash: json filter (%s): Error parsing json: %.200q", f.where, fmt.Sprint(v))
			f.fail(ev)
		}
		return
	}
	if f.target != nil {
		ev.set(f.target, parsed) // whatever was there is overwritten
	} else {
		obj, ok := parsed.(map[string]any)
		if !ok {
			// Valid JSON but no object: a failure even with skip_on_invalid_json.
			logger.Printf("logstash: json filter (%s): Parsed JSON object/hash requires a target configuration option: %.200q", f.where, text)
			f.fail(ev)
			return
		}
		rawTS, hasTS := obj["@timestamp"]
		delete(obj, "@timestamp")
		paths := make(map[string][]string, len(obj))
		for k := range obj {
			path, err := lsKeyRef(k)
			if err != nil {
				// Logstash raises on such a key while setting fields (the keys
				// before it stay set); the stand-in sets none of them.
				logger.Printf("logstash: json filter (%s): Exception caught in json filter: %v", f.where, err)
				f.fail(ev)
				return
			}
			paths[k] = path
		}
		for k, val := range obj {
			ev.set(paths[k], val)
		}
		if hasTS {
			s, _ := rawTS.(string) // LogStash::Timestamp.coerce takes strings only
			if t, ok := parseISO8601(s); ok {
				ev.ts = t
			} else {
				ev.ts = time.Now().UTC()
				ev.addTag("_timestampparsefailure")
				str, scalar := esScalarString(rawTS)
				if !scalar {
					b, _ := json.Marshal(rawTS)
					str = string(b)
				}
				ev.fields["_@timestamp"] = str
			}
		}
	}
	for _, r := range f.remove {
		ev.remove(r)
	}
}

// lsKeyRef reads a parsed JSON key as Logstash's event.set does: a name
// without brackets is a top-level field, "[a][b]" a nested one; anything
// else with brackets is an invalid field reference.
func lsKeyRef(k string) ([]string, error) {
	if !strings.ContainsAny(k, "[]") {
		return []string{k}, nil
	}
	bad := fmt.Errorf("Invalid FieldReference: `%s`", k)
	var path []string
	for rest := k; rest != ""; {
		if rest[0] != '[' {
			return nil, bad
		}
		end := strings.IndexByte(rest, ']')
		if end <= 1 || strings.ContainsAny(rest[1:end], "[") {
			return nil, bad
		}
		path = append(path, rest[1:end])
		rest = rest[end+1:]
	}
	if len(path) == 1 && path[0] == "@timestamp" {
		return nil, fmt.Errorf("%s: @timestamp can only be set to a timestamp", k)
	}
	return path, nil
}

// ---- outputs

type lsOutput interface {
	write(ctx context.Context, evs []*lsEvent)
	ping(ctx context.Context) (bool, string)
}

type lsStdout struct{ codec string }

func (s *lsStdout) write(_ context.Context, evs []*lsEvent) {
	for _, ev := range evs {
		b, _ := json.Marshal(ev.document())
		fmt.Fprintln(os.Stdout, string(b))
	}
}

func (s *lsStdout) ping(context.Context) (bool, string) { return true, "" }

type lsESOutput struct {
	hosts    []string
	user     string
	password string
	index    lsTemplate
	indexRaw string
	client   *http.Client
	next     int
}

func compileOutput(pl *lsPlugin) (lsOutput, error) {
	o := newLSOpts(pl)
	switch pl.name {
	case "stdout":
		if c, ok := pl.attrs["codec"].(*lsPlugin); ok {
			o.used["codec"] = true
			o.fail("codec", "codec %q with settings is not supported by the stand-in", c.name)
		}
		c := o.str("codec", "rubydebug")
		switch c {
		case "rubydebug", "json_lines", "json", "line", "dots":
		default:
			o.fail("codec", "codec %q is not supported by the stand-in", c)
		}
		return &lsStdout{codec: c}, o.done()
	case "elasticsearch":
		out := &lsESOutput{client: &http.Client{Timeout: 30 * time.Second}}
		hosts := o.list("hosts")
		if !o.has("hosts") {
			hosts = []string{"http://localhost:9200"}
		}
		for _, h := range hosts {
			u, err := lsNormalizeHost(h)
			if err != nil {
				o.fail("hosts", "%v", err)
			}
			out.hosts = append(out.hosts, u)
		}
		out.user = o.str("user", "")
		out.password = o.str("password", "")
		if !o.has("index") {
			o.fail("index", "is required by the stand-in (without it Logstash writes to the data stream logs-generic-default, which is not modelled)")
		}
		out.indexRaw = o.str("index", "")
		tpl, err := parseTemplate(out.indexRaw)
		if err != nil {
			o.fail("index", "%v", err)
		}
		out.index = tpl
		return out, o.done()
	}
	return nil, fmt.Errorf("%s: line %d: output plugin %q is not supported by the stand-in (elasticsearch, stdout)", pl.file, pl.line, pl.name)
}

// lsNormalizeHost: "host", "host:port" or a URL → scheme://host:port[/path].
func lsNormalizeHost(h string) (string, error) {
	if !strings.Contains(h, "://") {
		h = "http://" + h
	}
	u, err := url.Parse(h)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("invalid host %q", h)
	}
	if u.Port() == "" {
		u.Host = net.JoinHostPort(u.Hostname(), "9200")
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// ping is the output's health check: GET / with its credentials, as the
// real output's connection pool does (it needs the monitor privilege).
func (o *lsESOutput) ping(ctx context.Context) (bool, string) {
	var reasons []string
	for _, h := range o.hosts {
		status, body, err := basicAuthGet(ctx, &http.Client{Timeout: 3 * time.Second}, h+"/", o.user, o.password)
		switch {
		case err != nil:
			reasons = append(reasons, fmt.Sprintf("%s: %v", h, err))
		case status == 200:
			return true, ""
		default:
			reasons = append(reasons, fmt.Sprintf("%s: %s", h, esErrorReason(status, body)))
		}
	}
	return false, fmt.Sprintf("elasticsearch output cannot reach Elasticsearch as [%s]: %s", o.user, strings.Join(reasons, "; "))
}

type lsAction struct {
	index string
	doc   []byte
}

// write indexes the events with _bulk, retrying what Elasticsearch refuses
// as the real output does: the whole request on a connection or HTTP error,
// single actions unless they fail with 400, 404 (dropped) or 409 (dropped),
// with a backoff that doubles up to 64 s. It blocks the pipeline meanwhile.
func (o *lsESOutput) write(ctx context.Context, evs []*lsEvent) {
	pending := make([]lsAction, 0, len(evs))
	for _, ev := range evs {
		doc, err := json.Marshal(ev.document())
		if err != nil {
			logger.Printf("logstash: elasticsearch output: event not serializable: %v", err)
			continue
		}
		pending = append(pending, lsAction{index: o.index.render(ev), doc: doc})
	}
	backoff := 2 * time.Second
	for len(pending) > 0 {
		retry, err := o.bulk(ctx, pending)
		if err != nil {
			logger.Printf("logstash: elasticsearch output: %v; retrying in %s", err, backoff)
			retry = pending
		}
		pending = retry
		if len(pending) == 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 64*time.Second)
	}
}

func (o *lsESOutput) bulk(ctx context.Context, actions []lsAction) ([]lsAction, error) {
	var raw bytes.Buffer
	for _, a := range actions {
		meta, _ := json.Marshal(obj{"index": obj{"_index": a.index}})
		raw.Write(meta)
		raw.WriteByte('\n')
		raw.Write(a.doc)
		raw.WriteByte('\n')
	}
	var body bytes.Buffer // the output compresses requests (compression_level 1)
	gz, _ := gzip.NewWriterLevel(&body, 1)
	gz.Write(raw.Bytes())
	gz.Close()
	host := o.hosts[o.next%len(o.hosts)]
	o.next++
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, host+"/_bulk", &body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	if o.user != "" || o.password != "" {
		req.SetBasicAuth(o.user, o.password)
	}
	resp, err := o.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("bulk request to %s: %w", host, err)
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("bulk request to %s: %w", host, err)
	}
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("bulk request to %s as [%s]: %s", host, o.user, esErrorReason(resp.StatusCode, rb))
	}
	var result struct {
		Items []map[string]struct {
			Status int             `json:"status"`
			Error  json.RawMessage `json:"error"`
		} `json:"items"`
	}
	if err := json.Unmarshal(rb, &result); err != nil || len(result.Items) != len(actions) {
		return nil, fmt.Errorf("bulk request to %s: unexpected response", host)
	}
	var retry []lsAction
	for i, item := range result.Items {
		for _, r := range item {
			switch {
			case r.Status >= 200 && r.Status < 300:
			case r.Status == 409:
				logger.Printf("logstash: elasticsearch output: Failed action (status 409, dropped): %s", r.Error)
			case r.Status == 400 || r.Status == 404:
				logger.Printf("logstash: elasticsearch output: Could not index event to Elasticsearch (status %d, dropped): %s", r.Status, r.Error)
			default:
				logger.Printf("logstash: elasticsearch output: Retrying failed action (status %d, index %s): %s", r.Status, actions[i].index, r.Error)
				retry = append(retry, actions[i])
			}
		}
	}
	return retry, nil
}

// ---- the pipeline

type logstashServer struct {
	listen  string
	inputs  []*lsInput
	filters []lsStep
	outputs []lsStep
	esOuts  []lsOutput
	events  chan *lsEvent
	health  *healthCache

	in, filtered, out atomic.Int64
}

func newLogstash(env envFunc) (*logstashServer, error) {
	listen, err := portAddr(env, "API_HTTP_PORT", 9600)
	if err != nil {
		return nil, err
	}
	files, err := lsConfigFiles(envOr(env, "PATH_CONFIG", "/usr/share/logstash/pipeline"))
	if err != nil {
		return nil, err
	}
	l := &logstashServer{listen: listen, events: make(chan *lsEvent, 1000)}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		sections, err := parseLogstashConfig(string(src), f, env)
		if err != nil {
			return nil, err
		}
		for _, n := range sections["input"] {
			in, err := compileInput(n.plugin)
			if err != nil {
				return nil, err
			}
			l.inputs = append(l.inputs, in)
		}
		steps, err := l.compileSteps(sections["filter"], "filter")
		if err != nil {
			return nil, err
		}
		l.filters = append(l.filters, steps...)
		if steps, err = l.compileSteps(sections["output"], "output"); err != nil {
			return nil, err
		}
		l.outputs = append(l.outputs, steps...)
	}
	if len(l.inputs) == 0 {
		return nil, fmt.Errorf("no input in the pipeline (%s)", strings.Join(files, ", "))
	}
	l.health = &healthCache{ttl: time.Second, check: l.check, onFlip: func(ok bool, reason string) {
		if ok {
			logger.Printf("logstash: pipeline healthy: every elasticsearch output can log in")
		} else {
			logger.Printf("logstash: pipeline unhealthy: %s", reason)
		}
	}}
	return l, nil
}

// lsConfigFiles: path.config is a file, a directory (its files, sorted) or a glob.
func lsConfigFiles(path string) ([]string, error) {
	st, err := os.Stat(path)
	var files []string
	switch {
	case err == nil && st.IsDir():
		files, _ = filepath.Glob(filepath.Join(path, "*"))
	case err == nil:
		files = []string{path}
	default:
		files, _ = filepath.Glob(path)
	}
	var regular []string
	for _, f := range files {
		if st, err := os.Stat(f); err == nil && st.Mode().IsRegular() {
			regular = append(regular, f)
		}
	}
	sort.Strings(regular)
	if len(regular) == 0 {
		return nil, fmt.Errorf("No configuration found in the configured sources (path.config %s)", path)
	}
	return regular, nil
}

func (l *logstashServer) compileSteps(nodes []lsNode, section string) ([]lsStep, error) {
	var steps []lsStep
	for _, n := range nodes {
		switch {
		case n.branch != nil:
			rb := &lsRBranch{conds: n.branch.conds}
			for _, body := range n.branch.bodies {
				s, err := l.compileSteps(body, section)
				if err != nil {
					return nil, err
				}
				rb.bodies = append(rb.bodies, s)
			}
			steps = append(steps, lsStep{branch: rb})
		case section == "filter":
			f, err := compileFilter(n.plugin)
			if err != nil {
				return nil, err
			}
			steps = append(steps, lsStep{filter: f})
		default:
			o, err := compileOutput(n.plugin)
			if err != nil {
				return nil, err
			}
			steps = append(steps, lsStep{output: o})
			l.esOuts = append(l.esOuts, o)
		}
	}
	return steps, nil
}

func (l *logstashServer) addr() string { return l.listen }

// inputAddr is where the first input of a kind listens ("tcp", "gelf", "beats").
func (l *logstashServer) inputAddr(kind string) string {
	for _, in := range l.inputs {
		if in.kind == kind {
			return in.bound
		}
	}
	return ""
}

func (l *logstashServer) start(ctx context.Context) error {
	for _, in := range l.inputs {
		addr := net.JoinHostPort(in.host, strconv.Itoa(in.port))
		switch in.kind {
		case "tcp", "beats":
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("%s input: %w", in.kind, err)
			}
			in.closer, in.bound = ln, ln.Addr().String()
			go l.acceptTCP(ctx, in, ln)
		case "gelf":
			pc, err := net.ListenPacket("udp", addr)
			if err != nil {
				return fmt.Errorf("gelf input: %w", err)
			}
			in.closer, in.bound = pc, pc.LocalAddr().String()
			go l.readGELF(ctx, in, pc)
		}
		context.AfterFunc(ctx, func() { in.closer.Close() })
		logger.Printf("logstash: %s input listening on %s", in.kind, in.bound)
	}
	go l.worker(ctx)
	go func() {
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			l.health.get(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return nil
}

func (l *logstashServer) push(ctx context.Context, evs ...*lsEvent) bool {
	for _, ev := range evs {
		select {
		case l.events <- ev: // blocks when the queue is full: back-pressure, as upstream
			l.in.Add(1)
		case <-ctx.Done():
			return false
		}
	}
	return true
}

func (l *logstashServer) acceptTCP(ctx context.Context, in *lsInput, ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				logger.Printf("logstash: %s input: %v", in.kind, err)
			}
			return
		}
		go func() {
			defer c.Close()
			stop := context.AfterFunc(ctx, func() { c.Close() })
			defer stop()
			if in.kind == "beats" {
				logger.Printf("logstash: beats input: connection from %s: the stand-in does not decode the Beats protocol; data discarded", c.RemoteAddr())
				_, _ = io.Copy(io.Discard, c)
				return
			}
			rd := bufio.NewReaderSize(c, 64<<10)
			for {
				line, err := rd.ReadBytes('\n')
				if len(line) > 0 && (err == nil || err == io.EOF) {
					line = bytes.TrimRight(line, "\r\n")
					var evs []*lsEvent
					switch {
					case len(bytes.TrimSpace(line)) == 0:
					case in.codec == "json_lines":
						evs = lsEventsFromJSON(line)
					default:
						evs = []*lsEvent{newLSEvent(map[string]any{"message": string(line)})}
					}
					if !l.push(ctx, evs...) {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
	}
}

// ---- GELF over UDP (https://go2docs.graylog.org/current/getting_in_log_data/gelf.html)

const (
	gelfMaxChunks  = 128
	gelfChunkTTL   = 5 * time.Second
	gelfMaxPending = 1000
	gelfMaxMessage = 8 << 20
)

type gelfPending struct {
	parts [][]byte
	got   int
	first time.Time
}

// gelfAssembler reassembles chunked GELF messages (one reader goroutine).
type gelfAssembler struct{ pending map[string]*gelfPending }

// add takes one datagram and returns a complete (possibly compressed)
// message, or nil while chunks are missing.
func (a *gelfAssembler) add(pkt []byte, now time.Time) ([]byte, error) {
	if len(pkt) < 2 || pkt[0] != 0x1e || pkt[1] != 0x0f {
		return pkt, nil
	}
	if len(pkt) < 12 {
		return nil, errors.New("chunk shorter than its 12-byte header")
	}
	id, seq, count := string(pkt[2:10]), int(pkt[10]), int(pkt[11])
	if count < 1 || count > gelfMaxChunks || seq >= count {
		return nil, fmt.Errorf("chunk %d of %d: invalid sequence (at most %d chunks)", seq, count, gelfMaxChunks)
	}
	for k, p := range a.pending {
		if now.Sub(p.first) > gelfChunkTTL {
			delete(a.pending, k) // incomplete after 5 s: discarded, as the spec says
		}
	}
	p := a.pending[id]
	if p == nil {
		if len(a.pending) >= gelfMaxPending {
			return nil, errors.New("too many incomplete chunked messages")
		}
		p = &gelfPending{parts: make([][]byte, count), first: now}
		a.pending[id] = p
	}
	if len(p.parts) != count {
		return nil, errors.New("chunks of one message disagree on their count")
	}
	if p.parts[seq] == nil {
		p.parts[seq] = append([]byte(nil), pkt[12:]...)
		p.got++
	}
	if p.got < count {
		return nil, nil
	}
	delete(a.pending, id)
	return bytes.Join(p.parts, nil), nil
}

// gelfDecompress undoes GZIP or ZLIB compression, recognized by magic bytes.
func gelfDecompress(b []byte) ([]byte, error) {
	var rd io.ReadCloser
	var err error
	switch {
	case len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b:
		rd, err = gzip.NewReader(bytes.NewReader(b))
	case len(b) >= 2 && b[0] == 0x78 && (int(b[0])<<8|int(b[1]))%31 == 0:
		rd, err = zlib.NewReader(bytes.NewReader(b))
	default:
		return b, nil
	}
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	out, err := io.ReadAll(io.LimitReader(rd, gelfMaxMessage+1))
	if err != nil {
		return nil, err
	}
	if len(out) > gelfMaxMessage {
		return nil, errors.New("decompressed message too large")
	}
	return out, nil
}

// gelfEvent turns a GELF message into an event as the gelf input does:
// source_host is the sender, a numeric timestamp becomes @timestamp,
// full_message or short_message becomes message (remap), _field → field.
func gelfEvent(msg []byte, from string, remap, strip bool) *lsEvent {
	var fields map[string]any
	if err := decodeJSON(msg, &fields); err != nil || fields == nil {
		ev := newLSEvent(map[string]any{"message": string(msg)})
		ev.addTag("_jsonparsefailure")
		ev.fields["source_host"] = from
		return ev
	}
	var ts *time.Time
	if n, ok := fields["timestamp"].(json.Number); ok {
		if f, err := n.Float64(); err == nil {
			sec, frac := math.Modf(f)
			t := time.Unix(int64(sec), int64(math.Round(frac*1e6))*1e3).UTC()
			ts = &t
			delete(fields, "timestamp")
		}
	}
	ev := newLSEvent(fields)
	if ts != nil {
		ev.ts = *ts
	}
	ev.fields["source_host"] = from
	if remap {
		full, _ := ev.fields["full_message"].(string)
		short, _ := ev.fields["short_message"].(string)
		switch {
		case full != "":
			ev.fields["message"] = full
			delete(ev.fields, "full_message")
			if short == full {
				delete(ev.fields, "short_message")
			}
		case short != "":
			ev.fields["message"] = short
			delete(ev.fields, "short_message")
		}
	}
	if strip {
		for k, v := range ev.fields {
			if strings.HasPrefix(k, "_") && k != "_@timestamp" {
				delete(ev.fields, k)
				ev.fields[k[1:]] = v
			}
		}
	}
	return ev
}

func (l *logstashServer) readGELF(ctx context.Context, in *lsInput, pc net.PacketConn) {
	asm := &gelfAssembler{pending: map[string]*gelfPending{}}
	buf := make([]byte, 65536)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				logger.Printf("logstash: gelf input: %v", err)
			}
			return
		}
		msg, err := asm.add(buf[:n], time.Now())
		if err == nil && msg != nil {
			msg, err = gelfDecompress(msg)
		}
		if err != nil {
			logger.Printf("logstash: gelf input: message from %s skipped: %v", from, err)
			continue
		}
		if msg == nil {
			continue
		}
		host := from.String()
		if ua, ok := from.(*net.UDPAddr); ok {
			host = ua.IP.String()
		}
		if !l.push(ctx, gelfEvent(msg, host, in.remap, in.strip)) {
			return
		}
	}
}

// worker takes batches (125 events or 50 ms, the pipeline defaults), runs the filters and outputs.
func (l *logstashServer) worker(ctx context.Context) {
	batch := make([]*lsEvent, 0, 125)
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-l.events:
			batch = append(batch, ev)
		}
		timer := time.NewTimer(50 * time.Millisecond)
	fill:
		for len(batch) < 125 {
			select {
			case ev := <-l.events:
				batch = append(batch, ev)
			case <-timer.C:
				break fill
			case <-ctx.Done():
				timer.Stop()
				return
			}
		}
		timer.Stop()
		l.process(ctx, batch)
		batch = batch[:0]
	}
}

func (l *logstashServer) process(ctx context.Context, batch []*lsEvent) {
	for _, ev := range batch {
		runFilters(l.filters, ev)
	}
	l.filtered.Add(int64(len(batch)))
	var order []lsOutput
	routed := map[lsOutput][]*lsEvent{}
	for _, ev := range batch {
		routeOutputs(l.outputs, ev, func(o lsOutput) {
			if _, seen := routed[o]; !seen {
				order = append(order, o)
			}
			routed[o] = append(routed[o], ev)
		})
	}
	for _, o := range order {
		o.write(ctx, routed[o])
	}
	l.out.Add(int64(len(batch)))
}

func pickBranch(b *lsRBranch, ev *lsEvent) []lsStep {
	for i, c := range b.conds {
		if c(ev) {
			return b.bodies[i]
		}
	}
	if len(b.bodies) > len(b.conds) {
		return b.bodies[len(b.conds)]
	}
	return nil
}

func runFilters(steps []lsStep, ev *lsEvent) {
	for _, s := range steps {
		if s.branch != nil {
			runFilters(pickBranch(s.branch, ev), ev)
		} else if s.filter != nil {
			s.filter.apply(ev)
		}
	}
}

func routeOutputs(steps []lsStep, ev *lsEvent, to func(lsOutput)) {
	for _, s := range steps {
		if s.branch != nil {
			routeOutputs(pickBranch(s.branch, ev), ev, to)
		} else if s.output != nil {
			to(s.output)
		}
	}
}

// check: healthy while every elasticsearch output can log in.
func (l *logstashServer) check(ctx context.Context) (bool, string) {
	for _, o := range l.esOuts {
		if ok, reason := o.ping(ctx); !ok {
			return false, reason
		}
	}
	return true, ""
}

func (l *logstashServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := cleanPath(r)
	if p != "/" && p != "/_node/stats" {
		writeJSON(w, 404, obj{"path": r.URL.Path, "status": 404, "error": obj{"message": "Not Found"}})
		return
	}
	ok, reason := l.health.get(r.Context())
	status, color := 200, "green"
	if !ok {
		status, color = 503, "red"
	}
	body := obj{"host": hostname(), "version": "standin", "http_address": "0.0.0.0" + l.listen, "id": "standin",
		"name": hostname(), "status": color, "snapshot": false,
		"pipeline": obj{"workers": 1, "batch_size": 125, "batch_delay": 50}}
	if !ok {
		body["standin_reason"] = reason
	}
	if p == "/_node/stats" {
		body["pipelines"] = obj{"main": obj{"events": obj{"in": l.in.Load(), "filtered": l.filtered.Load(), "out": l.out.Load()}}}
	}
	writeJSON(w, status, body)
}

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

// readProvisioningFile parses one YAML file and expands $__env{VAR},
// $__file{path}, ${VAR} and $VAR in its values ($$ is a literal $), as
// Grafana does after parsing.
func readProvisioningFile(file string, env envFunc) (map[string]any, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	v, err := parseYAML(string(b))
	if err != nil {
		return nil, err
	}
	if v == nil {
		return map[string]any{}, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("the file is not a YAML mapping")
	}
	out, err := gfExpandValues(m, env)
	if err != nil {
		return nil, err
	}
	return out.(map[string]any), nil
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
	status, body, err := basicAuthGet(r.Context(), g.client, target, user, password)
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

// ---------------------------------------------------------------------------
// YAML: the subset provisioning files use (no third-party parser: standard
// library only). Block mappings and sequences, plain and quoted scalars,
// one-line flow collections, | and > block scalars, comments. Anchors,
// aliases, tags, multi-line plain or flow values and several documents are
// refused with the line they are on.

type yamlLine struct {
	n      int    // 1-based line number
	indent int    // leading spaces
	text   string // without indentation, trailing spaces kept for block scalars
}

type yamlParser struct {
	lines []yamlLine
	i     int
}

func parseYAML(src string) (any, error) {
	var lines []yamlLine
	started, ended := false, false
	for i, raw := range strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n") {
		n := i + 1
		trimmed := strings.TrimLeft(raw, " ")
		indent := len(raw) - len(trimmed)
		if strings.HasPrefix(trimmed, "\t") && strings.TrimSpace(trimmed) != "" {
			return nil, fmt.Errorf("yaml: line %d: found a tab character where an indentation space is expected", n)
		}
		content := strings.TrimSpace(yamlStripComment(trimmed))
		if indent == 0 {
			switch {
			case strings.HasPrefix(raw, "%"):
				return nil, fmt.Errorf("yaml: line %d: directives are not supported by the stand-in", n)
			case content == "---" || strings.HasPrefix(raw, "--- "):
				if started || strings.TrimSpace(strings.TrimPrefix(content, "---")) != "" {
					return nil, fmt.Errorf("yaml: line %d: several documents, or content after ---, are not supported by the stand-in", n)
				}
				started = true
				continue
			case content == "...":
				ended = true
				continue
			}
		}
		if ended && content != "" {
			return nil, fmt.Errorf("yaml: line %d: content after the end of the document", n)
		}
		if content != "" {
			started = true
		}
		lines = append(lines, yamlLine{n: n, indent: indent, text: strings.TrimRight(trimmed, " \t")})
	}
	p := &yamlParser{lines: lines}
	p.skipBlank()
	if p.i >= len(p.lines) {
		return nil, nil
	}
	v, err := p.node(p.lines[p.i].indent)
	if err != nil {
		return nil, err
	}
	p.skipBlank()
	if p.i < len(p.lines) {
		return nil, fmt.Errorf("yaml: line %d: unexpected content (wrong indentation?)", p.lines[p.i].n)
	}
	return v, nil
}

// yamlStripComment cuts a # comment (at the start or after a space, outside quotes).
func yamlStripComment(s string) string {
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				if quote == '\'' && i+1 < len(s) && s[i+1] == '\'' {
					i++
				} else {
					quote = 0
				}
			} else if c == '\\' && quote == '"' {
				i++
			}
		case c == '"' || c == '\'':
			if i == 0 || strings.ContainsRune(" \t[{,:-", rune(s[i-1])) {
				quote = c
			}
		case c == '#' && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t'):
			return s[:i]
		}
	}
	return s
}

func (p *yamlParser) skipBlank() {
	for p.i < len(p.lines) && strings.TrimSpace(yamlStripComment(p.lines[p.i].text)) == "" {
		p.i++
	}
}

func (p *yamlParser) errf(l yamlLine, f string, a ...any) error {
	return fmt.Errorf("yaml: line %d: %s", l.n, fmt.Sprintf(f, a...))
}

func isSeqItem(text string) bool { return text == "-" || strings.HasPrefix(text, "- ") }

// node parses the block value starting at the current line, at indent.
func (p *yamlParser) node(indent int) (any, error) {
	p.skipBlank()
	l := p.lines[p.i]
	if isSeqItem(strings.TrimSpace(yamlStripComment(l.text))) {
		return p.sequence(indent)
	}
	if _, _, ok, err := yamlSplitKey(strings.TrimSpace(yamlStripComment(l.text))); err != nil {
		return nil, p.errf(l, "%v", err)
	} else if ok {
		return p.mapping(indent)
	}
	// A lone scalar (or flow collection) as the whole value.
	p.i++
	v, err := p.inlineValue(l, strings.TrimSpace(yamlStripComment(l.text)), indent-1)
	if err != nil {
		return nil, err
	}
	if err := p.noDeeper(indent - 1); err != nil {
		return nil, err
	}
	return v, nil
}

// noDeeper fails when the next line is indented deeper than indent (a
// continuation line the stand-in does not model).
func (p *yamlParser) noDeeper(indent int) error {
	p.skipBlank()
	if p.i < len(p.lines) && p.lines[p.i].indent > indent {
		return p.errf(p.lines[p.i], "unexpected indentation (multi-line plain scalars are not supported by the stand-in)")
	}
	return nil
}

func (p *yamlParser) sequence(indent int) ([]any, error) {
	list := []any{}
	for {
		p.skipBlank()
		if p.i >= len(p.lines) {
			return list, nil
		}
		l := p.lines[p.i]
		text := strings.TrimSpace(yamlStripComment(l.text))
		if l.indent < indent || !isSeqItem(text) {
			if l.indent > indent {
				return nil, p.errf(l, "unexpected indentation")
			}
			return list, nil
		}
		if l.indent > indent {
			return nil, p.errf(l, "unexpected indentation")
		}
		rest := strings.TrimLeft(l.text[1:], " ")
		if strings.TrimSpace(yamlStripComment(rest)) == "" {
			p.i++
			p.skipBlank()
			if p.i < len(p.lines) && p.lines[p.i].indent > indent {
				v, err := p.node(p.lines[p.i].indent)
				if err != nil {
					return nil, err
				}
				list = append(list, v)
			} else {
				list = append(list, nil)
			}
			continue
		}
		// "- value" or "- key: value": the rest is a node at its own column.
		col := indent + (len(l.text) - len(rest))
		p.lines[p.i] = yamlLine{n: l.n, indent: col, text: rest}
		v, err := p.node(col)
		if err != nil {
			return nil, err
		}
		list = append(list, v)
	}
}

func (p *yamlParser) mapping(indent int) (map[string]any, error) {
	m := map[string]any{}
	seen := map[string]int{}
	for {
		p.skipBlank()
		if p.i >= len(p.lines) {
			return m, nil
		}
		l := p.lines[p.i]
		if l.indent < indent {
			return m, nil
		}
		if l.indent > indent {
			return nil, p.errf(l, "unexpected indentation")
		}
		text := strings.TrimSpace(yamlStripComment(l.text))
		if isSeqItem(text) {
			return m, nil
		}
		key, rest, ok, err := yamlSplitKey(text)
		if err != nil {
			return nil, p.errf(l, "%v", err)
		}
		if !ok {
			return nil, p.errf(l, "expected \"key: value\", found %q", text)
		}
		if first, dup := seen[key]; dup {
			return nil, p.errf(l, "mapping key %q already defined at line %d", key, first)
		}
		seen[key] = l.n
		p.i++
		if rest == "" {
			p.skipBlank()
			switch {
			case p.i < len(p.lines) && p.lines[p.i].indent > indent:
				v, err := p.node(p.lines[p.i].indent)
				if err != nil {
					return nil, err
				}
				m[key] = v
			case p.i < len(p.lines) && p.lines[p.i].indent == indent && isSeqItem(strings.TrimSpace(yamlStripComment(p.lines[p.i].text))):
				v, err := p.sequence(indent)
				if err != nil {
					return nil, err
				}
				m[key] = v
			default:
				m[key] = nil
			}
			continue
		}
		v, err := p.inlineValue(l, rest, indent)
		if err != nil {
			return nil, err
		}
		m[key] = v
		if err := p.noDeeper(indent); err != nil {
			return nil, err
		}
	}
}

// yamlSplitKey splits "key: rest" (rest may be empty); ok is false for a
// line that is not a mapping entry.
func yamlSplitKey(text string) (key, rest string, ok bool, err error) {
	if text == "" {
		return "", "", false, nil
	}
	switch text[0] {
	case '?':
		if text == "?" || strings.HasPrefix(text, "? ") {
			return "", "", false, errors.New("complex mapping keys (?) are not supported by the stand-in")
		}
	case '&', '*', '!':
		return "", "", false, errors.New("anchors, aliases and tags are not supported by the stand-in")
	case '"', '\'':
		s, n, qerr := yamlQuoted(text)
		if qerr != nil {
			return "", "", false, qerr
		}
		after := strings.TrimLeft(text[n:], " ")
		if after == ":" || strings.HasPrefix(after, ": ") {
			return s, strings.TrimSpace(after[1:]), true, nil
		}
		return "", "", false, nil
	case '[', '{':
		return "", "", false, nil
	}
	for i := 0; i < len(text); i++ {
		if text[i] == ':' && (i+1 == len(text) || text[i+1] == ' ') {
			return strings.TrimSpace(text[:i]), strings.TrimSpace(text[i+1:]), true, nil
		}
	}
	return "", "", false, nil
}

// inlineValue parses the value after "key:" or "- " on line l.
func (p *yamlParser) inlineValue(l yamlLine, text string, parentIndent int) (any, error) {
	switch text[0] {
	case '&', '*', '!':
		return nil, p.errf(l, "anchors, aliases and tags are not supported by the stand-in")
	case '|', '>':
		return p.blockScalar(l, text, parentIndent)
	case '"', '\'':
		s, n, err := yamlQuoted(text)
		if err != nil {
			return nil, p.errf(l, "%v", err)
		}
		if strings.TrimSpace(text[n:]) != "" {
			return nil, p.errf(l, "unexpected %q after a quoted string", strings.TrimSpace(text[n:]))
		}
		return s, nil
	case '[', '{':
		v, n, err := yamlFlow(text)
		if err != nil {
			return nil, p.errf(l, "%v", err)
		}
		if strings.TrimSpace(text[n:]) != "" {
			return nil, p.errf(l, "unexpected %q after a flow collection", strings.TrimSpace(text[n:]))
		}
		return v, nil
	}
	if strings.Contains(text, ": ") {
		return nil, p.errf(l, "a mapping is not allowed in this context (%q)", text)
	}
	return yamlResolve(text), nil
}

// yamlQuoted reads a quoted scalar at the start of s; n is the bytes used.
func yamlQuoted(s string) (string, int, error) {
	q := s[0]
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case q == '\'' && c == '\'':
			if i+1 < len(s) && s[i+1] == '\'' {
				b.WriteByte('\'')
				i++
				continue
			}
			return b.String(), i + 1, nil
		case q == '"' && c == '"':
			return b.String(), i + 1, nil
		case q == '"' && c == '\\':
			if i+1 >= len(s) {
				return "", 0, errors.New("unterminated escape in a double-quoted string")
			}
			i++
			switch e := s[i]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '0':
				b.WriteByte(0)
			case '"', '\\', '/', ' ':
				b.WriteByte(e)
			case 'x', 'u', 'U':
				n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
				if i+n >= len(s) {
					return "", 0, errors.New("short escape in a double-quoted string")
				}
				r, err := strconv.ParseUint(s[i+1:i+1+n], 16, 32)
				if err != nil {
					return "", 0, fmt.Errorf("bad escape \\%c%s", e, s[i+1:i+1+n])
				}
				b.WriteRune(rune(r))
				i += n
			default:
				return "", 0, fmt.Errorf("unknown escape \\%c", e)
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, errors.New("quoted string does not end on its line (multi-line quoted scalars are not supported by the stand-in)")
}

// yamlFlow reads a one-line flow sequence or mapping at the start of s.
func yamlFlow(s string) (any, int, error) {
	open := s[0]
	closer := map[byte]byte{'[': ']', '{': '}'}[open]
	var list []any
	m := map[string]any{}
	i := 1
	skip := func() {
		for i < len(s) && s[i] == ' ' {
			i++
		}
	}
	item := func() (any, error) {
		skip()
		if i >= len(s) {
			return nil, errors.New("flow collection does not end on its line (multi-line flow collections are not supported by the stand-in)")
		}
		switch s[i] {
		case '[', '{':
			v, n, err := yamlFlow(s[i:])
			i += n
			return v, err
		case '"', '\'':
			v, n, err := yamlQuoted(s[i:])
			i += n
			return v, err
		case '&', '*', '!':
			return nil, errors.New("anchors, aliases and tags are not supported by the stand-in")
		}
		start := i
		for i < len(s) && s[i] != ',' && s[i] != closer && !(s[i] == ':' && open == '{' && (i+1 == len(s) || s[i+1] == ' ')) {
			i++
		}
		return yamlResolve(strings.TrimSpace(s[start:i])), nil
	}
	for {
		skip()
		if i >= len(s) {
			return nil, 0, errors.New("flow collection does not end on its line (multi-line flow collections are not supported by the stand-in)")
		}
		if s[i] == closer {
			i++
			if open == '[' {
				if list == nil {
					list = []any{}
				}
				return list, i, nil
			}
			return m, i, nil
		}
		v, err := item()
		if err != nil {
			return nil, 0, err
		}
		if open == '{' {
			skip()
			if i >= len(s) || s[i] != ':' {
				return nil, 0, errors.New("expected \":\" in a flow mapping")
			}
			i++
			val, err := item()
			if err != nil {
				return nil, 0, err
			}
			m[fmt.Sprint(v)] = val
		} else {
			list = append(list, v)
		}
		skip()
		if i < len(s) && s[i] == ',' {
			i++
		}
	}
}

var (
	yamlInt   = regexp.MustCompile(`^[-+]?[0-9]+$`)
	yamlFloat = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)
)

// yamlResolve types a plain scalar (YAML 1.2 core schema).
func yamlResolve(s string) any {
	switch s {
	case "", "~", "null", "Null", "NULL":
		return nil
	case "true", "True", "TRUE":
		return true
	case "false", "False", "FALSE":
		return false
	case ".inf", ".Inf", ".INF", "+.inf":
		return math.Inf(1)
	case "-.inf", "-.Inf", "-.INF":
		return math.Inf(-1)
	case ".nan", ".NaN", ".NAN":
		return math.NaN()
	}
	if yamlInt.MatchString(s) {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return json.Number(strconv.FormatInt(n, 10))
		}
	}
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0o") {
		if n, err := strconv.ParseInt(s, 0, 64); err == nil {
			return json.Number(strconv.FormatInt(n, 10))
		}
	}
	if yamlFloat.MatchString(s) {
		if _, err := strconv.ParseFloat(s, 64); err == nil {
			return json.Number(s)
		}
	}
	return s
}

// blockScalar reads a | or > scalar whose lines are indented deeper than parentIndent.
func (p *yamlParser) blockScalar(l yamlLine, header string, parentIndent int) (string, error) {
	folded := header[0] == '>'
	chomp := byte(0)
	explicit := 0
	for _, c := range header[1:] {
		switch {
		case c == '-' || c == '+':
			chomp = byte(c)
		case c >= '1' && c <= '9':
			explicit = int(c - '0')
		case c == ' ':
		default:
			return "", p.errf(l, "unsupported block scalar header %q", header)
		}
	}
	var lines []string
	blockIndent := 0
	if explicit > 0 {
		blockIndent = parentIndent + explicit
		if parentIndent < 0 {
			blockIndent = explicit
		}
	}
	for p.i < len(p.lines) {
		bl := p.lines[p.i]
		blank := strings.TrimSpace(bl.text) == ""
		if !blank {
			if bl.indent <= parentIndent {
				break
			}
			if blockIndent == 0 {
				blockIndent = bl.indent
			}
			if bl.indent < blockIndent {
				break
			}
		}
		if blank {
			lines = append(lines, "")
		} else {
			lines = append(lines, strings.Repeat(" ", bl.indent-blockIndent)+bl.text)
		}
		p.i++
	}
	// Trailing blank lines belong to chomping.
	trailing := 0
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
		trailing++
	}
	var text string
	if folded {
		var b strings.Builder
		for i, ln := range lines {
			if i > 0 {
				prev := lines[i-1]
				switch {
				case ln == "":
					b.WriteByte('\n')
				case prev == "":
				case strings.HasPrefix(ln, " ") || strings.HasPrefix(prev, " "):
					b.WriteByte('\n')
				default:
					b.WriteByte(' ')
				}
			}
			b.WriteString(ln)
		}
		text = b.String()
	} else {
		text = strings.Join(lines, "\n")
	}
	switch {
	case len(lines) == 0:
		return "", nil
	case chomp == '-':
	case chomp == '+':
		text += "\n" + strings.Repeat("\n", trailing)
	default:
		text += "\n"
	}
	return text, nil
}

// ---------------------------------------------------------------------------
// curl side: the subset used by healthchecks and setup scripts.

type curlOpts struct {
	fail, silent, showError, head, location, insecure bool
	user, method, output, writeOut, cacert, url       string
	userSet                                           bool
	headers, data                                     []string
	hasData                                           bool
	maxTime, connectTimeout                           float64
}

// curl exit codes (see curl(1) "EXIT CODES").
const (
	exitBadOption   = 2
	exitBadURL      = 3
	exitResolve     = 6
	exitConnect     = 7
	exitWrite       = 23
	exitHTTPError   = 22
	exitTimeout     = 28
	exitRecv        = 56
	exitUnsupported = 1
)

type curlError struct {
	code int
	msg  string
}

func (e *curlError) Error() string { return fmt.Sprintf("curl: (%d) %s", e.code, e.msg) }

func parseCurl(args []string) (*curlOpts, error) {
	o := &curlOpts{}
	bad := func(f string, a ...any) error { return &curlError{exitBadOption, fmt.Sprintf(f, a...)} }

	// Options taking a value, by short and long name.
	withArg := map[string]func(v string) error{
		"u": func(v string) error { o.user, o.userSet = v, true; return nil },
		"X": func(v string) error { o.method = v; return nil },
		"H": func(v string) error { o.headers = append(o.headers, v); return nil },
		"d": func(v string) error { return o.addData(v, true, true) },
		"o": func(v string) error { o.output = v; return nil },
		"w": func(v string) error { o.writeOut = v; return nil },
		"m": func(v string) (err error) {
			o.maxTime, err = strconv.ParseFloat(v, 64)
			return err
		},
		"data-raw":    func(v string) error { return o.addData(v, false, false) },
		"data-binary": func(v string) error { return o.addData(v, true, false) },
		"cacert":      func(v string) error { o.cacert = v; return nil },
		"url":         func(v string) error { o.url = v; return nil },
		"connect-timeout": func(v string) (err error) {
			o.connectTimeout, err = strconv.ParseFloat(v, 64)
			return err
		},
		"retry": func(string) error { return nil }, // accepted, not acted on
	}
	longAlias := map[string]string{"user": "u", "request": "X", "header": "H", "data": "d",
		"data-ascii": "d", "output": "o", "write-out": "w", "max-time": "m"}
	flags := map[string]*bool{"f": &o.fail, "s": &o.silent, "S": &o.showError, "I": &o.head,
		"L": &o.location, "k": &o.insecure}
	longFlags := map[string]string{"fail": "f", "silent": "s", "show-error": "S", "head": "I",
		"location": "L", "insecure": "k"}

	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func(name string) (string, error) {
			if i+1 >= len(args) {
				return "", bad("option %s: requires parameter", name)
			}
			i++
			return args[i], nil
		}
		switch {
		case strings.HasPrefix(a, "--") && len(a) > 2:
			name := a[2:]
			if short, ok := longAlias[name]; ok {
				name = short
			}
			if short, ok := longFlags[name]; ok {
				*flags[short] = true
				continue
			}
			set, ok := withArg[name]
			if !ok {
				return nil, bad("option %s: is unknown", a)
			}
			v, err := next(a)
			if err != nil {
				return nil, err
			}
			if err := set(v); err != nil {
				return nil, bad("option %s: %v", a, err)
			}
		case strings.HasPrefix(a, "-") && len(a) > 1:
			// Bundled short options: -fsS, -sSo file, -XPOST.
			for j := 1; j < len(a); j++ {
				c := string(a[j])
				if p, ok := flags[c]; ok {
					*p = true
					continue
				}
				set, ok := withArg[c]
				if !ok {
					return nil, bad("option -%s: is unknown", c)
				}
				v := a[j+1:]
				if v == "" {
					var err error
					if v, err = next("-" + c); err != nil {
						return nil, err
					}
				}
				if err := set(v); err != nil {
					return nil, bad("option -%s: %v", c, err)
				}
				break
			}
		default:
			if o.url != "" {
				return nil, bad("only one URL is supported by this curl stand-in")
			}
			o.url = a
		}
	}
	if o.url == "" {
		return nil, bad("no URL specified")
	}
	return o, nil
}

// addData implements -d/--data (reads @file, strips newlines), --data-binary
// (reads @file as is) and --data-raw (no @ handling).
func (o *curlOpts) addData(v string, at, stripNL bool) error {
	if at && strings.HasPrefix(v, "@") {
		var b []byte
		var err error
		if v == "@-" {
			b, err = io.ReadAll(os.Stdin)
		} else {
			b, err = os.ReadFile(v[1:])
		}
		if err != nil {
			return err
		}
		v = string(b)
		if stripNL {
			v = strings.NewReplacer("\r", "", "\n", "").Replace(v)
		}
	}
	o.data = append(o.data, v)
	o.hasData = true
	return nil
}

func curlMain(args []string, stdout, stderr io.Writer) int {
	o, err := parseCurl(args)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return err.(*curlError).code
	}
	start := time.Now()
	resp, body, err := curlDo(o)
	code := 0
	if resp != nil {
		code = resp.StatusCode
	}

	var cerr *curlError
	if err != nil {
		cerr = asCurlError(err)
	} else if o.fail && code >= 400 {
		cerr = &curlError{exitHTTPError, fmt.Sprintf("The requested URL returned error: %d", code)}
	}

	if cerr == nil { // with -f, an HTTP error prints no body, like curl
		if werr := curlOutput(o, stdout, resp, body); werr != nil {
			cerr = &curlError{exitWrite, werr.Error()}
		}
	}
	if o.writeOut != "" {
		io.WriteString(stdout, expandWriteOut(o, resp, code, len(body), time.Since(start)))
	}
	if cerr != nil {
		if !o.silent || o.showError {
			fmt.Fprintln(stderr, cerr)
		}
		return cerr.code
	}
	return 0
}

func curlDo(o *curlOpts) (*http.Response, []byte, error) {
	raw := o.url
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, nil, &curlError{exitBadURL, "URL using bad/illegal format or missing URL"}
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, nil, &curlError{exitUnsupported, fmt.Sprintf("Protocol %q not supported", u.Scheme)}
	}

	method := o.method
	switch {
	case method != "":
	case o.head:
		method = http.MethodHead
	case o.hasData:
		method = http.MethodPost
	default:
		method = http.MethodGet
	}

	ctx := context.Background()
	if o.maxTime > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(o.maxTime*float64(time.Second)))
		defer cancel()
	}
	var reqBody io.Reader
	if o.hasData {
		reqBody = strings.NewReader(strings.Join(o.data, "&"))
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), reqBody)
	if err != nil {
		return nil, nil, &curlError{exitBadURL, err.Error()}
	}
	req.Header.Set("User-Agent", "curl/standin")
	req.Header.Set("Accept", "*/*")
	if o.hasData {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	userSet := map[string]bool{} // a user header replaces curl's default of that name
	for _, h := range o.headers {
		name, value, found := strings.Cut(h, ":")
		name = strings.TrimSpace(name)
		value = strings.TrimSpace(value)
		switch {
		case !found && strings.HasSuffix(name, ";"): // "Name;" sends an empty header
			req.Header.Set(strings.TrimSuffix(name, ";"), "")
		case !found:
			continue
		case value == "": // "Name:" removes a default header
			req.Header.Del(name)
		case strings.EqualFold(name, "Host"):
			req.Host = value
		case !userSet[http.CanonicalHeaderKey(name)]:
			userSet[http.CanonicalHeaderKey(name)] = true
			req.Header.Set(name, value)
		default:
			req.Header.Add(name, value)
		}
	}
	if o.userSet {
		user, pass, _ := strings.Cut(o.user, ":")
		req.SetBasicAuth(user, pass)
	}

	tlsConf := &tls.Config{InsecureSkipVerify: o.insecure}
	if o.cacert != "" {
		pem, err := os.ReadFile(o.cacert)
		if err != nil {
			return nil, nil, &curlError{77, "error setting certificate file: " + o.cacert}
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pem)
		tlsConf.RootCAs = pool
	}
	dialer := &net.Dialer{}
	if o.connectTimeout > 0 {
		dialer.Timeout = time.Duration(o.connectTimeout * float64(time.Second))
	}
	client := &http.Client{
		Transport: &http.Transport{DialContext: dialer.DialContext, TLSClientConfig: tlsConf},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			if o.location {
				return nil
			}
			return http.ErrUseLastResponse // like curl without -L
		},
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp, body, &curlError{exitRecv, "Failure when receiving data from the peer: " + err.Error()}
	}
	return resp, body, nil
}

func asCurlError(err error) *curlError {
	var ce *curlError
	if errors.As(err, &ce) {
		return ce
	}
	var dnsErr *net.DNSError
	var opErr *net.OpError
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()):
		return &curlError{exitTimeout, "Operation timed out: " + err.Error()}
	case errors.As(err, &dnsErr):
		return &curlError{exitResolve, "Could not resolve host: " + dnsErr.Name}
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return &curlError{exitConnect, fmt.Sprintf("Failed to connect to %v: %v", opErr.Addr, opErr.Err)}
	default:
		return &curlError{exitRecv, err.Error()}
	}
}

// curlOutput writes the headers (-I) or the body to stdout or the -o file.
func curlOutput(o *curlOpts, stdout io.Writer, resp *http.Response, body []byte) error {
	out := stdout
	if o.output != "" && o.output != "-" {
		f, err := os.Create(o.output)
		if err != nil {
			return err
		}
		defer f.Close()
		out = f
	}
	if o.head {
		var b strings.Builder
		fmt.Fprintf(&b, "HTTP/%d.%d %s\r\n", resp.ProtoMajor, resp.ProtoMinor, resp.Status)
		keys := make([]string, 0, len(resp.Header))
		for k := range resp.Header {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			for _, v := range resp.Header[k] {
				fmt.Fprintf(&b, "%s: %s\r\n", k, v)
			}
		}
		b.WriteString("\r\n")
		_, err := io.WriteString(out, b.String())
		return err
	}
	_, err := out.Write(body)
	return err
}

func expandWriteOut(o *curlOpts, resp *http.Response, code, size int, took time.Duration) string {
	ct, effective := "", o.url
	if resp != nil {
		ct = resp.Header.Get("Content-Type")
		effective = resp.Request.URL.String()
	}
	return strings.NewReplacer(
		"%{http_code}", fmt.Sprintf("%03d", code),
		"%{response_code}", fmt.Sprintf("%03d", code),
		"%{time_total}", fmt.Sprintf("%.6f", took.Seconds()),
		"%{size_download}", strconv.Itoa(size),
		"%{content_type}", ct,
		"%{url_effective}", effective,
		`\n`, "\n", `\r`, "\r", `\t`, "\t", "%%", "%",
	).Replace(o.writeOut)
}
