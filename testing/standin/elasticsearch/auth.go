package elasticsearch

import (
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"

	"protocol-monitoring/standin/internal/shared"
)

// ---- errors

type esErr struct {
	status int
	typ    string
	reason string
	extra  obj
	// plain is Elasticsearch's short form {"error": "...", "status": N}.
	plain bool
	auth  bool // add WWW-Authenticate
}

func (e *esErr) Error() string { return e.typ + ": " + e.reason }

func esE(status int, typ, reason string, a ...any) *esErr {
	if len(a) > 0 {
		reason = fmt.Sprintf(reason, a...)
	}
	return &esErr{status: status, typ: typ, reason: reason}
}

func (e *esErr) body() obj {
	if e.plain {
		return obj{"error": e.reason, "status": e.status}
	}
	cause := obj{"type": e.typ, "reason": e.reason}
	for k, v := range e.extra {
		cause[k] = v
	}
	top := obj{"root_cause": []obj{cause}}
	for k, v := range cause {
		top[k] = v
	}
	return obj{"error": top, "status": e.status}
}

func esWriteErr(w http.ResponseWriter, e *esErr) {
	if e.auth {
		w.Header().Add("WWW-Authenticate", `Basic realm="security", charset="UTF-8"`)
		w.Header().Add("WWW-Authenticate", "ApiKey")
	}
	shared.WriteJSON(w, e.status, e.body())
}

func esNotModelled(r *http.Request) *esErr {
	return esE(http.StatusNotImplemented, "standin_not_modelled_exception",
		"the Elasticsearch stand-in does not model [%s %s]", r.Method, r.URL.Path)
}

// ---- authentication and authorization

type esPrincipal struct {
	name     string
	roles    []string
	reserved bool
	user     *esUser
}

func (es *Server) authenticate(r *http.Request) (*esPrincipal, *esErr) {
	name, password, ok := r.BasicAuth()
	if !ok {
		e := esE(401, "security_exception", "missing authentication credentials for REST request [%s]", r.URL.RequestURI())
		e.auth = true
		e.extra = obj{"header": obj{"WWW-Authenticate": []string{`Basic realm="security", charset="UTF-8"`, "ApiKey"}}}
		return nil, e
	}
	es.mu.RLock()
	u := es.sec.Users[name]
	var valid bool
	if u != nil {
		valid = u.Enabled && u.Password.Matches(password)
	}
	es.mu.RUnlock()
	if !valid {
		shared.Logger.Printf("elasticsearch: authentication of user [%s] failed for [%s %s]", name, r.Method, r.URL.Path)
		e := esE(401, "security_exception", "unable to authenticate user [%s] for REST request [%s]", name, r.URL.RequestURI())
		e.auth = true
		e.extra = obj{"header": obj{"WWW-Authenticate": []string{`Basic realm="security", charset="UTF-8"`, "ApiKey"}}}
		return nil, e
	}
	_, reserved := esReservedUsers[name]
	return &esPrincipal{name: name, roles: append([]string(nil), u.Roles...), reserved: reserved, user: u}, nil
}

// roleDefs resolves role names (built-in first); unknown names grant nothing, as upstream.
func (es *Server) roleDefs(names []string) []*esRole {
	var out []*esRole
	for _, n := range names {
		if r := esBuiltinRoles[n]; r != nil {
			out = append(out, r)
		} else if r := es.sec.Roles[n]; r != nil {
			out = append(out, r)
		}
	}
	return out
}

// hasCluster: with es.mu held (read).
func (es *Server) hasCluster(p *esPrincipal, class string) bool {
	for _, r := range es.roleDefs(p.roles) {
		if shared.ContainsAny(r.Cluster, esClusterGrants[class]) {
			return true
		}
	}
	return false
}

// hasIndex: with es.mu held (read).
func (es *Server) hasIndex(p *esPrincipal, index, class string) bool {
	for _, r := range es.roleDefs(p.roles) {
		for _, ip := range r.Indices {
			if !shared.ContainsAny(ip.Privileges, esIndexGrants[class]) {
				continue
			}
			for _, pat := range ip.Names {
				if esNameMatch(pat, index) {
					return true
				}
			}
		}
	}
	return false
}

func (p *esPrincipal) effectiveRoles() string {
	r := append([]string(nil), p.roles...)
	sort.Strings(r)
	return strings.Join(r, ",")
}

func esClusterDenied(p *esPrincipal, class, action string) *esErr {
	if action == "" {
		action = esClusterActions[class]
	}
	return esE(403, "security_exception",
		"action [%s] is unauthorized for user [%s] with effective roles [%s], this action is granted by the cluster privileges [%s]",
		action, p.name, p.effectiveRoles(), strings.Join(esClusterGrants[class], ","))
}

func esIndexDenied(p *esPrincipal, class string, indices ...string) *esErr {
	return esE(403, "security_exception",
		"action [%s] is unauthorized for user [%s] with effective roles [%s] on indices [%s], this action is granted by the index privileges [%s]",
		esIndexActions[class], p.name, p.effectiveRoles(), strings.Join(indices, ","), strings.Join(esIndexGrants[class], ","))
}

// esNameMatch matches an index name against a role's or a request's
// pattern: * and ? wildcards, or a /regex/ (Lucene regexp, approximated by Go's).
func esNameMatch(pattern, name string) bool {
	if len(pattern) > 1 && strings.HasPrefix(pattern, "/") && strings.HasSuffix(pattern, "/") {
		re, err := regexp.Compile("^(?:" + pattern[1:len(pattern)-1] + ")$")
		return err == nil && re.MatchString(name)
	}
	return wildcardMatch(pattern, name)
}

func wildcardMatch(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// esValidateIndexName applies Elasticsearch's rules for index names.
func esValidateIndexName(name string) *esErr {
	bad := func(why string) *esErr {
		e := esE(400, "invalid_index_name_exception", "Invalid index name [%s], %s", name, why)
		e.extra = obj{"index": name, "index_uuid": "_na_"}
		return e
	}
	switch {
	case name == "":
		return bad("must not be empty")
	case name != strings.ToLower(name):
		return bad("must be lowercase")
	case strings.ContainsAny(name, `\/*?"<>| ,`):
		return bad(`must not contain the following characters [' ','"','*',',','/','<','>','?','\','|']`)
	case strings.Contains(name, "#"):
		return bad("must not contain '#'")
	case strings.Contains(name, ":"):
		return bad("must not contain ':'")
	case strings.HasPrefix(name, "_") || strings.HasPrefix(name, "-") || strings.HasPrefix(name, "+"):
		return bad("must not start with '_', '-', or '+'")
	case name == "." || name == "..":
		return bad("must not be '.' or '..'")
	case len(name) > 255:
		return bad(fmt.Sprintf("index name is too long, (%d > 255)", len(name)))
	}
	return nil
}
