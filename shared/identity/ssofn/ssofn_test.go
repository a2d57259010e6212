package ssofn_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/infra/oidctest"
	"github.com/lantau-hq/lantau/shared/identity/identitytest"
	"github.com/lantau-hq/lantau/shared/identity/ssofn"
)

// ssoFixture is the whole API on the runner, a company on acme.com.hk with
// a signed-in super admin, and a real OpenID provider on loopback whose
// client redirects to the API's SSO callback.
type ssoFixture struct {
	s       *identitytest.Stack
	c       *identitytest.Company
	op      *oidctest.Provider
	configs map[string]any // the PUT body that configured SSO (with the secret)
}

func newSSOFixture(t *testing.T, createUsers bool, accounts ...oidctest.Account) *ssoFixture {
	t.Helper()
	s := identitytest.Start(t)
	c := s.NewCompany(t, "acme.com.hk")
	op := oidctest.Start(t, oidctest.Config{ClientID: "lantau-acme", RedirectURI: s.API + ssofn.SSOCallbackPath,
		Accounts: accounts})
	f := &ssoFixture{s: s, c: c, op: op, configs: map[string]any{
		"issuer": op.Issuer(), "clientId": "lantau-acme", "clientSecret": op.Config().ClientSecret,
		"allowedDomains": []string{"acme.com.hk"}, "createUsers": createUsers,
	}}
	res := s.Do(t, "PUT", "/v1/companies/"+c.ID+"/sso", c.Access, f.configs)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	return f
}

// signIn starts an SSO sign-in for company (ID or domain), signs sub in
// at the provider's pages and returns the callback path (with its query)
// the browser was sent back to.
func (f *ssoFixture) signIn(t *testing.T, company, sub string) string {
	t.Helper()
	res := f.s.Do(t, "GET", "/v1/auth/sso/start?company="+url.QueryEscape(company), "", nil, "Accept", "application/json")
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	authURL := res.Str("authorizationUrl")
	require.True(t, strings.HasPrefix(authURL, f.op.Issuer()), authURL)
	cb, err := f.op.Login(t.Context(), authURL, sub)
	require.NoError(t, err)
	require.Empty(t, cb.Query().Get("error"), "%s", cb)
	require.Equal(t, ssofn.SSOCallbackPath, cb.Path)
	return cb.Path + "?" + cb.RawQuery
}

func assertSSOProblem(t *testing.T, res identitytest.Reply, status int, code string) {
	t.Helper()
	assert.Equal(t, status, res.Status, "%s", res.Raw)
	assert.Equal(t, "application/problem+json", strings.Split(res.Header.Get("Content-Type"), ";")[0])
	assert.Equal(t, identitytest.ProblemType(code), res.Str("type"), "%s", res.Raw)
}

func TestSSO_SuperAdminConfiguresAndTheSecretIsNeverReturned(t *testing.T) {
	t.Parallel()
	f := newSSOFixture(t, false)
	s, c := f.s, f.c
	secret := f.configs["clientSecret"].(string)
	path := "/v1/companies/" + c.ID + "/sso"

	res := s.Do(t, "GET", path, c.Access, nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	assert.Equal(t, f.op.Issuer(), res.Str("issuer"))
	assert.Equal(t, "lantau-acme", res.Str("clientId"))
	assert.Equal(t, true, res.Body["clientSecretSet"])
	assert.Equal(t, s.API+"/v1/auth/sso/callback", res.Str("redirectUri"))
	assert.NotContains(t, res.Body, "clientSecret")
	assert.NotContains(t, string(res.Raw), secret)

	// An edit without the secret keeps it.
	edit := map[string]any{"issuer": f.op.Issuer(), "clientId": "lantau-acme", "allowedDomains": []string{"ACME.com.hk", "@acme.hk"}}
	res = s.Do(t, "PUT", path, c.Access, edit)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	assert.Equal(t, []any{"acme.com.hk", "acme.hk"}, res.Body["allowedDomains"])
	assert.NotContains(t, string(res.Raw), secret)

	// Bad settings: field errors, in Chinese when asked.
	res = s.Do(t, "PUT", path, c.Access, map[string]any{"issuer": "http://idp.example.com", "clientId": "", "allowedDomains": []string{}},
		"Accept-Language", "zh-HK")
	assertSSOProblem(t, res, http.StatusBadRequest, "sso-config-invalid")
	assert.Contains(t, string(res.Raw), "https://")
	assert.Contains(t, string(res.Raw), "網域")

	// An employee may not read or change it; another company's super admin
	// does not even find the company.
	_, email := s.Invite(t, c, "wong")
	login := s.Do(t, "POST", "/v1/auth/login", "", map[string]any{"email": email, "password": identitytest.GoodPassword})
	require.Equal(t, http.StatusOK, login.Status, "%s", login.Raw)
	emp := login.Str("accessToken")
	require.NotEmpty(t, emp)
	assertSSOProblem(t, s.Do(t, "PUT", path, emp, f.configs), http.StatusForbidden, "forbidden")
	assertSSOProblem(t, s.Do(t, "GET", path, emp, nil), http.StatusForbidden, "forbidden")
	assertSSOProblem(t, s.Do(t, "DELETE", path, emp, nil), http.StatusForbidden, "forbidden")
	other := s.NewCompany(t, "kowloon-bakery.hk")
	assertSSOProblem(t, s.Do(t, "PUT", path, other.Access, f.configs), http.StatusNotFound, "company-not-found")

	// Removed: no settings, and no SSO sign-in.
	res = s.Do(t, "DELETE", path, c.Access, nil)
	require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Raw)
	assertSSOProblem(t, s.Do(t, "GET", path, c.Access, nil), http.StatusNotFound, "sso-not-configured")
	assertSSOProblem(t, s.Do(t, "GET", "/v1/auth/sso/start?company=acme.com.hk", "", nil), http.StatusNotFound, "sso-not-configured")

	// Each change is an SSOConfigured event in the audit trail, without the secret.
	identitytest.Eventually(t, func() bool {
		var actions []string
		for _, e := range ssoAuditEntries(t, s, c.Access, "SSOConfigured") {
			assert.NotContains(t, string(e), secret)
			var d struct{ Data struct{ Action string } }
			_ = json.Unmarshal(e, &d)
			actions = append(actions, d.Data.Action)
		}
		return assert.ObjectsAreEqual([]string{"saved", "saved", "removed"}, actions)
	}, "SSOConfigured events")
}

func TestSSO_LoginThroughTheProviderGivesTokensOfTheMatchedEmployee(t *testing.T) {
	t.Parallel()
	f := newSSOFixture(t, false,
		oidctest.Account{Sub: "idp-wong", Email: "Wong@ACME.com.hk", EmailVerified: true, Name: "黃小明"},
		oidctest.Account{Sub: "idp-chan", Email: "chan@acme.com.hk", EmailVerified: true})
	s, c := f.s, f.c
	wongID, _ := s.Invite(t, c, "wong")

	// Without Accept: application/json, start redirects the browser.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(s.API + "/v1/auth/sso/start?company=" + c.ID)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(loc.String(), f.op.Issuer()), loc)
	assert.Equal(t, "S256", loc.Query().Get("code_challenge_method"))
	assert.NotEmpty(t, loc.Query().Get("nonce"))
	assert.Equal(t, s.API+"/v1/auth/sso/callback", loc.Query().Get("redirect_uri"))

	callback := f.signIn(t, "acme.com.hk", "idp-wong")
	res := s.Do(t, "GET", callback, "", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	assert.Equal(t, "lantau/api", res.Str("scope"))
	require.NotEmpty(t, res.Str("refreshToken"))
	me := s.Do(t, "GET", "/v1/users/me", res.Str("accessToken"), nil)
	require.Equal(t, http.StatusOK, me.Status, "%s", me.Raw)
	assert.Equal(t, wongID, me.Str("id"))
	assert.Equal(t, "wong@acme.com.hk", me.Str("email"))
	assert.Equal(t, c.ID, me.Str("companyId"), "the token is for the employee's company")

	// The refresh token works like a password sign-in's.
	ref := s.Do(t, "POST", "/v1/auth/refresh", "", map[string]any{"refreshToken": res.Str("refreshToken")})
	assert.Equal(t, http.StatusOK, ref.Status, "%s", ref.Raw)

	// The same callback again: the state is used up.
	assertSSOProblem(t, s.Do(t, "GET", callback, "", nil, "Accept-Language", "zh-HK"), http.StatusBadRequest, "sso-state-used")

	// The super admin signs in through the provider too: the provider's
	// sign-in stands for the second factor.
	res = s.Do(t, "GET", f.signIn(t, c.ID, "idp-chan"), "", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	assert.Equal(t, "lantau/api", res.Str("scope"))
	me = s.Do(t, "GET", "/v1/users/me", res.Str("accessToken"), nil)
	assert.Equal(t, c.AdminID, me.Str("id"))
	// ... and so does every refresh of that sign-in: the session remembers
	// how it began, so the admin does not get an enrol-only token.
	ref = s.Do(t, "POST", "/v1/auth/refresh", "", map[string]any{"refreshToken": res.Str("refreshToken")})
	require.Equal(t, http.StatusOK, ref.Status, "%s", ref.Raw)
	assert.Equal(t, "lantau/api", ref.Str("scope"))
	assert.NotEmpty(t, ref.Str("refreshToken"))
	assert.Equal(t, http.StatusOK, s.Do(t, "GET", "/v1/security/summary", ref.Str("accessToken"), nil).Status)

	// LoginSucceeded with method "sso" is in the audit trail.
	identitytest.Eventually(t, func() bool {
		n := 0
		for _, e := range ssoAuditEntries(t, s, c.Access, "LoginSucceeded") {
			var d struct{ Data struct{ User, Method string } }
			_ = json.Unmarshal(e, &d)
			if d.Data.Method == "sso" && (d.Data.User == wongID || d.Data.User == c.AdminID) {
				n++
			}
		}
		return n == 2
	}, "two LoginSucceeded events with method sso")
}

func TestSSO_RefusesWhomTheCompanyDoesNotKnow(t *testing.T) {
	t.Parallel()
	f := newSSOFixture(t, false,
		oidctest.Account{Sub: "idp-ghost", Email: "ghost@acme.com.hk", EmailVerified: true},
		oidctest.Account{Sub: "idp-unverified", Email: "chan@acme.com.hk", EmailVerified: false},
		oidctest.Account{Sub: "idp-lee", Email: "lee@gmail.com", EmailVerified: true})
	s := f.s

	res := s.Do(t, "GET", f.signIn(t, "acme.com.hk", "idp-ghost"), "", nil, "Accept-Language", "zh-HK")
	assertSSOProblem(t, res, http.StatusForbidden, "sso-no-employee")
	assert.Contains(t, res.Str("detail"), "員工")
	assertSSOProblem(t, s.Do(t, "GET", f.signIn(t, "acme.com.hk", "idp-unverified"), "", nil), http.StatusForbidden, "sso-email-unverified")
	assertSSOProblem(t, s.Do(t, "GET", f.signIn(t, "acme.com.hk", "idp-lee"), "", nil), http.StatusForbidden, "sso-domain-not-allowed")

	// A deactivated employee is no employee.
	id, _ := s.Invite(t, f.c, "ghost")
	require.Equal(t, http.StatusOK, s.Do(t, "POST", "/v1/users/"+id+"/deactivate", f.c.Access, nil).Status)
	assertSSOProblem(t, s.Do(t, "GET", f.signIn(t, "acme.com.hk", "idp-ghost"), "", nil), http.StatusForbidden, "sso-no-employee")

	// Every refusal is a LoginFailed of method sso in the company's trail.
	identitytest.Eventually(t, func() bool {
		reasons := map[string]int{}
		for _, e := range ssoAuditEntries(t, s, f.c.Access, "LoginFailed") {
			var d struct {
				Data struct{ Method, Reason string }
			}
			_ = json.Unmarshal(e, &d)
			if d.Data.Method == "sso" {
				reasons[d.Data.Reason]++
			}
		}
		return reasons["sso-no-employee"] == 2 && reasons["sso-email-unverified"] == 1 && reasons["sso-domain-not-allowed"] == 1
	}, "LoginFailed events of method sso with their reasons")
}

func TestSSO_CreatesAnEmployeeWhenTheCompanyAllowsIt(t *testing.T) {
	t.Parallel()
	f := newSSOFixture(t, true, oidctest.Account{Sub: "idp-ho", Email: "ho@acme.com.hk", EmailVerified: true, Name: "何嘉欣"})
	res := f.s.Do(t, "GET", f.signIn(t, "acme.com.hk", "idp-ho"), "", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	me := f.s.Do(t, "GET", "/v1/users/me", res.Str("accessToken"), nil)
	require.Equal(t, http.StatusOK, me.Status, "%s", me.Raw)
	assert.Equal(t, "ho@acme.com.hk", me.Str("email"))
	assert.Equal(t, "何嘉欣", me.Str("name"))
	assert.Equal(t, "employee", me.Str("role"))
	assert.Equal(t, "active", me.Str("status"))

	// The second time, the same employee is found.
	again := f.s.Do(t, "GET", f.signIn(t, "acme.com.hk", "idp-ho"), "", nil)
	require.Equal(t, http.StatusOK, again.Status, "%s", again.Raw)
	assert.Equal(t, me.Str("id"), f.s.Do(t, "GET", "/v1/users/me", again.Str("accessToken"), nil).Str("id"))
}

func TestSSO_RefusesTamperedStateAndBadStarts(t *testing.T) {
	t.Parallel()
	f := newSSOFixture(t, false, oidctest.Account{Sub: "idp-chan", Email: "chan@acme.com.hk", EmailVerified: true})
	s := f.s

	cb, err := url.Parse(f.signIn(t, "acme.com.hk", "idp-chan"))
	require.NoError(t, err)
	q := cb.Query()
	state := q.Get("state")
	last := state[len(state)-1]
	flipped := byte('A')
	if last == 'A' {
		flipped = 'B'
	}
	q.Set("state", state[:len(state)-1]+string(flipped))
	assertSSOProblem(t, s.Do(t, "GET", cb.Path+"?"+q.Encode(), "", nil), http.StatusBadRequest, "sso-state-invalid")
	q.Set("state", "garbage")
	assertSSOProblem(t, s.Do(t, "GET", cb.Path+"?"+q.Encode(), "", nil), http.StatusBadRequest, "sso-state-invalid")
	// The right state without its code is refused and used up.
	q.Set("state", state)
	q.Del("code")
	assertSSOProblem(t, s.Do(t, "GET", cb.Path+"?"+q.Encode(), "", nil), http.StatusBadRequest, "sso-code-missing")

	assertSSOProblem(t, s.Do(t, "GET", "/v1/auth/sso/start?company=nowhere.hk", "", nil), http.StatusNotFound, "company-not-found")
	assertSSOProblem(t, s.Do(t, "GET", "/v1/auth/sso/start", "", nil), http.StatusBadRequest, "validation-failed")
	assertSSOProblem(t, s.Do(t, "GET", "/v1/auth/sso/start?company=acme.com.hk&redirect=https://evil.example", "", nil),
		http.StatusBadRequest, "sso-redirect-unsupported")

	// Failed callbacks are throttled per network like password sign-ins:
	// after the network's free failures, 429 with Retry-After.
	var reply identitytest.Reply
	for range 40 {
		if reply = s.Do(t, "GET", cb.Path+"?state=garbage&code=x", "", nil); reply.Status == http.StatusTooManyRequests {
			break
		}
		require.Equal(t, http.StatusBadRequest, reply.Status, "%s", reply.Raw)
	}
	assertSSOProblem(t, reply, http.StatusTooManyRequests, "too-many-attempts")
	assert.NotEmpty(t, reply.Header.Get("Retry-After"))
}

// ssoAuditEntries are the raw audit entries of lantau.identity events of typ.
func ssoAuditEntries(t *testing.T, s *identitytest.Stack, bearer, typ string) []json.RawMessage {
	t.Helper()
	res := s.Do(t, "GET", "/v1/audit/entries?order=oldest&limit=100", bearer, nil)
	if res.Status != http.StatusOK {
		return nil
	}
	var body struct{ Entries []json.RawMessage }
	require.NoError(t, json.Unmarshal(res.Raw, &body))
	var out []json.RawMessage
	for _, e := range body.Entries {
		var h struct{ Source, Type string }
		require.NoError(t, json.Unmarshal(e, &h))
		if h.Source == "lantau.identity" && h.Type == typ {
			out = append(out, e)
		}
	}
	return out
}
