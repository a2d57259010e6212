package sso

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/table"
)

// StateTTL is how long a begun sign-in may take.
const StateTTL = 10 * time.Minute

// Scopes Lantau asks for.
var Scopes = []string{oidc.ScopeOpenID, "email", "profile"}

// ConfigSource gives Complete the company's current configuration, with
// the client secret (Configs is one).
type ConfigSource interface {
	Load(ctx context.Context, tenant string) (Config, error)
}

// Identity is who the identity provider says signed in.
type Identity struct {
	Tenant        string // the company the sign-in was begun for
	Issuer        string
	Subject       string // the provider's stable ID of the user (sub)
	Email         string // lower-cased
	EmailVerified bool   // always true in an Identity Complete returns
	Name          string
}

// Flow runs the OpenID Connect authorization code flow with PKCE (S256),
// state and nonce. Begin stores what the callback needs in the table;
// Complete consumes it once. It is safe for concurrent use; the zero value
// is not usable: set Table and Configs.
type Flow struct {
	Table   table.Store
	Configs ConfigSource
	// HTTPClient makes discovery, JWKS, token and userinfo requests; nil: a
	// client with a 10-second timeout.
	HTTPClient *http.Client
	Now        func() time.Time // nil: time.Now

	mu        sync.Mutex
	providers map[string]*oidc.Provider // discovery by issuer; keys refresh on an unknown kid
}

// Table layout of a begun sign-in, found by the hash of its state (a table
// dump yields no usable state). It expires with the state, and is marked
// used, not deleted, when consumed, so that a replay is told apart from an
// unknown state until then.
//
//	PK                       SK         ttl
//	SSO#STATE#<sha256>       SSO#STATE  state expiry
const pkState, skState = "SSO#STATE#", "SSO#STATE"

func stateKey(tenant, state string) table.Key {
	sum := sha256.Sum256([]byte(state))
	return table.Key{Tenant: tenant, PK: pkState + base64.RawURLEncoding.EncodeToString(sum[:]), SK: skState}
}

type stateRecord struct {
	Tenant      string    `json:"tenant"`
	Issuer      string    `json:"issuer"`
	ClientID    string    `json:"clientId"`
	RedirectURI string    `json:"redirectUri"`
	Nonce       string    `json:"nonce"`
	Verifier    string    `json:"verifier"` // PKCE code verifier
	CreatedAt   time.Time `json:"createdAt"`
	ExpiresAt   time.Time `json:"expiresAt"`
	UsedAt      time.Time `json:"usedAt,omitzero"`
}

// A state is "<tenant>.<32 random bytes, base64url>": the callback names
// its company, the way refresh tokens do, so Complete finds the record
// under the right tenant. The tenant is no secret; the random part is.
// tenantRE with the length apart (validTenant): {0,63} compiles to 63 copies.
var tenantRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)

func validTenant(t string) bool { return len(t) <= 64 && tenantRE.MatchString(t) }

const stateSecretLen = 43 // base64url of 32 bytes

func newState(tenant string) string { return tenant + "." + random32() }

// StateTenant is the company a callback's state names, if it is well
// formed; it proves nothing (Login checks the state), but tells whose
// audit trail a failed callback belongs in.
func StateTenant(state string) (string, bool) { return parseState(state) }

func parseState(state string) (tenant string, ok bool) {
	tenant, secret, ok := strings.Cut(state, ".")
	if !ok || !validTenant(tenant) || len(secret) != stateSecretLen {
		return "", false
	}
	if _, err := base64.RawURLEncoding.Strict().DecodeString(secret); err != nil {
		return "", false
	}
	return tenant, true
}

func random32() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Begin starts a sign-in of tenant's user at the provider of cfg (Issuer
// and ClientID are used; the secret is not needed yet) and returns the
// URL to send the browser to. redirectURI is Lantau's callback as
// registered with the provider; the browser comes back there with state
// and code for Complete.
func (f *Flow) Begin(ctx context.Context, tenant string, cfg Config, redirectURI string) (string, error) {
	const op = "sso.Begin"
	cfg = cfg.normalize()
	switch {
	case !validTenant(tenant):
		return "", problem.E(op, problem.Internal, fmt.Sprintf("tenant %q cannot be put in a state", tenant))
	case checkIssuer(cfg.Issuer) != nil || cfg.ClientID == "":
		return "", problem.E(op, problem.Internal, CodeConfigInvalid, textConfigInvalid, "issuer or client ID missing or invalid")
	case !validRedirect(redirectURI):
		return "", problem.E(op, problem.Internal, fmt.Sprintf("redirect URI %q is not an absolute http(s) URL", redirectURI))
	}
	p, err := f.provider(ctx, cfg.Issuer)
	if err != nil {
		return "", problem.E(op, problem.Unavailable, CodeProviderUnavailable, textProviderUnavailable, err)
	}
	now := f.now().UTC()
	state := newState(tenant)
	rec := stateRecord{Tenant: tenant, Issuer: cfg.Issuer, ClientID: cfg.ClientID, RedirectURI: redirectURI,
		Nonce: random32(), Verifier: oauth2.GenerateVerifier(), CreatedAt: now, ExpiresAt: now.Add(StateTTL)}
	item, err := stateItem(stateKey(tenant, state), rec, 1)
	if err != nil {
		return "", problem.E(op, problem.Internal, err)
	}
	if err := f.Table.Put(ctx, item, table.IfNotExists); err != nil {
		return "", problem.E(op, problem.Internal, err)
	}
	conf := oauthConfig(p, cfg, redirectURI)
	return conf.AuthCodeURL(state, oauth2.S256ChallengeOption(rec.Verifier), oidc.Nonce(rec.Nonce)), nil
}

// Complete finishes a sign-in with the state and code the browser brought
// back to the redirect URI. It consumes the state (once: a replay is
// refused), exchanges the code with the PKCE verifier, verifies the ID
// token (signature by the provider's JWKS, issuer, audience, expiry),
// checks its nonce, and requires a verified email on an allowed domain.
//
// Errors (problem): 400 CodeStateInvalid, CodeStateExpired, CodeStateUsed,
// CodeCodeMissing; 401 CodeTokenInvalid, CodeNonceMismatch; 403
// CodeEmailUnverified, CodeDomainNotAllowed, CodeNotConfigured; 503
// CodeProviderUnavailable.
func (f *Flow) Complete(ctx context.Context, state, code string) (Identity, error) {
	id, _, err := f.complete(ctx, "sso.Complete", state, code)
	return id, err
}

func (f *Flow) complete(ctx context.Context, op, state, code string) (Identity, Config, error) {
	rec, err := f.consume(ctx, op, state)
	if err != nil {
		return Identity{}, Config{}, err
	}
	if code == "" {
		return Identity{}, Config{}, problem.E(op, problem.Invalid, CodeCodeMissing, textCodeMissing, "callback without code")
	}
	cfg, err := f.Configs.Load(ctx, rec.Tenant)
	if problem.CodeOf(err) == CodeNotConfigured {
		return Identity{}, Config{}, problem.E(op, problem.Forbidden, CodeNotConfigured, textNotConfigured, err)
	} else if err != nil {
		return Identity{}, Config{}, problem.E(op, problem.Other, err)
	}
	cfg = cfg.normalize()
	if cfg.Issuer != rec.Issuer || cfg.ClientID != rec.ClientID {
		return Identity{}, Config{}, problem.E(op, problem.Invalid, CodeStateInvalid, textStateInvalid,
			"the company's SSO provider changed since the sign-in began")
	}
	p, err := f.provider(ctx, cfg.Issuer)
	if err != nil {
		return Identity{}, Config{}, problem.E(op, problem.Unavailable, CodeProviderUnavailable, textProviderUnavailable, err)
	}

	hctx := oidc.ClientContext(ctx, f.client())
	tok, err := oauthConfig(p, cfg, rec.RedirectURI).Exchange(hctx, code, oauth2.VerifierOption(rec.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500 {
			// invalid_grant: a wrong, used or expired code, or a verifier
			// that does not match the code's challenge.
			return Identity{}, Config{}, problem.E(op, problem.Unauthenticated, CodeTokenInvalid, textTokenInvalid,
				fmt.Errorf("code exchange refused: %s %s", re.ErrorCode, re.ErrorDescription))
		}
		return Identity{}, Config{}, problem.E(op, problem.Unavailable, CodeProviderUnavailable, textProviderUnavailable,
			fmt.Errorf("code exchange: %w", err))
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return Identity{}, Config{}, problem.E(op, problem.Unauthenticated, CodeTokenInvalid, textTokenInvalid, "token response without id_token")
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: cfg.ClientID, Now: f.now}).Verify(hctx, raw)
	if err != nil {
		return Identity{}, Config{}, problem.E(op, problem.Unauthenticated, CodeTokenInvalid, textTokenInvalid,
			fmt.Errorf("ID token: %w", err))
	}
	var claims idClaims
	if err := idt.Claims(&claims); err != nil {
		return Identity{}, Config{}, problem.E(op, problem.Unauthenticated, CodeTokenInvalid, textTokenInvalid,
			fmt.Errorf("ID token claims: %w", err))
	}
	// With several audiences the token must have been issued to us (OIDC
	// Core 3.1.3.7, items 4 and 5).
	if len(idt.Audience) > 1 && claims.AZP != cfg.ClientID {
		return Identity{}, Config{}, problem.E(op, problem.Unauthenticated, CodeTokenInvalid, textTokenInvalid,
			fmt.Errorf("ID token for audiences %v has azp %q", idt.Audience, claims.AZP))
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(rec.Nonce)) != 1 {
		return Identity{}, Config{}, problem.E(op, problem.Unauthenticated, CodeNonceMismatch, textNonceMismatch,
			"ID token nonce differs from the one this sign-in sent")
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return Identity{}, Config{}, problem.E(op, problem.Unauthenticated, CodeTokenInvalid, textTokenInvalid, err)
		}
	}

	email, verified, name := claims.Email, bool(claims.EmailVerified) || bool(claims.EmailDomainOwnerVerified), claims.Name
	if email == "" && p.UserInfoEndpoint() != "" {
		// Providers that follow OIDC Core 5.4 to the letter put the scope
		// claims in userinfo only, for the code flow.
		info, err := p.UserInfo(hctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			return Identity{}, Config{}, problem.E(op, problem.Unavailable, CodeProviderUnavailable, textProviderUnavailable,
				fmt.Errorf("userinfo: %w", err))
		}
		var more struct {
			Name string `json:"name"`
		}
		_ = info.Claims(&more)
		if info.Subject != idt.Subject { // OIDC Core 5.3.2
			return Identity{}, Config{}, problem.E(op, problem.Unauthenticated, CodeTokenInvalid, textTokenInvalid,
				fmt.Errorf("userinfo sub %q is not the ID token's %q", info.Subject, idt.Subject))
		}
		email, verified = info.Email, info.EmailVerified
		if name == "" {
			name = more.Name
		}
	}

	id := Identity{Tenant: rec.Tenant, Issuer: idt.Issuer, Subject: idt.Subject, Name: name}
	addr, domain, ok := parseEmail(email)
	switch {
	case !ok:
		return Identity{}, Config{}, problem.E(op, problem.Forbidden, CodeEmailUnverified, textEmailUnverified,
			fmt.Sprintf("no usable email for %s at %s", idt.Subject, idt.Issuer))
	case !verified:
		return Identity{}, Config{}, problem.E(op, problem.Forbidden, CodeEmailUnverified, textEmailUnverified,
			fmt.Sprintf("%s: email_verified is not true", addr))
	case !domainAllowed(domain, cfg.AllowedDomains):
		return Identity{}, Config{}, problem.E(op, problem.Forbidden, CodeDomainNotAllowed, textDomainNotAllowed,
			fmt.Sprintf("%s: domain not in %v", addr, cfg.AllowedDomains))
	}
	id.Email, id.EmailVerified = addr, true
	return id, cfg, nil
}

// consume finds the state's record and marks it used, both at once or
// not at all: of two callbacks with one state, exactly one goes on.
func (f *Flow) consume(ctx context.Context, op, state string) (stateRecord, error) {
	tenant, ok := parseState(state)
	if !ok {
		return stateRecord{}, problem.E(op, problem.Invalid, CodeStateInvalid, textStateInvalid, "malformed state")
	}
	key := stateKey(tenant, state)
	got, err := f.Table.Get(ctx, key)
	if errors.Is(err, table.ErrNotFound) {
		return stateRecord{}, problem.E(op, problem.Invalid, CodeStateInvalid, textStateInvalid, "unknown (or long expired) state")
	} else if err != nil {
		return stateRecord{}, problem.E(op, problem.Internal, err)
	}
	var rec stateRecord
	if err := json.Unmarshal(got.Data, &rec); err != nil {
		return stateRecord{}, problem.E(op, problem.Internal, fmt.Errorf("state item: %w", err))
	}
	now := f.now().UTC()
	switch {
	case rec.Tenant != tenant:
		return stateRecord{}, problem.E(op, problem.Invalid, CodeStateInvalid, textStateInvalid, "state record of another tenant")
	case !rec.UsedAt.IsZero():
		return stateRecord{}, problem.E(op, problem.Invalid, CodeStateUsed, textStateUsed,
			fmt.Sprintf("state used at %s", rec.UsedAt.Format(time.RFC3339)))
	case !now.Before(rec.ExpiresAt):
		return stateRecord{}, problem.E(op, problem.Invalid, CodeStateExpired, textStateExpired,
			fmt.Sprintf("state expired at %s", rec.ExpiresAt.Format(time.RFC3339)))
	}
	used := rec
	used.UsedAt = now
	item, err := stateItem(key, used, got.Version+1)
	if err != nil {
		return stateRecord{}, problem.E(op, problem.Internal, err)
	}
	switch err := f.Table.Put(ctx, item, table.IfVersion(got.Version)); {
	case errors.Is(err, table.ErrConditionFailed):
		return stateRecord{}, problem.E(op, problem.Invalid, CodeStateUsed, textStateUsed, "state consumed concurrently")
	case err != nil:
		return stateRecord{}, problem.E(op, problem.Internal, err)
	}
	return rec, nil
}

func stateItem(key table.Key, rec stateRecord, version int64) (table.Item, error) {
	data, err := json.Marshal(rec)
	if err != nil {
		return table.Item{}, err
	}
	// Rounded up: the store never drops the item before the state expires.
	exp := rec.ExpiresAt.Add(time.Second - 1).Unix()
	return table.Item{Key: key, Version: version, ExpiresAt: exp, Data: data}, nil
}

// idClaims are the ID token claims Lantau reads beyond the standard ones.
type idClaims struct {
	Email         string    `json:"email"`
	EmailVerified looseBool `json:"email_verified"`
	// EmailDomainOwnerVerified is Microsoft Entra ID's (Azure AD's)
	// optional claim xms_edov: the address's domain is verified by the
	// tenant that owns it. Entra ID sends no email_verified; a company
	// adds the email and xms_edov optional claims to its app registration.
	EmailDomainOwnerVerified looseBool `json:"xms_edov"`
	Name                     string    `json:"name"`
	AZP                      string    `json:"azp"`
}

// looseBool reads true or "true" (some providers send a string).
type looseBool bool

func (b *looseBool) UnmarshalJSON(data []byte) error {
	switch string(data) {
	case "true", `"true"`:
		*b = true
	default:
		*b = false
	}
	return nil
}

// parseEmail returns a plain address (no display name) lower-cased, and
// its domain.
func parseEmail(email string) (addr, domain string, ok bool) {
	email = strings.TrimSpace(email)
	a, err := mail.ParseAddress(email)
	if err != nil || a.Name != "" || a.Address != email {
		return "", "", false
	}
	addr = strings.ToLower(a.Address)
	at := strings.LastIndexByte(addr, '@')
	return addr, addr[at+1:], at > 0
}

// domainAllowed: domain is one of allowed, or a subdomain of one.
func domainAllowed(domain string, allowed []string) bool {
	return slices.ContainsFunc(allowed, func(a string) bool {
		return domain == a || strings.HasSuffix(domain, "."+a)
	})
}

func validRedirect(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && u.Fragment == ""
}

func oauthConfig(p *oidc.Provider, cfg Config, redirectURI string) *oauth2.Config {
	return &oauth2.Config{ClientID: cfg.ClientID, ClientSecret: string(cfg.ClientSecret),
		Endpoint: p.Endpoint(), RedirectURL: redirectURI, Scopes: Scopes}
}

// provider returns the issuer's discovered configuration, fetched once per
// Flow. Its key set is fetched when first needed and again whenever a
// token names a key it does not hold (key rotation).
func (f *Flow) provider(ctx context.Context, issuer string) (*oidc.Provider, error) {
	f.mu.Lock()
	p := f.providers[issuer]
	f.mu.Unlock()
	if p != nil {
		return p, nil
	}
	// The provider keeps the context's HTTP client (not its deadline) for
	// its later key and userinfo requests.
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, f.client()), issuer)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.providers == nil {
		f.providers = map[string]*oidc.Provider{}
	}
	if q := f.providers[issuer]; q != nil {
		return q, nil
	}
	f.providers[issuer] = p
	return p, nil
}

var defaultClient = &http.Client{Timeout: 10 * time.Second}

func (f *Flow) client() *http.Client {
	if f.HTTPClient != nil {
		return f.HTTPClient
	}
	return defaultClient
}

func (f *Flow) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}
