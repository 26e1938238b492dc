package elasticsearch

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"protocol-monitoring/standin/internal/shared"
)

// ---- documents

// write stores one document; with es.mu held. It returns the bulk item
// body (with "status") or an error.
func (es *Server) write(p *esPrincipal, index, id, opType string, source []byte) (obj, *esErr) {
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
		shared.Logger.Printf("elasticsearch: [%s] creating index (by [%s])", index, p.name)
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
		id = shared.RandomID()
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

func (es *Server) indexOne(w http.ResponseWriter, r *http.Request, p *esPrincipal, index, id, opType string) *esErr {
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
	shared.WriteJSON(w, status, item)
	return nil
}

func (es *Server) createIndex(w http.ResponseWriter, r *http.Request, p *esPrincipal, index string) *esErr {
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
	shared.Logger.Printf("elasticsearch: [%s] creating index (by [%s])", index, p.name)
	shared.WriteJSON(w, 200, obj{"acknowledged": true, "shards_acknowledged": true, "index": index})
	return nil
}

func (es *Server) getDoc(w http.ResponseWriter, p *esPrincipal, index, id string) *esErr {
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
		shared.WriteJSON(w, 404, obj{"_index": index, "_id": id, "found": false})
		return nil
	}
	shared.WriteJSON(w, 200, obj{"_index": index, "_id": id, "_version": found.Version, "_seq_no": found.SeqNo,
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
func (es *Server) bulk(w http.ResponseWriter, r *http.Request, p *esPrincipal, defaultIndex string) *esErr {
	if e := esCheckContentType(r, true); e != nil {
		return e
	}
	body, err := shared.RequestBody(r, esMaxBody)
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
				shared.Logger.Printf("elasticsearch: bulk %s into [%s] refused: %s", op, index, e.reason)
			}
		}
		items = append(items, obj{op: item})
	}
	if len(items) == 0 {
		return esE(400, "action_request_validation_exception", "Validation Failed: 1: no requests added;")
	}
	shared.WriteJSON(w, 200, obj{"took": time.Since(start).Milliseconds(), "errors": failed, "items": items})
	return nil
}
