// Package kibana is the stand-in for Kibana: it logs in to Elasticsearch with
// the credentials of its environment; /api/status is 503 "unavailable" until
// that works, and every other path needs an Elasticsearch user's login.
package kibana

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"protocol-monitoring/standin/internal/shared"
)

// obj is a JSON object, as this role answers them.
type obj = shared.Obj

// TLS names the upstream settings that serve its HTTP API over TLS.
var TLS = shared.TLSSettings{Enabled: "SERVER_SSL_ENABLED", Cert: "SERVER_SSL_CERTIFICATE", Key: "SERVER_SSL_KEY"}

// Server is the Kibana stand-in: its HTTP API (ServeHTTP) and what runs beside it.
type Server struct {
	listen   string
	name     string
	hosts    []string
	user     string
	password string
	client   *http.Client
	health   *shared.HealthCache
}

// New configures it from the environment, where Kibana reads its settings.
func New(env shared.Env) (*Server, error) {
	listen, err := shared.PortAddr(env, "SERVER_PORT", 5601)
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
	hosts, err := kibanaHosts(shared.EnvOr(env, "ELASTICSEARCH_HOSTS", "http://elasticsearch:9200"))
	if err != nil {
		return nil, err
	}
	// elasticsearch.ssl.certificateAuthorities: the CA its https hosts are checked against (else the system's roots).
	var cas []string
	if v := env("ELASTICSEARCH_SSL_CERTIFICATEAUTHORITIES"); v != "" {
		cas = []string{v}
	}
	pool, err := shared.CAPool(cas)
	if err != nil {
		return nil, fmt.Errorf("[config validation of [elasticsearch].ssl.certificateAuthorities]: %w", err)
	}
	k := &Server{
		listen:   listen,
		name:     shared.EnvOr(env, "SERVER_NAME", shared.Hostname()),
		hosts:    hosts,
		user:     user,
		password: env("ELASTICSEARCH_PASSWORD"),
		client:   shared.ClientTrusting(pool, 3*time.Second),
	}
	k.health = &shared.HealthCache{TTL: time.Second, Check: k.check, OnFlip: func(ok bool, reason string) {
		if ok {
			shared.Logger.Printf("kibana: Elasticsearch is available: logged in to %s as [%s]", strings.Join(k.hosts, ","), k.user)
		} else {
			shared.Logger.Printf("kibana: Elasticsearch is unavailable: %s", reason)
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

// Addr is where its HTTP API listens.
func (k *Server) Addr() string { return k.listen }

// Start begins what runs beside the HTTP API; it stops when ctx is done.
func (k *Server) Start(ctx context.Context) error {
	k.health.Watch(ctx, 10*time.Second)
	return nil
}

// check logs in as Kibana's user (GET /_security/_authenticate).
func (k *Server) check(ctx context.Context) (bool, string) {
	if k.user == "" && k.password == "" {
		return false, "no elasticsearch.username/password (ELASTICSEARCH_USERNAME, ELASTICSEARCH_PASSWORD) configured"
	}
	ok, reasons := shared.FirstHostAnswering(ctx, k.client, k.hosts, "/_security/_authenticate", k.user, k.password)
	if ok {
		return true, ""
	}
	return false, "Unable to authenticate to Elasticsearch as [" + k.user + "]: " + strings.Join(reasons, "; ")
}

// signedIn: a request's Basic credentials are an Elasticsearch user's, as
// Kibana (security on) checks them; everything but /api/status needs one.
func (k *Server) signedIn(r *http.Request) bool {
	user, password, ok := r.BasicAuth()
	if !ok {
		return false
	}
	for _, h := range k.hosts {
		if status, _, err := shared.BasicAuthGet(r.Context(), k.client, h+"/_security/_authenticate", user, password); err == nil && status == 200 {
			return true
		}
	}
	return false
}

func (k *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := shared.CleanPath(r)
	if p != "/api/status" && !k.signedIn(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="kibana"`)
		shared.WriteJSON(w, 401, obj{"statusCode": 401, "error": "Unauthorized", "message": "Unauthorized"})
		return
	}
	switch {
	case p == "/api/status":
		ok, reason := k.health.Get(r.Context())
		level, status := "available", 200
		esSummary := "Elasticsearch is available"
		soSummary := "SavedObjects service has completed migrations and is available"
		if !ok {
			level, status = "unavailable", 503
			esSummary = reason
			soSummary = "SavedObjects service is not available without a healthy Elasticearch connection"
		}
		summary := map[bool]string{true: "All services and plugins are available", false: "Elasticsearch is unavailable"}[ok]
		shared.WriteJSON(w, status, obj{
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
		shared.WriteJSON(w, 404, obj{"statusCode": 404, "error": "Not Found", "message": "Not Found (the Kibana stand-in models /api/status only)"})
	}
}
