package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/httpapi"
	"github.com/lantau-hq/lantau/shared/logging"
)

// app is a function's handler as main would wire it.
func app(logs *bytes.Buffer) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /me", httpapi.Handle("me.Get", func(w http.ResponseWriter, r *http.Request) error {
		a, ok := httpapi.ActorFrom(r.Context())
		if !ok {
			panic("RequireActor did not run")
		}
		logging.FromContext(r.Context()).InfoContext(r.Context(), "inside")
		return httpapi.JSON(w, http.StatusOK, a)
	}))
	return httpapi.Logging(logging.New(logs, "me", slog.LevelInfo))(httpapi.RequireActor(mux))
}

// event is an API Gateway HTTP API (payload v2) request for GET /me.
func event(claims map[string]string, scopes []string) events.APIGatewayV2HTTPRequest {
	ev := events.APIGatewayV2HTTPRequest{
		Version:  "2.0",
		RouteKey: "GET /me",
		RawPath:  "/me",
		Headers:  map[string]string{"accept-language": "zh-HK,zh;q=0.9,en;q=0.8"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:   "GET /me",
			RequestID:  "gw-req-1",
			DomainName: "api.lantau.dev",
			HTTP:       events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: "/me"},
		},
	}
	if claims != nil {
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims, Scopes: scopes},
		}
	}
	return ev
}

func invoke(t *testing.T, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, []map[string]any) {
	t.Helper()
	var logs bytes.Buffer
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "aws-req-1"})
	resp, err := httpadapter.NewV2(app(&logs)).ProxyWithContext(ctx, ev)
	require.NoError(t, err)
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m), l)
		lines = append(lines, m)
	}
	return resp, lines
}

func TestRequireActor_ReadsJWTClaimsFromAPIGateway(t *testing.T) {
	tests := []struct {
		name   string
		claims map[string]string
		scopes []string
		want   httpapi.Actor
	}{
		{"API Gateway flattened roles",
			map[string]string{"sub": "u-1", "tenant": "acme", "roles": "[admin hr]", "sid": "s-1"}, []string{"staff.read"},
			httpapi.Actor{Tenant: "acme", User: "u-1", Roles: []string{"admin", "hr"}, Scopes: []string{"staff.read"}, SessionID: "s-1"}},
		{"JSON array roles and scope claim",
			map[string]string{"sub": "u-2", "tenant": "acme", "roles": `["manager","staff"]`, "scope": "openid staff.write"}, nil,
			httpapi.Actor{Tenant: "acme", User: "u-2", Roles: []string{"manager", "staff"}, Scopes: []string{"openid", "staff.write"}}},
		{"comma separated roles, no scopes",
			map[string]string{"sub": "u-3", "tenant": "t", "roles": "staff, payroll"}, nil,
			httpapi.Actor{Tenant: "t", User: "u-3", Roles: []string{"staff", "payroll"}}},
		{"no roles",
			map[string]string{"sub": "u-4", "tenant": "t"}, nil,
			httpapi.Actor{Tenant: "t", User: "u-4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, logs := invoke(t, event(tt.claims, tt.scopes))
			require.Equal(t, 200, resp.StatusCode, resp.Body)
			var got httpapi.Actor
			require.NoError(t, json.Unmarshal([]byte(resp.Body), &got))
			assert.Equal(t, tt.want, got)
			assert.Equal(t, "gw-req-1", resp.Headers["X-Request-Id"])

			require.Len(t, logs, 2)
			inside, line := logs[0], logs[1]
			assert.Equal(t, tt.want.Tenant, inside["tenant"], "domain logs carry the tenant")
			assert.Equal(t, "gw-req-1", inside["request_id"])
			assert.Equal(t, "aws-req-1", inside["aws_request_id"])
			for k, v := range map[string]any{"message": "request", "method": "GET", "route": "GET /me", "path": "/me",
				"status": float64(200), "request_id": "gw-req-1", "tenant": tt.want.Tenant, "function": "me"} {
				assert.Equal(t, v, line[k], k)
			}
			assert.Contains(t, line, "duration_ms")
		})
	}
}

func TestRequireActor_RefusesMissingIdentity(t *testing.T) {
	tests := []struct {
		name   string
		claims map[string]string
		status int
		want   string
	}{
		{"no authorizer", nil, 401,
			`{"type":"https://lantau.dev/problems/unauthenticated","title":"需要登入","status":401,"detail":"請先登入。","instance":"gw-req-1"}`},
		{"no subject", map[string]string{"tenant": "acme"}, 401,
			`{"type":"https://lantau.dev/problems/unauthenticated","title":"需要登入","status":401,"detail":"請先登入。","instance":"gw-req-1"}`},
		{"no tenant", map[string]string{"sub": "u-1"}, 403,
			`{"type":"https://lantau.dev/problems/no-tenant","title":"沒有權限","status":403,"detail":"你的帳戶未連結任何公司。","instance":"gw-req-1"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, logs := invoke(t, event(tt.claims, nil))
			assert.Equal(t, tt.status, resp.StatusCode)
			assert.Equal(t, "application/problem+json", resp.Headers["Content-Type"])
			assert.Equal(t, "zh-HK", resp.Headers["Content-Language"])
			assert.JSONEq(t, tt.want, resp.Body)
			last := logs[len(logs)-1]
			assert.Equal(t, float64(tt.status), last["status"])
		})
	}
}

func TestRequireActor_KeepsActorAlreadyInContext(t *testing.T) {
	// The local runner or a test may set the Actor directly.
	var logs bytes.Buffer
	r := httptest.NewRequest("GET", "/me", nil)
	r = r.WithContext(httpapi.WithActor(r.Context(), httpapi.Actor{Tenant: "t", User: "u"}))
	w := httptest.NewRecorder()
	app(&logs).ServeHTTP(w, r)
	assert.Equal(t, 200, w.Code)
	assert.JSONEq(t, `{"Tenant":"t","User":"u","Roles":null,"Scopes":null,"SessionID":""}`, w.Body.String())
	assert.Contains(t, logs.String(), `"route":"GET /me"`)
}

func TestParseList(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"[]", nil},
		{"[admin]", []string{"admin"}},
		{"[admin hr payroll]", []string{"admin", "hr", "payroll"}},
		{`["admin","hr"]`, []string{"admin", "hr"}},
		{`["admin", ""]`, []string{"admin"}},
		{"admin,hr", []string{"admin", "hr"}},
		{"admin hr", []string{"admin", "hr"}},
		{" admin , hr ", []string{"admin", "hr"}},
		{"[admin, hr]", []string{"admin", "hr"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			assert.Equal(t, tt.want, httpapi.ParseList(tt.in))
		})
	}
}

func TestActor_HasRoleAndScope(t *testing.T) {
	a := httpapi.Actor{Roles: []string{"hr"}, Scopes: []string{"staff.read"}}
	assert.True(t, a.HasRole("hr"))
	assert.False(t, a.HasRole("admin"))
	assert.True(t, a.HasScope("staff.read"))
	assert.False(t, a.HasScope("staff.write"))
	_, ok := httpapi.ActorFrom(context.Background())
	assert.False(t, ok)
}
