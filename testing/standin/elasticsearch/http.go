package elasticsearch

import (
	"bytes"
	"fmt"
	"mime"
	"net/http"
	"strings"

	"protocol-monitoring/standin/internal/shared"
)

// ---- HTTP

func (es *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p, e := es.authenticate(r)
	if e != nil {
		esWriteErr(w, e)
		return
	}
	path := shared.CleanPath(r)
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

func (es *Server) root(w http.ResponseWriter, p *esPrincipal) *esErr {
	es.mu.RLock()
	ok := es.hasCluster(p, "monitor")
	es.mu.RUnlock()
	if !ok {
		return esClusterDenied(p, "monitor", "cluster:monitor/main")
	}
	shared.WriteJSON(w, 200, obj{
		"name":         es.nodeName,
		"cluster_name": es.clusterName,
		"cluster_uuid": "standin",
		// Semantic versions, as clients (the Elasticsearch exporter) parse them; 0.0.0: no release.
		"version": obj{"number": "0.0.0-standin", "build_flavor": "default", "build_type": "docker", "lucene_version": "0.0.0-standin"},
		"tagline": "You Know, for Search",
	})
	return nil
}

func (es *Server) clusterHealth(w http.ResponseWriter, r *http.Request, p *esPrincipal) *esErr {
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
	shared.WriteJSON(w, 200, obj{
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
	body, err := shared.RequestBody(r, esMaxBody)
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
	if err := shared.DecodeJSON(body, &v); err != nil || v == nil {
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
