// Package curl is a minimal curl: the options the stack's healthchecks and
// setup script use (-fsS, --max-time, --cacert, -u, -X, -H, -d, -o, -w...).
//
// It is needed: the stack runs `curl -fsS --max-time 4 [--cacert F] [-u user:$VAR] URL`
// as the Docker healthcheck of Elasticsearch and Kibana, and its Elasticsearch
// setup job's script uses curl, because the upstream images ship curl; the
// stand-in images have only busybox, whose wget can do neither Basic auth nor
// TLS to these Go servers.
package curl

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"protocol-monitoring/standin/internal/shared"
)

type curlOpts struct {
	fail, silent, showError, head, location, insecure bool
	user, method, output, writeOut, cacert, url       string
	userSet                                           bool
	headers, data                                     []string
	hasData                                           bool
	maxTime, connectTimeout                           float64
}

// curl exit codes (see curl(1) "EXIT CODES").
const (
	exitBadOption   = 2
	exitBadURL      = 3
	exitResolve     = 6
	exitConnect     = 7
	exitWrite       = 23
	exitHTTPError   = 22
	exitTimeout     = 28
	exitRecv        = 56
	exitUnsupported = 1
)

type curlError struct {
	code int
	msg  string
}

func (e *curlError) Error() string { return fmt.Sprintf("curl: (%d) %s", e.code, e.msg) }

func parseCurl(args []string) (*curlOpts, error) {
	o := &curlOpts{}
	bad := func(f string, a ...any) error { return &curlError{exitBadOption, fmt.Sprintf(f, a...)} }

	// Options taking a value, by short and long name.
	withArg := map[string]func(v string) error{
		"u": func(v string) error { o.user, o.userSet = v, true; return nil },
		"X": func(v string) error { o.method = v; return nil },
		"H": func(v string) error { o.headers = append(o.headers, v); return nil },
		"d": func(v string) error { return o.addData(v, true, true) },
		"o": func(v string) error { o.output = v; return nil },
		"w": func(v string) error { o.writeOut = v; return nil },
		"m": func(v string) (err error) {
			o.maxTime, err = strconv.ParseFloat(v, 64)
			return err
		},
		"data-raw":    func(v string) error { return o.addData(v, false, false) },
		"data-binary": func(v string) error { return o.addData(v, true, false) },
		"cacert":      func(v string) error { o.cacert = v; return nil },
		"url":         func(v string) error { o.url = v; return nil },
		"connect-timeout": func(v string) (err error) {
			o.connectTimeout, err = strconv.ParseFloat(v, 64)
			return err
		},
		"retry": func(string) error { return nil }, // accepted, not acted on
	}
	longAlias := map[string]string{"user": "u", "request": "X", "header": "H", "data": "d",
		"data-ascii": "d", "output": "o", "write-out": "w", "max-time": "m"}
	flags := map[string]*bool{"f": &o.fail, "s": &o.silent, "S": &o.showError, "I": &o.head,
		"L": &o.location, "k": &o.insecure}
	longFlags := map[string]string{"fail": "f", "silent": "s", "show-error": "S", "head": "I",
		"location": "L", "insecure": "k"}

	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func(name string) (string, error) {
			if i+1 >= len(args) {
				return "", bad("option %s: requires parameter", name)
			}
			i++
			return args[i], nil
		}
		switch {
		case strings.HasPrefix(a, "--") && len(a) > 2:
			name := a[2:]
			if short, ok := longAlias[name]; ok {
				name = short
			}
			if short, ok := longFlags[name]; ok {
				*flags[short] = true
				continue
			}
			set, ok := withArg[name]
			if !ok {
				return nil, bad("option %s: is unknown", a)
			}
			v, err := next(a)
			if err != nil {
				return nil, err
			}
			if err := set(v); err != nil {
				return nil, bad("option %s: %v", a, err)
			}
		case strings.HasPrefix(a, "-") && len(a) > 1:
			// Bundled short options: -fsS, -sSo file, -XPOST.
			for j := 1; j < len(a); j++ {
				c := string(a[j])
				if p, ok := flags[c]; ok {
					*p = true
					continue
				}
				set, ok := withArg[c]
				if !ok {
					return nil, bad("option -%s: is unknown", c)
				}
				v := a[j+1:]
				if v == "" {
					var err error
					if v, err = next("-" + c); err != nil {
						return nil, err
					}
				}
				if err := set(v); err != nil {
					return nil, bad("option -%s: %v", c, err)
				}
				break
			}
		default:
			if o.url != "" {
				return nil, bad("only one URL is supported by this curl stand-in")
			}
			o.url = a
		}
	}
	if o.url == "" {
		return nil, bad("no URL specified")
	}
	return o, nil
}

// addData implements -d/--data (reads @file, strips newlines), --data-binary
// (reads @file as is) and --data-raw (no @ handling).
func (o *curlOpts) addData(v string, at, stripNL bool) error {
	if at && strings.HasPrefix(v, "@") {
		var b []byte
		var err error
		if v == "@-" {
			b, err = io.ReadAll(os.Stdin)
		} else {
			b, err = os.ReadFile(v[1:])
		}
		if err != nil {
			return err
		}
		v = string(b)
		if stripNL {
			v = strings.NewReplacer("\r", "", "\n", "").Replace(v)
		}
	}
	o.data = append(o.data, v)
	o.hasData = true
	return nil
}

func Main(args []string, stdout, stderr io.Writer) int {
	o, err := parseCurl(args)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return err.(*curlError).code
	}
	start := time.Now()
	resp, body, err := curlDo(o)
	code := 0
	if resp != nil {
		code = resp.StatusCode
	}

	var cerr *curlError
	if err != nil {
		cerr = asCurlError(err)
	} else if o.fail && code >= 400 {
		cerr = &curlError{exitHTTPError, fmt.Sprintf("The requested URL returned error: %d", code)}
	}

	if cerr == nil { // with -f, an HTTP error prints no body, like curl
		if werr := curlOutput(o, stdout, resp, body); werr != nil {
			cerr = &curlError{exitWrite, werr.Error()}
		}
	}
	if o.writeOut != "" {
		io.WriteString(stdout, expandWriteOut(o, resp, code, len(body), time.Since(start)))
	}
	if cerr != nil {
		if !o.silent || o.showError {
			fmt.Fprintln(stderr, cerr)
		}
		return cerr.code
	}
	return 0
}

func curlDo(o *curlOpts) (*http.Response, []byte, error) {
	raw := o.url
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, nil, &curlError{exitBadURL, "URL using bad/illegal format or missing URL"}
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, nil, &curlError{exitUnsupported, fmt.Sprintf("Protocol %q not supported", u.Scheme)}
	}

	method := o.method
	switch {
	case method != "":
	case o.head:
		method = http.MethodHead
	case o.hasData:
		method = http.MethodPost
	default:
		method = http.MethodGet
	}

	ctx := context.Background()
	if o.maxTime > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(o.maxTime*float64(time.Second)))
		defer cancel()
	}
	var reqBody io.Reader
	if o.hasData {
		reqBody = strings.NewReader(strings.Join(o.data, "&"))
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), reqBody)
	if err != nil {
		return nil, nil, &curlError{exitBadURL, err.Error()}
	}
	req.Header.Set("User-Agent", "curl/standin")
	req.Header.Set("Accept", "*/*")
	if o.hasData {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	userSet := map[string]bool{} // a user header replaces curl's default of that name
	for _, h := range o.headers {
		name, value, found := strings.Cut(h, ":")
		name = strings.TrimSpace(name)
		value = strings.TrimSpace(value)
		switch {
		case !found && strings.HasSuffix(name, ";"): // "Name;" sends an empty header
			req.Header.Set(strings.TrimSuffix(name, ";"), "")
		case !found:
			continue
		case value == "": // "Name:" removes a default header
			req.Header.Del(name)
		case strings.EqualFold(name, "Host"):
			req.Host = value
		case !userSet[http.CanonicalHeaderKey(name)]:
			userSet[http.CanonicalHeaderKey(name)] = true
			req.Header.Set(name, value)
		default:
			req.Header.Add(name, value)
		}
	}
	if o.userSet {
		user, pass, _ := strings.Cut(o.user, ":")
		req.SetBasicAuth(user, pass)
	}

	tlsConf := &tls.Config{InsecureSkipVerify: o.insecure}
	if o.cacert == "" {
		// As curl: the CA bundle from CURL_CA_BUNDLE when --cacert is not given.
		o.cacert = os.Getenv("CURL_CA_BUNDLE")
	}
	if o.cacert != "" {
		pool, err := shared.CAPool([]string{o.cacert})
		if err != nil {
			return nil, nil, &curlError{77, "error setting certificate file: " + o.cacert}
		}
		tlsConf.RootCAs = pool
	}
	dialer := &net.Dialer{}
	if o.connectTimeout > 0 {
		dialer.Timeout = time.Duration(o.connectTimeout * float64(time.Second))
	}
	client := &http.Client{
		Transport: &http.Transport{DialContext: dialer.DialContext, TLSClientConfig: tlsConf},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			if o.location {
				return nil
			}
			return http.ErrUseLastResponse // like curl without -L
		},
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp, body, &curlError{exitRecv, "Failure when receiving data from the peer: " + err.Error()}
	}
	return resp, body, nil
}

func asCurlError(err error) *curlError {
	var ce *curlError
	if errors.As(err, &ce) {
		return ce
	}
	var dnsErr *net.DNSError
	var opErr *net.OpError
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()):
		return &curlError{exitTimeout, "Operation timed out: " + err.Error()}
	case errors.As(err, &dnsErr):
		return &curlError{exitResolve, "Could not resolve host: " + dnsErr.Name}
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return &curlError{exitConnect, fmt.Sprintf("Failed to connect to %v: %v", opErr.Addr, opErr.Err)}
	default:
		return &curlError{exitRecv, err.Error()}
	}
}

// curlOutput writes the headers (-I) or the body to stdout or the -o file.
func curlOutput(o *curlOpts, stdout io.Writer, resp *http.Response, body []byte) error {
	out := stdout
	if o.output != "" && o.output != "-" {
		f, err := os.Create(o.output)
		if err != nil {
			return err
		}
		defer f.Close()
		out = f
	}
	if o.head {
		var b strings.Builder
		fmt.Fprintf(&b, "HTTP/%d.%d %s\r\n", resp.ProtoMajor, resp.ProtoMinor, resp.Status)
		keys := make([]string, 0, len(resp.Header))
		for k := range resp.Header {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			for _, v := range resp.Header[k] {
				fmt.Fprintf(&b, "%s: %s\r\n", k, v)
			}
		}
		b.WriteString("\r\n")
		_, err := io.WriteString(out, b.String())
		return err
	}
	_, err := out.Write(body)
	return err
}

func expandWriteOut(o *curlOpts, resp *http.Response, code, size int, took time.Duration) string {
	ct, effective := "", o.url
	if resp != nil {
		ct = resp.Header.Get("Content-Type")
		effective = resp.Request.URL.String()
	}
	return strings.NewReplacer(
		"%{http_code}", fmt.Sprintf("%03d", code),
		"%{response_code}", fmt.Sprintf("%03d", code),
		"%{time_total}", fmt.Sprintf("%.6f", took.Seconds()),
		"%{size_download}", strconv.Itoa(size),
		"%{content_type}", ct,
		"%{url_effective}", effective,
		`\n`, "\n", `\r`, "\r", `\t`, "\t", "%%", "%",
	).Replace(o.writeOut)
}
