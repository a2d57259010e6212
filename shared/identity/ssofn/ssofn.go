// Package ssofn builds the single sign-on function: the companies' OpenID
// provider settings and the sign-in through the provider. It is its own
// function so that the OpenID Connect client (go-oidc, oauth2) is not in
// every sign-in's binary.
package ssofn

import (
	"context"
	"mime"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lantau-hq/lantau/shared/function"
	"github.com/lantau-hq/lantau/shared/httpapi"
	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/identity"
	"github.com/lantau-hq/lantau/shared/identity/identityfn"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/sso"
)

// SSOCallbackPath is where identity providers send the browser back: the
// redirect URI a company registers with its provider is the API's URL
// followed by this path.
const SSOCallbackPath = "/v1/auth/sso/callback"

// SSO is single sign-on's part of the API: the companies' provider
// settings and the OpenID Connect flow.
type SSO struct {
	Configs *sso.Configs
	Flow    *sso.Flow
	// CallbackURL is the absolute redirect URI: PUBLIC_API_URL + SSOCallbackPath.
	CallbackURL string
}

// API is the SSO function's HTTP API.
type API struct {
	*identityfn.Core
	SSO *SSO
}

// New is the SSO function's constructor (functions/sso).
func New(ctx context.Context, env function.Env) (lambda.Handler, error) {
	// The companies' SSO client secrets have a key of their own: one key's
	// compromise or rotation does not touch the TOTP secrets.
	core, err := identityfn.Build(ctx, env, identityfn.SSOSealKeyParameter)
	if err != nil {
		return nil, err
	}
	sealer := core.Sealers[identityfn.SSOSealKeyParameter]
	configs := &sso.Configs{Table: core.Store, Sealer: sealer}
	api := &API{Core: core, SSO: &SSO{Configs: configs, Flow: &sso.Flow{Table: core.Store, Configs: configs},
		CallbackURL: strings.TrimSuffix(core.Config.PublicURL, "/") + SSOCallbackPath}}
	return function.HTTP(api.Handler()), nil
}

// Handler serves the SSO routes of template.yaml.
func (a *API) Handler() http.Handler {
	mux := http.NewServeMux()
	rt := identityfn.Routes{Mux: mux, Sessions: a.Sessions, Access: a.Access, Log: a.Log}
	rt.SignedIn("GET /v1/companies/{id}/sso", "identity.GetSSO", false, a.getSSO)
	rt.SignedIn("PUT /v1/companies/{id}/sso", "identity.PutSSO", false, a.putSSO)
	rt.SignedIn("DELETE /v1/companies/{id}/sso", "identity.DeleteSSO", false, a.deleteSSO)
	rt.Public("GET /v1/auth/sso/start", "identity.StartSSO", a.startSSO)
	rt.Public("GET "+SSOCallbackPath, "identity.SSOCallback", a.ssoCallback)
	return httpapi.Logging(a.Log)(mux)
}

// identity's Service is the directory sso matches verified addresses in.
var _ sso.Directory = (*identity.Service)(nil)

// ssoView is a company's SSO settings as the API shows them: never the
// secret, only that one is stored.
func (a *API) ssoView(companyID string, cfg sso.Config) map[string]any {
	return map[string]any{
		"companyId": companyID, "issuer": cfg.Issuer, "clientId": cfg.ClientID, "clientSecretSet": true,
		"allowedDomains": cfg.AllowedDomains, "createUsers": cfg.CreateUsers, "redirectUri": a.SSO.CallbackURL,
	}
}

func (a *API) getSSO(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	if err := a.Service.AuthorizeSSOSettings(actor, r.PathValue("id")); err != nil {
		return err
	}
	cfg, err := a.SSO.Configs.Get(r.Context(), actor.Tenant)
	if err != nil {
		return err
	}
	identityfn.NoStore(w)
	return httpapi.JSON(w, http.StatusOK, a.ssoView(actor.Tenant, cfg))
}

func (a *API) putSSO(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	if err := a.Service.AuthorizeSSOSettings(actor, r.PathValue("id")); err != nil {
		return err
	}
	var in struct {
		Issuer         string   `json:"issuer"`
		ClientID       string   `json:"clientId"`
		ClientSecret   string   `json:"clientSecret"` // "" keeps the stored one
		AllowedDomains []string `json:"allowedDomains"`
		CreateUsers    bool     `json:"createUsers"`
	}
	if err := httpapi.Decode(w, r, &in); err != nil {
		return err
	}
	cfg, err := a.SSO.Configs.Save(r.Context(), actor.Tenant, sso.Config{Issuer: in.Issuer, ClientID: in.ClientID,
		ClientSecret: sso.Secret(in.ClientSecret), AllowedDomains: in.AllowedDomains, CreateUsers: in.CreateUsers})
	if err != nil {
		return err
	}
	a.Service.SSOConfigured(r.Context(), actor, map[string]any{"action": "saved", "issuer": cfg.Issuer,
		"clientId": cfg.ClientID, "allowedDomains": cfg.AllowedDomains, "createUsers": cfg.CreateUsers,
		"clientSecretChanged": in.ClientSecret != ""})
	identityfn.NoStore(w)
	return httpapi.JSON(w, http.StatusOK, a.ssoView(actor.Tenant, cfg))
}

func (a *API) deleteSSO(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	if err := a.Service.AuthorizeSSOSettings(actor, r.PathValue("id")); err != nil {
		return err
	}
	if err := a.SSO.Configs.Delete(r.Context(), actor.Tenant); err != nil {
		return err
	}
	a.Service.SSOConfigured(r.Context(), actor, map[string]any{"action": "removed"})
	return httpapi.JSON(w, http.StatusNoContent, nil)
}

// startSSO begins a sign-in at the company's provider: 302 there, or
// {"authorizationUrl"} for a client that asks for JSON. The company is
// named by ID or domain. The provider sends the browser back to the
// callback, which answers with tokens as JSON; sending them on to an app
// URL (redirect=) is not supported: that needs a per-company allow-list of
// app URLs, or tokens would leak to any site that starts a sign-in.
func (a *API) startSSO(w http.ResponseWriter, r *http.Request) error {
	const op = "identity.StartSSO"
	q := r.URL.Query()
	if q.Has("redirect") {
		return problem.E(op, problem.Invalid, problem.Code("sso-redirect-unsupported"), i18n.Text{
			EN: "Signing in cannot return to another address yet; leave out redirect.",
			ZH: "登入暫時未能返回其他網址，請不要提供 redirect。",
		})
	}
	if strings.TrimSpace(q.Get("company")) == "" {
		var v httpapi.Validator
		v.Add("company", "required", i18n.Text{EN: "Enter your company's ID or email domain.", ZH: "請輸入公司 ID 或電郵網域。"})
		return v.Err()
	}
	tenant, err := a.Service.CompanyForSignIn(r.Context(), q.Get("company"))
	if err != nil {
		return err
	}
	cfg, err := a.SSO.Configs.Get(r.Context(), tenant)
	if err != nil {
		return err
	}
	authURL, err := a.SSO.Flow.Begin(r.Context(), tenant, cfg, a.SSO.CallbackURL)
	if err != nil {
		return err
	}
	identityfn.NoStore(w)
	if wantsJSON(r) {
		return httpapi.JSON(w, http.StatusOK, map[string]string{"authorizationUrl": authURL})
	}
	http.Redirect(w, r, authURL, http.StatusFound)
	return nil
}

func wantsJSON(r *http.Request) bool {
	for part := range strings.SplitSeq(r.Header.Get("Accept"), ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "application/json" {
			return true
		}
	}
	return false
}

// ssoCallback completes the sign-in the provider sent the browser back
// from and answers with Lantau tokens (see identity.LoginSSO for why no
// TOTP is asked).
//
// Callbacks are throttled per network like password sign-ins, and a
// failed one is recorded in the audit trail of the company it named.
func (a *API) ssoCallback(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	c := identityfn.Client(r, "")
	if err := a.Service.BeginSSOCallback(r.Context(), c); err != nil {
		return err
	}
	tokens, err := a.completeSSO(r, q.Get("state"), q.Get("code"), c)
	tenant, _ := sso.StateTenant(q.Get("state"))
	a.Service.EndSSOCallback(r.Context(), tenant, c, err)
	if err != nil {
		return err
	}
	identityfn.NoStore(w)
	return httpapi.JSON(w, http.StatusOK, tokens)
}

func (a *API) completeSSO(r *http.Request, state, code string, c identity.Client) (*identity.Tokens, error) {
	userID, id, create, err := a.SSO.Flow.Login(r.Context(), state, code, a.Service)
	if err != nil {
		return nil, err
	}
	return a.Service.LoginSSO(r.Context(), id.Tenant, userID, identity.ExternalIdentity{
		Issuer: id.Issuer, Subject: id.Subject, Email: id.Email, Name: id.Name}, create, c)
}
