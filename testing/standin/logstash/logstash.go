// Package logstash is the stand-in for Logstash: it runs the pipeline file
// (tcp json_lines, gelf over UDP, beats accepted but discarded; the date and
// json filters; conditionals; the elasticsearch output), refusing syntax and
// settings it does not model; its API (:9600) is 503 while the output cannot
// log in to Elasticsearch.
package logstash

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"protocol-monitoring/standin/internal/shared"
)

// obj is a JSON object, as this role answers them.
type obj = shared.Obj

// ---- the pipeline

// Server is the Logstash stand-in: its HTTP API (ServeHTTP) and what runs beside it.
type Server struct {
	listen  string
	inputs  []*lsInput
	filters []lsStep
	outputs []lsStep
	esOuts  []lsOutput
	events  chan *lsEvent
	health  *shared.HealthCache

	in, filtered, out atomic.Int64
}

// New configures it from the environment, where Logstash reads its settings.
func New(env shared.Env) (*Server, error) {
	listen, err := shared.PortAddr(env, "API_HTTP_PORT", 9600)
	if err != nil {
		return nil, err
	}
	files, err := lsConfigFiles(shared.EnvOr(env, "PATH_CONFIG", "/usr/share/logstash/pipeline"))
	if err != nil {
		return nil, err
	}
	l := &Server{listen: listen, events: make(chan *lsEvent, 1000)}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		sections, err := parseLogstashConfig(string(src), f, env)
		if err != nil {
			return nil, err
		}
		for _, n := range sections["input"] {
			in, err := compileInput(n.plugin)
			if err != nil {
				return nil, err
			}
			l.inputs = append(l.inputs, in)
		}
		steps, err := l.compileSteps(sections["filter"], "filter")
		if err != nil {
			return nil, err
		}
		l.filters = append(l.filters, steps...)
		if steps, err = l.compileSteps(sections["output"], "output"); err != nil {
			return nil, err
		}
		l.outputs = append(l.outputs, steps...)
	}
	if len(l.inputs) == 0 {
		return nil, fmt.Errorf("no input in the pipeline (%s)", strings.Join(files, ", "))
	}
	l.health = &shared.HealthCache{TTL: time.Second, Check: l.check, OnFlip: func(ok bool, reason string) {
		if ok {
			shared.Logger.Printf("logstash: pipeline healthy: every elasticsearch output can log in")
		} else {
			shared.Logger.Printf("logstash: pipeline unhealthy: %s", reason)
		}
	}}
	return l, nil
}

// lsConfigFiles: path.config is a file, a directory (its files, sorted) or a glob.
func lsConfigFiles(path string) ([]string, error) {
	st, err := os.Stat(path)
	var files []string
	switch {
	case err == nil && st.IsDir():
		files, _ = filepath.Glob(filepath.Join(path, "*"))
	case err == nil:
		files = []string{path}
	default:
		files, _ = filepath.Glob(path)
	}
	var regular []string
	for _, f := range files {
		if st, err := os.Stat(f); err == nil && st.Mode().IsRegular() {
			regular = append(regular, f)
		}
	}
	sort.Strings(regular)
	if len(regular) == 0 {
		return nil, fmt.Errorf("No configuration found in the configured sources (path.config %s)", path)
	}
	return regular, nil
}

func (l *Server) compileSteps(nodes []lsNode, section string) ([]lsStep, error) {
	var steps []lsStep
	for _, n := range nodes {
		switch {
		case n.branch != nil:
			rb := &lsRBranch{conds: n.branch.conds}
			for _, body := range n.branch.bodies {
				s, err := l.compileSteps(body, section)
				if err != nil {
					return nil, err
				}
				rb.bodies = append(rb.bodies, s)
			}
			steps = append(steps, lsStep{branch: rb})
		case section == "filter":
			f, err := compileFilter(n.plugin)
			if err != nil {
				return nil, err
			}
			steps = append(steps, lsStep{filter: f})
		default:
			o, err := compileOutput(n.plugin)
			if err != nil {
				return nil, err
			}
			steps = append(steps, lsStep{output: o})
			l.esOuts = append(l.esOuts, o)
		}
	}
	return steps, nil
}

// Addr is where its HTTP API listens.
func (l *Server) Addr() string { return l.listen }

// InputAddr is where the first input of a kind listens ("tcp", "gelf", "beats").
func (l *Server) InputAddr(kind string) string {
	for _, in := range l.inputs {
		if in.kind == kind {
			return in.bound
		}
	}
	return ""
}

// Start begins what runs beside the HTTP API; it stops when ctx is done.
func (l *Server) Start(ctx context.Context) error {
	for _, in := range l.inputs {
		addr := net.JoinHostPort(in.host, strconv.Itoa(in.port))
		switch in.kind {
		case "tcp", "beats":
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("%s input: %w", in.kind, err)
			}
			if in.tls != nil {
				ln = tls.NewListener(ln, in.tls)
			}
			in.closer, in.bound = ln, ln.Addr().String()
			go l.acceptTCP(ctx, in, ln)
		case "gelf":
			pc, err := net.ListenPacket("udp", addr)
			if err != nil {
				return fmt.Errorf("gelf input: %w", err)
			}
			in.closer, in.bound = pc, pc.LocalAddr().String()
			go l.readGELF(ctx, in, pc)
		}
		context.AfterFunc(ctx, func() { in.closer.Close() })
		shared.Logger.Printf("logstash: %s input listening on %s", in.kind, in.bound)
	}
	go l.worker(ctx)
	l.health.Watch(ctx, 10*time.Second)
	return nil
}

func (l *Server) push(ctx context.Context, evs ...*lsEvent) bool {
	for _, ev := range evs {
		select {
		case l.events <- ev: // blocks when the queue is full: back-pressure, as upstream
			l.in.Add(1)
		case <-ctx.Done():
			return false
		}
	}
	return true
}

func (l *Server) acceptTCP(ctx context.Context, in *lsInput, ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				shared.Logger.Printf("logstash: %s input: %v", in.kind, err)
			}
			return
		}
		go func() {
			defer c.Close()
			stop := context.AfterFunc(ctx, func() { c.Close() })
			defer stop()
			if tc, ok := c.(*tls.Conn); ok {
				// A client without a certificate of the CA (or without TLS) is refused here, as upstream.
				if err := tc.HandshakeContext(ctx); err != nil {
					shared.Logger.Printf("logstash: %s input: TLS handshake with %s failed: %v", in.kind, c.RemoteAddr(), err)
					return
				}
			}
			if in.kind == "beats" {
				shared.Logger.Printf("logstash: beats input: connection from %s: the stand-in does not decode the Beats protocol; data discarded", c.RemoteAddr())
				_, _ = io.Copy(io.Discard, c)
				return
			}
			rd := bufio.NewReaderSize(c, 64<<10)
			for {
				line, err := rd.ReadBytes('\n')
				if len(line) > 0 && (err == nil || err == io.EOF) {
					line = bytes.TrimRight(line, "\r\n")
					var evs []*lsEvent
					switch {
					case len(bytes.TrimSpace(line)) == 0:
					case in.codec == "json_lines":
						evs = lsEventsFromJSON(line)
					default:
						evs = []*lsEvent{newLSEvent(map[string]any{"message": string(line)})}
					}
					if !l.push(ctx, evs...) {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
	}
}

// worker takes batches (125 events or 50 ms, the pipeline defaults), runs the filters and outputs.
func (l *Server) worker(ctx context.Context) {
	batch := make([]*lsEvent, 0, 125)
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-l.events:
			batch = append(batch, ev)
		}
		timer := time.NewTimer(50 * time.Millisecond)
	fill:
		for len(batch) < 125 {
			select {
			case ev := <-l.events:
				batch = append(batch, ev)
			case <-timer.C:
				break fill
			case <-ctx.Done():
				timer.Stop()
				return
			}
		}
		timer.Stop()
		l.process(ctx, batch)
		batch = batch[:0]
	}
}

func (l *Server) process(ctx context.Context, batch []*lsEvent) {
	for _, ev := range batch {
		runFilters(l.filters, ev)
	}
	l.filtered.Add(int64(len(batch)))
	var order []lsOutput
	routed := map[lsOutput][]*lsEvent{}
	for _, ev := range batch {
		routeOutputs(l.outputs, ev, func(o lsOutput) {
			if _, seen := routed[o]; !seen {
				order = append(order, o)
			}
			routed[o] = append(routed[o], ev)
		})
	}
	for _, o := range order {
		o.write(ctx, routed[o])
	}
	l.out.Add(int64(len(batch)))
}

func pickBranch(b *lsRBranch, ev *lsEvent) []lsStep {
	for i, c := range b.conds {
		if c(ev) {
			return b.bodies[i]
		}
	}
	if len(b.bodies) > len(b.conds) {
		return b.bodies[len(b.conds)]
	}
	return nil
}

func runFilters(steps []lsStep, ev *lsEvent) {
	for _, s := range steps {
		if s.branch != nil {
			runFilters(pickBranch(s.branch, ev), ev)
		} else if s.filter != nil {
			s.filter.apply(ev)
		}
	}
}

func routeOutputs(steps []lsStep, ev *lsEvent, to func(lsOutput)) {
	for _, s := range steps {
		if s.branch != nil {
			routeOutputs(pickBranch(s.branch, ev), ev, to)
		} else if s.output != nil {
			to(s.output)
		}
	}
}

// Check: healthy while every elasticsearch output can log in.
func (l *Server) check(ctx context.Context) (bool, string) {
	for _, o := range l.esOuts {
		if ok, reason := o.ping(ctx); !ok {
			return false, reason
		}
	}
	return true, ""
}

func (l *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := shared.CleanPath(r)
	if p != "/" && p != "/_node/stats" {
		shared.WriteJSON(w, 404, obj{"path": r.URL.Path, "status": 404, "error": obj{"message": "Not Found"}})
		return
	}
	ok, reason := l.health.Get(r.Context())
	status, color := 200, "green"
	if !ok {
		status, color = 503, "red"
	}
	body := obj{"host": shared.Hostname(), "version": "standin", "http_address": "0.0.0.0" + l.listen, "id": "standin",
		"name": shared.Hostname(), "status": color, "snapshot": false,
		"pipeline": obj{"workers": 1, "batch_size": 125, "batch_delay": 50}}
	if !ok {
		body["standin_reason"] = reason
	}
	if p == "/_node/stats" {
		body["pipelines"] = obj{"main": obj{"events": obj{"in": l.in.Load(), "filtered": l.filtered.Load(), "out": l.out.Load()}}}
	}
	shared.WriteJSON(w, status, body)
}
