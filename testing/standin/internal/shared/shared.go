// Package shared is what several stand-in roles use: the environment, the
// logger, JSON answers and values, password hashes, request bodies, Basic-auth
// requests, the health cache, and TLS (tls.go).
package shared

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Env reads the environment: os.Getenv in the images, a map in tests.
type Env func(string) string

// Logger is where every role logs (stdout, as the upstream images do).
var Logger = log.New(os.Stdout, "", log.LstdFlags|log.LUTC)

// Obj is a JSON object, as the roles answer them.
type Obj = map[string]any

func WriteJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func CleanPath(r *http.Request) string {
	p := strings.TrimRight(r.URL.Path, "/")
	if p == "" {
		return "/"
	}
	return p
}

func EnvOr(env Env, key, def string) string {
	if v := env(key); v != "" {
		return v
	}
	return def
}

// EnvFile reads KEY, or the file KEY_FILE names (as the Elastic and Grafana
// images allow for secrets: ELASTIC_PASSWORD_FILE, GF_..._PASSWORD__FILE).
func EnvFile(env Env, key, fileKey string) (string, error) {
	if f := env(fileKey); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("%s: %w", fileKey, err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	return env(key), nil
}

// PortAddr is ":<port>" from a port setting, or its default.
func PortAddr(env Env, key string, def int) (string, error) {
	v := EnvOr(env, key, strconv.Itoa(def))
	p, err := strconv.Atoi(v)
	if err != nil || p < 0 || p > 65535 {
		return "", fmt.Errorf("%s=%q is not a port number", key, v)
	}
	return fmt.Sprintf(":%d", p), nil
}

func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// RandomID is an Elasticsearch-style 20-character document id.
func RandomID() string {
	b := make([]byte, 15)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// PwHash is a salted SHA-256 of a password. The real services store bcrypt
// (Elasticsearch) or PBKDF2 (Grafana) hashes; for a test double a salted
// hash keeps plain passwords out of the data volume, which is what matters.
type PwHash struct {
	Salt string `json:"salt"`
	Hash string `json:"hash"`
}

func NewPwHash(password string) PwHash {
	salt := RandomHex(16)
	return PwHash{Salt: salt, Hash: hashPw(salt, password)}
}

func hashPw(salt, password string) string {
	sum := sha256.Sum256([]byte(salt + "\x00" + password))
	return hex.EncodeToString(sum[:])
}

func (h PwHash) Matches(password string) bool {
	if h.Hash == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(h.Hash), []byte(hashPw(h.Salt, password))) == 1
}

// WriteFileAtomic replaces path with data (temp file + rename in its folder).
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// RequestBody is the request's body, decompressed per Content-Encoding (gzip
// and deflate, as Elasticsearch accepts and Logstash sends), at most limit
// bytes after decompression.
func RequestBody(r *http.Request, limit int64) ([]byte, error) {
	var rd io.Reader = r.Body
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		gz, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, fmt.Errorf("gzip body: %w", err)
		}
		defer gz.Close()
		rd = gz
	case "deflate":
		zr, err := zlib.NewReader(r.Body)
		if err != nil {
			return nil, fmt.Errorf("deflate body: %w", err)
		}
		defer zr.Close()
		rd = zr
	default:
		return nil, fmt.Errorf("unsupported Content-Encoding %q", enc)
	}
	b, err := io.ReadAll(io.LimitReader(rd, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("request body larger than %d bytes", limit)
	}
	return b, nil
}

// DecodeJSON decodes with json.Number for numbers, so documents keep them as sent.
func DecodeJSON(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}

func Hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "standin"
	}
	return h
}

// BasicAuthGet does one GET with Basic auth and returns the status and body.
func BasicAuthGet(ctx context.Context, client *http.Client, rawURL, user, password string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return 0, nil, err
	}
	if user != "" || password != "" {
		req.SetBasicAuth(user, password)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, body, err
}

// ESErrorReason extracts "type: reason" from an Elasticsearch error body.
// FirstHostAnswering asks each Elasticsearch host for path as user: true at the first 200, else
// why each one failed (how Kibana's login and Logstash's output try their hosts).
func FirstHostAnswering(ctx context.Context, client *http.Client, hosts []string, path, user, password string) (bool, []string) {
	var reasons []string
	for _, h := range hosts {
		status, body, err := BasicAuthGet(ctx, client, h+path, user, password)
		switch {
		case err != nil:
			reasons = append(reasons, fmt.Sprintf("%s: %v", h, err))
		case status == 200:
			return true, nil
		default:
			reasons = append(reasons, fmt.Sprintf("%s: %s", h, ESErrorReason(status, body)))
		}
	}
	return false, reasons
}

func ESErrorReason(status int, body []byte) string {
	var e struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && len(e.Error) > 0 {
		var inner struct{ Type, Reason string }
		if json.Unmarshal(e.Error, &inner) == nil && inner.Type != "" {
			return fmt.Sprintf("%d %s: %s", status, inner.Type, inner.Reason)
		}
		var s string
		if json.Unmarshal(e.Error, &s) == nil {
			return fmt.Sprintf("%d %s", status, s)
		}
	}
	return fmt.Sprintf("HTTP %d", status)
}

// HealthCache remembers a check's outcome for a moment, so frequent health
// requests do not each reach the upstream.
type HealthCache struct {
	mu     sync.Mutex
	at     time.Time
	ok     bool
	reason string
	TTL    time.Duration
	Check  func(ctx context.Context) (bool, string)
	OnFlip func(ok bool, reason string)
	known  bool
}

func (c *HealthCache) Get(ctx context.Context) (bool, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.known && time.Since(c.at) < c.TTL {
		return c.ok, c.reason
	}
	ok, reason := c.Check(ctx)
	if c.OnFlip != nil && (!c.known || ok != c.ok || (!ok && reason != c.reason)) {
		c.OnFlip(ok, reason)
	}
	c.ok, c.reason, c.at, c.known = ok, reason, time.Now(), true
	return ok, reason
}

// Watch keeps checking in the background until ctx ends, as Kibana and
// Logstash keep checking their Elasticsearch connection (and log when it
// changes, through OnFlip).
func (c *HealthCache) Watch(ctx context.Context, every time.Duration) {
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			c.Get(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// ---------------------------------------------------------------------------
// JSON values as decoded into any (json.Number for numbers)

func ContainsAny(have, want []string) bool {
	for _, h := range have {
		for _, w := range want {
			if h == w {
				return true
			}
		}
	}
	return false
}

func StringList(v any) ([]string, bool) {
	switch t := v.(type) {
	case string:
		return []string{t}, true
	case []any:
		out := make([]string, 0, len(t))
		for _, x := range t {
			s, ok := x.(string)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	return nil, false
}

func Flatten(v any) []any {
	if list, ok := v.([]any); ok {
		var out []any
		for _, x := range list {
			out = append(out, Flatten(x)...)
		}
		return out
	}
	return []any{v}
}

func ScalarString(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case json.Number:
		return t.String(), true
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(t), true
	}
	return "", false
}
