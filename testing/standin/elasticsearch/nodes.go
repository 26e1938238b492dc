package elasticsearch

import (
	"net/http"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"protocol-monitoring/standin/internal/shared"
)

// ---------------------------------------------------------------------------
// Elasticsearch: node stats, what prometheus-community/elasticsearch_exporter
// reads besides / and /_cluster/health (GET /_nodes/_local/stats). A minimal,
// honest shape: the one node, its roles, its JVM heap and its data path's
// file system, with the `monitor` cluster privilege required as upstream.
// Every other section of the real response (indices, thread pools, breakers,
// transport...) is absent; the exporter reads an absent section as zeros.
//
// The numbers are the stand-in's own: the heap is the Go heap it uses
// (in use, and obtained from the OS as "committed"), against the maximum the
// real node would have (-Xmx of ES_JAVA_OPTS, else the committed heap); the
// data path's file system is measured (statfs).

var esXmx = regexp.MustCompile(`(?:^|\s)-Xmx(\d+)([kKmMgG]?)(?:\s|$)`)

// esHeapMax is -Xmx in bytes from the JVM options, or 0.
func esHeapMax(javaOpts string) int64 {
	m := esXmx.FindStringSubmatch(javaOpts)
	if m == nil {
		return 0
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0
	}
	switch strings.ToLower(m[2]) {
	case "k":
		n <<= 10
	case "m":
		n <<= 20
	case "g":
		n <<= 30
	}
	return n
}

func (es *Server) nodeStats(w http.ResponseWriter, p *esPrincipal, node string) *esErr {
	es.mu.RLock()
	ok := es.hasCluster(p, "monitor")
	es.mu.RUnlock()
	if !ok {
		return esClusterDenied(p, "monitor", "cluster:monitor/nodes/stats")
	}
	nodes := obj{}
	// One node: _local, _all, its name or its id select it; another name selects nothing.
	if node == "" || node == "_local" || node == "_all" || node == es.nodeName || node == esNodeID {
		nodes[esNodeID] = es.localNodeStats()
	}
	shared.WriteJSON(w, 200, obj{
		"_nodes":       obj{"total": len(nodes), "successful": len(nodes), "failed": 0},
		"cluster_name": es.clusterName,
		"nodes":        nodes,
	})
	return nil
}

// esNodeID is the stand-in node's id (a real one is a random base64 string).
const esNodeID = "standin-node"

func (es *Server) localNodeStats() obj {
	now := time.Now().UnixMilli()
	var mem runtime.MemStats
	runtime.ReadMemStats(&mem)
	heapMax := es.heapMax
	if heapMax == 0 {
		heapMax = int64(mem.HeapSys)
	}
	data := obj{"path": es.dataPath, "mount": es.dataPath, "type": "standin"}
	var st syscall.Statfs_t
	if err := syscall.Statfs(es.dataPath, &st); err == nil {
		bs := int64(st.Bsize)
		data["total_in_bytes"] = int64(st.Blocks) * bs
		data["free_in_bytes"] = int64(st.Bfree) * bs
		data["available_in_bytes"] = int64(st.Bavail) * bs
	}
	host := shared.Hostname()
	return obj{
		"timestamp": now, "name": es.nodeName, "host": host, "hostname": host, "ip": host,
		"transport_address": host + ":9300",
		// A single node does everything.
		"roles": []string{"data", "ingest", "master"},
		"jvm": obj{
			"timestamp": now, "uptime_in_millis": time.Since(es.started).Milliseconds(),
			"mem": obj{
				"heap_used_in_bytes": int64(mem.HeapInuse), "heap_committed_in_bytes": int64(mem.HeapSys), "heap_max_in_bytes": heapMax,
				"non_heap_used_in_bytes": int64(mem.StackInuse), "non_heap_committed_in_bytes": int64(mem.StackSys),
			},
		},
		"fs": obj{"timestamp": now, "data": []obj{data}},
	}
}
