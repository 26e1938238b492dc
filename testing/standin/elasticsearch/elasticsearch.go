// Package elasticsearch is the stand-in for Elasticsearch: security on (Basic
// auth, users and roles of the security API, index privileges), documents in
// the data directory, found by _search and _count. A test double: it refuses,
// naming it, what it does not model.
package elasticsearch

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"protocol-monitoring/standin/internal/shared"
)

// obj is a JSON object, as this role answers them.
type obj = shared.Obj

// TLS names the upstream settings that serve its HTTP API over TLS.
var TLS = shared.TLSSettings{Enabled: "xpack.security.http.ssl.enabled", Cert: "xpack.security.http.ssl.certificate", Key: "xpack.security.http.ssl.key"}

const esMaxBody = 100 << 20 // http.max_content_length

type esUser struct {
	Password shared.PwHash `json:"password"`
	Roles    []string      `json:"roles"`
	FullName string        `json:"full_name,omitempty"`
	Email    string        `json:"email,omitempty"`
	Metadata obj           `json:"metadata,omitempty"`
	Enabled  bool          `json:"enabled"`
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

// Server is the Elasticsearch stand-in: its HTTP API (ServeHTTP) and what runs beside it.
type Server struct {
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

// New configures it from the environment, where Elasticsearch reads its settings.
func New(env shared.Env) (*Server, error) {
	listen, err := shared.PortAddr(env, "http.port", 9200)
	if err != nil {
		return nil, err
	}
	if v := strings.ToLower(env("xpack.security.enabled")); v == "false" {
		return nil, errors.New("xpack.security.enabled=false: the stand-in models Elasticsearch with security on only")
	}
	dataDir := shared.EnvOr(env, "path.data", "/usr/share/elasticsearch/data")
	es := &Server{
		listen:      listen,
		dir:         filepath.Join(dataDir, "standin"),
		clusterName: shared.EnvOr(env, "cluster.name", "docker-cluster"),
		nodeName:    shared.EnvOr(env, "node.name", shared.Hostname()),
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

// Addr is where its HTTP API listens.
func (es *Server) Addr() string { return es.listen }

// Start: nothing runs beside its HTTP API.
func (es *Server) Start(ctx context.Context) error { return nil }

// Close closes the index files it keeps open (a test's cleanup; the image's
// process just exits).
func (es *Server) Close() {
	es.mu.Lock()
	defer es.mu.Unlock()
	for _, ix := range es.indices {
		if ix.file != nil {
			ix.file.Close()
		}
	}
}

func (es *Server) securityFile() string { return filepath.Join(es.dir, "security.json") }

// loadSecurity reads the persisted users and roles; on the first start (no
// file yet) the elastic user gets ELASTIC_PASSWORD, like the real bootstrap
// password: later values of ELASTIC_PASSWORD are ignored.
func (es *Server) loadSecurity(env shared.Env) error {
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
	bootstrap, err := shared.EnvFile(env, "ELASTIC_PASSWORD", "ELASTIC_PASSWORD_FILE")
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
		if e := es.sec.Users["elastic"]; bootstrap != "" && e != nil && !e.Password.Matches(bootstrap) {
			shared.Logger.Printf("elasticsearch: ELASTIC_PASSWORD differs from the elastic user's password in the data directory;" +
				" as upstream, the bootstrap password only applies on the first start of an empty data directory")
		}
		shared.Logger.Printf("elasticsearch: security state loaded from %s", es.securityFile())
		return nil
	case errors.Is(err, os.ErrNotExist):
		if bootstrap == "" {
			bootstrap = shared.RandomHex(10)
			shared.Logger.Printf("elasticsearch: ELASTIC_PASSWORD is not set; generated password for the elastic user: %s", bootstrap)
		}
		es.sec = esSecurityState{
			Users: map[string]*esUser{"elastic": {Password: shared.NewPwHash(bootstrap), Roles: []string{"superuser"}, Enabled: true}},
			Roles: map[string]*esRole{},
		}
		shared.Logger.Printf("elasticsearch: first start: the elastic user's password is ELASTIC_PASSWORD (bootstrap password)")
		return es.saveSecurity()
	default:
		return err
	}
}

// saveSecurity persists the security state; call with es.mu held (or before serving).
func (es *Server) saveSecurity() error {
	b, err := json.MarshalIndent(es.sec, "", " ")
	if err != nil {
		return err
	}
	return shared.WriteFileAtomic(es.securityFile(), b, 0o600)
}

func (es *Server) loadIndices() error {
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
		shared.Logger.Printf("elasticsearch: %d indices loaded from %s", len(es.indices), dir)
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
