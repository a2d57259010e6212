package identityfn

import (
	"fmt"
	"html"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/lantau-hq/lantau/shared/audit"
	"github.com/lantau-hq/lantau/shared/audit/auditfn"
	"github.com/lantau-hq/lantau/shared/httpapi"
	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/idempotency"
	"github.com/lantau-hq/lantau/shared/identity"
	"github.com/lantau-hq/lantau/shared/identity/session"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/token"
)

// API is the identity function's HTTP API.
type API struct {
	Service  *identity.Service
	Sessions *identity.Sessions
	Issuer   *token.Issuer
	Guard    *idempotency.Guard
	Access   *audit.AccessLog
	Log      *slog.Logger
}

// Routes registers handlers the way every identity function does.
type Routes struct {
	Mux      *http.ServeMux
	Sessions *identity.Sessions
	Access   *audit.AccessLog
	Log      *slog.Logger
}

// Public registers a handler that anyone may call.
func (rt Routes) Public(pattern, op string, fn func(http.ResponseWriter, *http.Request) error) {
	rt.Mux.Handle(pattern, httpapi.Handle(op, fn))
}

// SignedIn registers a handler that needs a live session of a full
// sign-in; with enrolOK it also takes a token that may only enrol a second
// factor. Calls go to the access log.
func (rt Routes) SignedIn(pattern, op string, enrolOK bool, fn func(http.ResponseWriter, *http.Request, identity.Actor) error) {
	check := session.Require(rt.Sessions)
	if enrolOK {
		check = session.RequireAny(rt.Sessions)
	}
	h := httpapi.Handle(op, func(w http.ResponseWriter, r *http.Request) error {
		ha, _ := httpapi.ActorFrom(r.Context())
		return fn(w, r, identity.ActorFromClaims(ha.Tenant, ha.User, ha.SessionID, ha.Roles, ha.Scopes))
	})
	rt.Mux.Handle(pattern, httpapi.RequireActor(auditfn.RecordAccess(rt.Access, rt.Log)(check(h))))
}

// Handler serves every identity route of template.yaml.
func (a *API) Handler() http.Handler {
	mux := http.NewServeMux()
	rt := Routes{Mux: mux, Sessions: a.Sessions, Access: a.Access, Log: a.Log}
	public, signedIn := rt.Public, rt.SignedIn

	// The issuer: discovery and JWKS, for API Gateway's JWT authorizer.
	issuer := a.Issuer.Handler(IssuerPath)
	mux.Handle("GET "+IssuerPath+"/.well-known/openid-configuration", issuer)
	mux.Handle("GET "+IssuerPath+"/jwks", issuer)

	// Registration. Anonymous callers share one idempotency namespace.
	register := httpapi.Handle("identity.Register", a.register)
	mux.Handle("POST /v1/companies", anonymous(idempotency.Middleware(a.Guard, "identity.register", false)(register)))
	mux.Handle("GET /v1/companies/confirm", linkPage("confirm", "/v1/companies/confirm", ""))
	public("POST /v1/companies/confirm", "identity.Confirm", a.confirm)
	signedIn("PUT /v1/companies/{id}/mfa-policy", "identity.SetMFAPolicy", false, a.setMFAPolicy)

	// Sign-in.
	public("POST /v1/auth/login", "identity.Login", a.login)
	public("POST /v1/auth/login/totp", "identity.LoginMFA", a.loginMFA)
	public("POST /v1/auth/refresh", "identity.Refresh", a.refresh)
	signedIn("POST /v1/auth/logout", "identity.Logout", true, a.logout)
	signedIn("POST /v1/auth/totp", "identity.StartTOTP", true, a.startTOTP)
	signedIn("POST /v1/auth/totp/confirm", "identity.ConfirmTOTP", true, a.confirmTOTP)

	// Where you're signed in: one's own sign-ins, and ending them.
	signedIn("GET /v1/auth/sessions", "identity.ListSessions", false, a.listSessions)
	signedIn("DELETE /v1/auth/sessions/{id}", "identity.EndSession", false, a.endSession)
	signedIn("POST /v1/auth/sessions/end-others", "identity.EndOtherSessions", false, a.endOtherSessions)

	// Passwords: change one's own; a forgotten one is reset by a mailed link.
	signedIn("POST /v1/auth/password", "identity.ChangePassword", false, a.changePassword)
	public("POST /v1/auth/password/reset", "identity.RequestPasswordReset", a.requestPasswordReset)
	mux.Handle("GET /v1/auth/password/reset/confirm", linkPage("reset", "/v1/auth/password/reset/confirm", "newPassword"))
	public("POST /v1/auth/password/reset/confirm", "identity.ResetPassword", a.resetPassword)

	// Users and roles.
	signedIn("GET /v1/users", "identity.ListUsers", false, a.listUsers)
	signedIn("POST /v1/users", "identity.Invite", false, a.invite)
	signedIn("GET /v1/users/me", "identity.Me", false, a.me)
	signedIn("GET /v1/users/{id}", "identity.GetUser", false, a.getUser)
	signedIn("PUT /v1/users/{id}/roles", "identity.SetRole", false, a.setRole)
	signedIn("POST /v1/users/{id}/deactivate", "identity.Deactivate", false, a.deactivate)
	signedIn("POST /v1/users/{id}/invitation", "identity.ResendInvitation", false, a.resendInvitation)
	signedIn("POST /v1/users/{id}/mfa/reset", "identity.ResetMFA", false, a.resetMFA)
	signedIn("GET /v1/users/{id}/sessions", "identity.UserSessions", false, a.userSessions)
	mux.Handle("GET /v1/users/invitations/accept", linkPage("accept", "/v1/users/invitations/accept", "password"))
	public("POST /v1/users/invitations/accept", "identity.AcceptInvitation", a.acceptInvitation)
	signedIn("GET /v1/security/summary", "identity.Summary", false, a.summary)

	return httpapi.Logging(a.Log)(mux)
}

// anonymous gives an unauthenticated request the platform's anonymous
// actor, which the idempotency middleware keys by.
func anonymous(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := httpapi.WithActor(r.Context(), httpapi.Actor{Tenant: identity.PlatformTenant, User: "anonymous"})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// Client describes where a request comes from.
func Client(r *http.Request, deviceID string) identity.Client {
	c := identity.Client{UserAgent: r.UserAgent(), DeviceID: deviceID, Lang: i18n.FromRequest(r)}
	if rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context()); ok {
		c.IP = rc.HTTP.SourceIP
	}
	if c.IP == "" {
		c.IP, _, _ = net.SplitHostPort(r.RemoteAddr)
	}
	if c.DeviceID == "" {
		c.DeviceID = r.Header.Get("X-Device-Id")
	}
	if len(c.DeviceID) > 200 {
		c.DeviceID = c.DeviceID[:200]
	}
	return c
}

// NoStore keeps an answer out of every cache (tokens, secrets).
func NoStore(w http.ResponseWriter) { w.Header().Set("Cache-Control", "no-store") }

func (a *API) register(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		CompanyName string `json:"companyName"`
		Domain      string `json:"domain"`
		DataRegion  string `json:"dataRegion"`
		AdminName   string `json:"adminName"`
		AdminEmail  string `json:"adminEmail"`
		Password    string `json:"password"`
	}
	if err := httpapi.Decode(w, r, &in); err != nil {
		return err
	}
	out, err := a.Service.Register(r.Context(), identity.Registration{
		CompanyName: in.CompanyName, Domain: in.Domain, DataRegion: in.DataRegion,
		AdminName: in.AdminName, AdminEmail: in.AdminEmail, Password: in.Password,
	}, Client(r, ""))
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/companies/"+out.CompanyID)
	return httpapi.JSON(w, http.StatusCreated, out)
}

// linkToken reads a one-time link's token from the query (the mailed
// link, or the form its page posts) or from a JSON body.
func linkToken(w http.ResponseWriter, r *http.Request, password *string) (string, error) {
	if isForm(r) {
		if err := r.ParseForm(); err != nil {
			return "", problem.E("identity.linkToken", problem.Invalid, problem.Code("invalid-form"), err)
		}
		if password != nil {
			*password = r.PostForm.Get("password")
		}
		return r.Form.Get("token"), nil
	}
	if t := r.URL.Query().Get("token"); t != "" && password == nil && r.ContentLength <= 0 {
		return t, nil
	}
	var in struct {
		Token    string `json:"token"`
		Password string `json:"password"`
	}
	if err := httpapi.Decode(w, r, &in); err != nil {
		return "", err
	}
	if password != nil {
		*password = in.Password
	}
	if in.Token == "" {
		in.Token = r.URL.Query().Get("token")
	}
	return in.Token, nil
}

func isForm(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/x-www-form-urlencoded"
}

func (a *API) confirm(w http.ResponseWriter, r *http.Request) error {
	tok, err := linkToken(w, r, nil)
	if err != nil {
		return err
	}
	c, err := a.Service.Confirm(r.Context(), tok)
	if err != nil {
		return err
	}
	return httpapi.JSON(w, http.StatusOK, map[string]any{
		"companyId": c.ID, "name": c.Name, "domain": c.Domain, "dataRegion": c.DataRegion, "status": c.Status,
	})
}

func (a *API) acceptInvitation(w http.ResponseWriter, r *http.Request) error {
	var password string
	tok, err := linkToken(w, r, &password)
	if err != nil {
		return err
	}
	u, err := a.Service.AcceptInvitation(r.Context(), tok, password)
	if err != nil {
		return err
	}
	return httpapi.JSON(w, http.StatusOK, u)
}

func (a *API) setMFAPolicy(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	var in struct {
		RequireForEveryone *bool `json:"requireForEveryone"`
	}
	if err := httpapi.Decode(w, r, &in); err != nil {
		return err
	}
	if in.RequireForEveryone == nil {
		var v httpapi.Validator
		v.Add("requireForEveryone", "required", i18n.Text{EN: "is required", ZH: "必須填寫"})
		return v.Err()
	}
	c, err := a.Service.SetMFAPolicy(r.Context(), actor, r.PathValue("id"), *in.RequireForEveryone)
	if err != nil {
		return err
	}
	return httpapi.JSON(w, http.StatusOK, map[string]any{"companyId": c.ID, "requireForEveryone": c.RequireMFA})
}

func (a *API) login(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Email    string `json:"email"`
		Password string `json:"password"`
		DeviceID string `json:"deviceId"`
	}
	if err := httpapi.Decode(w, r, &in); err != nil {
		return err
	}
	res, err := a.Service.Login(r.Context(), in.Email, in.Password, Client(r, in.DeviceID))
	if err != nil {
		return err
	}
	NoStore(w)
	if res.Challenge != nil {
		return httpapi.JSON(w, http.StatusOK, res.Challenge)
	}
	return httpapi.JSON(w, http.StatusOK, res.Tokens)
}

func (a *API) loginMFA(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Challenge    string `json:"challenge"`
		Code         string `json:"code"`
		RecoveryCode string `json:"recoveryCode"`
		DeviceID     string `json:"deviceId"`
	}
	if err := httpapi.Decode(w, r, &in); err != nil {
		return err
	}
	tokens, err := a.Service.LoginMFA(r.Context(), in.Challenge, in.Code, in.RecoveryCode, Client(r, in.DeviceID))
	if err != nil {
		return err
	}
	NoStore(w)
	return httpapi.JSON(w, http.StatusOK, tokens)
}

func (a *API) refresh(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		RefreshToken string `json:"refreshToken"`
	}
	if err := httpapi.Decode(w, r, &in); err != nil {
		return err
	}
	tokens, err := a.Service.Refresh(r.Context(), in.RefreshToken, Client(r, ""))
	if err != nil {
		return err
	}
	NoStore(w)
	return httpapi.JSON(w, http.StatusOK, tokens)
}

func (a *API) logout(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	if err := a.Service.Logout(r.Context(), actor); err != nil {
		return err
	}
	a.Sessions.Forget(actor.Tenant, actor.SessionID)
	return httpapi.JSON(w, http.StatusNoContent, nil)
}

func (a *API) startTOTP(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	e, err := a.Service.StartTOTP(r.Context(), actor)
	if err != nil {
		return err
	}
	NoStore(w)
	return httpapi.JSON(w, http.StatusOK, e)
}

func (a *API) confirmTOTP(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	var in struct {
		Code     string `json:"code"`
		DeviceID string `json:"deviceId"`
	}
	if err := httpapi.Decode(w, r, &in); err != nil {
		return err
	}
	out, err := a.Service.ConfirmTOTP(r.Context(), actor, in.Code, Client(r, in.DeviceID))
	if err != nil {
		return err
	}
	if out.Tokens != nil {
		a.Sessions.Forget(actor.Tenant, actor.SessionID)
	}
	NoStore(w)
	return httpapi.JSON(w, http.StatusOK, out)
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	users, err := a.Service.ListUsers(r.Context(), actor)
	if err != nil {
		return err
	}
	return httpapi.JSON(w, http.StatusOK, map[string]any{"users": users})
}

func (a *API) invite(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	var in struct {
		Email    string `json:"email"`
		Name     string `json:"name"`
		Language string `json:"language"`
	}
	if err := httpapi.Decode(w, r, &in); err != nil {
		return err
	}
	lang := i18n.FromRequest(r)
	if in.Language != "" {
		lang = i18n.Negotiate(in.Language)
	}
	u, err := a.Service.Invite(r.Context(), actor, identity.Invitation{Email: in.Email, Name: in.Name, Lang: lang})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/users/"+u.ID)
	return httpapi.JSON(w, http.StatusCreated, u)
}

func (a *API) me(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	u, err := a.Service.Me(r.Context(), actor)
	if err != nil {
		return err
	}
	return httpapi.JSON(w, http.StatusOK, u)
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	u, err := a.Service.GetUser(r.Context(), actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	return httpapi.JSON(w, http.StatusOK, u)
}

func (a *API) setRole(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	var in struct {
		Role       identity.Role   `json:"role"`
		Areas      []identity.Area `json:"areas"`
		Department string          `json:"department"`
	}
	if err := httpapi.Decode(w, r, &in); err != nil {
		return err
	}
	u, err := a.Service.SetRole(r.Context(), actor, r.PathValue("id"), identity.RoleChange{Role: in.Role, Areas: in.Areas, Department: in.Department})
	if err != nil {
		return err
	}
	return httpapi.JSON(w, http.StatusOK, u)
}

func (a *API) deactivate(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	u, err := a.Service.Deactivate(r.Context(), actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	return httpapi.JSON(w, http.StatusOK, u)
}

func (a *API) summary(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	s, err := a.Service.Summary(r.Context(), actor)
	if err != nil {
		return err
	}
	NoStore(w)
	return httpapi.JSON(w, http.StatusOK, s)
}

// linkPage is what a mailed link opens in a browser: a page whose button
// posts the token, so that mail scanners that fetch links use nothing up.
// The invitation and password reset pages also ask for the new password,
// in the form field passwordField ("" for none). It is written with
// fmt and html.EscapeString rather than html/template: executing a
// template makes the linker keep every exported method of every type (it
// calls methods by name through reflection), which adds about 6 MB to the
// function.
func linkPage(kind, action, passwordField string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lang := i18n.FromRequest(r)
		texts := map[string]i18n.Text{
			"confirm": {EN: "Confirm your company's registration", ZH: "確認公司註冊"},
			"accept":  {EN: "Set your password to join", ZH: "設定密碼以加入"},
			"reset":   {EN: "Choose a new password", ZH: "設定新密碼"},
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Security-Policy", "default-src 'none'; form-action 'self'")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Language", lang.String())
		var field string
		if passwordField != "" {
			field = fmt.Sprintf(`<label>%s <input type="password" name="%s" minlength="12" required autocomplete="new-password"></label>
`, html.EscapeString(i18n.Text{EN: "New password (at least 12 characters)", ZH: "新密碼（最少 12 個字元）"}.T(lang)), html.EscapeString(passwordField))
		}
		_, _ = fmt.Fprintf(w, `<!doctype html>
<html lang="%s"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>Lantau</title></head>
<body><h1>%s</h1>
<form method="post" action="%s">
<input type="hidden" name="token" value="%s">
%s<button type="submit">%s</button>
</form></body></html>
`, lang.String(), html.EscapeString(texts[kind].T(lang)), html.EscapeString(action),
			html.EscapeString(strings.TrimSpace(r.URL.Query().Get("token"))), field,
			html.EscapeString(i18n.Text{EN: "Continue", ZH: "繼續"}.T(lang)))
	})
}

func (a *API) resendInvitation(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	u, err := a.Service.ResendInvitation(r.Context(), actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	return httpapi.JSON(w, http.StatusAccepted, u)
}

func (a *API) changePassword(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	var in struct {
		CurrentPassword string `json:"currentPassword"`
		NewPassword     string `json:"newPassword"`
	}
	if err := httpapi.Decode(w, r, &in); err != nil {
		return err
	}
	ended, err := a.Service.ChangePassword(r.Context(), actor, in.CurrentPassword, in.NewPassword, Client(r, ""))
	if err != nil {
		return err
	}
	return httpapi.JSON(w, http.StatusOK, map[string]any{"otherSignInsEnded": ended})
}

// textResetRequested is the one answer to every reset request, whether or
// not the address has an account.
var textResetRequested = i18n.Text{
	EN: "If an active account uses this address, a link to set a new password has been mailed to it. The link works once, for 30 minutes.",
	ZH: "如有使用此電郵地址的有效帳戶，我們已把設定新密碼的連結寄往該地址。連結只可使用一次，有效 30 分鐘。",
}

func (a *API) requestPasswordReset(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Email string `json:"email"`
	}
	if err := httpapi.Decode(w, r, &in); err != nil {
		return err
	}
	started := time.Now()
	if err := a.Service.RequestPasswordReset(r.Context(), in.Email, Client(r, "")); err != nil {
		return err
	}
	// An address with an account costs a write and a mail, one without
	// nothing: the answer waits until ResetAnswerFloor has passed either
	// way, so that its timing does not tell which addresses have accounts.
	select {
	case <-time.After(ResetAnswerFloor - time.Since(started)):
	case <-r.Context().Done():
		return r.Context().Err()
	}
	return httpapi.JSON(w, http.StatusAccepted, map[string]any{"detail": textResetRequested.T(i18n.FromRequest(r))})
}

// ResetAnswerFloor is how long a password reset request takes at least,
// found or not: longer than a link's write and its mail usually take.
const ResetAnswerFloor = 400 * time.Millisecond

// resetPassword takes the token and new password as JSON, or as the form
// the link's page posts.
func (a *API) resetPassword(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Token       string `json:"token"`
		NewPassword string `json:"newPassword"`
	}
	if isForm(r) {
		if err := r.ParseForm(); err != nil {
			return problem.E("identity.resetPassword", problem.Invalid, problem.Code("invalid-form"), err)
		}
		in.Token, in.NewPassword = r.PostForm.Get("token"), r.PostForm.Get("newPassword")
	} else if err := httpapi.Decode(w, r, &in); err != nil {
		return err
	}
	ended, err := a.Service.ResetPassword(r.Context(), in.Token, in.NewPassword, Client(r, ""))
	if err != nil {
		return err
	}
	NoStore(w)
	return httpapi.JSON(w, http.StatusOK, map[string]any{"signInsEnded": ended, "detail": i18n.Text{
		EN: "Your new password is set. Sign in with it (and your authenticator app, if you use one).",
		ZH: "新密碼已設定。請以新密碼登入（如已設定驗證器應用程式，亦須使用）。",
	}.T(i18n.FromRequest(r))})
}

func (a *API) resetMFA(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	u, err := a.Service.ResetMFA(r.Context(), actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	return httpapi.JSON(w, http.StatusOK, u)
}

func (a *API) listSessions(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	views, err := a.Service.ListSessions(r.Context(), actor, i18n.FromRequest(r))
	if err != nil {
		return err
	}
	NoStore(w)
	return httpapi.JSON(w, http.StatusOK, map[string]any{"sessions": views})
}

func (a *API) userSessions(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	views, err := a.Service.UserSessions(r.Context(), actor, r.PathValue("id"), i18n.FromRequest(r))
	if err != nil {
		return err
	}
	NoStore(w)
	return httpapi.JSON(w, http.StatusOK, map[string]any{"sessions": views})
}

// endSession ends one of the caller's sign-ins; this instance forgets its
// cached session check at once, the others within their cache's TTL.
func (a *API) endSession(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	id := r.PathValue("id")
	if err := a.Service.EndSession(r.Context(), actor, id); err != nil {
		return err
	}
	a.Sessions.Forget(actor.Tenant, id)
	return httpapi.JSON(w, http.StatusNoContent, nil)
}

func (a *API) endOtherSessions(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	ended, err := a.Service.EndOtherSessions(r.Context(), actor)
	for _, id := range ended {
		a.Sessions.Forget(actor.Tenant, id)
	}
	if err != nil {
		return err
	}
	return httpapi.JSON(w, http.StatusOK, map[string]any{"ended": len(ended)})
}
