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
//	               works; refuses the elastic superuser, like Kibana 8+;
//	               every other path needs an Elasticsearch user's login.
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
// TLS as upstream turns it on (internal/shared/tls.go; each role's settings
// are its package's TLS): Elasticsearch's xpack.security.http.ssl.*, Kibana's
// SERVER_SSL_*, Grafana's GF_SERVER_PROTOCOL=https serve their HTTP API over TLS
// only (plain HTTP is answered 400, as Go's server does); Kibana and Logstash's
// output check Elasticsearch against the CA they are given; the Logstash tcp
// input's ssl_* settings, with client certificates checked.
//
// Paths and ports come from the upstream settings' environment variables
// (path.data, http.port, SERVER_PORT, PATH_CONFIG, API_HTTP_PORT,
// GF_PATHS_PROVISIONING, GF_PATHS_DATA, GF_SERVER_HTTP_PORT), with the
// upstream images' defaults. Standard library only, but for gopkg.in/yaml.v3,
// which reads Grafana's provisioning files (as Grafana does).
//
// One package per role, its files by subject:
//
//	elasticsearch/  elasticsearch.go (state, data directory), auth.go (errors,
//	                users and privileges), http.go (routing), security.go (the
//	                security API), documents.go, search.go, nodes.go (node stats)
//	logstash/       parser.go (pipeline syntax), conditions.go, events.go,
//	                template.go (%{field}, Joda dates), inputs.go, filters.go,
//	                outputs.go, gelf.go (GELF over UDP), logstash.go (the pipeline
//	                and its API)
//	grafana/        grafana.go (admin user), provisioning.go (the YAML files and
//	                dashboards), references.go (datasources dashboards name),
//	                api.go
//	kibana/         kibana.go
//	curl/           curl.go (the curl clone)
//	internal/shared what several roles use: environment, logging, JSON, hashes,
//	                TLS listeners and clients, the health cache
//	internal/standintest  the tests' helpers (test servers, requests, a PKI)
//
// This file dispatches. scripts/build-local-images.sh rebuilds the images when
// a non-test .go file of this module (in any of its folders), go.mod or go.sum
// changes.
package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"protocol-monitoring/standin/curl"
	"protocol-monitoring/standin/elasticsearch"
	"protocol-monitoring/standin/grafana"
	"protocol-monitoring/standin/internal/shared"
	"protocol-monitoring/standin/kibana"
	"protocol-monitoring/standin/logstash"
)

func main() {
	args := os.Args[1:]
	if filepath.Base(os.Args[0]) == "curl" {
		os.Exit(curl.Main(args, os.Stdout, os.Stderr))
	}
	if len(args) >= 1 && args[0] == "curl" {
		os.Exit(curl.Main(args[1:], os.Stdout, os.Stderr))
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

// A roleServer is one role, configured from the environment: an HTTP handler
// plus what runs beside it (Logstash's inputs and output, Kibana's check).
type roleServer interface {
	http.Handler
	// Addr is where the HTTP API listens, e.g. ":9200".
	Addr() string
	// Start begins the background work; it stops when ctx is done.
	Start(ctx context.Context) error
}

type roleDef struct {
	upstream string
	open     func(env shared.Env) (roleServer, error)
	// The upstream settings that serve its HTTP API over TLS (none: plain HTTP only).
	tls shared.TLSSettings
}

var roles = map[string]roleDef{
	"grafana": {"grafana/grafana", func(env shared.Env) (roleServer, error) { return grafana.New(env) }, grafana.TLS},
	"elasticsearch": {"docker.elastic.co/elasticsearch/elasticsearch",
		func(env shared.Env) (roleServer, error) { return elasticsearch.New(env) }, elasticsearch.TLS},
	// Its HTTP API (:9600) stays plain; its TCP input's TLS is the pipeline's (logstash/inputs.go).
	"logstash": {"docker.elastic.co/logstash/logstash", func(env shared.Env) (roleServer, error) { return logstash.New(env) }, shared.TLSSettings{}},
	"kibana":   {"docker.elastic.co/kibana/kibana", func(env shared.Env) (roleServer, error) { return kibana.New(env) }, kibana.TLS},
}

func roleNames() []string {
	var names []string
	for n := range roles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

var logger = shared.Logger

func serve(name string, def roleDef) int {
	logger.Printf("standin %s: stand-in for %s (a test double: see testing/standin)", name, def.upstream)

	// PID 1 in a container ignores SIGTERM unless it handles it: do so, so
	// "docker stop" returns at once instead of after the kill timeout.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	srv, err := def.open(os.Getenv)
	if err != nil {
		logger.Printf("standin %s: FATAL: %v", name, err)
		return 1
	}
	hln, scheme, err := shared.Listen(srv.Addr(), def.tls, os.Getenv)
	if err != nil {
		logger.Printf("standin %s: FATAL: %v", name, err)
		return 1
	}
	if err := srv.Start(ctx); err != nil {
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
	logger.Printf("standin %s: %s listening on %s", name, scheme, srv.Addr())

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
