package identityfn_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/identity/identitytest"
)

// The stack, companies and sign-ins come from identitytest; what is here
// serves identity's own assertions only.

func decodeJWT(t *testing.T, jws string) (header, payload map[string]any) {
	t.Helper()
	parts := strings.Split(jws, ".")
	require.Len(t, parts, 3)
	for i, dst := range []*map[string]any{&header, &payload} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(raw, dst))
	}
	return header, payload
}

// newCompanyFromLogin finishes the TOTP enrolment of a confirmed company's
// first admin and returns the company with full tokens.
func newCompanyFromLogin(t *testing.T, s *identitytest.Stack, email, password string) *identitytest.Company {
	t.Helper()
	res := s.Do(t, "POST", "/v1/auth/login", "", map[string]any{"email": email, "password": password})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	enrol := res.Str("accessToken")
	res = s.Do(t, "POST", "/v1/auth/totp", enrol, nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	c := &identitytest.Company{Email: email, Password: password, Secret: res.Str("secret")}
	res = s.Do(t, "POST", "/v1/auth/totp/confirm", enrol, map[string]any{"code": identitytest.Code(t, c.Secret, 0)})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	tokens := res.Body["tokens"].(map[string]any)
	c.Access, c.Refresh = tokens["accessToken"].(string), tokens["refreshToken"].(string)
	return c
}

func containsAll(have []string, want ...string) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			found = found || h == w
		}
		if !found {
			return false
		}
	}
	return true
}

// identityEvents are the types of identity's events in the audit trail of
// the company of access (a super admin's or auditor's token), oldest first;
// nil while the trail cannot be read.
func identityEvents(t *testing.T, s *identitytest.Stack, access string) []string {
	t.Helper()
	var types []string
	for _, m := range identityEntries(t, s, access) {
		types = append(types, m["type"].(string))
	}
	return types
}

// identityEntries are identity's entries in the audit trail of the company
// of access, oldest first, as the audit API lists them (type, actor, data,
// ...); nil while the trail cannot be read.
func identityEntries(t *testing.T, s *identitytest.Stack, access string) []map[string]any {
	t.Helper()
	res := s.Do(t, "GET", "/v1/audit/entries?order=oldest&limit=100", access, nil)
	if res.Status != http.StatusOK {
		return nil
	}
	var out []map[string]any
	for _, e := range res.Body["entries"].([]any) {
		m := e.(map[string]any)
		if m["source"] == "lantau.identity" {
			out = append(out, m)
		}
	}
	return out
}

// signIn signs in a user who has no second factor and returns the tokens.
func signIn(t *testing.T, s *identitytest.Stack, email, password, deviceID string) (access, refresh string) {
	t.Helper()
	res := s.Do(t, "POST", "/v1/auth/login", "", map[string]any{"email": email, "password": password, "deviceId": deviceID})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	require.Equal(t, "lantau/api", res.Str("scope"), "%s", res.Raw)
	return res.Str("accessToken"), res.Str("refreshToken")
}

// startWithEmployee starts a stack with a company on domain and an active
// employee, bob, who has no second factor.
func startWithEmployee(t *testing.T, domain string) (*identitytest.Stack, *identitytest.Company, string) {
	t.Helper()
	s := identitytest.Start(t)
	c := s.NewCompany(t, domain)
	_, bobEmail := s.Invite(t, c, "bob")
	return s, c, bobEmail
}
