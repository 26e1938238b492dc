package logstash

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"protocol-monitoring/standin/internal/shared"
)

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
		// https hosts are checked against ssl_certificate_authorities (else the system's roots).
		if o.boolean("ssl_enabled", false) {
			pool, err := shared.CAPool(o.list("ssl_certificate_authorities"))
			if err != nil {
				o.fail("ssl_certificate_authorities", "%v", err)
			}
			out.client = shared.ClientTrusting(pool, 30*time.Second)
		} else if o.has("ssl_certificate_authorities") {
			o.fail("ssl_certificate_authorities", "is set but ssl_enabled is not true")
		}
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

// ping is the output's health Check: GET / with its credentials, as the
// real output's connection pool does (it needs the monitor privilege).
func (o *lsESOutput) ping(ctx context.Context) (bool, string) {
	// The output's own transport (its CAs), a shorter timeout.
	ok, reasons := shared.FirstHostAnswering(ctx, &http.Client{Timeout: 3 * time.Second, Transport: o.client.Transport}, o.hosts, "/", o.user, o.password)
	if ok {
		return true, ""
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
			shared.Logger.Printf("logstash: elasticsearch output: event not serializable: %v", err)
			continue
		}
		pending = append(pending, lsAction{index: o.index.render(ev), doc: doc})
	}
	backoff := 2 * time.Second
	for len(pending) > 0 {
		retry, err := o.bulk(ctx, pending)
		if err != nil {
			shared.Logger.Printf("logstash: elasticsearch output: %v; retrying in %s", err, backoff)
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
		return nil, fmt.Errorf("bulk request to %s as [%s]: %s", host, o.user, shared.ESErrorReason(resp.StatusCode, rb))
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
				shared.Logger.Printf("logstash: elasticsearch output: Failed action (status 409, dropped): %s", r.Error)
			case r.Status == 400 || r.Status == 404:
				shared.Logger.Printf("logstash: elasticsearch output: Could not index event to Elasticsearch (status %d, dropped): %s", r.Status, r.Error)
			default:
				shared.Logger.Printf("logstash: elasticsearch output: Retrying failed action (status %d, index %s): %s", r.Status, actions[i].index, r.Error)
				retry = append(retry, actions[i])
			}
		}
	}
	return retry, nil
}
