package directoryfn_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/identity/identitytest"
)

// api is a stack with helpers for the directory's routes.
type api struct {
	*identitytest.Stack
	t *testing.T
}

func (s api) do(method, path, bearer string, body any, headers ...string) identitytest.Reply {
	s.t.Helper()
	return s.Do(s.t, method, "/v1/directory"+path, bearer, body, headers...)
}

// must calls and requires the status.
func (s api) must(status int, method, path, bearer string, body any) identitytest.Reply {
	s.t.Helper()
	res := s.do(method, path, bearer, body)
	require.Equal(s.t, status, res.Status, "%s %s: %s", method, path, res.Raw)
	return res
}

func (s api) department(bearer, name, nameZh, parent string) string {
	s.t.Helper()
	return s.must(http.StatusCreated, "POST", "/departments", bearer, map[string]any{"name": name, "nameZh": nameZh, "parent": parent}).Str("id")
}

// employee creates an employee, accepts their invitation and signs them
// in: it returns their ID and access token.
func (s api) employee(c *identitytest.Company, bearer string, body map[string]any) (id, access string) {
	s.t.Helper()
	id = s.must(http.StatusCreated, "POST", "/employees", bearer, body).Str("id")
	_, tok := s.LastLink(s.t, body["email"].(string), "invitation")
	res := s.Do(s.t, "POST", "/v1/users/invitations/accept", "", map[string]any{"token": tok, "password": identitytest.GoodPassword})
	require.Equal(s.t, http.StatusOK, res.Status, "%s", res.Raw)
	res = s.Do(s.t, "POST", "/v1/auth/login", "", map[string]any{"email": body["email"], "password": identitytest.GoodPassword})
	require.Equal(s.t, http.StatusOK, res.Status, "%s", res.Raw)
	return id, res.Str("accessToken")
}

// scopeAdmin makes user a directory admin limited to dept through the
// super admin's PUT /v1/users/{id}/roles, and signs them in with a second
// factor (admins must have one).
func (s api) scopeAdmin(c *identitytest.Company, user, email, dept string) string {
	s.t.Helper()
	res := s.Do(s.t, "PUT", "/v1/users/"+user+"/roles", c.Access, map[string]any{"role": "admin",
		"areas": []string{"directory"}, "department": dept})
	require.Equal(s.t, http.StatusOK, res.Status, "%s", res.Raw)
	require.Equal(s.t, dept, res.Str("department"))
	// A department that does not exist is refused.
	bad := s.Do(s.t, "PUT", "/v1/users/"+user+"/roles", c.Access, map[string]any{"role": "admin",
		"areas": []string{"directory"}, "department": "d-nowhere"})
	require.Equal(s.t, http.StatusBadRequest, bad.Status, "%s", bad.Raw)

	res = s.Do(s.t, "POST", "/v1/auth/login", "", map[string]any{"email": email, "password": identitytest.GoodPassword})
	require.Equal(s.t, http.StatusOK, res.Status, "%s", res.Raw)
	require.Equal(s.t, true, res.Body["enrolmentRequired"], "%s", res.Raw)
	enrol := res.Str("accessToken")
	res = s.Do(s.t, "POST", "/v1/auth/totp", enrol, nil)
	require.Equal(s.t, http.StatusOK, res.Status, "%s", res.Raw)
	res = s.Do(s.t, "POST", "/v1/auth/totp/confirm", enrol, map[string]any{"code": identitytest.Code(s.t, res.Str("secret"), 0)})
	require.Equal(s.t, http.StatusOK, res.Status, "%s", res.Raw)
	return res.Body["tokens"].(map[string]any)["accessToken"].(string)
}

func names(res identitytest.Reply, key string) []string {
	var out []string
	list, _ := res.Body[key].([]any)
	for _, x := range list {
		m := x.(map[string]any)
		n, _ := m["nameEn"].(string)
		out = append(out, n)
	}
	return out
}

func TestDirectoryAPI(t *testing.T) {
	s := api{Stack: identitytest.Start(t), t: t}
	c := s.NewCompany(t, "acme.com.hk")
	boss := c.Access

	marketing := s.department(boss, "Marketing", "市場部", "")
	digital := s.department(boss, "Digital", "數碼組", marketing)
	social := s.department(boss, "Social", "", digital)
	finance := s.department(boss, "Finance", "財務部", "")

	chanID, _ := s.employee(c, boss, map[string]any{"nameEn": "Chan Tai Man", "nameZh": "陳大文", "email": "tm.chan@acme.com.hk",
		"rank": "經理", "department": marketing, "phone": "+852 9123 4567", "employeeNumber": "A-001"})
	leeID, leeToken := s.employee(c, boss, map[string]any{"nameEn": "Lee Siu Ming", "email": "sm.lee@acme.com.hk", "department": social})
	hoID, _ := s.employee(c, boss, map[string]any{"nameEn": "Ho Ka Yan", "email": "ky.ho@acme.com.hk", "department": finance, "phone": "+85228001234"})
	s.must(http.StatusOK, "PATCH", "/departments/"+marketing, boss, map[string]any{"head": chanID})

	t.Run("the first admin gets a record and heads a department", func(t *testing.T) {
		res := s.must(http.StatusCreated, "POST", "/employees", boss, map[string]any{"userId": c.AdminID, "nameEn": "Yeung Chi Keung", "department": finance})
		assert.Equal(t, c.Email, res.Str("email"))
		assert.Equal(t, "active", res.Str("status"))
		s.must(http.StatusOK, "PATCH", "/departments/"+finance, boss, map[string]any{"head": c.AdminID})
		res = s.must(http.StatusOK, "GET", "/employees/"+hoID+"/managers", boss, nil)
		assert.Equal(t, []string{"Yeung Chi Keung"}, names(res, "managers"))
	})

	t.Run("display name follows the default format", func(t *testing.T) {
		res := s.must(http.StatusOK, "GET", "/employees/"+chanID, boss, nil)
		assert.Equal(t, "市場部-陳大文-經理", res.Str("displayName"))
		assert.Equal(t, "active", res.Str("status"), "mirrors the account")
	})

	t.Run("a cyclic move is refused, in Chinese when asked", func(t *testing.T) {
		res := s.do("PATCH", "/departments/"+marketing, boss, map[string]any{"parent": social}, "Accept-Language", "zh-HK")
		assert.Equal(t, http.StatusConflict, res.Status, "%s", res.Raw)
		assert.Equal(t, identitytest.ProblemType("department-cycle"), res.Str("type"))
		assert.Equal(t, "部門不可移至其本身或其下屬部門之下。", res.Str("detail"))
		assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
	})

	t.Run("a department with people or sub-departments cannot be deleted", func(t *testing.T) {
		res := s.do("DELETE", "/departments/"+digital, boss, nil)
		assert.Equal(t, http.StatusConflict, res.Status, "%s", res.Raw)
		assert.Equal(t, identitytest.ProblemType("department-not-empty"), res.Str("type"))
		res = s.do("DELETE", "/departments/"+social, boss, nil)
		assert.Equal(t, http.StatusConflict, res.Status, "has Lee: %s", res.Raw)
		empty := s.department(boss, "Empty", "", finance)
		s.must(http.StatusNoContent, "DELETE", "/departments/"+empty, boss, nil)
	})

	t.Run("members with and without sub-departments", func(t *testing.T) {
		res := s.must(http.StatusOK, "GET", "/departments/"+marketing+"/members", leeToken, nil)
		assert.Equal(t, []string{"Chan Tai Man"}, names(res, "employees"))
		res = s.must(http.StatusOK, "GET", "/departments/"+marketing+"/members?subtree=true", leeToken, nil)
		assert.Equal(t, []string{"Chan Tai Man", "Lee Siu Ming"}, names(res, "employees"))
		res = s.do("GET", "/departments/"+marketing+"/members?subtree=maybe", leeToken, nil)
		assert.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Raw)
	})

	t.Run("the manager chain climbs the department heads", func(t *testing.T) {
		res := s.must(http.StatusOK, "GET", "/employees/"+leeID+"/managers", leeToken, nil)
		assert.Equal(t, []string{"Chan Tai Man"}, names(res, "managers"))
		res = s.do("PATCH", "/employees/"+chanID, boss, map[string]any{"manager": leeID})
		assert.Equal(t, http.StatusBadRequest, res.Status, "Lee is managed by Chan: %s", res.Raw)
		assert.Contains(t, string(res.Raw), `"field":"manager"`)
	})

	t.Run("colleagues see public fields only", func(t *testing.T) {
		res := s.must(http.StatusOK, "GET", "/employees?q=tm.chan", leeToken, nil)
		require.Len(t, res.Body["employees"], 1)
		chan_ := res.Body["employees"].([]any)[0].(map[string]any)
		assert.Equal(t, "tm.chan@acme.com.hk", chan_["email"])
		assert.NotContains(t, chan_, "phone")
		assert.NotContains(t, chan_, "employeeNumber")
		res = s.must(http.StatusOK, "GET", "/employees?q=a-001", boss, nil)
		assert.Equal(t, []string{"Chan Tai Man"}, names(res, "employees"), "admins find by employee number")
	})

	t.Run("a department-scoped admin is refused outside their subtree", func(t *testing.T) {
		scoped := s.scopeAdmin(c, leeID, "sm.lee@acme.com.hk", digital)

		// Inside: create a sub-department and an employee, see private fields.
		s.department(scoped, "Video", "", social)
		s.must(http.StatusCreated, "POST", "/employees", scoped, map[string]any{"nameEn": "Wong", "email": "wong@acme.com.hk", "department": social})
		// Outside: refused, with the scope's own explanation.
		for _, call := range []struct {
			method, path string
			body         any
		}{
			{"POST", "/departments", map[string]any{"name": "Tax", "parent": finance}},
			{"POST", "/departments", map[string]any{"name": "New top level"}},
			{"PATCH", "/departments/" + finance, map[string]any{"name": "Money"}},
			{"PATCH", "/departments/" + social, map[string]any{"parent": finance}},
			{"DELETE", "/departments/" + marketing, nil},
			{"POST", "/employees", map[string]any{"nameEn": "X", "email": "x@acme.com.hk", "department": finance}},
			{"PATCH", "/employees/" + hoID, map[string]any{"rank": "Director"}},
			{"PATCH", "/employees/" + chanID, map[string]any{"title": "Boss"}},
			{"POST", "/employees/" + hoID + "/deactivate", nil},
			{"POST", "/employees/" + hoID + "/invitation", nil},
			{"PUT", "/settings", map[string]any{"displayNameFormat": "{name}"}},
		} {
			res := s.do(call.method, call.path, scoped, call.body)
			assert.Equal(t, http.StatusForbidden, res.Status, "%s %s: %s", call.method, call.path, res.Raw)
		}
		// Reading stays open, without private fields outside the scope.
		res := s.must(http.StatusOK, "GET", "/employees/"+hoID, scoped, nil)
		assert.NotContains(t, res.Body, "phone")
		// Inside their scope, a scoped admin resends an invitation; there is
		// none to resend to someone who has set a password.
		wongID := s.must(http.StatusCreated, "POST", "/employees", scoped, map[string]any{"nameEn": "Wong Resend", "email": "resend@acme.com.hk", "department": social}).Str("id")
		_, first := s.LastLink(t, "resend@acme.com.hk", "invitation")
		s.must(http.StatusAccepted, "POST", "/employees/"+wongID+"/invitation", scoped, nil)
		_, second := s.LastLink(t, "resend@acme.com.hk", "invitation")
		assert.NotEqual(t, first, second)
		assert.Equal(t, http.StatusConflict, s.do("POST", "/employees/"+leeID+"/invitation", boss, nil).Status)
		// And identity's own user routes refuse scoped admins.
		res = s.Do(t, "POST", "/v1/users", scoped, map[string]any{"email": "y@acme.com.hk", "name": "Y"})
		assert.Equal(t, http.StatusForbidden, res.Status, "%s", res.Raw)
	})

	t.Run("another company can neither see nor touch this directory", func(t *testing.T) {
		other := s.NewCompany(t, "rival.com.hk")
		for _, call := range []struct {
			method, path string
			body         any
		}{
			{"GET", "/employees/" + chanID, nil},
			{"GET", "/employees/" + chanID + "/managers", nil},
			{"PATCH", "/employees/" + chanID, map[string]any{"rank": "Nobody"}},
			{"POST", "/employees/" + chanID + "/deactivate", nil},
			{"GET", "/departments/" + marketing, nil},
			{"GET", "/departments/" + marketing + "/members?subtree=true", nil},
			{"PATCH", "/departments/" + marketing, map[string]any{"name": "Ours"}},
			{"DELETE", "/departments/" + finance, nil},
		} {
			res := s.do(call.method, call.path, other.Access, call.body)
			assert.Equal(t, http.StatusNotFound, res.Status, "%s %s: %s", call.method, call.path, res.Raw)
		}
		res := s.must(http.StatusOK, "GET", "/employees?q=chan", other.Access, nil)
		assert.Empty(t, res.Body["employees"])
		res = s.must(http.StatusOK, "GET", "/departments", other.Access, nil)
		assert.Empty(t, res.Body["departments"])
		// A department of another company is no parent here.
		res = s.do("POST", "/departments", other.Access, map[string]any{"name": "Sub", "parent": marketing})
		assert.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Raw)
		// Nothing changed at Acme.
		res = s.must(http.StatusOK, "GET", "/departments/"+marketing, boss, nil)
		assert.Equal(t, "Marketing", res.Str("name"))
		res = s.must(http.StatusOK, "GET", "/employees/"+chanID, boss, nil)
		assert.Equal(t, "經理", res.Str("rank"))
	})

	t.Run("a deactivated employee's token stops working", func(t *testing.T) {
		id, token := s.employee(c, boss, map[string]any{"nameEn": "Leaving Soon", "email": "leaving@acme.com.hk", "department": finance})
		s.must(http.StatusOK, "GET", "/employees?q=leaving", token, nil)
		res := s.must(http.StatusOK, "POST", "/employees/"+id+"/deactivate", boss, nil)
		assert.Equal(t, "deactivated", res.Str("status"))
		assert.NotEmpty(t, res.Str("leaveDate"))
		identitytest.Eventually(t, func() bool {
			return s.do("GET", "/employees?q=leaving", token, nil).Status == http.StatusUnauthorized
		}, "the deactivated employee's access token is refused")
		res = s.Do(t, "POST", "/v1/auth/login", "", map[string]any{"email": "leaving@acme.com.hk", "password": identitytest.GoodPassword})
		assert.NotEqual(t, http.StatusOK, res.Status, "nor can they sign in: %s", res.Raw)
		s.must(http.StatusOK, "POST", "/employees/"+id+"/deactivate", boss, nil) // again: no error
	})

	t.Run("a retried creation with its Idempotency-Key creates one employee", func(t *testing.T) {
		body := map[string]any{"nameEn": "Once Only", "email": "once@acme.com.hk", "department": finance}
		first := s.do("POST", "/employees", boss, body, "Idempotency-Key", "create-once-1")
		require.Equal(t, http.StatusCreated, first.Status, "%s", first.Raw)
		again := s.do("POST", "/employees", boss, body, "Idempotency-Key", "create-once-1")
		assert.Equal(t, http.StatusCreated, again.Status, "%s", again.Raw)
		assert.Equal(t, first.Str("id"), again.Str("id"))
		assert.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
		res := s.must(http.StatusOK, "GET", "/employees?q=once", boss, nil)
		assert.Len(t, res.Body["employees"], 1)
	})

	t.Run("bad input gets field-level reasons", func(t *testing.T) {
		res := s.do("POST", "/employees", boss, map[string]any{"email": "not-an-address", "phone": "abc", "startDate": "25/11/2026"})
		assert.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Raw)
		raw := string(res.Raw)
		for _, field := range []string{"nameEn", "phone", "startDate"} {
			assert.Contains(t, raw, `"field":"`+field+`"`)
		}
		res = s.do("POST", "/employees", boss, map[string]any{"nameEn": "X", "email": "x@gmail.com"})
		assert.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Raw)
		res = s.do("POST", "/departments", boss, map[string]any{"name": "Marketing"})
		assert.Equal(t, http.StatusConflict, res.Status, "sibling names are unique: %s", res.Raw)
		res = s.do("GET", "/employees?limit=500", boss, nil)
		assert.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Raw)
		res = s.do("POST", "/departments", boss, map[string]any{"name": "X", "colour": "red"})
		assert.Equal(t, http.StatusBadRequest, res.Status, "unknown fields: %s", res.Raw)
	})

	t.Run("directory events reach the audit trail", func(t *testing.T) {
		identitytest.Eventually(t, func() bool {
			res := s.Do(t, "GET", "/v1/audit/entries?limit=200", boss, nil)
			return res.Status == http.StatusOK && containsAll(string(res.Raw), "DepartmentCreated", "EmployeeCreated", "EmployeeDeactivated")
		}, "the audit function records the directory's events")
	})
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
