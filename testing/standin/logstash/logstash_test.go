package logstash

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	. "protocol-monitoring/standin/internal/standintest"
)

func TestMain(m *testing.M) { Main(m) }

func startLogstash(t *testing.T, pipeline string, env EnvMap) (*Server, *httptest.Server) {
	t.Helper()
	l, err := newLogstashFrom(t, pipeline, env)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Start(Context(t)); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(l)
	t.Cleanup(srv.Close)
	return l, srv
}

func newLogstashFrom(t *testing.T, pipeline string, env EnvMap) (*Server, error) {
	return New(PipelineEnv(t, pipeline, env).Get)
}

func TestLogstashShippedPipelineIndexesJSONLines(t *testing.T) {
	_, es := StartES(t, t.TempDir(), ElasticPW)
	SetupUsers(t, es.URL, "kibana-Pa55word", "writer-Pa55word", "reader-Pa55word")
	l, api := startLogstash(t, ShippedPipeline(t, es.URL), EnvMap{"LOGSTASH_WRITER_PASSWORD": "writer-Pa55word"})

	r := Call(t, "GET", api.URL+"/", "", "", "")
	ExpectStatus(t, r, 200, "Logstash API with the right writer password")
	if r.JSON["status"] != "green" {
		t.Errorf("API: %s", r)
	}

	c, err := net.Dial("tcp", LocalAddr(l.InputAddr("tcp")))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(c, `{"message":"registry started","level":"info","service":"registry_a","timestamp":"2024-05-06T07:08:09.123Z"}`)
	fmt.Fprintln(c, `not json`)
	c.Close()

	index, src := WaitForHits(t, es.URL, "q=service:registry_a", 1)
	if index != "protocol-logs-2024.05.06" {
		t.Errorf("index %q: the pipeline's %%{+YYYY.MM.dd} of the event's (date-filtered) time", index)
	}
	if src["@timestamp"] != "2024-05-06T07:08:09.123Z" || src["@version"] != "1" || src["message"] != "registry started" {
		t.Errorf("document %v", src)
	}
	if _, ok := src["timestamp"]; ok {
		t.Errorf("the date filter removes timestamp: %v", src)
	}
	_, bad := WaitForHits(t, es.URL, "q=tags:_jsonparsefailure", 1)
	if bad["message"] != "not json" {
		t.Errorf("json_lines parse failure: %v", bad)
	}
}

func TestLogstashUnhealthyWithWrongWriterPassword(t *testing.T) {
	_, es := StartES(t, t.TempDir(), ElasticPW)
	SetupUsers(t, es.URL, "kibana-Pa55word", "writer-Pa55word", "reader-Pa55word")
	l, api := startLogstash(t, ShippedPipeline(t, es.URL), EnvMap{"LOGSTASH_WRITER_PASSWORD": "WRONG-Pa55word"})
	r := Call(t, "GET", api.URL+"/", "", "", "")
	ExpectStatus(t, r, 503, "Logstash API with a wrong writer password")
	if r.JSON["status"] != "red" || !strings.Contains(fmt.Sprint(r.JSON["standin_reason"]), "unable to authenticate user [logstash_writer]") {
		t.Errorf("API: %s", r)
	}
	c, err := net.Dial("tcp", LocalAddr(l.InputAddr("tcp")))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(c, `{"message":"lost"}`)
	c.Close()
	time.Sleep(300 * time.Millisecond)
	r = Call(t, "GET", es.URL+"/_count", "elastic", ElasticPW, "")
	if r.JSON["count"] != 0.0 {
		t.Errorf("nothing may be indexed with a wrong password: %s", r)
	}

	// The same pipeline without the variable does not start, as upstream.
	_, err = newLogstashFrom(t, ShippedPipeline(t, es.URL), EnvMap{})
	if err == nil || !strings.Contains(err.Error(), "Replacement variable `LOGSTASH_WRITER_PASSWORD` is not defined") {
		t.Errorf("missing variable: err = %v", err)
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
		_, err := newLogstashFrom(t, c.pipeline, EnvMap{})
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
}`, "test.conf", EnvMap{}.Get)
	if err != nil {
		t.Fatal(err)
	}
	l := &Server{}
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
		"t.conf", EnvMap{"ES_USER": "writer", "ES_PW": "secret"}.Get)
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
func compileFilters(t *testing.T, pipeline string, env EnvMap) []lsStep {
	t.Helper()
	sections, err := parseLogstashConfig(pipeline, "test.conf", env.Get)
	if err != nil {
		t.Fatal(err)
	}
	steps, err := (&Server{}).compileSteps(sections["filter"], "filter")
	if err != nil {
		t.Fatal(err)
	}
	return steps
}

// The shipped pipeline's filters on what the gelf input makes of Docker's
// gelf messages: a structlog JSON line's keys become fields (its timestamp
// the event's time), any other line passes unchanged.
func TestLogstashShippedJSONFilter(t *testing.T) {
	steps := compileFilters(t, ShippedPipeline(t, "http://127.0.0.1:1"), EnvMap{"LOGSTASH_WRITER_PASSWORD": "x"})
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
		fmt.Sprint(doc["port"]) != "8080" || Dig(doc, "ctx", "id") != "x" {
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
}`, EnvMap{})
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
	if ev.fields["a"] != "new" || Dig(ev.fields, "n", "m") != json.Number("1") || ev.fields["b.c"] != json.Number("2") ||
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
