// Package grafana is the stand-in for Grafana: it reads the provisioning files
// where Grafana reads them and checks them (/api/health is 503, naming the
// problem, while one does not parse or a dashboard names a datasource that is
// not provisioned); its read-only API needs the admin user.
package grafana

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"protocol-monitoring/standin/internal/shared"
)

// obj is a JSON object, as this role answers them.
type obj = shared.Obj

// TLS names the upstream settings that serve its HTTP API over TLS.
var TLS = shared.TLSSettings{Enabled: "GF_SERVER_PROTOCOL", Cert: "GF_SERVER_CERT_FILE", Key: "GF_SERVER_CERT_KEY"}

type gfDatasource struct {
	file   string
	id     int
	fields map[string]any // as provisioned, $__env{} expanded
	uid    string
	name   string
	typ    string
}

type gfDashboard struct {
	file     string
	id       int
	uid      string
	title    string
	json     map[string]any
	folder   string
	folderID int
	provider string
}

// Server is the Grafana stand-in: its HTTP API (ServeHTTP) and what runs beside it.
type Server struct {
	listen      string
	adminUser   string
	adminPw     shared.PwHash
	datasources []*gfDatasource
	dsByUID     map[string]*gfDatasource
	dsByName    map[string]*gfDatasource
	dashboards  []*gfDashboard
	dbByUID     map[string]*gfDashboard
	folders     map[string]int // title → id
	problems    []string
	client      *http.Client
}

// New configures it from the environment, where Grafana reads its settings.
func New(env shared.Env) (*Server, error) {
	listen, err := shared.PortAddr(env, "GF_SERVER_HTTP_PORT", 3000)
	if err != nil {
		return nil, err
	}
	g := &Server{listen: listen, dsByUID: map[string]*gfDatasource{}, dsByName: map[string]*gfDatasource{},
		dbByUID: map[string]*gfDashboard{}, folders: map[string]int{}, client: &http.Client{Timeout: 5 * time.Second}}
	if err := g.loadAdmin(env); err != nil {
		return nil, err
	}
	prov := shared.EnvOr(env, "GF_PATHS_PROVISIONING", "/etc/grafana/provisioning")
	g.loadDatasources(filepath.Join(prov, "datasources"), env)
	g.loadDashboards(filepath.Join(prov, "dashboards"), env)
	g.checkReferences()
	for _, p := range g.problems {
		shared.Logger.Printf("grafana: provisioning problem: %s", p)
	}
	if len(g.problems) == 0 {
		shared.Logger.Printf("grafana: provisioned %d datasources and %d dashboards", len(g.datasources), len(g.dashboards))
	} else {
		shared.Logger.Printf("grafana: %d provisioning problems: /api/health answers 503", len(g.problems))
	}
	return g, nil
}

// Addr is where its HTTP API listens.
func (g *Server) Addr() string { return g.listen }

// Start: nothing runs beside its HTTP API.
func (g *Server) Start(ctx context.Context) error { return nil }

func (g *Server) problem(f string, a ...any) {
	g.problems = append(g.problems, fmt.Sprintf(f, a...))
}

// loadAdmin: the admin user is created on the first start of an empty data
// directory from GF_SECURITY_ADMIN_USER/PASSWORD (default admin/admin); later
// values of those variables are ignored, as upstream.
func (g *Server) loadAdmin(env shared.Env) error {
	dataDir := shared.EnvOr(env, "GF_PATHS_DATA", "/var/lib/grafana")
	file := filepath.Join(dataDir, "standin-admin.json")
	user := shared.EnvOr(env, "GF_SECURITY_ADMIN_USER", "admin")
	password, err := shared.EnvFile(env, "GF_SECURITY_ADMIN_PASSWORD", "GF_SECURITY_ADMIN_PASSWORD__FILE")
	if err != nil {
		return err
	}
	if password == "" {
		password = "admin"
	}
	var stored struct {
		Login    string        `json:"login"`
		Password shared.PwHash `json:"password"`
	}
	b, err := os.ReadFile(file)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &stored); err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		if stored.Login != user || !stored.Password.Matches(password) {
			shared.Logger.Printf("grafana: GF_SECURITY_ADMIN_USER/PASSWORD differ from the admin user in %s; as upstream, they only apply on the first start of an empty data directory", dataDir)
		}
	case errors.Is(err, os.ErrNotExist):
		stored.Login, stored.Password = user, shared.NewPwHash(password)
		b, _ := json.Marshal(stored)
		if err := os.MkdirAll(dataDir, 0o750); err != nil {
			return fmt.Errorf("data directory: %w", err)
		}
		if err := shared.WriteFileAtomic(file, b, 0o600); err != nil {
			return fmt.Errorf("data directory: %w", err)
		}
		shared.Logger.Printf("grafana: created admin user [%s]", user)
	default:
		return err
	}
	g.adminUser, g.adminPw = stored.Login, stored.Password
	return nil
}
