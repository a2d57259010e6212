package token_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/httpapi"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/token"
)

func TestIssue_AcceptedByJWTAuthorizerWithClaimsAsAPIGatewayFlattensThem(t *testing.T) {
	clk := newClock()
	f := newIssuerFixture(t, clk, nil)
	a := f.authorizer(t)

	cases := []struct {
		name       string
		claims     token.Claims
		scopes     []string // the route's authorization scopes
		wantClaims map[string]string
		wantActor  httpapi.Actor
	}{
		{
			name:   "employee with roles, scopes and session",
			claims: employee,
			scopes: []string{"drive:read"},
			wantClaims: map[string]string{
				"sub": "u-1", "tenant": "t-acme", "roles": "[employee approver]",
				"scope": "attendance:write drive:read", "sid": "s-1", "ver": "3",
			},
			wantActor: httpapi.Actor{Tenant: "t-acme", User: "u-1", Roles: []string{"employee", "approver"},
				Scopes: []string{"attendance:write", "drive:read"}, SessionID: "s-1"},
		},
		{
			name:       "no roles, no scopes, no session",
			claims:     token.Claims{Subject: "u-2", Tenant: "t-acme"},
			wantClaims: map[string]string{"sub": "u-2", "tenant": "t-acme", "roles": "[]", "ver": "0"},
			wantActor:  httpapi.Actor{Tenant: "t-acme", User: "u-2"},
		},
		{
			name:       "Chinese subject survives",
			claims:     token.Claims{Subject: "陳大文", Tenant: "t-港島", Roles: []string{"員工"}},
			wantClaims: map[string]string{"sub": "陳大文", "tenant": "t-港島", "roles": "[員工]", "ver": "0"},
			wantActor:  httpapi.Actor{Tenant: "t-港島", User: "陳大文", Roles: []string{"員工"}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok := f.issue(t, tc.claims)
			res, err := authorize(t.Context(), a, tok.JWT, tc.scopes...)
			require.NoError(t, err)

			iat := strconv.FormatInt(clk.Now().Unix(), 10)
			want := map[string]string{
				"iss": f.iss.URL, "aud": audience, "iat": iat, "nbf": iat,
				"exp": strconv.FormatInt(clk.Now().Add(token.DefaultTTL).Unix(), 10), "jti": tok.ID,
			}
			for k, v := range tc.wantClaims {
				want[k] = v
			}
			assert.Equal(t, want, res.Claims)

			// What a function behind the gateway reads.
			actor, ok := httpapi.ActorFromGateway(events.APIGatewayV2HTTPRequestContext{
				Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: res.JWT()},
			})
			require.True(t, ok)
			assert.Equal(t, tc.wantActor, actor)
		})
	}
}

func TestIssue_TokenShape(t *testing.T) {
	clk := newClock()
	f := newIssuerFixture(t, clk, nil)
	f.iss.TTL = 5 * time.Minute
	keys, err := f.keys.Keys(t.Context())
	require.NoError(t, err)
	require.Len(t, keys, 1)

	tok := f.issue(t, employee)
	header, payload := segments(t, tok.JWT)
	assert.Equal(t, map[string]any{"alg": "RS256", "kid": keys[0].ID(), "typ": "at+jwt"}, header)
	assert.Equal(t, keys[0].ID(), tok.KeyID)

	now := float64(clk.Now().Unix())
	assert.Equal(t, map[string]any{
		"iss": f.iss.URL, "aud": audience, "sub": "u-1", "tenant": "t-acme",
		"roles": []any{"employee", "approver"}, "scope": "attendance:write drive:read",
		"sid": "s-1", "ver": 3.0, "iat": now, "nbf": now, "exp": now + 300, "jti": tok.ID,
	}, payload)
	assert.Equal(t, clk.Now().Add(5*time.Minute).Unix(), tok.ExpiresAt.Unix())
	assert.Len(t, tok.ID, 22, "jti: 16 random bytes, base64url")
	assert.NotEqual(t, tok.ID, f.issue(t, employee).ID, "jti is unique")
}

func TestIssue_RefusesClaimsThatWouldNotSurviveTheGateway(t *testing.T) {
	f := newIssuerFixture(t, newClock(), nil)
	cases := []struct {
		name string
		edit func(*token.Claims)
	}{
		{"no subject", func(c *token.Claims) { c.Subject = "" }},
		{"no tenant", func(c *token.Claims) { c.Tenant = "" }},
		{"padded subject", func(c *token.Claims) { c.Subject = " u-1" }},
		{"role with a space (flattened as [a b])", func(c *token.Claims) { c.Roles = []string{"super admin"} }},
		{"role with a comma", func(c *token.Claims) { c.Roles = []string{"a,b"} }},
		{"empty role", func(c *token.Claims) { c.Roles = []string{""} }},
		{"scope with a bracket", func(c *token.Claims) { c.Scopes = []string{"drive]"} }},
		{"session with a space", func(c *token.Claims) { c.SessionID = "s 1" }},
		{"negative version", func(c *token.Claims) { c.Version = -1 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := employee
			c.Roles = append([]string(nil), employee.Roles...)
			tc.edit(&c)
			_, err := f.iss.Issue(t.Context(), c)
			require.Error(t, err)
			assert.Equal(t, problem.Internal, problem.KindOf(err), "a server-side mistake, not the caller's")
			assert.Contains(t, err.Error(), "invalid-claims")
		})
	}
}

func TestIssue_RequiresConfiguration(t *testing.T) {
	keys := &token.FileKeys{Dir: t.TempDir()}
	cases := map[string]*token.Issuer{
		"no URL":             {Audience: audience, Keys: keys},
		"URL with a slash":   {URL: "https://id.lantau.dev/", Audience: audience, Keys: keys},
		"URL with a query":   {URL: "https://id.lantau.dev?x=1", Audience: audience, Keys: keys},
		"no audience":        {URL: "https://id.lantau.dev", Keys: keys},
		"no key source":      {URL: "https://id.lantau.dev", Audience: audience},
		"key source failing": {URL: "https://id.lantau.dev", Audience: audience, Keys: failingKeys{}},
	}
	for name, iss := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := iss.Issue(t.Context(), employee)
			require.Error(t, err)
			assert.Equal(t, problem.Internal, problem.KindOf(err))
		})
	}
}

type failingKeys struct{}

func (failingKeys) Keys(context.Context) ([]token.SigningKey, error) {
	return nil, errors.New("parameter store unreachable")
}

// The issuer emits only what API Gateway accepts, and nothing it emits can
// be bent into something else that passes: these variations of a good token
// are refused.
func TestJWTAuthorizer_RefusesForgedAndMisdirectedTokens(t *testing.T) {
	clk := newClock()
	f := newIssuerFixture(t, clk, nil)
	good := f.issue(t, employee)
	header, payload := segments(t, good.JWT)
	keys, err := f.keys.Keys(t.Context())
	require.NoError(t, err)
	pubDER, err := x509.MarshalPKIXPublicKey(keys[0].Public())
	require.NoError(t, err)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})

	with := func(m map[string]any, k string, v any) map[string]any {
		out := map[string]any{}
		for k, v := range m {
			out[k] = v
		}
		out[k] = v
		return out
	}
	hmacWith := func(key []byte) func(string) []byte {
		return func(in string) []byte {
			m := hmac.New(sha256.New, key)
			m.Write([]byte(in))
			return m.Sum(nil)
		}
	}
	reuseSignature := func(in string) []byte { // the good token's signature over other content
		_ = in
		parts := strings.Split(good.JWT, ".")
		raw, err := base64URLDecode(parts[2])
		require.NoError(t, err)
		return raw
	}
	// Same keys, same clock, other issuer settings.
	otherIssuer := func(edit func(*token.Issuer)) string {
		iss := *f.iss
		edit(&iss)
		tok, err := iss.Issue(t.Context(), employee)
		require.NoError(t, err)
		return tok.JWT
	}
	unpublished := &token.Issuer{URL: f.iss.URL, Audience: audience, Keys: &token.FileKeys{Dir: t.TempDir(), Now: clk.Now}, Now: clk.Now}
	strangerTok, err := unpublished.Issue(t.Context(), employee)
	require.NoError(t, err)

	cases := []struct {
		name  string
		token string
		at    time.Time // the authorizer's clock; zero: the fixture's
		desc  string    // "" means accepted
	}{
		{name: "the good token (control)", token: good.JWT},
		{name: "alg none, no signature", token: compact(t, with(header, "alg", "none"), payload, func(string) []byte { return nil }),
			desc: "signing method none is invalid"},
		{name: "alg none, signature kept", token: compact(t, with(header, "alg", "none"), payload, reuseSignature),
			desc: "signing method none is invalid"},
		{name: "HS256 signed with the public key as HMAC secret", token: compact(t, with(header, "alg", "HS256"), payload, hmacWith(pubPEM)),
			desc: "signing method HS256 is invalid"},
		{name: "HS256 signed with the DER public key", token: compact(t, with(header, "alg", "HS256"), payload, hmacWith(pubDER)),
			desc: "signing method HS256 is invalid"},
		{name: "payload changed, signature kept (tenant swap)", token: compact(t, header, with(payload, "tenant", "t-other"), reuseSignature),
			desc: "the token signature is invalid"},
		{name: "no kid", token: compact(t, with(header, "kid", ""), payload, reuseSignature),
			desc: "the token does not have a kid header"},
		{name: "signed by a key the issuer does not publish", token: strangerTok.JWT,
			desc: "does not match a key of the issuer"},
		{name: "wrong audience", token: otherIssuer(func(i *token.Issuer) { i.Audience = "payroll-api" }),
			desc: "the token does not have a valid audience"},
		{name: "wrong issuer", token: otherIssuer(func(i *token.Issuer) { i.URL = "https://evil.example" }),
			desc: "the token does not have a valid issuer"},
		{name: "expired: at exp", token: good.JWT, at: good.ExpiresAt,
			desc: "the token has expired"},
		{name: "still valid a second before exp", token: good.JWT, at: good.ExpiresAt.Add(-time.Second)},
		{name: "not yet valid (clock behind)", token: good.JWT, at: clk.Now().Add(-time.Second),
			desc: "the token is not valid yet"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var a = f.authorizer(t)
			if !tc.at.IsZero() {
				a = f.authorizer(t, tc.at)
			}
			_, err := authorize(t.Context(), a, tc.token)
			if tc.desc == "" {
				require.NoError(t, err)
				return
			}
			jwtauthRefusal(t, err, tc.desc)
		})
	}
}

func TestHandler_ServesDiscoveryAndJWKS(t *testing.T) {
	f := newIssuerFixture(t, newClock(), nil)
	get := func(t *testing.T, method, path string) (*http.Response, []byte) {
		req, err := http.NewRequestWithContext(t.Context(), method, f.srv.URL+path, nil)
		require.NoError(t, err)
		resp, err := f.srv.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, b
	}

	t.Run("discovery", func(t *testing.T) {
		resp, body := get(t, http.MethodGet, "/issuer/.well-known/openid-configuration")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
		assert.Equal(t, "public, max-age=3600", resp.Header.Get("Cache-Control"))
		var doc map[string]any
		require.NoError(t, json.Unmarshal(body, &doc))
		assert.Equal(t, f.iss.URL, doc["issuer"])
		assert.Equal(t, f.iss.URL+"/jwks", doc["jwks_uri"])
		assert.Equal(t, []any{"RS256"}, doc["id_token_signing_alg_values_supported"])
		want, err := f.iss.Discovery()
		require.NoError(t, err)
		assert.JSONEq(t, string(want), string(body))
	})

	t.Run("jwks holds public RSA keys only", func(t *testing.T) {
		resp, body := get(t, http.MethodGet, "/issuer/jwks")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
		assert.Equal(t, "public, max-age=600", resp.Header.Get("Cache-Control"))
		var set struct{ Keys []map[string]string }
		require.NoError(t, json.Unmarshal(body, &set))
		require.Len(t, set.Keys, 1)
		k := set.Keys[0]
		keys, err := f.keys.Keys(t.Context())
		require.NoError(t, err)
		assert.Equal(t, keys[0].ID(), k["kid"])
		assert.Equal(t, "RSA", k["kty"])
		assert.Equal(t, "RS256", k["alg"])
		assert.Equal(t, "sig", k["use"])
		assert.Equal(t, "AQAB", k["e"])
		assert.Len(t, k["n"], 342, "2048-bit modulus")
		assert.ElementsMatch(t, []string{"kid", "kty", "alg", "use", "n", "e"}, keysOf(k), "no private members (d, p, q, dp, dq, qi)")
	})

	t.Run("HEAD works, other methods and paths do not", func(t *testing.T) {
		resp, _ := get(t, http.MethodHead, "/issuer/jwks")
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		resp, _ = get(t, http.MethodPost, "/issuer/jwks")
		assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
		resp, _ = get(t, http.MethodGet, "/jwks")
		assert.Equal(t, http.StatusNotFound, resp.StatusCode)
		resp, _ = get(t, http.MethodGet, "/issuer/keys.pem")
		assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	})

	t.Run("key source down: 503 problem, not cached", func(t *testing.T) {
		iss := &token.Issuer{URL: "http://127.0.0.1/x", Audience: audience, Keys: failingKeys{}}
		rec := httptestRecorder(iss.Handler("/x"), "/x/jwks")
		assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
		assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
		assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
		assert.NotContains(t, rec.Body.String(), "parameter store", "the cause stays in the logs")
	})
}

func keysOf(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Rotation: old tokens keep verifying while their key is published, new
// tokens carry the new kid, and the old key goes after the grace period.
func TestIssuer_KeyRotationSignsNobodyOut(t *testing.T) {
	clk := newClock()
	f := newIssuerFixture(t, clk, func(k *token.FileKeys) { k.Grace = time.Hour })
	a := f.authorizer(t) // one authorizer throughout, caching the JWKS as API Gateway does

	old := f.issue(t, employee)
	_, err := authorize(t.Context(), a, old.JWT)
	require.NoError(t, err)

	clk.Advance(time.Minute)
	newKey, err := f.keys.Rotate(t.Context())
	require.NoError(t, err)
	require.NotEqual(t, old.KeyID, newKey.ID())
	assert.Equal(t, []string{newKey.ID(), old.KeyID}, jwksKIDs(t, f), "both keys published, newest first")

	fresh := f.issue(t, employee)
	assert.Equal(t, newKey.ID(), fresh.KeyID, "new tokens use the new kid")
	for name, tok := range map[string]string{"old token": old.JWT, "new token": fresh.JWT} {
		_, err := authorize(t.Context(), a, tok)
		assert.NoError(t, err, "%s, cached authorizer", name)
		_, err = authorize(t.Context(), f.authorizer(t), tok)
		assert.NoError(t, err, "%s, fresh authorizer", name)
	}

	// Just before the grace period ends the old key is still there...
	clk.Advance(time.Hour - time.Second)
	assert.Equal(t, []string{newKey.ID(), old.KeyID}, jwksKIDs(t, f))
	// ...then it is gone, from the JWKS at once and from disk at the next rotation.
	clk.Advance(time.Second)
	assert.Equal(t, []string{newKey.ID()}, jwksKIDs(t, f))
	_, err = authorize(t.Context(), f.authorizer(t, old.ExpiresAt.Add(-time.Minute)), old.JWT)
	jwtauthRefusal(t, err, "does not match a key of the issuer")

	assert.FileExists(t, filepath.Join(f.keys.Dir, old.KeyID+".pem"))
	third, err := f.keys.Rotate(t.Context())
	require.NoError(t, err)
	assert.NoFileExists(t, filepath.Join(f.keys.Dir, old.KeyID+".pem"))
	assert.Equal(t, []string{third.ID(), newKey.ID()}, jwksKIDs(t, f))
	entries, err := os.ReadDir(f.keys.Dir)
	require.NoError(t, err)
	assert.Len(t, entries, 2, "no temporary files left behind")
}

// With a lead time the new key is published before it signs, so verifiers
// that cache the JWKS know it before they meet it.
func TestIssuer_KeyRotationWithLeadPublishesBeforeSigning(t *testing.T) {
	clk := newClock()
	f := newIssuerFixture(t, clk, func(k *token.FileKeys) { k.Lead = 2 * time.Hour; k.Grace = time.Hour })
	old := f.issue(t, employee)

	next, err := f.keys.Rotate(t.Context())
	require.NoError(t, err)
	assert.Equal(t, clk.Now().Add(2*time.Hour).Unix(), next.ActiveAt().Unix())
	assert.Equal(t, []string{next.ID(), old.KeyID}, jwksKIDs(t, f), "published ahead")
	assert.Equal(t, old.KeyID, f.issue(t, employee).KeyID, "the old key signs until the new one is active")

	clk.Advance(2 * time.Hour)
	assert.Equal(t, next.ID(), f.issue(t, employee).KeyID)
	assert.Equal(t, []string{next.ID(), old.KeyID}, jwksKIDs(t, f), "old key in its grace period")
	clk.Advance(time.Hour)
	assert.Equal(t, []string{next.ID()}, jwksKIDs(t, f))
}

// jwksKIDs fetches the JWKS over HTTP and returns its kids in order.
func jwksKIDs(t *testing.T, f *issuerFixture) []string {
	t.Helper()
	resp, err := f.srv.Client().Get(f.iss.URL + "/jwks")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var set struct{ Keys []struct{ KID string } }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&set))
	var out []string
	for _, k := range set.Keys {
		out = append(out, k.KID)
	}
	return out
}

// An access token prints and logs without the JWT itself.
func TestAccessToken_HidesTheJWTWhenPrintedOrLogged(t *testing.T) {
	f := newIssuerFixture(t, newClock(), nil)
	tok := f.issue(t, employee)
	sig := tok.JWT[strings.LastIndexByte(tok.JWT, '.')+1:]
	for _, out := range []string{fmtAll(tok), logJSON(tok)} {
		assert.NotContains(t, out, sig)
		assert.Contains(t, out, tok.ID)
	}
}
