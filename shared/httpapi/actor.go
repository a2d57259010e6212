package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/logging"
	"github.com/lantau-hq/lantau/shared/problem"
)

// Actor is who is calling: read once at the edge from the JWT authorizer's
// claims and handed to the domain as a value.
type Actor struct {
	Tenant    string   // claim "tenant"
	User      string   // claim "sub"
	Roles     []string // claim "roles"
	Scopes    []string // authorizer scopes, else claim "scope" or "scp"
	SessionID string   // claim "sid"
}

// HasRole reports whether a has role.
func (a Actor) HasRole(role string) bool { return slices.Contains(a.Roles, role) }

// HasScope reports whether a has scope.
func (a Actor) HasScope(scope string) bool { return slices.Contains(a.Scopes, scope) }

// ActorFromGateway reads the Actor from an API Gateway HTTP API (payload v2)
// request context. ok is false without JWT claims or without a subject.
func ActorFromGateway(rc events.APIGatewayV2HTTPRequestContext) (a Actor, ok bool) {
	if rc.Authorizer == nil || rc.Authorizer.JWT == nil {
		return Actor{}, false
	}
	jwt := rc.Authorizer.JWT
	c := jwt.Claims
	a = Actor{
		Tenant:    strings.TrimSpace(c["tenant"]),
		User:      strings.TrimSpace(c["sub"]),
		Roles:     ParseList(c["roles"]),
		Scopes:    slices.Clone(jwt.Scopes),
		SessionID: c["sid"],
	}
	if len(a.Scopes) == 0 {
		a.Scopes = ParseList(c["scope"])
	}
	if len(a.Scopes) == 0 {
		a.Scopes = ParseList(c["scp"])
	}
	return a, a.User != ""
}

// ParseList reads a claim that holds a list. API Gateway flattens a JSON
// array claim to "[a b c]"; a JSON array string (`["a","b"]`) and space or
// comma separated values ("a b", "a,b") are accepted too. Empty items are
// dropped.
func ParseList(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	if strings.HasPrefix(s, "[") {
		var arr []string
		if err := json.Unmarshal([]byte(s), &arr); err == nil {
			return compact(arr)
		}
		s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	}
	return compact(strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
	}))
}

func compact(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

type actorKey struct{}

// WithActor returns a copy of ctx carrying a. RequireActor does this in
// production; tests and the local runner may call it directly.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the Actor stored by RequireActor or WithActor.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}

// RequireActor stores the caller's Actor in the request context, reading it
// once from the JWT authorizer claims (unless one is there already). It
// answers 401 when there is no authenticated subject and 403 when the token
// names no tenant. The tenant is added to the request's log records.
func RequireActor(next http.Handler) http.Handler {
	const op = "httpapi.RequireActor"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		a, ok := ActorFrom(ctx)
		if !ok {
			if rc, found := core.GetAPIGatewayV2ContextFromContext(ctx); found {
				a, ok = ActorFromGateway(rc)
			}
		}
		switch {
		case !ok || a.User == "":
			problem.Write(w, r, problem.E(op, problem.Unauthenticated, problem.Code("unauthenticated"), "no JWT subject",
				i18n.Text{EN: "Please sign in.", ZH: "請先登入。"}))
			return
		case a.Tenant == "":
			problem.Write(w, r, problem.E(op, problem.Forbidden, problem.Code("no-tenant"), "no tenant claim",
				i18n.Text{EN: "Your account is not linked to a company.", ZH: "你的帳戶未連結任何公司。"}))
			return
		}
		if rec := recorderFrom(ctx); rec != nil {
			rec.tenant = a.Tenant
		}
		ctx = logging.WithTenant(WithActor(ctx, a), a.Tenant)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}
