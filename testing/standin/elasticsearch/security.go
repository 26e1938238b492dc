package elasticsearch

import (
	"fmt"
	"net/http"
	"strings"
	"unicode"

	"protocol-monitoring/standin/internal/shared"
)

// ---- security API

func (es *Server) security(w http.ResponseWriter, r *http.Request, p *esPrincipal, segs []string) *esErr {
	m := r.Method
	write := m == http.MethodPut || m == http.MethodPost
	n := len(segs)
	switch {
	case n == 2 && segs[1] == "_authenticate" && m == http.MethodGet:
		shared.WriteJSON(w, 200, es.authenticateBody(p))
		return nil
	case n == 3 && segs[1] == "user" && segs[2] == "_password" && write:
		return es.changePassword(w, r, p, p.name)
	case n == 4 && segs[1] == "user" && segs[3] == "_password" && write:
		return es.changePassword(w, r, p, segs[2])
	case n == 3 && segs[1] == "user" && write:
		return es.putUser(w, r, p, segs[2])
	case (n == 2 || n == 3) && segs[1] == "user" && m == http.MethodGet:
		return es.getUsers(w, p, segs[2:])
	case n == 3 && segs[1] == "role" && write:
		return es.putRole(w, r, p, segs[2])
	case (n == 2 || n == 3) && segs[1] == "role" && m == http.MethodGet:
		return es.getRoles(w, p, segs[2:])
	}
	return esNotModelled(r)
}

func (es *Server) authenticateBody(p *esPrincipal) obj {
	realm := obj{"name": "default_native", "type": "native"}
	meta := obj{}
	if p.reserved {
		realm = obj{"name": "reserved", "type": "reserved"}
		meta["_reserved"] = true
	}
	for k, v := range p.user.Metadata {
		meta[k] = v
	}
	return obj{
		"username": p.name, "roles": p.roles, "full_name": nilIfEmpty(p.user.FullName), "email": nilIfEmpty(p.user.Email),
		"metadata": meta, "enabled": true, "authentication_realm": realm, "lookup_realm": realm,
		"authentication_type": "realm",
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (es *Server) requireCluster(p *esPrincipal, class string) *esErr {
	es.mu.RLock()
	ok := es.hasCluster(p, class)
	es.mu.RUnlock()
	if !ok {
		return esClusterDenied(p, class, "")
	}
	return nil
}

func esValidatePassword(v any) (string, *esErr) {
	pw, ok := v.(string)
	if !ok || pw == "" {
		return "", esE(400, "action_request_validation_exception", "Validation Failed: 1: password must be specified;")
	}
	if len(pw) < 6 {
		return "", esE(400, "action_request_validation_exception", "Validation Failed: 1: passwords must be at least [6] characters long;")
	}
	return pw, nil
}

func (es *Server) changePassword(w http.ResponseWriter, r *http.Request, p *esPrincipal, target string) *esErr {
	if target != p.name { // users may change their own password
		if e := es.requireCluster(p, "manage_security"); e != nil {
			return e
		}
	}
	body, _, e := esReadJSONBody(r, true)
	if e != nil {
		return e
	}
	for k := range body {
		if k != "password" {
			return esE(400, "parse_exception", "failed to parse change password request. unexpected field [%s]", k)
		}
	}
	pw, e := esValidatePassword(body["password"])
	if e != nil {
		return e
	}
	es.mu.Lock()
	defer es.mu.Unlock()
	u := es.sec.Users[target]
	if u == nil {
		roles, reserved := esReservedUsers[target]
		if !reserved {
			return esE(400, "validation_exception", "Validation Failed: 1: user must exist in order to change password;")
		}
		u = &esUser{Roles: roles, Enabled: true}
		es.sec.Users[target] = u
	}
	u.Password = shared.NewPwHash(pw)
	if err := es.saveSecurity(); err != nil {
		return esE(500, "exception", "saving security state: %v", err)
	}
	shared.Logger.Printf("elasticsearch: password of user [%s] set (by [%s])", target, p.name)
	shared.WriteJSON(w, 200, obj{})
	return nil
}

func (es *Server) putUser(w http.ResponseWriter, r *http.Request, p *esPrincipal, name string) *esErr {
	if e := es.requireCluster(p, "manage_security"); e != nil {
		return e
	}
	if _, reserved := esReservedUsers[name]; reserved {
		return esE(400, "validation_exception", "Validation Failed: 1: user [%s] is reserved and only the password can be changed;", name)
	}
	if name == "" || len(name) > 507 || strings.TrimSpace(name) != name || strings.IndexFunc(name, func(c rune) bool { return !unicode.IsPrint(c) }) >= 0 {
		return esE(400, "validation_exception", "Validation Failed: 1: Invalid username [%s]...;", name)
	}
	body, _, e := esReadJSONBody(r, true)
	if e != nil {
		return e
	}
	u := &esUser{Enabled: true}
	var password string
	for k, v := range body {
		switch k {
		case "password":
			pw, e := esValidatePassword(v)
			if e != nil {
				return e
			}
			password = pw
		case "roles":
			roles, ok := shared.StringList(v)
			if !ok {
				return esE(400, "parse_exception", "failed to parse add user request. [roles] must be an array of strings")
			}
			u.Roles = roles
		case "full_name":
			u.FullName, _ = v.(string)
		case "email":
			u.Email, _ = v.(string)
		case "metadata":
			u.Metadata, _ = v.(map[string]any)
		case "enabled":
			b, ok := v.(bool)
			if !ok {
				return esE(400, "parse_exception", "failed to parse add user request. [enabled] must be a boolean")
			}
			u.Enabled = b
		case "password_hash":
			return esE(400, "standin_not_modelled_exception", "the Elasticsearch stand-in does not model [password_hash]")
		default:
			return esE(400, "parse_exception", "failed to parse add user request. unexpected field [%s]", k)
		}
	}
	if _, ok := body["roles"]; !ok {
		return esE(400, "action_request_validation_exception", "Validation Failed: 1: roles are missing;")
	}
	es.mu.Lock()
	defer es.mu.Unlock()
	old := es.sec.Users[name]
	switch {
	case password != "":
		u.Password = shared.NewPwHash(password)
	case old != nil:
		u.Password = old.Password
	default:
		return esE(400, "action_request_validation_exception",
			"Validation Failed: 1: password must be specified unless you are updating an existing user;")
	}
	es.sec.Users[name] = u
	if err := es.saveSecurity(); err != nil {
		return esE(500, "exception", "saving security state: %v", err)
	}
	shared.Logger.Printf("elasticsearch: user [%s] %s with roles [%s] (by [%s])", name,
		map[bool]string{true: "created", false: "updated"}[old == nil], strings.Join(u.Roles, ","), p.name)
	shared.WriteJSON(w, 200, obj{"created": old == nil})
	return nil
}

func (es *Server) userBody(name string, u *esUser) obj {
	meta := obj{}
	for k, v := range u.Metadata {
		meta[k] = v
	}
	if _, reserved := esReservedUsers[name]; reserved {
		meta["_reserved"] = true
	}
	roles := u.Roles
	if roles == nil {
		roles = []string{}
	}
	return obj{"username": name, "roles": roles, "full_name": nilIfEmpty(u.FullName), "email": nilIfEmpty(u.Email),
		"metadata": meta, "enabled": u.Enabled}
}

func (es *Server) getUsers(w http.ResponseWriter, p *esPrincipal, names []string) *esErr {
	if e := es.requireCluster(p, "read_security"); e != nil {
		return e
	}
	es.mu.RLock()
	defer es.mu.RUnlock()
	out := obj{}
	all := map[string]*esUser{}
	for n, roles := range esReservedUsers {
		all[n] = &esUser{Roles: roles, Enabled: true}
	}
	for n, u := range es.sec.Users {
		all[n] = u
	}
	want := names
	if len(names) == 1 {
		want = strings.Split(names[0], ",")
	}
	for n, u := range all {
		if len(want) == 0 || shared.ContainsAny(want, []string{n}) {
			out[n] = es.userBody(n, u)
		}
	}
	status := 200
	if len(want) > 0 && len(out) == 0 {
		status = 404
	}
	shared.WriteJSON(w, status, out)
	return nil
}

func (es *Server) putRole(w http.ResponseWriter, r *http.Request, p *esPrincipal, name string) *esErr {
	if e := es.requireCluster(p, "manage_security"); e != nil {
		return e
	}
	if _, reserved := esBuiltinRoles[name]; reserved {
		return esE(400, "illegal_argument_exception", "role [%s] is reserved and cannot be modified", name)
	}
	body, _, e := esReadJSONBody(r, true)
	if e != nil {
		return e
	}
	role := &esRole{Cluster: []string{}, Indices: []esIndexPrivileges{}}
	bad := func(f string, a ...any) *esErr {
		return esE(400, "parse_exception", "failed to parse role [%s]. %s", name, fmt.Sprintf(f, a...))
	}
	for k, v := range body {
		switch k {
		case "cluster":
			privs, ok := shared.StringList(v)
			if !ok {
				return bad("[cluster] must be an array of strings")
			}
			for _, pr := range privs {
				if !shared.ContainsAny(esClusterPrivilegeNames, []string{pr}) && !strings.Contains(pr, ":") {
					return esE(400, "illegal_argument_exception",
						"unknown cluster privilege [%s]. a privilege must be either one of the predefined cluster privilege names [%s] or a pattern over one of the available cluster actions",
						pr, strings.Join(esClusterPrivilegeNames, ","))
				}
			}
			role.Cluster = privs
		case "indices":
			list, ok := v.([]any)
			if !ok {
				return bad("[indices] must be an array")
			}
			for _, item := range list {
				ip, e := esParseIndexPrivileges(name, item)
				if e != nil {
					return e
				}
				role.Indices = append(role.Indices, ip)
			}
		case "metadata":
			role.Metadata, _ = v.(map[string]any)
		case "applications", "run_as", "description", "transient_metadata", "global", "remote_indices", "remote_cluster":
			if !esEmptyValue(v) {
				return esE(400, "standin_not_modelled_exception", "the Elasticsearch stand-in does not model role field [%s]", k)
			}
		default:
			return bad("unexpected field [%s]", k)
		}
	}
	es.mu.Lock()
	defer es.mu.Unlock()
	_, existed := es.sec.Roles[name]
	es.sec.Roles[name] = role
	if err := es.saveSecurity(); err != nil {
		return esE(500, "exception", "saving security state: %v", err)
	}
	shared.Logger.Printf("elasticsearch: role [%s] %s (by [%s])", name, map[bool]string{true: "updated", false: "created"}[existed], p.name)
	shared.WriteJSON(w, 200, obj{"role": obj{"created": !existed}})
	return nil
}

func esEmptyValue(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case string:
		return true // a description changes nothing
	case []any:
		return len(t) == 0
	case map[string]any:
		return true // metadata-like objects change nothing
	}
	return false
}

func esParseIndexPrivileges(role string, item any) (esIndexPrivileges, *esErr) {
	var ip esIndexPrivileges
	m, ok := item.(map[string]any)
	if !ok {
		return ip, esE(400, "parse_exception", "failed to parse indices privileges for role [%s]. expected an object", role)
	}
	for k, v := range m {
		switch k {
		case "names":
			names, ok := shared.StringList(v)
			if !ok {
				return ip, esE(400, "parse_exception", "failed to parse indices privileges for role [%s]. [names] must be a string or an array of strings", role)
			}
			ip.Names = names
		case "privileges":
			privs, ok := shared.StringList(v)
			if !ok {
				return ip, esE(400, "parse_exception", "failed to parse indices privileges for role [%s]. [privileges] must be an array of strings", role)
			}
			for _, pr := range privs {
				if !shared.ContainsAny(esIndexPrivilegeNames, []string{pr}) && !strings.Contains(pr, ":") {
					return ip, esE(400, "illegal_argument_exception",
						"unknown index privilege [%s]. a privilege must be either one of the predefined fixed indices privileges [%s] or a pattern over one of the available index actions",
						pr, strings.Join(esIndexPrivilegeNames, ","))
				}
			}
			ip.Privileges = privs
		case "allow_restricted_indices":
		case "field_security", "query":
			return ip, esE(400, "standin_not_modelled_exception",
				"the Elasticsearch stand-in does not model [%s] (document or field level security)", k)
		default:
			return ip, esE(400, "parse_exception", "failed to parse indices privileges for role [%s]. unexpected field [%s]", role, k)
		}
	}
	if len(ip.Names) == 0 {
		return ip, esE(400, "parse_exception", "failed to parse indices privileges for role [%s]. missing required [names] field", role)
	}
	if len(ip.Privileges) == 0 {
		return ip, esE(400, "parse_exception", "failed to parse indices privileges for role [%s]. missing required [privileges] field", role)
	}
	return ip, nil
}

func (es *Server) getRoles(w http.ResponseWriter, p *esPrincipal, names []string) *esErr {
	if e := es.requireCluster(p, "read_security"); e != nil {
		return e
	}
	es.mu.RLock()
	defer es.mu.RUnlock()
	all := map[string]*esRole{}
	for n, r := range esBuiltinRoles {
		all[n] = r
	}
	for n, r := range es.sec.Roles {
		all[n] = r
	}
	want := names
	if len(names) == 1 {
		want = strings.Split(names[0], ",")
	}
	out := obj{}
	for n, r := range all {
		if len(want) > 0 && !shared.ContainsAny(want, []string{n}) {
			continue
		}
		indices := []obj{}
		for _, ip := range r.Indices {
			indices = append(indices, obj{"names": ip.Names, "privileges": ip.Privileges, "allow_restricted_indices": false})
		}
		meta := obj{}
		for k, v := range r.Metadata {
			meta[k] = v
		}
		if _, builtin := esBuiltinRoles[n]; builtin {
			meta["_reserved"] = true
		}
		cluster := r.Cluster
		if cluster == nil {
			cluster = []string{}
		}
		out[n] = obj{"cluster": cluster, "indices": indices, "applications": []any{}, "run_as": []any{},
			"metadata": meta, "transient_metadata": obj{"enabled": true}}
	}
	status := 200
	if len(want) > 0 && len(out) == 0 {
		status = 404
	}
	shared.WriteJSON(w, status, out)
	return nil
}
