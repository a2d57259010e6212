package jwtauth

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const audience = "lantau-api"

// now is the fixed clock every authorizer in these tests runs on.
var now = time.Unix(1_800_000_000, 0)

// syncBuffer collects log output written from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newAuthorizer(t testing.TB, idp *testIdP, edit func(*Config)) (*Authorizer, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	cfg := Config{
		Issuer:   idp.issuer(),
		Audience: []string{"some-other-client", audience},
		Now:      func() time.Time { return now },
		Logger:   slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if edit != nil {
		edit(&cfg)
	}
	a, err := New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	return a, logs
}

// claimsFor returns the claims of a token that passes every check of idp's
// authorizer; a test case edits them to break one check.
func claimsFor(idp *testIdP) jwt.MapClaims {
	return jwt.MapClaims{
		"iss": idp.issuer(),
		"aud": audience,
		"sub": "u-1",
		"exp": now.Unix() + 600,
		"iat": now.Unix() - 10,
		"nbf": now.Unix() - 10,
	}
}

func with(c jwt.MapClaims, edit func(jwt.MapClaims)) jwt.MapClaims {
	edit(c)
	return c
}

func request(authorization string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/v1/attendance", nil)
	if authorization != "" {
		r.Header.Set("Authorization", authorization)
	}
	return r
}

// tamper replaces the payload of a signed token, keeping its signature.
func tamper(t testing.TB, token string, edit func(map[string]any)) string {
	t.Helper()
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3)
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var payload map[string]any
	require.NoError(t, json.Unmarshal(raw, &payload))
	edit(payload)
	raw, err = json.Marshal(payload)
	require.NoError(t, err)
	parts[1] = base64.RawURLEncoding.EncodeToString(raw)
	return strings.Join(parts, ".")
}

func TestAuthorize(t *testing.T) {
	testKeys(t)

	type testCase struct {
		name     string
		header   func(t *testing.T, idp *testIdP) string
		scopes   []string
		wantKind Kind   // 0 means accepted
		wantDesc string // checked when the request is refused
		check    func(t *testing.T, idp *testIdP, res *Result)
	}
	bearer := func(edit func(jwt.MapClaims)) func(*testing.T, *testIdP) string {
		return func(t *testing.T, idp *testIdP) string {
			return "Bearer " + sign(t, rsaOld, jwt.SigningMethodRS256, with(claimsFor(idp), edit))
		}
	}
	keep := func(jwt.MapClaims) {}

	cases := []testCase{
		{
			name: "valid token with Bearer prefix, claims flattened as API Gateway does",
			header: bearer(func(c jwt.MapClaims) {
				c["email"] = "mei@example.hk"
				c["n"] = 42
				c["big"] = int64(12345678901234)
				c["ratio"] = 1.5
				c["email_verified"] = true
				c["roles"] = []string{"user", "editor"}
				c["address"] = map[string]any{"city": "Hong Kong", "zip": 999077}
			}),
			check: func(t *testing.T, idp *testIdP, res *Result) {
				assert.Equal(t, map[string]string{
					"iss":            idp.issuer(),
					"aud":            audience,
					"sub":            "u-1",
					"exp":            "1800000600",
					"iat":            "1799999990",
					"nbf":            "1799999990",
					"email":          "mei@example.hk",
					"n":              "42",
					"big":            "12345678901234",
					"ratio":          "1.5",
					"email_verified": "true",
					"roles":          "[user editor]",
					"address":        "map[city:Hong Kong zip:999077]",
				}, res.Claims)
				assert.Nil(t, res.Scopes, "no route scopes: API Gateway sends scopes: null")
			},
		},
		{
			name: "valid token without Bearer prefix",
			header: func(t *testing.T, idp *testIdP) string {
				return sign(t, rsaOld, jwt.SigningMethodRS256, claimsFor(idp))
			},
		},
		{
			name: "lower-case bearer prefix",
			header: func(t *testing.T, idp *testIdP) string {
				return "bearer " + sign(t, rsaOld, jwt.SigningMethodRS256, claimsFor(idp))
			},
		},
		{
			name:     "missing Authorization header",
			header:   func(*testing.T, *testIdP) string { return "" },
			wantKind: KindMissingToken,
		},
		{
			name:     "not a JWT",
			header:   func(*testing.T, *testIdP) string { return "Bearer not-a-jwt" },
			wantKind: KindInvalidToken,
			wantDesc: "the token is malformed",
		},
		{
			name:     "expired",
			header:   bearer(func(c jwt.MapClaims) { c["exp"] = now.Unix() - 1 }),
			wantKind: KindInvalidToken,
			wantDesc: "the token has expired",
		},
		{
			name:     "exp equal to now is expired (must be after the current time)",
			header:   bearer(func(c jwt.MapClaims) { c["exp"] = now.Unix() }),
			wantKind: KindInvalidToken,
			wantDesc: "the token has expired",
		},
		{
			name:     "no exp",
			header:   bearer(func(c jwt.MapClaims) { delete(c, "exp") }),
			wantKind: KindInvalidToken,
			wantDesc: "the token does not have an exp claim",
		},
		{
			name:     "nbf in the future",
			header:   bearer(func(c jwt.MapClaims) { c["nbf"] = now.Unix() + 1 }),
			wantKind: KindInvalidToken,
			wantDesc: "the token is not valid yet",
		},
		{
			name:   "nbf and iat equal to now",
			header: bearer(func(c jwt.MapClaims) { c["nbf"], c["iat"] = now.Unix(), now.Unix() }),
		},
		{
			name:     "iat in the future",
			header:   bearer(func(c jwt.MapClaims) { c["iat"] = now.Unix() + 1 }),
			wantKind: KindInvalidToken,
			wantDesc: "the token was issued in the future",
		},
		{
			name:     "wrong aud",
			header:   bearer(func(c jwt.MapClaims) { c["aud"] = "someone-else" }),
			wantKind: KindInvalidToken,
			wantDesc: "the token does not have a valid audience",
		},
		{
			name:   "aud array with one configured audience",
			header: bearer(func(c jwt.MapClaims) { c["aud"] = []string{"someone-else", audience} }),
		},
		{
			name: "no aud, client_id matches (Cognito access token)",
			header: bearer(func(c jwt.MapClaims) {
				delete(c, "aud")
				c["client_id"] = audience
			}),
		},
		{
			name: "no aud, client_id does not match",
			header: bearer(func(c jwt.MapClaims) {
				delete(c, "aud")
				c["client_id"] = "someone-else"
			}),
			wantKind: KindInvalidToken,
			wantDesc: "the token does not have a valid audience",
		},
		{
			name: "aud is evaluated when both aud and client_id are present",
			header: bearer(func(c jwt.MapClaims) {
				c["aud"] = "someone-else"
				c["client_id"] = audience
			}),
			wantKind: KindInvalidToken,
			wantDesc: "the token does not have a valid audience",
		},
		{
			name:     "neither aud nor client_id",
			header:   bearer(func(c jwt.MapClaims) { delete(c, "aud") }),
			wantKind: KindInvalidToken,
			wantDesc: "the token does not have a valid audience",
		},
		{
			name:     "wrong iss",
			header:   bearer(func(c jwt.MapClaims) { c["iss"] = "https://evil.example" }),
			wantKind: KindInvalidToken,
			wantDesc: "the token does not have a valid issuer",
		},
		{
			name:     "iss must match exactly (trailing slash)",
			header:   bearer(func(c jwt.MapClaims) { c["iss"] = c["iss"].(string) + "/" }),
			wantKind: KindInvalidToken,
			wantDesc: "the token does not have a valid issuer",
		},
		{
			name: "unknown kid, still unknown after refresh",
			header: func(t *testing.T, idp *testIdP) string {
				return "Bearer " + sign(t, rsaOther, jwt.SigningMethodRS256, claimsFor(idp))
			},
			wantKind: KindInvalidToken,
			wantDesc: `the token's kid "rsa-other" does not match a key of the issuer`,
			check: func(t *testing.T, idp *testIdP, _ *Result) {
				assert.EqualValues(t, 2, idp.jwksHits.Load(), "first fetch and one refresh for the unknown kid")
			},
		},
		{
			name: "no kid header",
			header: func(t *testing.T, idp *testIdP) string {
				tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claimsFor(idp))
				s, err := tok.SignedString(rsaOld.key)
				require.NoError(t, err)
				return "Bearer " + s
			},
			wantKind: KindInvalidToken,
			wantDesc: "the token does not have a kid header",
		},
		{
			name: "alg none",
			header: func(t *testing.T, idp *testIdP) string {
				tok := jwt.NewWithClaims(jwt.SigningMethodNone, claimsFor(idp))
				tok.Header["kid"] = rsaOld.kid
				s, err := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
				require.NoError(t, err)
				return "Bearer " + s
			},
			wantKind: KindInvalidToken,
			wantDesc: "signing method none is invalid",
		},
		{
			name: "HS256 signed with the RSA public key bytes",
			header: func(t *testing.T, idp *testIdP) string {
				der, err := x509.MarshalPKIXPublicKey(rsaOld.key.Public())
				require.NoError(t, err)
				pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
				tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claimsFor(idp))
				tok.Header["kid"] = rsaOld.kid
				s, err := tok.SignedString(pemKey)
				require.NoError(t, err)
				return "Bearer " + s
			},
			wantKind: KindInvalidToken,
			wantDesc: "signing method HS256 is invalid",
		},
		{
			name: "ES256 with a published EC key (only RSA-based algorithms are supported)",
			header: func(t *testing.T, idp *testIdP) string {
				return "Bearer " + sign(t, ecKey, jwt.SigningMethodES256, claimsFor(idp))
			},
			wantKind: KindInvalidToken,
			wantDesc: "signing method ES256 is invalid",
		},
		{
			name: "tampered payload",
			header: func(t *testing.T, idp *testIdP) string {
				tok := sign(t, rsaOld, jwt.SigningMethodRS256, claimsFor(idp))
				return "Bearer " + tamper(t, tok, func(p map[string]any) { p["sub"] = "u-2" })
			},
			wantKind: KindInvalidToken,
			wantDesc: "the token signature is invalid",
		},
		{
			name:   "route scope present in scope claim",
			header: bearer(func(c jwt.MapClaims) { c["scope"] = "attendance/read attendance/write" }),
			scopes: []string{"attendance/read"},
			check: func(t *testing.T, _ *testIdP, res *Result) {
				assert.Equal(t, []string{"attendance/read", "attendance/write"}, res.Scopes)
				assert.Equal(t, "attendance/read attendance/write", res.Claims["scope"])
			},
		},
		{
			name:   "one of several route scopes present in scp array",
			header: bearer(func(c jwt.MapClaims) { c["scp"] = []string{"admin"} }),
			scopes: []string{"approvals/approve", "admin"},
			check: func(t *testing.T, _ *testIdP, res *Result) {
				assert.Equal(t, []string{"admin"}, res.Scopes)
			},
		},
		{
			name: "scope and scp both counted",
			header: bearer(func(c jwt.MapClaims) {
				c["scope"] = "a"
				c["scp"] = "b"
			}),
			scopes: []string{"b"},
		},
		{
			name:     "route scope missing",
			header:   bearer(func(c jwt.MapClaims) { c["scope"] = "attendance/read" }),
			scopes:   []string{"admin"},
			wantKind: KindInsufficientScope,
			wantDesc: "the token does not have any of the required scopes",
		},
		{
			name:     "route scope required, token has no scopes",
			header:   bearer(keep),
			scopes:   []string{"admin"},
			wantKind: KindInsufficientScope,
		},
		{
			name:     "scope match is exact",
			header:   bearer(func(c jwt.MapClaims) { c["scope"] = "Admin admin:x" }),
			scopes:   []string{"admin"},
			wantKind: KindInsufficientScope,
		},
		{
			name: "invalid token with missing scope is 401, not 403",
			header: bearer(func(c jwt.MapClaims) {
				c["exp"] = now.Unix() - 1
			}),
			scopes:   []string{"admin"},
			wantKind: KindInvalidToken,
			wantDesc: "the token has expired",
		},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			idp := newTestIdP(t, rsaOld, ecKey)
			a, _ := newAuthorizer(t, idp, nil)

			res, err := a.Authorize(context.Background(), request(tc.header(t, idp)), tc.scopes)

			if tc.wantKind == 0 {
				require.NoError(t, err)
				require.NotNil(t, res)
				assert.Equal(t, "u-1", res.Claims["sub"])
			} else {
				require.Error(t, err)
				assert.Nil(t, res)
				var e *Error
				require.ErrorAs(t, err, &e)
				assert.Equal(t, tc.wantKind, e.Kind, "error: %v", err)
				if tc.wantDesc != "" {
					assert.Equal(t, tc.wantDesc, e.Description)
				}
				assert.Equal(t, tc.scopes, e.RequiredScopes)
			}
			if tc.check != nil {
				tc.check(t, idp, res)
			}
		})
	}
}

func TestAuthorize_ReadsConfiguredIdentitySource(t *testing.T) {
	testKeys(t)
	idp := newTestIdP(t, rsaOld)
	token := sign(t, rsaOld, jwt.SigningMethodRS256, claimsFor(idp))

	cases := []struct {
		name     string
		source   string
		request  func() *http.Request
		wantKind Kind
	}{
		{
			name:   "query string",
			source: "$request.querystring.access_token",
			request: func() *http.Request {
				return httptest.NewRequest(http.MethodGet, "/v1/me?access_token="+token, nil)
			},
		},
		{
			name:   "query string ignores the Authorization header",
			source: "$request.querystring.access_token",
			request: func() *http.Request {
				return request("Bearer " + token)
			},
			wantKind: KindMissingToken,
		},
		{
			name:   "custom header, any case",
			source: "$request.header.x-lantau-token",
			request: func() *http.Request {
				r := request("")
				r.Header.Set("X-Lantau-Token", "Bearer "+token)
				return r
			},
		},
		{
			name:   "empty header value",
			source: "",
			request: func() *http.Request {
				r := request("")
				r.Header.Set("Authorization", "  ")
				return r
			},
			wantKind: KindMissingToken,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, _ := newAuthorizer(t, idp, func(c *Config) { c.IdentitySource = tc.source })
			res, err := a.Authorize(context.Background(), tc.request(), nil)
			if tc.wantKind == 0 {
				require.NoError(t, err)
				assert.Equal(t, "u-1", res.Claims["sub"])
				return
			}
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tc.wantKind, e.Kind)
		})
	}
}

func TestNew_RefusesIncompleteConfig(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no issuer", Config{Audience: []string{"a"}}, "Issuer is required"},
		{"no audience", Config{Issuer: "https://idp.example"}, "at least one Audience"},
		{"body identity source", Config{Issuer: "https://idp.example", Audience: []string{"a"}, IdentitySource: "$request.body.token"}, "unsupported identity source"},
		{"context identity source", Config{Issuer: "https://idp.example", Audience: []string{"a"}, IdentitySource: "$context.identity.sourceIp"}, "unsupported identity source"},
		{"header without name", Config{Issuer: "https://idp.example", Audience: []string{"a"}, IdentitySource: "$request.header."}, "unsupported identity source"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, err := New(tc.cfg)
			assert.Nil(t, a)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

func TestNew_FetchesNothingUntilFirstRequest(t *testing.T) {
	testKeys(t)
	idp := newTestIdP(t, rsaOld)
	a, _ := newAuthorizer(t, idp, nil)
	assert.Zero(t, idp.discHits.Load())
	assert.Zero(t, idp.jwksHits.Load())

	// A request refused before any key is needed fetches nothing either.
	_, err := a.Authorize(context.Background(), request("Bearer not-a-jwt"), nil)
	require.ErrorIs(t, err, ErrUnauthorized)
	assert.Zero(t, idp.discHits.Load())

	for range 3 {
		_, err := a.Authorize(context.Background(), request("Bearer "+sign(t, rsaOld, jwt.SigningMethodRS256, claimsFor(idp))), nil)
		require.NoError(t, err)
	}
	assert.EqualValues(t, 1, idp.discHits.Load(), "discovery document fetched once")
	assert.EqualValues(t, 1, idp.jwksHits.Load(), "key set fetched once and cached")
}

func TestAuthorize_KeyRotation(t *testing.T) {
	testKeys(t)
	idp := newTestIdP(t, rsaOld)
	a, _ := newAuthorizer(t, idp, nil)
	oldToken := "Bearer " + sign(t, rsaOld, jwt.SigningMethodRS256, claimsFor(idp))
	newToken := "Bearer " + sign(t, rsaNew, jwt.SigningMethodRS256, claimsFor(idp))

	_, err := a.Authorize(context.Background(), request(oldToken), nil)
	require.NoError(t, err)

	// The issuer publishes the new key next to the old one, then signs with it.
	idp.publish(rsaOld, rsaNew)
	_, err = a.Authorize(context.Background(), request(newToken), nil)
	require.NoError(t, err, "new kid accepted without restart")
	assert.EqualValues(t, 2, idp.jwksHits.Load(), "unknown kid made the key set refresh once")

	_, err = a.Authorize(context.Background(), request(oldToken), nil)
	require.NoError(t, err, "old kid still accepted while published")
	_, err = a.Authorize(context.Background(), request(newToken), nil)
	require.NoError(t, err)
	assert.EqualValues(t, 2, idp.jwksHits.Load(), "known kids are served from the cache")
}

func TestAuthorize_UnknownKIDRefreshIsRateLimited(t *testing.T) {
	testKeys(t)
	idp := newTestIdP(t, rsaOld)
	a, _ := newAuthorizer(t, idp, nil)
	unknown := "Bearer " + sign(t, rsaOther, jwt.SigningMethodRS256, claimsFor(idp))

	start := time.Now()
	for range 5 {
		_, err := a.Authorize(context.Background(), request(unknown), nil)
		require.ErrorIs(t, err, ErrUnauthorized)
	}
	assert.EqualValues(t, 2, idp.jwksHits.Load(), "first fetch plus one refresh; the rest are rate limited")
	assert.Less(t, time.Since(start), 2*time.Second, "rate-limited requests are refused without waiting")
}

func TestAuthorize_KeysUnavailable(t *testing.T) {
	testKeys(t)

	t.Run("discovery fails, then recovers", func(t *testing.T) {
		idp := newTestIdP(t, rsaOld)
		idp.failDisc.Store(true)
		a, logs := newAuthorizer(t, idp, nil)
		a.retryAfter = 0
		token := "Bearer " + sign(t, rsaOld, jwt.SigningMethodRS256, claimsFor(idp))

		_, err := a.Authorize(context.Background(), request(token), nil)
		var e *Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, KindKeysUnavailable, e.Kind)
		assert.ErrorIs(t, err, ErrUnauthorized)
		assert.Contains(t, logs.String(), "could not fetch the issuer's signing keys")
		assert.Contains(t, logs.String(), `"level":"ERROR"`)

		idp.failDisc.Store(false)
		_, err = a.Authorize(context.Background(), request(token), nil)
		require.NoError(t, err, "next request retries discovery")
	})

	t.Run("key set fails", func(t *testing.T) {
		idp := newTestIdP(t, rsaOld)
		idp.failJWKS.Store(true)
		a, _ := newAuthorizer(t, idp, nil)
		token := "Bearer " + sign(t, rsaOld, jwt.SigningMethodRS256, claimsFor(idp))

		_, err := a.Authorize(context.Background(), request(token), nil)
		var e *Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, KindKeysUnavailable, e.Kind)
	})

	t.Run("issuer not listening", func(t *testing.T) {
		idp := newTestIdP(t, rsaOld)
		token := "Bearer " + sign(t, rsaOld, jwt.SigningMethodRS256, claimsFor(idp))
		a, _ := newAuthorizer(t, idp, nil)
		idp.srv.Close()

		_, err := a.Authorize(context.Background(), request(token), nil)
		var e *Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, KindKeysUnavailable, e.Kind)
	})

	t.Run("failure is remembered briefly", func(t *testing.T) {
		idp := newTestIdP(t, rsaOld)
		idp.failDisc.Store(true)
		a, _ := newAuthorizer(t, idp, nil)
		a.retryAfter = time.Hour
		token := "Bearer " + sign(t, rsaOld, jwt.SigningMethodRS256, claimsFor(idp))

		for range 3 {
			_, err := a.Authorize(context.Background(), request(token), nil)
			require.ErrorIs(t, err, ErrUnauthorized)
		}
		assert.EqualValues(t, 1, idp.discHits.Load())
	})
}

func TestAuthorize_ConcurrentFirstRequestsFetchOnce(t *testing.T) {
	testKeys(t)
	idp := newTestIdP(t, rsaOld)
	a, _ := newAuthorizer(t, idp, nil)
	token := "Bearer " + sign(t, rsaOld, jwt.SigningMethodRS256, claimsFor(idp))

	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for range 32 {
		wg.Go(func() {
			_, err := a.Authorize(context.Background(), request(token), []string{})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	assert.EqualValues(t, 1, idp.discHits.Load())
	assert.EqualValues(t, 1, idp.jwksHits.Load())
}

func TestDeny_WritesAPIGatewayResponse(t *testing.T) {
	cases := []struct {
		name      string
		err       error
		status    int
		body      string
		challenge string
	}{
		{
			name:      "expired token",
			err:       &Error{Kind: KindInvalidToken, Description: "the token has expired"},
			status:    http.StatusUnauthorized,
			body:      `{"message":"Unauthorized"}`,
			challenge: `Bearer scope="" error="invalid_token" error_description="the token has expired"`,
		},
		{
			name:      "wrong audience on a route with scopes",
			err:       &Error{Kind: KindInvalidToken, Description: "the token does not have a valid audience", RequiredScopes: []string{"a", "b"}},
			status:    http.StatusUnauthorized,
			body:      `{"message":"Unauthorized"}`,
			challenge: `Bearer scope="a b" error="invalid_token" error_description="the token does not have a valid audience"`,
		},
		{
			name:   "missing token",
			err:    &Error{Kind: KindMissingToken},
			status: http.StatusUnauthorized,
			body:   `{"message":"Unauthorized"}`,
		},
		{
			name:      "keys unavailable",
			err:       &Error{Kind: KindKeysUnavailable, Description: "the signing keys of the issuer could not be fetched", Err: errors.New("dial tcp 127.0.0.1:1: connection refused")},
			status:    http.StatusUnauthorized,
			body:      `{"message":"Unauthorized"}`,
			challenge: `Bearer scope="" error="invalid_token" error_description="the signing keys of the issuer could not be fetched"`,
		},
		{
			name:      "insufficient scope",
			err:       fmt.Errorf("route GET /v1/approvals: %w", &Error{Kind: KindInsufficientScope, Description: "the token does not have any of the required scopes", RequiredScopes: []string{"approvals/read"}}),
			status:    http.StatusForbidden,
			body:      `{"message":"Forbidden"}`,
			challenge: `Bearer scope="approvals/read" error="insufficient_scope" error_description="the token does not have any of the required scopes"`,
		},
		{
			name:      "quotes in the description are escaped",
			err:       &Error{Kind: KindInvalidToken, Description: `the token's kid "x" does not match a key of the issuer`},
			status:    http.StatusUnauthorized,
			body:      `{"message":"Unauthorized"}`,
			challenge: `Bearer scope="" error="invalid_token" error_description="the token's kid \"x\" does not match a key of the issuer"`,
		},
		{
			name:   "unexpected error",
			err:    errors.New("boom"),
			status: http.StatusUnauthorized,
			body:   `{"message":"Unauthorized"}`,
		},
	}
	testKeys(t)
	idp := newTestIdP(t)
	a, logs := newAuthorizer(t, idp, nil)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			a.Deny(w, tc.err)
			assert.Equal(t, tc.status, w.Code)
			assert.Equal(t, tc.body, w.Body.String())
			assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
			assert.Equal(t, tc.challenge, w.Header().Get("www-authenticate"))
		})
	}
	assert.NotContains(t, logs.String(), "BEGIN", "no key material in logs")
}

// TestDeny_EndToEnd puts Authorize and Deny in front of a handler the way the
// runner does and checks the bytes a client receives.
func TestDeny_EndToEnd(t *testing.T) {
	testKeys(t)
	idp := newTestIdP(t, rsaOld)
	a, _ := newAuthorizer(t, idp, nil)
	routeScopes := []string{"attendance/write"}
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := a.Authorize(r.Context(), r, routeScopes)
		if err != nil {
			a.Deny(w, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(res.JWT())
	}))
	t.Cleanup(api.Close)

	call := func(authorization string) (*http.Response, string) {
		req, err := http.NewRequest(http.MethodPost, api.URL+"/v1/attendance/clock-in", nil)
		require.NoError(t, err)
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		resp, err := api.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, string(body)
	}

	expired := sign(t, rsaOld, jwt.SigningMethodRS256, with(claimsFor(idp), func(c jwt.MapClaims) {
		c["exp"] = now.Unix() - 60
		c["scope"] = "attendance/write"
	}))
	resp, body := call("Bearer " + expired)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, `{"message":"Unauthorized"}`, body)
	assert.Equal(t, "26", resp.Header.Get("Content-Length"), "same length as API Gateway's response")
	assert.Equal(t, `Bearer scope="attendance/write" error="invalid_token" error_description="the token has expired"`, resp.Header.Get("www-authenticate"))

	readOnly := sign(t, rsaOld, jwt.SigningMethodRS256, with(claimsFor(idp), func(c jwt.MapClaims) { c["scope"] = "attendance/read" }))
	resp, body = call("Bearer " + readOnly)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Equal(t, `{"message":"Forbidden"}`, body)

	resp, body = call("")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, `{"message":"Unauthorized"}`, body)
	assert.Empty(t, resp.Header.Get("www-authenticate"))

	writer := sign(t, rsaOld, jwt.SigningMethodRS256, with(claimsFor(idp), func(c jwt.MapClaims) {
		c["scope"] = "attendance/read attendance/write"
		c["cognito:groups"] = []string{"staff"}
	}))
	resp, body = call(writer)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.JSONEq(t, fmt.Sprintf(`{
		"claims": {
			"iss": %q, "aud": "lantau-api", "sub": "u-1",
			"exp": "1800000600", "iat": "1799999990", "nbf": "1799999990",
			"scope": "attendance/read attendance/write", "cognito:groups": "[staff]"
		},
		"scopes": ["attendance/read", "attendance/write"]
	}`, idp.issuer()), body)
}

func TestError_MatchesStatusSentinels(t *testing.T) {
	for _, k := range []Kind{KindMissingToken, KindInvalidToken, KindKeysUnavailable} {
		err := fmt.Errorf("wrapped: %w", &Error{Kind: k})
		assert.ErrorIs(t, err, ErrUnauthorized, k.String())
		assert.NotErrorIs(t, err, ErrForbidden, k.String())
	}
	err := &Error{Kind: KindInsufficientScope}
	assert.ErrorIs(t, err, ErrForbidden)
	assert.NotErrorIs(t, err, ErrUnauthorized)

	cause := errors.New("key not found")
	assert.ErrorIs(t, &Error{Kind: KindInvalidToken, Err: cause}, cause)
}

func BenchmarkAuthorize(b *testing.B) {
	testKeys(b)
	idp := newTestIdP(b, rsaOld)
	a, _ := newAuthorizer(b, idp, func(c *Config) { c.Logger = slog.New(slog.DiscardHandler) })
	r := request("Bearer " + sign(b, rsaOld, jwt.SigningMethodRS256, with(claimsFor(idp), func(c jwt.MapClaims) {
		c["scope"] = "attendance/read"
	})))
	scopes := []string{"attendance/read"}
	ctx := context.Background()
	_, err := a.Authorize(ctx, r, scopes) // warm the key set cache
	require.NoError(b, err)

	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Authorize(ctx, r, scopes); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if got := idp.jwksHits.Load(); got != 1 {
		b.Fatalf("key set fetched %d times, want 1", got)
	}
}
