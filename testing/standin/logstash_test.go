package main

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/json"
	"fmt"
	"net"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// shippedPipeline is assets/logstash/pipeline.conf pointed at a test
// Elasticsearch, its inputs on ephemeral ports.
func shippedPipeline(t *testing.T, esURL string) string {
	t.Helper()
	p := readRepoFile(t, "assets", "logstash", "pipeline.conf")
	if !strings.Contains(p, "http://elasticsearch:9200") {
		t.Fatal("pipeline.conf no longer names http://elasticsearch:9200: update this test")
	}
	p = strings.ReplaceAll(p, "http://elasticsearch:9200", esURL)
	return regexp.MustCompile(`port => \d+`).ReplaceAllString(p, "port => 0")
}

func startLogstash(t *testing.T, pipeline string, env envMap) (*logstashServer, *httptest.Server) {
	t.Helper()
	l, err := newLogstashFrom(t, pipeline, env)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.start(testContext(t)); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(l)
	t.Cleanup(srv.Close)
	return l, srv
}

func newLogstashFrom(t *testing.T, pipeline string, env envMap) (*logstashServer, error) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "logstash.conf"), pipeline)
	e := envMap{"PATH_CONFIG": dir}
	for k, v := range env {
		e[k] = v
	}
	return newLogstash(e.get)
}

func localAddr(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	return net.JoinHostPort("127.0.0.1", port)
}

// search waits for n hits of q (as the reader) and returns the first one's _index and _source.
func waitForHits(t *testing.T, esURL, q string, n int) (string, map[string]any) {
	t.Helper()
	var hit any
	eventually(t, 10*time.Second, func() string {
		r := call(t, "GET", esURL+"/protocol-logs-*/_search?"+q, "grafana_reader", "reader-Pa55word", "")
		if total := dig(r.json, "hits", "total", "value"); total != float64(n) {
			return fmt.Sprintf("%s: %v hits, want %d: %s", q, total, n, r)
		}
		hit = dig(r.json, "hits", "hits", 0)
		return ""
	})
	src, _ := dig(hit, "_source").(map[string]any)
	index, _ := dig(hit, "_index").(string)
	return index, src
}

func TestLogstashShippedPipelineIndexesJSONLines(t *testing.T) {
	_, es := startES(t, t.TempDir(), elasticPW)
	setupUsers(t, es.URL, "kibana-Pa55word", "writer-Pa55word", "reader-Pa55word")
	l, api := startLogstash(t, shippedPipeline(t, es.URL), envMap{"LOGSTASH_WRITER_PASSWORD": "writer-Pa55word"})

	r := call(t, "GET", api.URL+"/", "", "", "")
	expectStatus(t, r, 200, "Logstash API with the right writer password")
	if r.json["status"] != "green" {
		t.Errorf("API: %s", r)
	}

	c, err := net.Dial("tcp", localAddr(l.inputAddr("tcp")))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(c, `{"message":"registry started","level":"info","service":"registry_a","timestamp":"2024-05-06T07:08:09.123Z"}`)
	fmt.Fprintln(c, `not json`)
	c.Close()

	index, src := waitForHits(t, es.URL, "q=service:registry_a", 1)
	if index != "protocol-logs-2024.05.06" {
		t.Errorf("index %q: the pipeline's %%{+YYYY.MM.dd} of the event's (date-filtered) time", index)
	}
	if src["@timestamp"] != "2024-05-06T07:08:09.123Z" || src["@version"] != "1" || src["message"] != "registry started" {
		t.Errorf("document %v", src)
	}
	if _, ok := src["timestamp"]; ok {
		t.Errorf("the date filter removes timestamp: %v", src)
	}
	_, bad := waitForHits(t, es.URL, "q=tags:_jsonparsefailure", 1)
	if bad["message"] != "not json" {
		t.Errorf("json_lines parse failure: %v", bad)
	}
}

func TestLogstashUnhealthyWithWrongWriterPassword(t *testing.T) {
	_, es := startES(t, t.TempDir(), elasticPW)
	setupUsers(t, es.URL, "kibana-Pa55word", "writer-Pa55word", "reader-Pa55word")
	l, api := startLogstash(t, shippedPipeline(t, es.URL), envMap{"LOGSTASH_WRITER_PASSWORD": "WRONG-Pa55word"})
	r := call(t, "GET", api.URL+"/", "", "", "")
	expectStatus(t, r, 503, "Logstash API with a wrong writer password")
	if r.json["status"] != "red" || !strings.Contains(fmt.Sprint(r.json["standin_reason"]), "unable to authenticate user [logstash_writer]") {
		t.Errorf("API: %s", r)
	}
	c, err := net.Dial("tcp", localAddr(l.inputAddr("tcp")))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(c, `{"message":"lost"}`)
	c.Close()
	time.Sleep(300 * time.Millisecond)
	r = call(t, "GET", es.URL+"/_count", "elastic", elasticPW, "")
	if r.json["count"] != 0.0 {
		t.Errorf("nothing may be indexed with a wrong password: %s", r)
	}

	// The same pipeline without the variable does not start, as upstream.
	_, err = newLogstashFrom(t, shippedPipeline(t, es.URL), envMap{})
	if err == nil || !strings.Contains(err.Error(), "Replacement variable `LOGSTASH_WRITER_PASSWORD` is not defined") {
		t.Errorf("missing variable: err = %v", err)
	}
}

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
	_, es := startES(t, t.TempDir(), elasticPW)
	setupUsers(t, es.URL, "kibana-Pa55word", "writer-Pa55word", "reader-Pa55word")
	pipeline := shippedPipeline(t, es.URL)
	if !strings.Contains(pipeline, "gelf") {
		t.Fatal("the shipped pipeline has no gelf input")
	}
	l, _ := startLogstash(t, pipeline, envMap{"LOGSTASH_WRITER_PASSWORD": "writer-Pa55word"})
	conn, err := net.Dial("udp", localAddr(l.inputAddr("gelf")))
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
		_, src := waitForHits(t, es.URL, "q=message:"+m, 1)
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
	index, src := waitForHits(t, es.URL, "q=message:chunked", 1)
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

func TestLogstashRefusesWhatItDoesNotModel(t *testing.T) {
	base := func(filter string) string {
		return `input { tcp { port => 0 codec => json_lines } }
filter {
` + filter + `
}
output { elasticsearch { hosts => ["http://127.0.0.1:1"] user => "u" password => "p" index => "i-%{+YYYY}" } }`
	}
	cases := []struct{ name, pipeline, want string }{
		{"unknown filter", base(`grok { match => { "message" => "%{WORD:w}" } }`), `filter plugin "grok"`},
		{"regex condition", base(`if [message] =~ /x/ { date { match => ["t", "ISO8601"] } }`), `condition operator "=~"`},
		{"and condition", base(`if [a] == "x" and [b] { date { match => ["t", "ISO8601"] } }`), `condition operator "and"`},
		{"joda date format", base(`date { match => ["t", "dd/MMM/yyyy:HH:mm:ss Z"] }`), `date format "dd/MMM/yyyy:HH:mm:ss Z"`},
		{"unknown setting", base(`date { match => ["t", "ISO8601"] timezone => "UTC" }`), `setting "timezone" of date`},
		{"json without source", base(`json { target => "doc" }`), `json "source": is required`},
		{"json common option", base(`json { source => "message" add_tag => ["parsed"] }`), `setting "add_tag" of json`},
		{"json ecs_compatibility", base(`json { source => "message" ecs_compatibility => "disabled" }`), `setting "ecs_compatibility" of json`},
		{"json into @timestamp", base(`json { source => "message" target => "@timestamp" }`), `json "target": parsing into @timestamp`},
		{"json bad skip", base(`json { source => "message" skip_on_invalid_json => "yes" }`), `json "skip_on_invalid_json": expected true or false`},
		{"sprintf remove_field", base(`json { source => "message" remove_field => ["%{f}"] }`), `json "remove_field": "%{f}": %{...} in field names`},
		{"unknown input", `input { stdin {} } output { stdout {} }`, `input plugin "stdin"`},
		{"unknown codec", `input { tcp { port => 0 codec => msgpack } } output { stdout {} }`, `codec "msgpack"`},
		{"gelf over tcp", `input { gelf { port => 0 use_tcp => true } } output { stdout {} }`, `"use_tcp"`},
		{"no index", `input { tcp { port => 0 } } output { elasticsearch { hosts => ["http://x:9200"] } }`, `"index": is required`},
		{"bad index date", `input { tcp { port => 0 } } output { elasticsearch { hosts => ["x"] index => "a-%{+EEE}" } }`, `date format letter "E"`},
		{"unknown output", `input { tcp { port => 0 } } output { kafka {} }`, `output plugin "kafka"`},
		{"syntax error", `input { tcp { port => 0 } output { stdout {} }`, `line`},
		{"not a section", `inputs { }`, `expected input, filter or output`},
	}
	for _, c := range cases {
		_, err := newLogstashFrom(t, c.pipeline, envMap{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to name %s", c.name, err, c.want)
		}
	}
}

func TestLogstashFiltersAndTemplates(t *testing.T) {
	sections, err := parseLogstashConfig(`filter {
  if [timestamp] {
    date { match => ["timestamp", "ISO8601", "UNIX_MS"] remove_field => ["timestamp"] }
  } else if [kind] == "epoch" {
    date { match => ["[t][s]", "UNIX"] target => "[parsed]" }
  } else if ![x] {
    date { match => ["nothing", "ISO8601"] }
  }
}`, "test.conf", envMap{}.get)
	if err != nil {
		t.Fatal(err)
	}
	l := &logstashServer{}
	steps, err := l.compileSteps(sections["filter"], "filter")
	if err != nil {
		t.Fatal(err)
	}
	run := func(js string) *lsEvent {
		ev := lsEventsFromJSON([]byte(js))[0]
		runFilters(steps, ev)
		return ev
	}
	ev := run(`{"timestamp":"2023-02-03 04:05:06,789+0100"}`)
	if got := ev.ts.Format(time.RFC3339Nano); got != "2023-02-03T03:05:06.789Z" {
		t.Errorf("ISO8601 with offset and comma: %s", got)
	}
	if _, ok := ev.fields["timestamp"]; ok {
		t.Error("timestamp not removed")
	}
	ev = run(`{"timestamp":1700000000123}`)
	if got := ev.ts.Format(time.RFC3339Nano); got != "2023-11-14T22:13:20.123Z" {
		t.Errorf("UNIX_MS: %s", got)
	}
	ev = run(`{"timestamp":"yesterday"}`)
	if ev.fields["timestamp"] != "yesterday" || fmt.Sprint(ev.fields["tags"]) != "[_dateparsefailure]" {
		t.Errorf("failure: %v", ev.fields)
	}
	ev = run(`{"kind":"epoch","t":{"s":"1700000000"}}`)
	if ev.fields["parsed"] != "2023-11-14T22:13:20.000Z" {
		t.Errorf("target: %v", ev.fields)
	}

	tpl, err := parseTemplate("logs-%{service}-%{[a][b]}-%{+YYYY.MM.dd}-%{+xxxx.ww}-%{missing}")
	if err != nil {
		t.Fatal(err)
	}
	ev = lsEventsFromJSON([]byte(`{"service":"reg","a":{"b":7},"@timestamp":"2024-12-30T10:00:00Z"}`))[0]
	if got := tpl.render(ev); got != "logs-reg-7-2024.12.30-2025.01-%{missing}" {
		t.Errorf("render: %s", got)
	}
	ev = lsEventsFromJSON([]byte(`{"@timestamp":"not a time"}`))[0]
	if fmt.Sprint(ev.fields["tags"]) != "[_timestampparsefailure]" || ev.fields["_@timestamp"] != "not a time" {
		t.Errorf("@timestamp failure: %v", ev.fields)
	}
}

func TestLogstashEnvironmentSubstitution(t *testing.T) {
	sections, err := parseLogstashConfig(`output { elasticsearch { hosts => ["${ES_HOST:http://fallback:9200}"] user => "${ES_USER}" password => "pre-${ES_PW}-post" index => "x" } }`,
		"t.conf", envMap{"ES_USER": "writer", "ES_PW": "secret"}.get)
	if err != nil {
		t.Fatal(err)
	}
	o, err := compileOutput(sections["output"][0].plugin)
	if err != nil {
		t.Fatal(err)
	}
	es := o.(*lsESOutput)
	if es.hosts[0] != "http://fallback:9200" || es.user != "writer" || es.password != "pre-secret-post" {
		t.Errorf("%+v", es)
	}
	b, _ := json.Marshal(es.hosts)
	_ = b
}

// compileFilters compiles a pipeline's filter section.
func compileFilters(t *testing.T, pipeline string, env envMap) []lsStep {
	t.Helper()
	sections, err := parseLogstashConfig(pipeline, "test.conf", env.get)
	if err != nil {
		t.Fatal(err)
	}
	steps, err := (&logstashServer{}).compileSteps(sections["filter"], "filter")
	if err != nil {
		t.Fatal(err)
	}
	return steps
}

// The shipped pipeline's filters on what the gelf input makes of Docker's
// gelf messages: a structlog JSON line's keys become fields (its timestamp
// the event's time), any other line passes unchanged.
func TestLogstashShippedJSONFilter(t *testing.T) {
	steps := compileFilters(t, shippedPipeline(t, "http://127.0.0.1:1"), envMap{"LOGSTASH_WRITER_PASSWORD": "x"})
	line := `{"event":"registry ready","level":"info","timestamp":"2024-05-06T07:08:09.123456Z","service":"registry-a","port":8080,"ctx":{"id":"x"}}`
	gelf := func(short string) *lsEvent {
		b, _ := json.Marshal(map[string]any{"version": "1.1", "host": "docker-host", "short_message": short,
			"timestamp": 1715000000.25, "level": 6, "_container_name": "dev-registry-a"})
		ev := gelfEvent(b, "10.0.0.1", true, true)
		runFilters(steps, ev)
		return ev
	}
	ev := gelf(line)
	doc := ev.document()
	if doc["event"] != "registry ready" || doc["level"] != "info" || doc["service"] != "registry-a" ||
		fmt.Sprint(doc["port"]) != "8080" || dig(doc, "ctx", "id") != "x" {
		t.Errorf("parsed fields at the root (level overwritten): %v", doc)
	}
	if doc["@timestamp"] != "2024-05-06T07:08:09.123Z" {
		t.Errorf("@timestamp %v: the date filter parses the parsed timestamp", doc["@timestamp"])
	}
	if _, ok := doc["timestamp"]; ok {
		t.Errorf("timestamp is removed by the date filter: %v", doc)
	}
	if doc["message"] != line || doc["container_name"] != "dev-registry-a" || doc["tags"] != nil {
		t.Errorf("message stays as sent, GELF fields stay, no tags: %v", doc)
	}

	for _, plain := range []string{"level=info msg=started", "{not json"} {
		ev = gelf(plain)
		doc = ev.document()
		if doc["message"] != plain || doc["tags"] != nil || fmt.Sprint(doc["level"]) != "6" ||
			doc["@timestamp"] != "2024-05-06T12:53:20.250Z" {
			t.Errorf("%q passes unchanged (skip_on_invalid_json): %v", plain, doc)
		}
	}
	// Valid JSON but no object cannot go to the root: tagged even so.
	ev = gelf(`[1,2]`)
	if fmt.Sprint(ev.fields["tags"]) != "[_jsonparsefailure]" || ev.fields["message"] != "[1,2]" {
		t.Errorf("array without target: %v", ev.fields)
	}
}

func TestLogstashJSONFilter(t *testing.T) {
	steps := compileFilters(t, `filter {
  if [kind] == "strict" {
    json { source => "message" }
  } else if [kind] == "tags" {
    json { source => "[raw][text]" tag_on_failure => ["bad", "_custom"] remove_field => ["raw", "[kind]"] }
  } else if [kind] == "target" {
    json { source => "message" target => "[doc][parsed]" skip_on_invalid_json => true }
  } else {
    json { source => "message" skip_on_invalid_json => true remove_field => ["message"] }
  }
}`, envMap{})
	run := func(fields string) *lsEvent {
		ev := lsEventsFromJSON([]byte(fields))[0]
		runFilters(steps, ev)
		return ev
	}
	tags := func(ev *lsEvent) string { return fmt.Sprint(ev.fields["tags"]) }

	// Without skip_on_invalid_json a non-JSON source is tagged and left as it is.
	ev := run(`{"kind":"strict","message":"plain text"}`)
	if tags(ev) != "[_jsonparsefailure]" || ev.fields["message"] != "plain text" {
		t.Errorf("strict, not JSON: %v", ev.fields)
	}
	ev = run(`{"kind":"strict","message":42}`)
	if tags(ev) != "[_jsonparsefailure]" {
		t.Errorf("strict, a number is not JSON text: %v", ev.fields)
	}
	for _, absent := range []string{`{"kind":"strict"}`, `{"kind":"strict","message":null}`, `{"kind":"strict","message":false}`} {
		if ev = run(absent); ev.fields["tags"] != nil {
			t.Errorf("%s: no source, nothing done: %v", absent, ev.fields)
		}
	}
	// Parsed keys go to the root, overwriting; a key is a field reference;
	// @timestamp becomes the event's time; an existing tag is kept.
	ev = run(`{"kind":"strict","a":"old","tags":["x"],"message":"{\"a\":\"new\",\"[n][m]\":1,\"b.c\":2,\"@timestamp\":\"2020-01-02T03:04:05.678Z\"}"}`)
	if ev.fields["a"] != "new" || dig(ev.fields, "n", "m") != json.Number("1") || ev.fields["b.c"] != json.Number("2") ||
		ev.ts.Format(time.RFC3339Nano) != "2020-01-02T03:04:05.678Z" || tags(ev) != "[x]" {
		t.Errorf("root: %v at %v", ev.fields, ev.ts)
	}
	if _, ok := ev.fields["@timestamp"]; ok {
		t.Errorf("@timestamp is the event's time, not a field: %v", ev.fields)
	}
	ev = run(`{"kind":"strict","message":"{\"@timestamp\":\"soon\",\"tags\":\"t\"}"}`)
	if ev.fields["_@timestamp"] != "soon" || tags(ev) != "[t _timestampparsefailure]" || time.Since(ev.ts) > time.Minute {
		t.Errorf("bad @timestamp: %v at %v", ev.fields, ev.ts)
	}
	ev = run(`{"kind":"strict","message":"{\"ok\":1,\"un[sup]ported\":2}"}`)
	if tags(ev) != "[_jsonparsefailure]" || ev.fields["ok"] != nil {
		t.Errorf("invalid field reference as a key: %v", ev.fields)
	}

	// tag_on_failure replaces the default tag; remove_field only on success.
	ev = run(`{"kind":"tags","raw":{"text":"nope"}}`)
	if tags(ev) != "[bad _custom]" || ev.fields["raw"] == nil || ev.fields["kind"] != "tags" {
		t.Errorf("custom tags, nothing removed on failure: %v", ev.fields)
	}
	ev = run(`{"kind":"tags","raw":{"text":"{\"k\":\"v\"}"}}`)
	if ev.fields["k"] != "v" || ev.fields["raw"] != nil || ev.fields["kind"] != nil || ev.fields["tags"] != nil {
		t.Errorf("success, fields removed: %v", ev.fields)
	}

	// target: any JSON value, replacing what was there; @timestamp not special.
	ev = run(`{"kind":"target","doc":{"parsed":"old"},"message":"[1,{\"@timestamp\":\"x\"}]"}`)
	if b, _ := json.Marshal(ev.fields["doc"]); string(b) != `{"parsed":[1,{"@timestamp":"x"}]}` || ev.fields["tags"] != nil || ev.fields["message"] == nil {
		t.Errorf("target: %s %v", b, ev.fields)
	}
	ev = run(`{"kind":"target","message":"not json"}`)
	if ev.fields["doc"] != nil || ev.fields["tags"] != nil {
		t.Errorf("target, skipped: %v", ev.fields)
	}

	// skip_on_invalid_json with remove_field: the message goes only when parsed.
	ev = run(`{"message":"{\"x\":1}"}`)
	if ev.fields["x"] != json.Number("1") || ev.fields["message"] != nil {
		t.Errorf("parsed, message removed: %v", ev.fields)
	}
	ev = run(`{"message":"x=1"}`)
	if ev.fields["message"] != "x=1" || ev.fields["tags"] != nil {
		t.Errorf("skipped, message kept: %v", ev.fields)
	}
	ev = run(`{"message":"\"a string\""}`)
	if tags(ev) != "[_jsonparsefailure]" {
		t.Errorf("a JSON string without target is a failure even when skipping invalid JSON: %v", ev.fields)
	}
}
