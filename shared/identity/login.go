package identity

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/lantau-hq/lantau/shared/credential"
	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/table"
	"github.com/lantau-hq/lantau/shared/token"
)

// Tokens are what a finished sign-in gets.
type Tokens struct {
	AccessToken  string `json:"accessToken"`
	TokenType    string `json:"tokenType"`
	ExpiresIn    int    `json:"expiresIn"` // seconds
	RefreshToken string `json:"refreshToken,omitempty"`
	Scope        string `json:"scope"`
	// EnrolmentRequired says the token can only enrol a second factor.
	EnrolmentRequired bool `json:"enrolmentRequired,omitempty"`
}

// LoginResult is either Tokens or, when a second factor is due, a
// Challenge to answer at LoginMFA.
type LoginResult struct {
	Tokens    *Tokens
	Challenge *Challenge
}

// Challenge is a sign-in waiting for its second factor.
type Challenge struct {
	MFARequired bool     `json:"mfaRequired"`
	Challenge   string   `json:"challenge"`
	ExpiresIn   int      `json:"expiresIn"`
	Methods     []string `json:"methods"`
}

var (
	textBadCredentials = i18n.Text{
		EN: "The e-mail address or password is incorrect.",
		ZH: "電郵地址或密碼不正確。",
	}
	textBadCode = i18n.Text{
		EN: "The code is not valid. Use the current code from your authenticator app, or one of your recovery codes.",
		ZH: "驗證碼無效。請輸入驗證器應用程式目前顯示的驗證碼，或其中一個備用碼。",
	}
	textChallengeGone = i18n.Text{
		EN: "This sign-in has expired. Please sign in again.",
		ZH: "此登入已逾時，請重新登入。",
	}
)

func badCredentials(op string, cause any) error {
	return problem.E(op, problem.Unauthenticated, problem.Code("invalid-credentials"), textBadCredentials, cause)
}

// throttleAccount is the throttle's name for an address.
func throttleAccount(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// Login checks an address and password. Unknown addresses, wrong
// passwords and users who may not sign in all get the same 401, after the
// same work. Failures are throttled per address and per network (429 with
// Retry-After). A right password then gives, in order of precedence: a
// challenge for the second factor (the user has one); a token that can only
// enrol one (the user must have one: admins, or everyone when the company
// says so); full tokens.
func (s *Service) Login(ctx context.Context, email, password string, c Client) (LoginResult, error) {
	const op = "identity.Login"
	now := s.Now()
	account := throttleAccount(email)
	if account == "" || password == "" {
		return LoginResult{}, badCredentials(op, "empty e-mail or password")
	}
	if _, err := s.throttle.Check(ctx, PlatformTenant, account, c.IP, now); err != nil {
		return LoginResult{}, problem.Wrap(op, err)
	}
	tenant, user, err := s.userByEmail(ctx, account)
	if err != nil && !errors.Is(err, table.ErrNotFound) {
		s.settle(ctx, account, c.IP, false)
		return LoginResult{}, storeErr(op, err)
	}
	if err != nil || user.PasswordHash == "" {
		credential.VerifyDummy(password)
		s.settle(ctx, account, c.IP, false)
		s.loginFailed(ctx, tenant, user.ID, "unknown-account", c)
		return LoginResult{}, badCredentials(op, "no such account")
	}
	ok, rehash, err := s.verifyPassword(ctx, tenant, user, account, password, "wrong-password", c)
	if err != nil {
		return LoginResult{}, problem.Wrap(op, err)
	}
	if !ok {
		return LoginResult{}, badCredentials(op, "wrong password")
	}
	switch user.Status {
	case UserActive:
	case UserPending:
		s.settle(ctx, account, c.IP, true)
		return LoginResult{}, problem.E(op, problem.Forbidden, problem.Code("confirmation-pending"), i18n.Text{
			EN: "Confirm the registration first: open the link we mailed you.",
			ZH: "請先按我們電郵給你的連結確認註冊。",
		})
	default:
		s.settle(ctx, account, c.IP, false)
		s.loginFailed(ctx, tenant, user.ID, "user-"+user.Status, c)
		return LoginResult{}, badCredentials(op, "user "+user.Status)
	}
	company, err := s.loadCompany(ctx, tenant)
	if err != nil {
		s.settle(ctx, account, c.IP, false)
		return LoginResult{}, storeErr(op, err)
	}
	if rehash {
		s.rehash(ctx, tenant, user.ID, password)
	}
	if user.HasTOTP() {
		// The attempt stays reserved in the throttle until the second factor settles it.
		secret := newSecret(tenant)
		_, hash, _ := parseSecret(secret)
		ch := challenge{User: user.ID, DeviceID: c.DeviceID, IP: c.IP, UserAgent: c.UserAgent, ExpiresAt: now.Add(ChallengeTTL)}
		it, err := item(challengeKey(tenant, hash), ch, 1, ch.ExpiresAt)
		if err == nil {
			err = s.Store.Put(ctx, it, table.IfNotExists)
		}
		if err != nil {
			return LoginResult{}, storeErr(op, err)
		}
		return LoginResult{Challenge: &Challenge{MFARequired: true, Challenge: secret,
			ExpiresIn: int(ChallengeTTL.Seconds()), Methods: []string{"totp", "recovery-code"}}}, nil
	}
	s.settle(ctx, account, c.IP, true)
	tokens, err := s.signIn(ctx, company, user, c, methodPassword)
	return LoginResult{Tokens: tokens}, problem.Wrap(op, err)
}

// LoginMFA answers a challenge with a TOTP code (accepted once) or a
// recovery code (single use). Each answer first uses up one of the
// challenge's maxMFAAttempts, so concurrent guesses cannot exceed them; a
// wrong code counts as a failed sign-in in the throttle, whose reservation
// Login left open.
func (s *Service) LoginMFA(ctx context.Context, secret, code, recoveryCode string, c Client) (*Tokens, error) {
	const op = "identity.LoginMFA"
	gone := func(cause any) error {
		return problem.E(op, problem.Unauthenticated, problem.Code("challenge-invalid"), textChallengeGone, cause)
	}
	if (code == "") == (recoveryCode == "") {
		return nil, problem.E(op, problem.Invalid, problem.Code("one-code"), i18n.Text{
			EN: "Send either code or recoveryCode.", ZH: "請提供 code 或 recoveryCode 其中一項。",
		})
	}
	tenant, hash, ok := parseSecret(secret)
	if !ok {
		return nil, gone("malformed challenge")
	}
	key := challengeKey(tenant, hash)
	ch, err := s.takeAttempt(ctx, key)
	if err != nil {
		if problem.KindOf(err) == problem.NotFound {
			return nil, gone(err)
		}
		return nil, problem.Wrap(op, err)
	}
	user, err := s.loadUser(ctx, tenant, ch.User)
	if err != nil {
		return nil, storeErr(op, err)
	}
	account := throttleAccount(user.Email)
	if user.Status != UserActive || !user.HasTOTP() {
		s.settle(ctx, account, c.IP, false)
		return nil, gone("user no longer active or without TOTP")
	}
	var valid bool
	method := "totp"
	if code != "" {
		plain, err := s.Sealer.Open(user.TOTPSealed)
		if err != nil {
			return nil, problem.Wrap(op, err)
		}
		if valid, err = s.used.Verify(ctx, tenant, user.ID, string(plain), code, s.Now()); err != nil {
			return nil, problem.Wrap(op, err)
		}
	} else {
		method = "recovery-code"
		if valid, err = s.recovery.Consume(ctx, tenant, user.ID, recoveryCode); err != nil {
			return nil, problem.Wrap(op, err)
		}
	}
	if !valid {
		s.settle(ctx, account, c.IP, false)
		s.loginFailed(ctx, tenant, user.ID, "wrong-"+method, c)
		return nil, problem.E(op, problem.Unauthenticated, problem.Code("invalid-code"), textBadCode, "wrong or replayed "+method)
	}
	// Use the challenge up; of two right answers (two valid codes) one wins.
	if err := s.Store.Delete(ctx, key, table.IfExists); errors.Is(err, table.ErrConditionFailed) {
		return nil, gone("challenge used concurrently")
	} else if err != nil {
		return nil, storeErr(op, err)
	}
	s.settle(ctx, account, c.IP, true)
	company, err := s.loadCompany(ctx, tenant)
	if err != nil {
		return nil, storeErr(op, err)
	}
	if c.DeviceID == "" {
		c.DeviceID = ch.DeviceID
	}
	m := methodTOTP
	if method == "recovery-code" {
		m = methodRecoveryCode
	}
	return s.signIn(ctx, company, user, c, m)
}

// takeAttempt counts one answer against the challenge at key before it is
// checked, and returns the challenge; a challenge whose attempts are spent
// is deleted. A missing challenge is a NotFound problem.
func (s *Service) takeAttempt(ctx context.Context, key table.Key) (challenge, error) {
	const op = "identity.takeAttempt"
	for range 20 {
		var ch challenge
		v, err := get(ctx, s.Store, key, &ch)
		if errors.Is(err, table.ErrNotFound) {
			return ch, problem.E(op, problem.NotFound, "unknown, used or expired challenge")
		} else if err != nil {
			return ch, storeErr(op, err)
		}
		if ch.Attempts >= maxMFAAttempts {
			_ = s.Store.Delete(ctx, key, table.IfVersion(v))
			return ch, problem.E(op, problem.NotFound, "challenge attempts spent")
		}
		ch.Attempts++
		it, err := item(key, ch, v+1, ch.ExpiresAt)
		if err != nil {
			return ch, problem.E(op, problem.Internal, err)
		}
		err = s.Store.Put(ctx, it, table.IfVersion(v))
		if err == nil {
			return ch, nil
		}
		if !errors.Is(err, table.ErrConditionFailed) {
			return ch, storeErr(op, err)
		}
	}
	return challenge{}, problem.E(op, problem.Conflict, problem.Code("challenge-contention"), "too many concurrent answers")
}

// verifyPassword checks password against user's hash, an attempt the
// throttle admitted on account: an error or a wrong password settles it as
// a failure, and a wrong one is a LoginFailed (with reason) that counts
// towards the repeated-failures alert. The caller settles a right one.
func (s *Service) verifyPassword(ctx context.Context, tenant string, user User, account, password, reason string, c Client) (ok, rehash bool, err error) {
	ok, rehash, err = credential.Verify(password, user.PasswordHash)
	switch {
	case err != nil:
		s.settle(ctx, account, c.IP, false)
	case !ok:
		s.settle(ctx, account, c.IP, false)
		s.loginFailed(ctx, tenant, user.ID, reason, c)
	}
	return ok, rehash, err
}

// settle records the outcome of a throttled attempt.
func (s *Service) settle(ctx context.Context, account, ip string, ok bool) {
	var err error
	if ok {
		err = s.throttle.Succeed(ctx, PlatformTenant, account, ip, s.Now())
	} else {
		err = s.throttle.Fail(ctx, PlatformTenant, account, ip, s.Now())
	}
	if err != nil {
		s.Log.ErrorContext(ctx, "sign-in throttle not updated", "error", err.Error())
	}
}

func (s *Service) loginFailed(ctx context.Context, tenant, user, reason string, c Client) {
	actor := user
	if tenant == "" {
		tenant, actor = PlatformTenant, "anonymous"
	}
	s.publish(ctx, tenant, actor, EventLoginFailed, map[string]any{"user": user, "reason": reason, "ip": c.IP, "userAgent": c.UserAgent})
	if tenant != PlatformTenant && user != "" {
		s.alertRepeatedFailures(ctx, tenant, user, c)
	}
}

// RepeatedFailuresThreshold is how many failed sign-ins to one account in
// the throttle's window (an hour) raise an alert.
const RepeatedFailuresThreshold = 5

// alertKey marks that an account's owner was alerted; it expires after the
// throttle's window, so an attack that goes on is reported once an hour.
func alertKey(tenant, user string) table.Key {
	return table.Key{Tenant: tenant, PK: "ALERT#FAILURES#" + user, SK: "ALERT"}
}

// alertRepeatedFailures tells the owner of an account (an event for the
// audit trail and the security team, and a mail) once its failed sign-ins
// in the window reach RepeatedFailuresThreshold: at most once per window.
func (s *Service) alertRepeatedFailures(ctx context.Context, tenant, userID string, c Client) {
	user, err := s.loadUser(ctx, tenant, userID)
	if err != nil {
		return
	}
	now := s.Now()
	n, err := s.throttle.Failures(ctx, PlatformTenant, throttleAccount(user.Email), now)
	if err != nil {
		s.Log.ErrorContext(ctx, "failed sign-ins not counted", "error", err.Error())
		return
	}
	if n < RepeatedFailuresThreshold {
		return
	}
	// One alert per window: the marker says when the last one went out.
	// (Its TTL only tidies up; the decision uses the service's clock.)
	window := s.throttle.Account.Window
	var last struct {
		At time.Time `json:"at"`
	}
	version, err := get(ctx, s.Store, alertKey(tenant, userID), &last)
	cond := table.IfVersion(version)
	switch {
	case errors.Is(err, table.ErrNotFound):
		cond = table.IfNotExists
	case err != nil:
		s.Log.ErrorContext(ctx, "repeated failures alert not checked", "error", err.Error())
		return
	case now.Sub(last.At) < window:
		return // already alerted in this window
	}
	it, err := item(alertKey(tenant, userID), map[string]any{"failures": n, "at": now.UTC()}, version+1, now.Add(2*window))
	if err != nil {
		return
	}
	if err := s.Store.Put(ctx, it, cond); errors.Is(err, table.ErrConditionFailed) {
		return // a concurrent failure sent it
	} else if err != nil {
		s.Log.ErrorContext(ctx, "repeated failures alert not recorded", "error", err.Error())
		return
	}
	s.publish(ctx, tenant, userID, EventLoginFailuresRepeated, map[string]any{
		"user": userID, "failures": n, "windowSeconds": int(window.Seconds()), "ip": c.IP, "userAgent": c.UserAgent,
	})
	if err := s.send(ctx, repeatedFailuresMail(langOf(user.Lang), user.Email, tenant, user.Name, n, now, c.IP)); err != nil {
		s.Log.ErrorContext(ctx, "repeated failures alert not mailed", "error", err.Error())
	}
}

// rehash stores a fresh hash of a password whose hash used old parameters.
func (s *Service) rehash(ctx context.Context, tenant, id, password string) {
	u, err := s.loadUser(ctx, tenant, id)
	if err != nil {
		return
	}
	if u.PasswordHash, err = credential.Hash(password); err != nil {
		return
	}
	if op, err := userPut(tenant, u, time.Time{}, table.IfVersion(u.version)); err == nil {
		_ = s.Store.Put(ctx, *op.Put, op.Condition) // a concurrent change wins; next sign-in rehashes
	}
}

// Authentication methods (RFC 8176 values where one fits) of a session.
const (
	AMRPassword = "pwd"
	AMROTP      = "otp"
	// AMRFederated: the company's own identity provider vouched for the
	// user (single sign-on).
	AMRFederated = "fed"
)

// signInMethod is how a sign-in was proved.
type signInMethod struct {
	name  string         // LoginSucceeded's method
	amr   []string       // kept with the session
	event map[string]any // more LoginSucceeded fields
}

var (
	methodPassword     = signInMethod{name: "password", amr: []string{AMRPassword}}
	methodTOTP         = signInMethod{name: "totp", amr: []string{AMRPassword, AMROTP}}
	methodRecoveryCode = signInMethod{name: "recovery-code", amr: []string{AMRPassword, AMROTP}}
)

// signIn finishes a sign-in whose factors are all checked: a new session
// (a refresh token family), its tokens, the login events, and an alert
// mail when the device or network is new.
//
// m says how the user proved who they are: its AMR go with the session,
// so that refreshes mint what this sign-in earned, and its event fields
// go into LoginSucceeded.
func (s *Service) signIn(ctx context.Context, company Company, user User, c Client, m signInMethod) (*Tokens, error) {
	const op = "identity.signIn"
	tokens, sid, err := s.startSession(ctx, company, user, c, m.amr...)
	if err != nil {
		return nil, problem.Wrap(op, err)
	}
	now := s.Now()
	newDevice, newNetwork, err := s.novelty.Seen(ctx, company.ID, user.ID, c.DeviceID, c.IP, now)
	if err != nil {
		s.Log.ErrorContext(ctx, "device novelty not checked", "error", err.Error())
	}
	first := user.LastLoginAt.IsZero()
	s.touchLastLogin(ctx, company.ID, user.ID, now)
	succeeded := map[string]any{"user": user.ID, "session": sid, "ip": c.IP, "userAgent": c.UserAgent,
		"scope": tokens.Scope, "method": m.name, "amr": m.amr}
	maps.Copy(succeeded, m.event)
	s.publish(ctx, company.ID, user.ID, EventLoginSucceeded, succeeded)
	if (newDevice || newNetwork) && !first {
		s.publish(ctx, company.ID, user.ID, EventNewDeviceLogin, map[string]any{
			"user": user.ID, "session": sid, "ip": c.IP, "userAgent": c.UserAgent, "newDevice": newDevice,
			"newNetwork": newNetwork, "method": m.name,
		})
		if err := s.send(ctx, newDeviceMail(langOf(user.Lang), user.Email, company.ID, user.Name, now, c.IP, c.UserAgent, newDevice, newNetwork)); err != nil {
			s.Log.ErrorContext(ctx, "new-device alert not mailed", "error", err.Error())
		}
	}
	return tokens, nil
}

// startSession begins a session for user, from c: a refresh token family
// and an access token. A user who must have a second factor and has none
// gets an access token that can only enrol one, and no refresh token.
func (s *Service) startSession(ctx context.Context, company Company, user User, c Client, amr ...string) (*Tokens, string, error) {
	from := token.Origin{DeviceID: c.DeviceID, IP: c.IP, UserAgent: c.UserAgent}
	rt, err := s.Refreshes.Start(ctx, company.ID, user.ID, "", from, amr...)
	if err != nil {
		return nil, "", err
	}
	tokens, err := s.mint(ctx, company, user, rt.SessionID, rt.AMR)
	if err != nil {
		return nil, "", err
	}
	if !tokens.EnrolmentRequired {
		tokens.RefreshToken = rt.Token
	}
	return tokens, rt.SessionID, nil
}

// mint signs an access token for user in session sid, whose sign-in used
// the methods amr. A user who must have a second factor gets an enrol-only
// token unless they have one or signed in through the company's identity
// provider (see LoginSSO).
func (s *Service) mint(ctx context.Context, company Company, user User, sid string, amr []string) (*Tokens, error) {
	claims := token.Claims{Subject: user.ID, Tenant: company.ID, SessionID: sid, Version: user.TokenVersion,
		Roles: user.TokenRoles(), Scopes: []string{ScopeAPI}}
	enrolOnly := user.MustHaveMFA(company) && !user.HasTOTP() && !slices.Contains(amr, AMRFederated)
	if enrolOnly {
		claims.Roles, claims.Scopes = []string{}, []string{ScopeEnrol}
	}
	at, err := s.Tokens.Issue(ctx, claims)
	if err != nil {
		return nil, err
	}
	return &Tokens{AccessToken: at.JWT, TokenType: "Bearer", ExpiresIn: max(int(time.Until(at.ExpiresAt).Seconds()), 0),
		Scope: strings.Join(claims.Scopes, " "), EnrolmentRequired: enrolOnly}, nil
}

func (s *Service) touchLastLogin(ctx context.Context, tenant, id string, at time.Time) {
	for range 3 {
		u, err := s.loadUser(ctx, tenant, id)
		if err != nil {
			return
		}
		u.LastLoginAt = at.UTC()
		op, err := userPut(tenant, u, time.Time{}, table.IfVersion(u.version))
		if err != nil {
			return
		}
		if err = s.Store.Put(ctx, *op.Put, op.Condition); !errors.Is(err, table.ErrConditionFailed) {
			if err != nil {
				s.Log.ErrorContext(ctx, "last sign-in not recorded", "error", err.Error())
			}
			return
		}
	}
}

// Refresh exchanges a refresh token for a new one and a new access token
// with the user's current roles. A reused token revokes its whole sign-in
// (see token.Refreshes.Rotate); a user who is no longer active gets 401 and
// all of their sign-ins are revoked. c's address becomes the sign-in's
// last known one (ListSessions).
func (s *Service) Refresh(ctx context.Context, refreshToken string, c Client) (*Tokens, error) {
	const op = "identity.Refresh"
	rt, err := s.Refreshes.Rotate(ctx, "", refreshToken, c.IP)
	if err != nil {
		if problem.CodeOf(err) == token.CodeRefreshReused {
			tenant, _, _ := strings.Cut(refreshToken, ".")
			s.publish(ctx, tenant, "anonymous", EventRefreshTokenReused, map[string]any{"reason": "a used refresh token was presented again; its sign-in was revoked"})
		}
		return nil, problem.Wrap(op, err)
	}
	user, err := s.loadUser(ctx, rt.Tenant, rt.User)
	if err != nil && !errors.Is(err, table.ErrNotFound) {
		return nil, storeErr(op, err)
	}
	if err != nil || user.Status != UserActive {
		if _, rerr := s.Refreshes.RevokeUser(ctx, rt.Tenant, rt.User); rerr != nil {
			s.Log.ErrorContext(ctx, "sign-ins of an inactive user not revoked", "error", rerr.Error())
		}
		return nil, problem.E(op, problem.Unauthenticated, token.CodeRefreshRevoked, i18n.Text{
			EN: "This sign-in has ended. Please sign in again.", ZH: "此登入已結束，請重新登入。",
		}, "user not active")
	}
	company, err := s.loadCompany(ctx, rt.Tenant)
	if err != nil {
		return nil, storeErr(op, err)
	}
	tokens, err := s.mint(ctx, company, user, rt.SessionID, rt.AMR)
	if err != nil {
		return nil, problem.Wrap(op, err)
	}
	if !tokens.EnrolmentRequired {
		tokens.RefreshToken = rt.Token
	}
	return tokens, nil
}

// Logout ends the actor's session: its refresh tokens stop rotating and,
// through the session check, its access tokens stop working.
func (s *Service) Logout(ctx context.Context, a Actor) error {
	const op = "identity.Logout"
	if err := Authorize(a, PermSignOut); err != nil {
		return err
	}
	if a.SessionID == "" {
		return problem.E(op, problem.Invalid, problem.Code("no-session"), "token without sid")
	}
	if _, err := s.Refreshes.RevokeSession(ctx, a.Tenant, a.SessionID); err != nil {
		return problem.Wrap(op, err)
	}
	s.publish(ctx, a.Tenant, a.User, EventLoggedOut, map[string]any{"user": a.User, "session": a.SessionID})
	return nil
}

// String hides secrets in logs.
func (t Tokens) String() string {
	return fmt.Sprintf("Tokens{scope: %s, expiresIn: %d}", t.Scope, t.ExpiresIn)
}
