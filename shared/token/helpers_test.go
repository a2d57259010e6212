package token_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/infra/jwtauth"
	"github.com/lantau-hq/lantau/shared/bolt"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/table"
	"github.com/lantau-hq/lantau/shared/token"
)

const audience = "lantau-api"

// start is when every fake clock starts: a Wednesday morning in Hong Kong.
var start = time.Date(2026, 11, 25, 9, 0, 0, 0, time.FixedZone("HKT", 8*3600))

// clock is a fake clock that tests move forward.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: start} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// issuerFixture is an Issuer with file keys, served on 127.0.0.1 under
// /issuer as the local runner would serve it.
type issuerFixture struct {
	clock *clock
	keys  *token.FileKeys
	iss   *token.Issuer
	srv   *httptest.Server
}

// newIssuerFixture starts the fixture; a nil clk means the real clock.
func newIssuerFixture(t testing.TB, clk *clock, edit func(*token.FileKeys)) *issuerFixture {
	t.Helper()
	f := &issuerFixture{clock: clk}
	var now func() time.Time
	if clk != nil {
		now = clk.Now
	}
	f.keys = &token.FileKeys{Dir: filepath.Join(t.TempDir(), "keys"), Grace: time.Hour, Now: now}
	if edit != nil {
		edit(f.keys)
	}
	// The URL must be known before the issuer exists: listen first.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	const path = "/issuer"
	f.iss = &token.Issuer{URL: "http://" + ln.Addr().String() + path, Audience: audience, Keys: f.keys, Now: now}
	f.srv = httptest.NewUnstartedServer(f.iss.Handler(path))
	require.NoError(t, f.srv.Listener.Close())
	f.srv.Listener = ln
	f.srv.Start()
	t.Cleanup(f.srv.Close)
	return f
}

// authorizer is the local runner's API Gateway JWT authorizer for the
// fixture's issuer, on the fixture's clock (or at, when given).
func (f *issuerFixture) authorizer(t testing.TB, at ...time.Time) *jwtauth.Authorizer {
	t.Helper()
	cfg := jwtauth.Config{
		Issuer:   f.iss.URL,
		Audience: []string{audience},
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	switch {
	case len(at) > 0:
		cfg.Now = func() time.Time { return at[0] }
	case f.clock != nil:
		cfg.Now = f.clock.Now
	}
	a, err := jwtauth.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	return a
}

func (f *issuerFixture) issue(t testing.TB, c token.Claims) token.AccessToken {
	t.Helper()
	tok, err := f.iss.Issue(t.Context(), c)
	require.NoError(t, err)
	return tok
}

// authorize runs a request bearing tok through a.
func authorize(ctx context.Context, a *jwtauth.Authorizer, tok string, scopes ...string) (*jwtauth.Result, error) {
	r := httptest.NewRequest(http.MethodGet, "/v1/attendance", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	return a.Authorize(ctx, r, scopes)
}

// jwtauthRefusal asserts err is a jwtauth 401 with description desc.
func jwtauthRefusal(t testing.TB, err error, desc string) {
	t.Helper()
	var e *jwtauth.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, http.StatusUnauthorized, e.Kind.Status())
	assert.Contains(t, e.Description, desc)
}

var employee = token.Claims{
	Subject: "u-1", Tenant: "t-acme", Roles: []string{"employee", "approver"},
	Scopes: []string{"attendance:write", "drive:read"}, SessionID: "s-1", Version: 3,
}

// segments decodes the header and payload of a compact JWS.
func segments(t testing.TB, jws string) (header, payload map[string]any) {
	t.Helper()
	parts := strings.Split(jws, ".")
	require.Len(t, parts, 3)
	for i, dst := range []*map[string]any{&header, &payload} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(raw, dst))
	}
	return header, payload
}

// compact builds a JWS from a header, a payload and signature bytes.
func compact(t testing.TB, header, payload map[string]any, sign func(signingInput string) []byte) string {
	t.Helper()
	h, err := json.Marshal(header)
	require.NoError(t, err)
	p, err := json.Marshal(payload)
	require.NoError(t, err)
	in := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p)
	return in + "." + base64.RawURLEncoding.EncodeToString(sign(in))
}

// openStore opens the embedded table store in a temporary directory.
func openStore(t testing.TB) (*bolt.Store, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := bolt.Open(filepath.Join(dir, "table.db"), table.Lantau)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, s.Close()) })
	return s, dir
}

// assertProblem checks err is a problem of kind and code.
func assertProblem(t testing.TB, err error, kind problem.Kind, code problem.Code) {
	t.Helper()
	require.Error(t, err)
	var p *problem.Error
	require.True(t, errors.As(err, &p), "want a *problem.Error, got %T: %v", err, err)
	assert.Equal(t, kind, problem.KindOf(err), "kind of %v", err)
	assert.Equal(t, code, problem.CodeOf(err), "code of %v", err)
}

func base64URLDecode(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

// httptestRecorder serves one GET of path through h.
func httptestRecorder(h http.Handler, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

func ids(keys []token.SigningKey) []string {
	var out []string
	for _, k := range keys {
		out = append(out, k.ID())
	}
	return out
}

// fmtAll prints v with every fmt verb that might reveal fields.
func fmtAll(v any) string {
	var b strings.Builder
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		fmt.Fprintf(&b, f+"\n", v)
	}
	return b.String()
}

// logJSON logs v with slog's JSON and text handlers.
func logJSON(v any) string {
	var b bytes.Buffer
	slog.New(slog.NewJSONHandler(&b, nil)).Info("issued", "token", v)
	slog.New(slog.NewTextHandler(&b, nil)).Info("issued", "token", v)
	return b.String()
}

// withPayload replaces the payload of jws, keeping its header and signature.
func withPayload(t testing.TB, jws string, payload map[string]any) string {
	t.Helper()
	parts := strings.Split(jws, ".")
	require.Len(t, parts, 3)
	p, err := json.Marshal(payload)
	require.NoError(t, err)
	parts[1] = base64.RawURLEncoding.EncodeToString(p)
	return strings.Join(parts, ".")
}
