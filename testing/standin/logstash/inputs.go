package logstash

import (
	"crypto/tls"
	"fmt"
	"io"
	"sort"
	"strconv"

	"protocol-monitoring/standin/internal/shared"
)

// ---- plugin settings

// lsOpts reads a plugin's settings and reports any it does not know.
type lsOpts struct {
	pl   *lsPlugin
	used map[string]bool
	err  error
}

func newLSOpts(pl *lsPlugin) *lsOpts { return &lsOpts{pl: pl, used: map[string]bool{"id": true}} }

func (o *lsOpts) fail(key, f string, a ...any) {
	if o.err == nil {
		line := o.pl.line
		if l, ok := o.pl.lines[key]; ok {
			line = l
		}
		o.err = fmt.Errorf("%s: line %d: %s %q: %s", o.pl.file, line, o.pl.name, key, fmt.Sprintf(f, a...))
	}
}

func (o *lsOpts) has(key string) bool {
	_, ok := o.pl.attrs[key]
	return ok
}

func (o *lsOpts) str(key, def string) string {
	o.used[key] = true
	v, ok := o.pl.attrs[key]
	if !ok {
		return def
	}
	switch t := v.(type) {
	case string:
		return t
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	}
	o.fail(key, "expected a string")
	return def
}

func (o *lsOpts) num(key string, def int) int {
	s := o.str(key, strconv.Itoa(def))
	n, err := strconv.Atoi(s)
	if err != nil {
		o.fail(key, "expected a number, got %q", s)
	}
	return n
}

func (o *lsOpts) port(key string, def int) int {
	n := o.num(key, def)
	if n < 0 || n > 65535 {
		o.fail(key, "%d is not a port", n)
	}
	return n
}

func (o *lsOpts) boolean(key string, def bool) bool {
	s := o.str(key, strconv.FormatBool(def))
	switch s {
	case "true":
		return true
	case "false":
		return false
	}
	o.fail(key, "expected true or false, got %q", s)
	return def
}

func (o *lsOpts) list(key string) []string {
	o.used[key] = true
	v, ok := o.pl.attrs[key]
	if !ok {
		return nil
	}
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, x := range t {
			s, ok := x.(string)
			if !ok {
				o.fail(key, "expected a list of strings")
				return nil
			}
			out = append(out, s)
		}
		return out
	}
	o.fail(key, "expected a string or a list of strings")
	return nil
}

func (o *lsOpts) done() error {
	if o.err != nil {
		return o.err
	}
	var unknown []string
	for k := range o.pl.attrs {
		if !o.used[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	if len(unknown) > 0 {
		line := o.pl.lines[unknown[0]]
		return fmt.Errorf("%s: line %d: setting %q of %s is not supported by the stand-in", o.pl.file, line, unknown[0], o.pl.name)
	}
	return nil
}

// ---- inputs

type lsInput struct {
	kind   string // tcp, beats, gelf
	host   string
	port   int
	codec  string // tcp: json_lines or line
	remap  bool   // gelf
	strip  bool   // gelf
	closer io.Closer
	bound  string
	tls    *tls.Config // tcp: ssl_enabled
}

func compileInput(pl *lsPlugin) (*lsInput, error) {
	o := newLSOpts(pl)
	in := &lsInput{kind: pl.name, host: o.str("host", "0.0.0.0")}
	switch pl.name {
	case "tcp":
		if !o.has("port") {
			o.fail("port", "is required")
		}
		in.port = o.port("port", 0)
		if mode := o.str("mode", "server"); mode != "server" {
			o.fail("mode", "only server mode is supported by the stand-in")
		}
		if c, ok := pl.attrs["codec"].(*lsPlugin); ok {
			o.used["codec"] = true
			o.fail("codec", "codec %q with settings is not supported by the stand-in", c.name)
		}
		in.codec = o.str("codec", "line")
		if in.codec != "json_lines" && in.codec != "line" {
			o.fail("codec", "codec %q is not supported by the stand-in (json_lines, line)", in.codec)
		}
		if o.boolean("ssl_enabled", false) {
			in.tls = lsInputTLS(o)
		}
	case "beats":
		if !o.has("port") {
			o.fail("port", "is required")
		}
		in.port = o.port("port", 0)
	case "gelf":
		in.port = o.port("port", 12201)
		if o.has("port_udp") {
			in.port = o.port("port_udp", 12201)
		}
		if !o.boolean("use_udp", true) {
			o.fail("use_udp", "the stand-in models the UDP listener only")
		}
		if o.boolean("use_tcp", false) {
			o.fail("use_tcp", "GELF over TCP is not supported by the stand-in")
		}
		in.remap = o.boolean("remap", true)
		in.strip = o.boolean("strip_leading_underscore", true)
	default:
		return nil, fmt.Errorf("%s: line %d: input plugin %q is not supported by the stand-in (tcp, beats, gelf)", pl.file, pl.line, pl.name)
	}
	return in, o.done()
}

// lsInputTLS reads a tcp input's ssl_* settings: its certificate and key,
// and how clients authenticate (which the stand-in wants said, not defaulted)
// against ssl_certificate_authorities.
func lsInputTLS(o *lsOpts) *tls.Config {
	cert, key := o.str("ssl_certificate", ""), o.str("ssl_key", "")
	if cert == "" || key == "" {
		o.fail("ssl_certificate", "ssl_enabled needs ssl_certificate and ssl_key")
		return nil
	}
	pair, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		o.fail("ssl_certificate", "%v", err)
		return nil
	}
	config := &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	if !o.has("ssl_client_authentication") {
		o.fail("ssl_client_authentication", "is required by the stand-in with ssl_enabled (none, optional or required; it does not model the default)")
		return nil
	}
	mode := o.str("ssl_client_authentication", "")
	pool, err := shared.CAPool(o.list("ssl_certificate_authorities"))
	if err != nil {
		o.fail("ssl_certificate_authorities", "%v", err)
		return nil
	}
	switch mode {
	case "none":
		config.ClientAuth = tls.NoClientCert
	case "optional", "required":
		if pool == nil {
			o.fail("ssl_certificate_authorities", "ssl_client_authentication %q needs the CAs that sign client certificates", mode)
			return nil
		}
		config.ClientCAs, config.ClientAuth = pool, map[string]tls.ClientAuthType{"optional": tls.VerifyClientCertIfGiven, "required": tls.RequireAndVerifyClientCert}[mode]
	default:
		o.fail("ssl_client_authentication", "expected none, optional or required, got %q", mode)
	}
	return config
}
