package session_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/httpapi"
	"github.com/lantau-hq/lantau/shared/identity"
	"github.com/lantau-hq/lantau/shared/identity/session"
)

// request is a gateway request carrying claims, as the runner and API
// Gateway deliver it.
func request(t *testing.T, claims map[string]string) *http.Request {
	t.Helper()
	var acc core.RequestAccessorV2
	r, err := acc.EventToRequestWithContext(context.Background(), events.APIGatewayV2HTTPRequest{
		RawPath: "/v1/things", RequestContext: events.APIGatewayV2HTTPRequestContext{
			HTTP:       events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: "/v1/things"},
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims}},
		},
	})
	require.NoError(t, err)
	return r
}

// The checks that come before the table: the scope of a full sign-in and a ver claim.
func TestRequire_RefusesEnrolOnlyTokensAndTokensWithoutVersion(t *testing.T) {
	// No store: none of these cases may reach it.
	mw := session.Require(&identity.Sessions{})
	h := httpapi.RequireActor(mw(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		t.Error("the handler must not run")
	})))
	base := map[string]string{"sub": "u-1", "tenant": "c-1", "sid": "s-1", "ver": "0"}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range base {
			m[a] = b
		}
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	cases := []struct {
		name   string
		claims map[string]string
		status int
		code   string
	}{
		{"enrol-only token", with("scope", identity.ScopeEnrol), http.StatusForbidden, "mfa-enrolment-required"},
		{"token of another issuer, without scope", base, http.StatusForbidden, "insufficient-scope"},
		{"no ver claim", with("ver", ""), http.StatusUnauthorized, "session-ended"},
	}
	cases[2].claims["scope"] = identity.ScopeAPI
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, request(t, tc.claims))
			assert.Equal(t, tc.status, rec.Code)
			var body map[string]any
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
			assert.Equal(t, "https://lantau.dev/problems/"+tc.code, body["type"])
		})
	}
}
