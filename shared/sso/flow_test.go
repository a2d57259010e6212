package sso_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/infra/oidctest"
	"github.com/lantau-hq/lantau/shared/bolt"
	"github.com/lantau-hq/lantau/shared/credential"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/sso"
	"github.com/lantau-hq/lantau/shared/table"
)

const (
	tenant   = "t-acme"
	callback = "https://app.lantau.test/sso/callback"
)

var accounts = []oidctest.Account{
	{Sub: "idp-chan", Email: "chan@acme.com.hk", EmailVerified: true, Name: "陳大文"},
	{Sub: "idp-ho", Email: "Ho.Ka-Yan@HK.Acme.com.hk", EmailVerified: true, Name: "何嘉欣"},
	{Sub: "idp-wong", Email: "wong@acme.com.hk", EmailVerified: false, Name: "Wong Siu Ming"},
	{Sub: "idp-lee", Email: "lee@gmail.com", EmailVerified: true, Name: "Lee"},
	{Sub: "idp-noemail", Name: "No Email"},
	{Sub: "idp-entra", Email: "entra@acme.com.hk", EntraDomainVerified: true, Name: "Entra User"},
}

// fixture is a company whose SSO points at a real OpenID provider on
// loopback, with the table in SQLite.
type fixture struct {
	op      *oidctest.Provider
	store   *bolt.Store
	configs *sso.Configs
	flow    *sso.Flow
	cfg     sso.Config // as saved, with the secret
	skew    atomic.Int64
}

func newFixture(t *testing.T, pc oidctest.Config, edit func(*sso.Config)) *fixture {
	t.Helper()
	pc.ClientID, pc.ClientSecret, pc.RedirectURI = "lantau-acme", "s3cret-"+rand.Text(), callback
	if pc.Accounts == nil {
		pc.Accounts = accounts
	}
	op := oidctest.Start(t, pc)
	store, err := bolt.Open(filepath.Join(t.TempDir(), "lantau.db"), table.Lantau)
	require.NoError(t, err)
	t.Cleanup(func() { store.Close() })
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	sealer, err := credential.NewAESGCM(key)
	require.NoError(t, err)

	f := &fixture{op: op, store: store, configs: &sso.Configs{Table: store, Sealer: sealer}}
	f.cfg = sso.Config{Issuer: op.Issuer(), ClientID: pc.ClientID, ClientSecret: sso.Secret(pc.ClientSecret),
		AllowedDomains: []string{"acme.com.hk"}}
	if edit != nil {
		edit(&f.cfg)
	}
	_, err = f.configs.Save(t.Context(), tenant, f.cfg)
	require.NoError(t, err)
	f.flow = &sso.Flow{Table: store, Configs: f.configs,
		Now: func() time.Time { return time.Now().Add(time.Duration(f.skew.Load())) }}
	return f
}

// begin starts a sign-in and returns the authorization URL and its state.
func (f *fixture) begin(t *testing.T) (authURL, state string) {
	t.Helper()
	authURL, err := f.flow.Begin(t.Context(), tenant, f.cfg, callback)
	require.NoError(t, err)
	u, err := url.Parse(authURL)
	require.NoError(t, err)
	return authURL, u.Query().Get("state")
}

// signIn is the user at the provider: login page, consent page, back to
// the callback with state and code.
func (f *fixture) signIn(t *testing.T, authURL, sub string) (state, code string) {
	t.Helper()
	cb, err := f.op.Login(t.Context(), authURL, sub)
	require.NoError(t, err)
	q := cb.Query()
	require.Empty(t, q.Get("error"), "callback %s", cb)
	require.NotEmpty(t, q.Get("code"), "callback %s", cb)
	return q.Get("state"), q.Get("code")
}

// directory is a fake identity.Directory.
type directory struct {
	find func(ctx context.Context, tenant, email string) (string, bool, error)
}

func (d directory) FindActiveByEmail(ctx context.Context, tenant, email string) (string, bool, error) {
	return d.find(ctx, tenant, email)
}

func employees(byEmail map[string]string) directory {
	return directory{find: func(_ context.Context, tn, email string) (string, bool, error) {
		if tn != tenant {
			return "", false, nil
		}
		id, ok := byEmail[email]
		return id, ok, nil
	}}
}

// assertProblem checks err's status and code, and that it reads in
// Hong Kong Chinese without showing its cause.
func assertProblem(t *testing.T, err error, status int, code problem.Code) {
	t.Helper()
	require.Error(t, err)
	assert.Equal(t, status, problem.KindOf(err).Status(), "%v", err)
	assert.Equal(t, code, problem.CodeOf(err), "%v", err)
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Accept-Language", "zh-HK")
	w := httptest.NewRecorder()
	problem.Write(w, r, err)
	var body problem.Body
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
	assert.Equal(t, problem.TypeBase+string(code), body.Type)
	assert.NotEmpty(t, body.Detail)
	assert.NotRegexp(t, `[A-Za-z]{4}`, body.Detail, "detail should be in Chinese")
}

func TestLogin_ThroughTheProvidersPagesReturnsTheEmployee(t *testing.T) {
	f := newFixture(t, oidctest.Config{}, nil)
	authURL, state := f.begin(t)

	u, err := url.Parse(authURL)
	require.NoError(t, err)
	q := u.Query()
	assert.True(t, strings.HasPrefix(authURL, f.op.Issuer()+"/"), authURL)
	assert.Equal(t, "code", q.Get("response_type"))
	assert.Equal(t, "S256", q.Get("code_challenge_method"))
	assert.Len(t, q.Get("code_challenge"), 43)
	assert.Len(t, q.Get("nonce"), 43)
	assert.Equal(t, "openid email profile", q.Get("scope"))
	assert.True(t, strings.HasPrefix(state, tenant+"."), state)

	// Stored server-side by the state's hash, with the TTL.
	it, err := f.store.Get(t.Context(), sso.StateKey(state))
	require.NoError(t, err)
	assert.Equal(t, tenant, it.Tenant)
	assert.True(t, strings.HasPrefix(it.PK, "SSO#STATE#"))
	assert.NotContains(t, it.PK, state[len(tenant)+1:])
	assert.InDelta(t, time.Now().Add(sso.StateTTL).Unix(), it.ExpiresAt, 5)

	gotState, code := f.signIn(t, authURL, "idp-chan")
	assert.Equal(t, state, gotState)

	var asked []string
	dir := directory{find: func(_ context.Context, tn, email string) (string, bool, error) {
		asked = append(asked, tn+" "+email)
		return "u-chan", true, nil
	}}
	userID, id, create, err := f.flow.Login(t.Context(), state, code, dir)
	require.NoError(t, err)
	assert.Equal(t, "u-chan", userID)
	assert.False(t, create)
	assert.Equal(t, sso.Identity{Tenant: tenant, Issuer: f.op.Issuer(), Subject: "idp-chan",
		Email: "chan@acme.com.hk", EmailVerified: true, Name: "陳大文"}, id)
	assert.Equal(t, []string{tenant + " chan@acme.com.hk"}, asked)
}

func TestComplete_AcceptsSubdomainAndLowerCasesTheEmail(t *testing.T) {
	f := newFixture(t, oidctest.Config{}, nil)
	authURL, _ := f.begin(t)
	state, code := f.signIn(t, authURL, "idp-ho")
	id, err := f.flow.Complete(t.Context(), state, code)
	require.NoError(t, err)
	assert.Equal(t, "ho.ka-yan@hk.acme.com.hk", id.Email)
	assert.Equal(t, "何嘉欣", id.Name)
}

// A provider that keeps the scope claims out of the ID token (OIDC Core
// 5.4 for the code flow): Complete reads them from userinfo.
func TestComplete_ReadsClaimsFromUserinfoWhenTheIDTokenHasNone(t *testing.T) {
	f := newFixture(t, oidctest.Config{UserinfoOnlyClaims: true}, nil)
	authURL, _ := f.begin(t)
	state, code := f.signIn(t, authURL, "idp-chan")
	id, err := f.flow.Complete(t.Context(), state, code)
	require.NoError(t, err)
	assert.Equal(t, sso.Identity{Tenant: tenant, Issuer: f.op.Issuer(), Subject: "idp-chan",
		Email: "chan@acme.com.hk", EmailVerified: true, Name: "陳大文"}, id)

	authURL, _ = f.begin(t)
	state, code = f.signIn(t, authURL, "idp-wong")
	_, err = f.flow.Complete(t.Context(), state, code)
	assertProblem(t, err, 403, sso.CodeEmailUnverified)
}

func TestComplete_RefusesWrongState(t *testing.T) {
	f := newFixture(t, oidctest.Config{}, nil)
	authURL, state := f.begin(t)
	_, code := f.signIn(t, authURL, "idp-chan")

	forged := tenant + "." + strings.Repeat("A", 43)
	otherTenant := "t-other" + state[len(tenant):]
	for name, s := range map[string]string{
		"unknown": forged, "other tenant": otherTenant, "empty": "", "malformed": "not-a-state",
		"truncated": state[:len(state)-1], "padded": state + "=",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := f.flow.Complete(t.Context(), s, code)
			assertProblem(t, err, 400, sso.CodeStateInvalid)
		})
	}
	// None of these consumed the real state.
	_, err := f.flow.Complete(t.Context(), state, code)
	require.NoError(t, err)
}

func TestComplete_RefusesReplayedState(t *testing.T) {
	f := newFixture(t, oidctest.Config{}, nil)
	authURL, _ := f.begin(t)
	state, code := f.signIn(t, authURL, "idp-chan")
	_, err := f.flow.Complete(t.Context(), state, code)
	require.NoError(t, err)

	_, err = f.flow.Complete(t.Context(), state, code)
	assertProblem(t, err, 400, sso.CodeStateUsed)
}

// Two callbacks with one state at once (a double-submitted redirect, or an
// attacker racing the user): exactly one goes on.
func TestComplete_ConcurrentReplayOnlyOneWins(t *testing.T) {
	f := newFixture(t, oidctest.Config{}, nil)
	authURL, _ := f.begin(t)
	state, code := f.signIn(t, authURL, "idp-chan")

	const n = 4
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, errs[i] = f.flow.Complete(t.Context(), state, code) })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else {
			assertProblem(t, err, 400, sso.CodeStateUsed)
		}
	}
	assert.Equal(t, 1, ok)
}

func TestComplete_RefusesExpiredState(t *testing.T) {
	f := newFixture(t, oidctest.Config{}, nil)
	authURL, _ := f.begin(t)
	state, code := f.signIn(t, authURL, "idp-chan")
	f.skew.Store(int64(sso.StateTTL + time.Second))
	_, err := f.flow.Complete(t.Context(), state, code)
	assertProblem(t, err, 400, sso.CodeStateExpired)
}

// The ID token's nonce is the provider's echo of the one Begin sent. Change
// the nonce Begin stored and everything else about the sign-in is right
// (state, code, PKCE verifier, signature): only the nonce check can fail.
func TestComplete_RefusesTamperedNonce(t *testing.T) {
	f := newFixture(t, oidctest.Config{}, nil)
	authURL, _ := f.begin(t)
	state, code := f.signIn(t, authURL, "idp-chan")

	it, err := f.store.Get(t.Context(), sso.StateKey(state))
	require.NoError(t, err)
	var rec map[string]any
	require.NoError(t, json.Unmarshal(it.Data, &rec))
	require.NotEmpty(t, rec["nonce"])
	rec["nonce"] = rand.Text() + rand.Text()
	it.Data, err = json.Marshal(rec)
	require.NoError(t, err)
	it.Version++
	require.NoError(t, f.store.Put(t.Context(), it, table.IfVersion(it.Version-1)))

	_, err = f.flow.Complete(t.Context(), state, code)
	assertProblem(t, err, 401, sso.CodeNonceMismatch)
}

// Codes swapped between two sign-ins (an attacker injecting their own code
// into a victim's callback): PKCE binds each code to its own sign-in's
// verifier, so the provider refuses the exchange.
func TestComplete_RefusesCodeOfAnotherSignIn(t *testing.T) {
	f := newFixture(t, oidctest.Config{}, nil)
	authA, _ := f.begin(t)
	authB, _ := f.begin(t)
	stateA, codeA := f.signIn(t, authA, "idp-chan")
	stateB, codeB := f.signIn(t, authB, "idp-chan")

	_, err := f.flow.Complete(t.Context(), stateA, codeB)
	assertProblem(t, err, 401, sso.CodeTokenInvalid)
	_, err = f.flow.Complete(t.Context(), stateB, codeA)
	assertProblem(t, err, 401, sso.CodeTokenInvalid)
}

func TestComplete_RefusesEmailDomainNotAllowed(t *testing.T) {
	f := newFixture(t, oidctest.Config{}, nil)
	authURL, _ := f.begin(t)
	state, code := f.signIn(t, authURL, "idp-lee")
	_, err := f.flow.Complete(t.Context(), state, code)
	assertProblem(t, err, 403, sso.CodeDomainNotAllowed)
}

func TestComplete_RefusesUnverifiedOrMissingEmail(t *testing.T) {
	f := newFixture(t, oidctest.Config{}, nil)
	for _, sub := range []string{"idp-wong", "idp-noemail"} {
		authURL, _ := f.begin(t)
		state, code := f.signIn(t, authURL, sub)
		_, err := f.flow.Complete(t.Context(), state, code)
		assertProblem(t, err, 403, sso.CodeEmailUnverified)
	}
}

// Microsoft Entra ID (Azure AD) sends no email_verified; its optional
// claim xms_edov (the domain's owner verified the address) stands for it.
func TestComplete_AcceptsEntraIDsDomainOwnerVerifiedClaim(t *testing.T) {
	f := newFixture(t, oidctest.Config{}, nil)
	authURL, _ := f.begin(t)
	state, code := f.signIn(t, authURL, "idp-entra")
	id, err := f.flow.Complete(t.Context(), state, code)
	require.NoError(t, err)
	assert.Equal(t, "entra@acme.com.hk", id.Email)
	assert.True(t, id.EmailVerified)
}

func TestLogin_RefusesEmailWithNoActiveEmployee(t *testing.T) {
	f := newFixture(t, oidctest.Config{}, nil)
	authURL, _ := f.begin(t)
	state, code := f.signIn(t, authURL, "idp-chan")
	_, _, create, err := f.flow.Login(t.Context(), state, code, employees(map[string]string{"wong@acme.com.hk": "u-wong"}))
	assertProblem(t, err, 403, sso.CodeNoEmployee)
	assert.False(t, create)
}

func TestLogin_WithCreateUsersAsksTheCallerToCreate(t *testing.T) {
	f := newFixture(t, oidctest.Config{}, func(c *sso.Config) { c.CreateUsers = true })
	authURL, _ := f.begin(t)
	state, code := f.signIn(t, authURL, "idp-chan")
	userID, id, create, err := f.flow.Login(t.Context(), state, code, employees(nil))
	require.NoError(t, err)
	assert.True(t, create)
	assert.Empty(t, userID)
	assert.Equal(t, "chan@acme.com.hk", id.Email)
	assert.Equal(t, "idp-chan", id.Subject)
}

func TestLogin_DirectoryFailureIsInternal(t *testing.T) {
	f := newFixture(t, oidctest.Config{}, nil)
	authURL, _ := f.begin(t)
	state, code := f.signIn(t, authURL, "idp-chan")
	_, _, _, err := f.flow.Login(t.Context(), state, code, directory{find: func(context.Context, string, string) (string, bool, error) {
		return "", false, io.ErrUnexpectedEOF
	}})
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Equal(t, problem.Internal, problem.KindOf(err))
}

// A sign-in begun before the company moved to another provider (or turned
// SSO off) does not complete against the new settings.
func TestComplete_RefusesWhenTheCompanysSSOChangedMeanwhile(t *testing.T) {
	f := newFixture(t, oidctest.Config{}, nil)
	authURL, _ := f.begin(t)
	state, code := f.signIn(t, authURL, "idp-chan")
	changed := f.cfg
	changed.ClientID, changed.ClientSecret = "another-client", ""
	_, err := f.configs.Save(t.Context(), tenant, changed)
	require.NoError(t, err)
	_, err = f.flow.Complete(t.Context(), state, code)
	assertProblem(t, err, 400, sso.CodeStateInvalid)

	authURL, _ = f.begin(t)
	state, code = f.signIn(t, authURL, "idp-chan")
	require.NoError(t, f.configs.Delete(t.Context(), tenant))
	_, err = f.flow.Complete(t.Context(), state, code)
	assertProblem(t, err, 403, sso.CodeNotConfigured)
}

func TestComplete_RefusesMissingCodeAndConsumesTheState(t *testing.T) {
	f := newFixture(t, oidctest.Config{}, nil)
	authURL, _ := f.begin(t)
	state, code := f.signIn(t, authURL, "idp-chan")
	_, err := f.flow.Complete(t.Context(), state, "")
	assertProblem(t, err, 400, sso.CodeCodeMissing)
	_, err = f.flow.Complete(t.Context(), state, code)
	assertProblem(t, err, 400, sso.CodeStateUsed)
}

func TestComplete_RefusesACodeTheProviderNeverIssued(t *testing.T) {
	f := newFixture(t, oidctest.Config{}, nil)
	_, state := f.begin(t)
	_, err := f.flow.Complete(t.Context(), state, "forged-code")
	assertProblem(t, err, 401, sso.CodeTokenInvalid)
}

func TestBegin_ProviderUnreachableIs503(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close()) // nothing listens there now
	store, err := bolt.Open(filepath.Join(t.TempDir(), "lantau.db"), table.Lantau)
	require.NoError(t, err)
	defer store.Close()
	flow := &sso.Flow{Table: store, HTTPClient: &http.Client{Timeout: 2 * time.Second}}
	_, err = flow.Begin(t.Context(), tenant, sso.Config{Issuer: "http://" + addr, ClientID: "c"}, callback)
	assertProblem(t, err, 503, sso.CodeProviderUnavailable)
}

func TestBegin_RefusesBadArguments(t *testing.T) {
	flow := &sso.Flow{}
	good := sso.Config{Issuer: "https://accounts.google.com", ClientID: "c"}
	for name, tc := range map[string]struct {
		tenant, redirect string
		cfg              sso.Config
	}{
		"tenant with a dot":   {"t.acme", callback, good},
		"empty tenant":        {"", callback, good},
		"relative redirect":   {tenant, "/sso/callback", good},
		"http issuer":         {tenant, callback, sso.Config{Issuer: "http://accounts.google.com", ClientID: "c"}},
		"no client ID":        {tenant, callback, sso.Config{Issuer: "https://accounts.google.com"}},
		"redirect with frag":  {tenant, callback + "#x", good},
		"javascript redirect": {tenant, "javascript:alert(1)", good},
	} {
		_, err := flow.Begin(context.Background(), tc.tenant, tc.cfg, tc.redirect)
		assert.Equal(t, problem.Internal, problem.KindOf(err), name)
	}
}
