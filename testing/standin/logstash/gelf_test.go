package logstash

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	. "protocol-monitoring/standin/internal/standintest"
)

// gelfChunks splits a payload into GELF chunks of size bytes.
func gelfChunks(id []byte, payload []byte, size int) [][]byte {
	var parts [][]byte
	for len(payload) > 0 {
		n := min(size, len(payload))
		parts = append(parts, payload[:n])
		payload = payload[n:]
	}
	var out [][]byte
	for i, p := range parts {
		h := append([]byte{0x1e, 0x0f}, id...)
		h = append(h, byte(i), byte(len(parts)))
		out = append(out, append(h, p...))
	}
	return out
}

func TestLogstashGELFInput(t *testing.T) {
	_, es := StartES(t, t.TempDir(), ElasticPW)
	SetupUsers(t, es.URL, "kibana-Pa55word", "writer-Pa55word", "reader-Pa55word")
	pipeline := ShippedPipeline(t, es.URL)
	if !strings.Contains(pipeline, "gelf") {
		t.Fatal("the shipped pipeline has no gelf input")
	}
	l, _ := startLogstash(t, pipeline, EnvMap{"LOGSTASH_WRITER_PASSWORD": "writer-Pa55word"})
	conn, err := net.Dial("udp", LocalAddr(l.InputAddr("gelf")))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	msg := func(short string, extra string) []byte {
		// What Docker's gelf log driver sends.
		return []byte(fmt.Sprintf(`{"version":"1.1","host":"docker-host","short_message":%q,"timestamp":1715000000.25,"level":6,`+
			`"_container_name":"dev-prometheus","_image_name":"prom/prometheus","_tag":"abc"%s}`, short, extra))
	}
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(msg("gzip message", ""))
	w.Close()
	conn.Write(gz.Bytes())

	var zb bytes.Buffer
	zw := zlib.NewWriter(&zb)
	zw.Write(msg("zlib message", ""))
	zw.Close()
	conn.Write(zb.Bytes())

	conn.Write(msg("plain message", ""))

	// A long message, gzip-compressed then chunked, chunks out of order.
	long := strings.Repeat("x", 5000)
	var big bytes.Buffer
	w = gzip.NewWriter(&big)
	w.Write(msg("chunked message", fmt.Sprintf(`,"full_message":"chunked message %s"`, long)))
	w.Close()
	payload := big.Bytes()
	chunks := gelfChunks([]byte("chunk-id"), payload, 20)
	if len(chunks) < 3 {
		t.Fatalf("want several chunks, got %d", len(chunks))
	}
	for i := len(chunks) - 1; i >= 0; i-- {
		conn.Write(chunks[i])
	}

	for _, m := range []string{"gzip", "zlib", "plain"} {
		_, src := WaitForHits(t, es.URL, "q=message:"+m, 1)
		if src["container_name"] != "dev-prometheus" || src["host"] != "docker-host" || src["source_host"] != "127.0.0.1" {
			t.Errorf("%s: fields %v", m, src)
		}
		if src["@timestamp"] != "2024-05-06T12:53:20.250Z" {
			t.Errorf("%s: @timestamp %v (from the GELF timestamp)", m, src["@timestamp"])
		}
		if _, ok := src["short_message"]; ok {
			t.Errorf("%s: short_message is remapped to message: %v", m, src)
		}
	}
	index, src := WaitForHits(t, es.URL, "q=message:chunked", 1)
	if index != "protocol-logs-2024.05.06" || !strings.HasSuffix(fmt.Sprint(src["message"]), long) || src["short_message"] != "chunked message" {
		t.Errorf("chunked: index %s, source %.200v", index, src)
	}
}

func TestGELFAssembler(t *testing.T) {
	a := &gelfAssembler{pending: map[string]*gelfPending{}}
	now := time.Now()
	chunks := gelfChunks([]byte("12345678"), []byte(`{"short_message":"hi"}`), 5)
	for i, c := range chunks[:len(chunks)-1] {
		if out, err := a.add(c, now); out != nil || err != nil {
			t.Fatalf("chunk %d: %q %v", i, out, err)
		}
	}
	// An incomplete message expires after 5 s.
	if out, _ := a.add(chunks[len(chunks)-1], now.Add(6*time.Second)); out != nil {
		t.Errorf("expired message completed: %q", out)
	}
	for _, c := range chunks {
		out, err := a.add(c, now)
		if err != nil {
			t.Fatal(err)
		}
		if out != nil && string(out) != `{"short_message":"hi"}` {
			t.Errorf("reassembled %q", out)
		}
	}
	if _, err := a.add(append([]byte{0x1e, 0x0f}, make([]byte, 8)...), now); err == nil {
		t.Error("a short chunk header must be an error")
	}
	bad := append([]byte{0x1e, 0x0f}, []byte("abcdefgh")...)
	if _, err := a.add(append(bad, 3, 2, 'x'), now); err == nil {
		t.Error("sequence number >= count must be an error")
	}
}
