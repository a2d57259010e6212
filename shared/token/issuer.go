// Package token issues Lantau's tokens: RS256 access tokens that API
// Gateway's JWT authorizer (and the local runner's jwtauth) accept, the
// discovery document and JWKS that let them verify those tokens, and opaque,
// rotating refresh tokens with reuse detection kept in the table.
//
// Access tokens carry the claims httpapi.Actor reads: sub, tenant, roles (a
// JSON array, which API Gateway flattens to "[a b]"), scope (space-separated)
// and sid, plus ver, iss, aud, iat, nbf, exp and jti, under a kid header. Only
// RSA keys sign, as API Gateway supports only RSA-based algorithms.
//
// No secret leaves the package in a log line or an error: SigningKey hides
// its private half, and AccessToken and RefreshToken print redacted.
package token

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"

	"github.com/lantau-hq/lantau/shared/problem"
)

// DefaultTTL is the lifetime of an access token when Issuer.TTL is zero.
const DefaultTTL = 15 * time.Minute

// Cache lifetimes of the documents Handler serves. The JWKS is cached
// briefly so verifiers see a new key soon; FileKeys.Lead (or its equivalent)
// should be at least JWKSMaxAge plus the verifier's own cache time.
const (
	DiscoveryMaxAge = time.Hour
	JWKSMaxAge      = 10 * time.Minute
)

// Issuer signs access tokens. Set URL, Audience and Keys; the zero TTL means
// DefaultTTL and a nil Now means time.Now. An Issuer is safe for concurrent
// use if its KeySource is.
type Issuer struct {
	// URL is the iss claim and the base of the discovery document:
	// verifiers fetch URL + "/.well-known/openid-configuration". API Gateway
	// wants https; the local runner serves it on its loopback port.
	URL string
	// Audience is the aud claim: the JWT authorizer's audience.
	Audience string
	// TTL is how long an access token is valid.
	TTL time.Duration
	// Keys lists the signing keys.
	Keys KeySource
	// Now is the clock.
	Now func() time.Time
}

// Claims say who a token is for.
type Claims struct {
	Subject   string   // sub: the user
	Tenant    string   // tenant: the company
	Roles     []string // roles
	Scopes    []string // scope, space-separated
	SessionID string   // sid: the sign-in session, shared with its refresh tokens
	// Version is the ver claim: the user's token version, bumped when roles
	// change so functions can refuse tokens minted before the change.
	Version int
}

// AccessToken is a signed JWT. Its String and LogValue hide the token.
type AccessToken struct {
	JWT       string    // compact JWS, for the Authorization: Bearer header
	ID        string    // jti
	KeyID     string    // kid of the signing key
	ExpiresAt time.Time // exp
}

// String describes t without the token itself.
func (t AccessToken) String() string {
	return fmt.Sprintf("AccessToken{jti: %s, kid: %s, exp: %s}", t.ID, t.KeyID, t.ExpiresAt.Format(time.RFC3339))
}

// GoString is String, for %#v.
func (t AccessToken) GoString() string { return t.String() }

// LogValue logs t without the token itself.
func (t AccessToken) LogValue() slog.Value {
	return slog.GroupValue(slog.String("jti", t.ID), slog.String("kid", t.KeyID), slog.Time("exp", t.ExpiresAt))
}

// accessClaims is the payload of an access token, in this order.
type accessClaims struct {
	Issuer    string   `json:"iss"`
	Subject   string   `json:"sub"`
	Audience  string   `json:"aud"`
	Tenant    string   `json:"tenant"`
	Roles     []string `json:"roles"`
	Scope     string   `json:"scope,omitempty"`
	SessionID string   `json:"sid,omitempty"`
	Version   int      `json:"ver"`
	IssuedAt  int64    `json:"iat"`
	NotBefore int64    `json:"nbf"`
	Expires   int64    `json:"exp"`
	ID        string   `json:"jti"`
}

func (i *Issuer) now() time.Time {
	if i.Now != nil {
		return i.Now()
	}
	return time.Now()
}

func (i *Issuer) ttl() time.Duration {
	if i.TTL > 0 {
		return i.TTL
	}
	return DefaultTTL
}

func (i *Issuer) check(op string) error {
	switch {
	case i.URL == "" || strings.ContainsAny(i.URL, "?#") || strings.HasSuffix(i.URL, "/"):
		return problem.E(op, problem.Internal, problem.Code("token-config"), "Issuer.URL must be an absolute URL without query, fragment or trailing slash")
	case i.Audience == "":
		return problem.E(op, problem.Internal, problem.Code("token-config"), "Issuer.Audience is required")
	case i.Keys == nil:
		return problem.E(op, problem.Internal, problem.Code("token-config"), "Issuer.Keys is required")
	}
	return nil
}

// Issue signs an access token for c with the newest active key.
func (i *Issuer) Issue(ctx context.Context, c Claims) (AccessToken, error) {
	const op = "token.Issue"
	if err := i.check(op); err != nil {
		return AccessToken{}, err
	}
	if err := c.validate(); err != nil {
		return AccessToken{}, problem.E(op, problem.Internal, problem.Code("invalid-claims"), err)
	}
	keys, err := i.Keys.Keys(ctx)
	if err != nil {
		return AccessToken{}, problem.E(op, problem.Other, err)
	}
	now := i.now()
	key, ok := signer(keys, now)
	if !ok {
		return AccessToken{}, problem.E(op, problem.Internal, problem.Code("no-signing-key"), "no active signing key")
	}

	var jti [16]byte
	_, _ = rand.Read(jti[:]) // never fails (crypto/rand)
	iat := now.Unix()
	exp := now.Add(i.ttl()).Unix()
	roles := c.Roles
	if roles == nil {
		roles = []string{}
	}
	payload, err := json.Marshal(accessClaims{
		Issuer: i.URL, Subject: c.Subject, Audience: i.Audience, Tenant: c.Tenant,
		Roles: roles, Scope: strings.Join(c.Scopes, " "), SessionID: c.SessionID, Version: c.Version,
		IssuedAt: iat, NotBefore: iat, Expires: exp, ID: b64(jti[:]),
	})
	if err != nil {
		return AccessToken{}, problem.E(op, problem.Internal, err)
	}
	// RFC 9068 names access tokens "at+jwt"; API Gateway reads no typ.
	header := `{"alg":"RS256","kid":"` + key.id + `","typ":"at+jwt"}`
	signing := b64([]byte(header)) + "." + b64(payload)
	sig, err := jwt.SigningMethodRS256.Sign(signing, key.priv)
	if err != nil {
		return AccessToken{}, problem.E(op, problem.Internal, err)
	}
	return AccessToken{
		JWT:       signing + "." + b64(sig),
		ID:        b64(jti[:]),
		KeyID:     key.id,
		ExpiresAt: time.Unix(exp, 0),
	}, nil
}

// validate checks what API Gateway's flattening and httpapi.ParseList would
// otherwise garble: roles and scopes are single words, since "[a b]" and
// "a b" cannot carry a space, comma or bracket inside an item.
func (c Claims) validate() error {
	for name, v := range map[string]string{"Subject": c.Subject, "Tenant": c.Tenant} {
		if v == "" || strings.TrimSpace(v) != v || !utf8.ValidString(v) {
			return fmt.Errorf("claim %s is empty, padded or not UTF-8", name)
		}
	}
	if c.SessionID != "" && !isWord(c.SessionID) {
		return fmt.Errorf("claim SessionID %q is not a single word", c.SessionID)
	}
	for _, list := range []struct {
		name string
		v    []string
	}{{"Roles", c.Roles}, {"Scopes", c.Scopes}} {
		for _, s := range list.v {
			if !isWord(s) {
				return fmt.Errorf("%s item %q is not a single word (no space, comma, bracket or quote)", list.name, s)
			}
		}
	}
	if c.Version < 0 {
		return fmt.Errorf("claim Version %d is negative", c.Version)
	}
	return nil
}

func isWord(s string) bool {
	if s == "" || !utf8.ValidString(s) {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune(`,[]"`, r)
	})
}

// Discovery is the OpenID Provider Metadata document served at
// URL + "/.well-known/openid-configuration": the issuer and its jwks_uri,
// which is all API Gateway reads.
func (i *Issuer) Discovery() ([]byte, error) {
	const op = "token.Discovery"
	if err := i.check(op); err != nil {
		return nil, err
	}
	b, err := json.Marshal(struct {
		Issuer          string   `json:"issuer"`
		JWKSURI         string   `json:"jwks_uri"`
		SigningAlgs     []string `json:"id_token_signing_alg_values_supported"`
		SubjectTypes    []string `json:"subject_types_supported"`
		ClaimsSupported []string `json:"claims_supported"`
	}{
		Issuer:          i.URL,
		JWKSURI:         i.URL + "/jwks",
		SigningAlgs:     []string{"RS256"},
		SubjectTypes:    []string{"public"},
		ClaimsSupported: []string{"iss", "sub", "aud", "tenant", "roles", "scope", "sid", "ver", "iat", "nbf", "exp", "jti"},
	})
	if err != nil {
		return nil, problem.E(op, problem.Internal, err)
	}
	return b, nil
}

// JWKS is the JSON Web Key Set served at URL + "/jwks": the public halves of
// every published key, newest first.
func (i *Issuer) JWKS(ctx context.Context) ([]byte, error) {
	const op = "token.JWKS"
	if i.Keys == nil {
		return nil, problem.E(op, problem.Internal, problem.Code("token-config"), "Issuer.Keys is required")
	}
	keys, err := i.Keys.Keys(ctx)
	if err != nil {
		return nil, problem.E(op, problem.Other, err)
	}
	keys = append([]SigningKey(nil), keys...)
	sortNewestFirst(keys)
	set := struct {
		Keys []map[string]string `json:"keys"`
	}{Keys: make([]map[string]string, 0, len(keys))}
	for _, k := range keys {
		if k.priv != nil {
			set.Keys = append(set.Keys, k.jwk())
		}
	}
	b, err := json.Marshal(set)
	if err != nil {
		return nil, problem.E(op, problem.Internal, err)
	}
	return b, nil
}

// Handler serves GET (and HEAD) path + "/.well-known/openid-configuration"
// and path + "/jwks", where path is the URL path of Issuer.URL as the
// handler sees it ("" when the issuer is a host's root). Other requests get
// 404 or 405. A key source failure is a 503 problem that is not cached.
func (i *Issuer) Handler(path string) http.Handler {
	path = strings.TrimSuffix(path, "/")
	mux := http.NewServeMux()
	serve := func(maxAge time.Duration, doc func(*http.Request) ([]byte, error)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			b, err := doc(r)
			if err != nil {
				w.Header().Set("Cache-Control", "no-store")
				problem.Write(w, r, problem.E("token.Handler", problem.Unavailable, err))
				return
			}
			h := w.Header()
			h.Set("Content-Type", "application/json")
			h.Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int(maxAge.Seconds())))
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Access-Control-Allow-Origin", "*") // public documents; browsers' OIDC clients read them
			_, _ = w.Write(b)
		}
	}
	mux.Handle("GET "+path+"/.well-known/openid-configuration", serve(DiscoveryMaxAge, func(*http.Request) ([]byte, error) { return i.Discovery() }))
	mux.Handle("GET "+path+"/jwks", serve(JWKSMaxAge, func(r *http.Request) ([]byte, error) { return i.JWKS(r.Context()) }))
	return mux
}
