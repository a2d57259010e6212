// Package session is the HTTP middleware that refuses access tokens whose
// sign-in has ended: the user was deactivated or their role changed (the
// token's ver is outdated), or the session (sid) was logged out or revoked
// after a refresh token was reused. API Gateway checks only a token's
// signature and expiry; this is the check against the table, cached
// briefly (identity.DefaultSessionCacheTTL).
//
// Every function behind the JWT authorizer adopts it the same way, inside
// httpapi.RequireActor:
//
//	sessions := session.FromEnv(store, env)
//	h := httpapi.Logging(log)(httpapi.RequireActor(session.Require(sessions)(mux)))
//
// with read access to the table (dynamodb:GetItem, and dynamodb:Query on
// its GSI1 index) in its template policy.
package session

import (
	"net/http"
	"strconv"
	"time"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/lantau-hq/lantau/shared/function"
	"github.com/lantau-hq/lantau/shared/httpapi"
	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/identity"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/table"
	"github.com/lantau-hq/lantau/shared/token"
)

// CacheTTLVariable names the environment variable that overrides the cache
// lifetime (a Go duration such as "30s"; "-1s" turns the cache off).
const CacheTTLVariable = "SESSION_CACHE_TTL"

// FromEnv returns the session checker of a function over its table.
func FromEnv(store table.Store, env function.Env) *identity.Sessions {
	s := &identity.Sessions{Store: store, Refreshes: &token.Refreshes{Table: store}}
	if v := env(CacheTTLVariable); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			s.TTL = d
		}
	}
	return s
}

// Require refuses requests whose token is not a full sign-in (scope
// lantau/api) or whose session has ended. httpapi.RequireActor must run first.
func Require(s *identity.Sessions) func(http.Handler) http.Handler {
	return middleware(s, false)
}

// RequireAny is Require that also admits tokens that may only enrol a
// second factor; only identity's enrolment and logout routes use it.
func RequireAny(s *identity.Sessions) func(http.Handler) http.Handler {
	return middleware(s, true)
}

func middleware(s *identity.Sessions, enrolOK bool) func(http.Handler) http.Handler {
	const op = "session.Require"
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			a, ok := httpapi.ActorFrom(r.Context())
			if !ok {
				problem.Write(w, r, problem.E(op, problem.Unauthenticated, problem.Code("unauthenticated"), "no actor: RequireActor must run first",
					i18n.Text{EN: "Please sign in.", ZH: "請先登入。"}))
				return
			}
			if !a.HasScope(identity.ScopeAPI) && !(enrolOK && a.HasScope(identity.ScopeEnrol)) {
				code, text := problem.Code("insufficient-scope"), i18n.Text{EN: "This sign-in cannot be used here.", ZH: "此登入不可用於此處。"}
				if a.HasScope(identity.ScopeEnrol) {
					code, text = "mfa-enrolment-required", i18n.Text{
						EN: "Set up two-factor sign-in first; until then your sign-in can only do that.",
						ZH: "請先設定雙重認證；在此之前，你的登入只可用於設定雙重認證。",
					}
				}
				problem.Write(w, r, problem.E(op, problem.Forbidden, code, text, "token scopes do not allow this route"))
				return
			}
			ver, ok := version(r)
			if !ok {
				problem.Write(w, r, problem.E(op, problem.Unauthenticated, problem.Code("session-ended"), "token without a ver claim",
					i18n.Text{EN: "Please sign in again.", ZH: "請重新登入。"}))
				return
			}
			if err := s.Check(r.Context(), a.Tenant, a.User, a.SessionID, ver); err != nil {
				problem.Write(w, r, problem.Wrap(op, err))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// version reads the ver claim from the JWT authorizer's claims.
func version(r *http.Request) (int, bool) {
	rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context())
	if !ok || rc.Authorizer == nil || rc.Authorizer.JWT == nil {
		return 0, false
	}
	v, ok := rc.Authorizer.JWT.Claims["ver"]
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	return n, err == nil && n >= 0
}
