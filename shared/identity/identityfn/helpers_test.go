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
