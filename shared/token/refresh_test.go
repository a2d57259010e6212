package token_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/table"
	"github.com/lantau-hq/lantau/shared/token"
)

type refreshFixture struct {
	clock *clock
	store table.Store
	dir   string // the store's directory
	r     *token.Refreshes
}

func newRefreshFixture(t testing.TB) *refreshFixture {
	t.Helper()
	store, dir := openStore(t)
	clk := newClock()
	return &refreshFixture{clock: clk, store: store, dir: dir, r: &token.Refreshes{Table: store, Now: clk.Now}}
}

func (f *refreshFixture) start(t testing.TB, tenant, user, session string) token.RefreshToken {
	t.Helper()
	rt, err := f.r.Start(t.Context(), tenant, user, session, token.Origin{})
	require.NoError(t, err)
	return rt
}

func (f *refreshFixture) rotate(t testing.TB, rt token.RefreshToken) token.RefreshToken {
	t.Helper()
	next, err := f.r.Rotate(t.Context(), rt.Tenant, rt.Token, "")
	require.NoError(t, err)
	return next
}

// refused asserts that presenting tok fails with a 401 of code.
func (f *refreshFixture) refused(t testing.TB, tenant, tok string, code problem.Code) {
	t.Helper()
	_, err := f.r.Rotate(t.Context(), tenant, tok, "")
	assertProblem(t, err, problem.Unauthenticated, code)
}

var refreshFormat = regexp.MustCompile(`^t-acme\.[A-Za-z0-9_-]{43}$`)

func TestRefresh_StartAndRotateStayInTheFamily(t *testing.T) {
	f := newRefreshFixture(t)
	first := f.start(t, "t-acme", "u-1", "s-1")
	assert.Regexp(t, refreshFormat, first.Token)
	assert.Equal(t, "s-1", first.SessionID)
	assert.Equal(t, f.clock.Now().Add(token.DefaultRefreshTTL).Unix(), first.ExpiresAt.Unix())

	f.clock.Advance(10 * time.Minute)
	second := f.rotate(t, first)
	assert.Regexp(t, refreshFormat, second.Token)
	assert.NotEqual(t, first.Token, second.Token)
	assert.Equal(t, first.FamilyID, second.FamilyID)
	assert.Equal(t, token.RefreshToken{Token: second.Token, Tenant: "t-acme", User: "u-1", SessionID: "s-1",
		FamilyID: first.FamilyID, ExpiresAt: f.clock.Now().UTC().Add(token.DefaultRefreshTTL)}, second)

	third := f.rotate(t, second)
	assert.Equal(t, first.FamilyID, third.FamilyID)

	fams, err := f.r.Families(t.Context(), "t-acme", "u-1")
	require.NoError(t, err)
	require.Len(t, fams, 1)
	assert.Equal(t, 2, fams[0].Generation)
	assert.False(t, fams[0].Revoked())
	assert.True(t, f.clock.Now().Equal(fams[0].LastUsedAt))
}

func TestRefresh_StartMakesASessionIDWhenNoneIsGiven(t *testing.T) {
	f := newRefreshFixture(t)
	a := f.start(t, "t-acme", "u-1", "")
	b := f.start(t, "t-acme", "u-1", "")
	assert.NotEmpty(t, a.SessionID)
	assert.NotEqual(t, a.SessionID, b.SessionID)
	assert.NotEqual(t, a.FamilyID, b.FamilyID)
}

func TestRefresh_StartRefusesWhatCannotBeEmbedded(t *testing.T) {
	f := newRefreshFixture(t)
	for name, in := range map[string][3]string{
		"tenant with a dot": {"t.acme", "u-1", ""},
		"empty tenant":      {"", "u-1", ""},
		"tenant too long":   {"t-" + strings.Repeat("a", 63), "u-1", ""},
		"empty user":        {"t-acme", "", ""},
		"padded user":       {"t-acme", "u-1 ", ""},
		"session w/ space":  {"t-acme", "u-1", "s 1"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := f.r.Start(t.Context(), in[0], in[1], in[2], token.Origin{})
			require.Error(t, err)
			assert.Equal(t, problem.Internal, problem.KindOf(err))
		})
	}
}

// Only a hash of each token is stored: the database files hold no secret.
func TestRefresh_StoresOnlyTheHash(t *testing.T) {
	f := newRefreshFixture(t)
	first := f.start(t, "t-acme", "u-1", "s-1")
	second := f.rotate(t, first)

	for _, rt := range []token.RefreshToken{first, second} {
		sum := sha256.Sum256([]byte(rt.Token))
		it, err := f.store.Get(t.Context(), table.Key{Tenant: "t-acme", PK: "REFRESH#" + base64.RawURLEncoding.EncodeToString(sum[:]), SK: "REFRESH"})
		require.NoError(t, err)
		assert.Equal(t, rt.ExpiresAt.Unix(), it.ExpiresAt, "TTL attribute set")
		var data map[string]any
		require.NoError(t, json.Unmarshal(it.Data, &data))
		assert.Equal(t, first.FamilyID, data["family"])
		assert.Equal(t, rt.Token == first.Token, data["used"])
	}

	files, err := filepath.Glob(filepath.Join(f.dir, "*"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, name := range files {
		b, err := os.ReadFile(name)
		require.NoError(t, err)
		for _, rt := range []token.RefreshToken{first, second} {
			secret := rt.Token[strings.IndexByte(rt.Token, '.')+1:]
			assert.False(t, bytes.Contains(b, []byte(secret)), "%s holds a refresh token", filepath.Base(name))
		}
	}
}

// Reuse detection: presenting a used token revokes the family, so the
// newest token of that family (which a thief or the client holds) stops
// working too. Other sign-ins of the user are untouched.
func TestRefresh_ReuseRevokesTheWholeFamily(t *testing.T) {
	f := newRefreshFixture(t)
	t0 := f.start(t, "t-acme", "u-1", "s-laptop")
	phone := f.start(t, "t-acme", "u-1", "s-phone")
	t1 := f.rotate(t, t0)
	t2 := f.rotate(t, t1)

	f.refused(t, "t-acme", t1.Token, token.CodeRefreshReused)
	f.refused(t, "t-acme", t2.Token, token.CodeRefreshRevoked)
	f.refused(t, "t-acme", t0.Token, token.CodeRefreshRevoked)

	fams, err := f.r.Families(t.Context(), "t-acme", "u-1")
	require.NoError(t, err)
	require.Len(t, fams, 2)
	byID := map[string]token.Family{fams[0].ID: fams[0], fams[1].ID: fams[1]}
	assert.Equal(t, token.ReasonReuse, byID[t0.FamilyID].RevokeReason)
	assert.True(t, byID[t0.FamilyID].Revoked())
	assert.False(t, byID[phone.FamilyID].Revoked())
	f.rotate(t, phone)
}

// Two refreshes with the same token at once: exactly one gets a new token.
// The others count as reuse, so the family ends up revoked (the client and
// a thief cannot be told apart).
func TestRefresh_ConcurrentRotationsOfOneTokenOnlyOneWins(t *testing.T) {
	f := newRefreshFixture(t)
	for round := range 5 {
		rt := f.start(t, "t-acme", "u-1", "")
		const n = 8
		var (
			wg      sync.WaitGroup
			gate    = make(chan struct{})
			results = make([]token.RefreshToken, n)
			errs    = make([]error, n)
		)
		for i := range n {
			wg.Go(func() {
				<-gate
				results[i], errs[i] = f.r.Rotate(t.Context(), "", rt.Token, "")
			})
		}
		close(gate)
		wg.Wait()

		var winners []token.RefreshToken
		for i, err := range errs {
			if err == nil {
				winners = append(winners, results[i])
				continue
			}
			assert.Equal(t, problem.Unauthenticated, problem.KindOf(err), "round %d: %v", round, err)
			assert.Contains(t, []problem.Code{token.CodeRefreshReused, token.CodeRefreshRevoked}, problem.CodeOf(err))
		}
		require.Len(t, winners, 1, "round %d: exactly one rotation wins", round)
		f.refused(t, "", winners[0].Token, token.CodeRefreshRevoked)
	}
}

func TestRefresh_RevokeSessionEndsOneSignIn(t *testing.T) {
	f := newRefreshFixture(t)
	laptop := f.rotate(t, f.start(t, "t-acme", "u-1", "s-laptop"))
	phone := f.start(t, "t-acme", "u-1", "s-phone")

	n, err := f.r.RevokeSession(t.Context(), "t-acme", "s-laptop")
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	f.refused(t, "t-acme", laptop.Token, token.CodeRefreshRevoked)
	f.rotate(t, phone)

	n, err = f.r.RevokeSession(t.Context(), "t-acme", "s-laptop")
	require.NoError(t, err)
	assert.Zero(t, n, "already revoked")
	n, err = f.r.RevokeSession(t.Context(), "t-acme", "s-unknown")
	require.NoError(t, err)
	assert.Zero(t, n)
}

func TestRefresh_RevokeUserEndsEverySignInOfThatUser(t *testing.T) {
	f := newRefreshFixture(t)
	var mine []token.RefreshToken
	for i := range 3 {
		mine = append(mine, f.start(t, "t-acme", "u-1", "s-"+string(rune('a'+i))))
	}
	colleague := f.start(t, "t-acme", "u-2", "s-x")
	namesake := f.start(t, "t-other", "u-1", "s-y") // same user ID, another company

	n, err := f.r.RevokeUser(t.Context(), "t-acme", "u-1")
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	for _, rt := range mine {
		f.refused(t, "t-acme", rt.Token, token.CodeRefreshRevoked)
	}
	f.rotate(t, colleague)
	f.rotate(t, namesake)

	fams, err := f.r.Families(t.Context(), "t-acme", "u-1")
	require.NoError(t, err)
	require.Len(t, fams, 3)
	for _, fam := range fams {
		assert.Equal(t, token.ReasonRevoked, fam.RevokeReason)
	}
	assert.True(t, fams[0].CreatedAt.Equal(fams[2].CreatedAt) || fams[0].CreatedAt.After(fams[2].CreatedAt), "newest first")
}

func TestRefresh_ExpiredTokensAreRefused(t *testing.T) {
	t.Run("token past its TTL", func(t *testing.T) {
		f := newRefreshFixture(t)
		rt := f.start(t, "t-acme", "u-1", "s-1")
		f.clock.Advance(token.DefaultRefreshTTL)
		f.refused(t, "t-acme", rt.Token, token.CodeRefreshExpired)
	})
	t.Run("a second before its TTL it still rotates", func(t *testing.T) {
		f := newRefreshFixture(t)
		rt := f.start(t, "t-acme", "u-1", "s-1")
		f.clock.Advance(token.DefaultRefreshTTL - time.Second)
		f.rotate(t, rt)
	})
	t.Run("sign-in past its maximum age, however recently rotated", func(t *testing.T) {
		f := newRefreshFixture(t)
		f.r.TTL, f.r.MaxAge = 24*time.Hour, 36*time.Hour
		rt := f.start(t, "t-acme", "u-1", "s-1")
		f.clock.Advance(23 * time.Hour)
		rt = f.rotate(t, rt)
		assert.Equal(t, start.Add(36*time.Hour).Unix(), rt.ExpiresAt.Unix(), "capped at the sign-in's maximum age")
		f.clock.Advance(13 * time.Hour)
		f.refused(t, "t-acme", rt.Token, token.CodeRefreshExpired)
	})
	t.Run("expired long ago: the table's TTL has hidden it", func(t *testing.T) {
		store, _ := openStore(t)
		past := time.Now().Add(-48 * time.Hour)
		r := &token.Refreshes{Table: store, TTL: time.Hour, Now: func() time.Time { return past }}
		rt, err := r.Start(t.Context(), "t-acme", "u-1", "s-1", token.Origin{})
		require.NoError(t, err)
		r.Now = nil
		_, err = r.Rotate(t.Context(), "t-acme", rt.Token, "")
		assertProblem(t, err, problem.Unauthenticated, token.CodeRefreshInvalid)
	})
}

// A token of company A can neither act on company B's sign-ins nor be
// turned into one of B's by editing its tenant; the attempts leave both
// families as they were.
func TestRefresh_TenantsCannotTouchEachOthersFamilies(t *testing.T) {
	f := newRefreshFixture(t)
	a := f.start(t, "t-a", "u-1", "s-1")
	b := f.start(t, "t-b", "u-1", "s-1") // same user and session IDs on purpose
	usedA := a
	a = f.rotate(t, a)
	secretOf := func(tok string) string { return tok[strings.IndexByte(tok, '.')+1:] }

	cases := []struct {
		name, tenant, token string
	}{
		{"A's token presented for B", "t-b", a.Token},
		{"A's used token presented for B", "t-b", usedA.Token},
		{"A's secret relabelled as B's", "", "t-b." + secretOf(a.Token)},
		{"A's used secret relabelled as B's", "t-b", "t-b." + secretOf(usedA.Token)},
		{"B's token presented for A", "t-a", b.Token},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f.refused(t, tc.tenant, tc.token, token.CodeRefreshInvalid)
		})
	}
	// Nothing was revoked on either side.
	f.rotate(t, a)
	f.rotate(t, b)
	n, err := f.r.RevokeSession(t.Context(), "t-b", "s-1")
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	fams, err := f.r.Families(t.Context(), "t-a", "u-1")
	require.NoError(t, err)
	require.Len(t, fams, 1)
	assert.False(t, fams[0].Revoked(), "revoking B's session s-1 leaves A's s-1 alone")
}

func TestRefresh_MalformedTokensAreRefused(t *testing.T) {
	f := newRefreshFixture(t)
	good := f.start(t, "t-acme", "u-1", "s-1")
	secret := good.Token[len("t-acme."):]
	cases := map[string]string{
		"empty":                 "",
		"no tenant":             secret,
		"empty tenant":          "." + secret,
		"no secret":             "t-acme.",
		"short secret":          "t-acme." + secret[:42],
		"long secret":           "t-acme." + secret + "A",
		"padded base64":         "t-acme." + secret[:42] + "=",
		"standard base64":       "t-acme." + strings.NewReplacer("-", "+", "_", "/").Replace(secret),
		"tenant with a space":   "t acme." + secret,
		"two dots":              "t-acme.x." + secret,
		"a JWT":                 "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1In0.",
		"very long":             strings.Repeat("a", 10_000) + "." + secret,
		"non-canonical base64":  "t-acme." + secret[:42] + nonCanonicalLast(secret[42]),
		"correct, then garbage": good.Token + "\x00",
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			if tok == good.Token {
				t.Skip("mutation left the token unchanged")
			}
			f.refused(t, "", tok, token.CodeRefreshInvalid)
		})
	}
	f.rotate(t, good) // none of that revoked anything
}

// nonCanonicalLast returns another base64url character that decodes to the
// same 32 bytes (the last character carries 2 unused bits).
func nonCanonicalLast(c byte) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, c)
	return string(alphabet[i^1])
}

func TestRefresh_ErrorsAre401ProblemsInBothLanguages(t *testing.T) {
	f := newRefreshFixture(t)
	t0 := f.start(t, "t-acme", "u-1", "s-1")
	f.rotate(t, t0)
	_, errReused := f.r.Rotate(t.Context(), "", t0.Token, "")
	require.Error(t, errReused)
	_, errInvalid := f.r.Rotate(t.Context(), "", "t-acme.nope", "")
	require.Error(t, errInvalid)

	cases := []struct {
		name, lang string
		err        error
		wantType   string
		wantTitle  string
		wantDetail string
	}{
		{"reused, English", "en", errReused, "refresh-token-reused", "Authentication required", "used more than once"},
		{"reused, zh-HK", "zh-HK", errReused, "refresh-token-reused", "需要登入", "重複使用"},
		{"invalid, English", "en-GB", errInvalid, "refresh-token-invalid", "Authentication required", "Please sign in again."},
		{"invalid, zh-HK", "zh-Hant", errInvalid, "refresh-token-invalid", "需要登入", "請重新登入"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/v1/auth/refresh", nil)
			req.Header.Set("Accept-Language", tc.lang)
			rec := httptest.NewRecorder()
			problem.Write(rec, req, tc.err)
			assert.Equal(t, http.StatusUnauthorized, rec.Code)
			var body struct{ Type, Title, Detail string }
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
			assert.True(t, strings.HasSuffix(body.Type, "/"+tc.wantType), body.Type)
			assert.Equal(t, tc.wantTitle, body.Title)
			assert.Contains(t, body.Detail, tc.wantDetail)
			assert.NotContains(t, rec.Body.String(), t0.Token[len("t-acme."):])
		})
	}
	assert.NotContains(t, errReused.Error(), t0.Token[len("t-acme."):], "the log line holds no token")
}

// A refresh token prints and logs without its secret.
func TestRefreshToken_HidesTheSecretWhenPrintedOrLogged(t *testing.T) {
	f := newRefreshFixture(t)
	rt := f.start(t, "t-acme", "u-1", "s-1")
	secret := rt.Token[len("t-acme."):]
	for _, out := range []string{fmtAll(rt), logJSON(rt)} {
		assert.NotContains(t, out, secret)
		assert.Contains(t, out, rt.FamilyID)
	}
}

// A refresh mints what the sign-in earned: the methods given to Start come
// back from every rotation, and a sign-in started without any has none.
func TestRefresh_CarriesTheSignInsMethodsThroughRotations(t *testing.T) {
	store, _ := openStore(t)
	r := &token.Refreshes{Table: store}
	sso, err := r.Start(t.Context(), "t-acme", "u-1", "", token.Origin{}, "sso")
	require.NoError(t, err)
	plain, err := r.Start(t.Context(), "t-acme", "u-2", "", token.Origin{})
	require.NoError(t, err)
	assert.Equal(t, []string{"sso"}, sso.AMR)
	for range 3 {
		sso, err = r.Rotate(t.Context(), "t-acme", sso.Token, "")
		require.NoError(t, err)
		assert.Equal(t, []string{"sso"}, sso.AMR)
	}
	plain, err = r.Rotate(t.Context(), "t-acme", plain.Token, "")
	require.NoError(t, err)
	assert.Empty(t, plain.AMR)
}

// A family keeps where its sign-in came from and the address of its last
// rotation (in the item the rotation writes anyway), and Live tells a
// usable sign-in from a revoked, idle or too old one.
func TestRefresh_FamiliesKeepTheOriginAndTheLastAddress(t *testing.T) {
	f := newRefreshFixture(t)
	// The store drops items past their expiry by the real clock: start now.
	f.clock = &clock{t: time.Now().UTC()}
	f.r = &token.Refreshes{Table: f.store, Now: f.clock.Now, TTL: time.Hour, MaxAge: 3 * time.Hour}
	from := token.Origin{DeviceID: "phone-1", IP: "203.0.113.7", UserAgent: "Mozilla/5.0 (iPhone) " + strings.Repeat("x", 600)}
	rt, err := f.r.Start(t.Context(), "t-acme", "u-1", "", from, "pwd", "otp")
	require.NoError(t, err)
	family := func() token.Family {
		t.Helper()
		fams, err := f.r.Families(t.Context(), "t-acme", "u-1")
		require.NoError(t, err)
		require.Len(t, fams, 1)
		return fams[0]
	}
	fam := family()
	assert.Equal(t, "phone-1", fam.Origin.DeviceID)
	assert.Equal(t, "203.0.113.7", fam.Origin.IP)
	assert.Len(t, fam.Origin.UserAgent, 512, "a client's user agent is cut to its bound")
	assert.Equal(t, "203.0.113.7", fam.LastIP, "before any rotation: the sign-in's address")
	assert.Equal(t, []string{"pwd", "otp"}, fam.AMR)
	assert.True(t, fam.IdleExpiresAt.Equal(fam.CreatedAt.Add(time.Hour)))
	assert.True(t, fam.Live(f.clock.Now()))

	f.clock.Advance(50 * time.Minute)
	rt, err = f.r.Rotate(t.Context(), "t-acme", rt.Token, "198.51.100.9")
	require.NoError(t, err)
	fam = family()
	assert.Equal(t, "198.51.100.9", fam.LastIP)
	assert.Equal(t, "203.0.113.7", fam.Origin.IP, "the sign-in's address stays")
	assert.True(t, f.clock.Now().Equal(fam.LastUsedAt))
	assert.True(t, fam.IdleExpiresAt.Equal(fam.LastUsedAt.Add(time.Hour)))

	_, err = f.r.Rotate(t.Context(), "t-acme", rt.Token, "")
	require.NoError(t, err)
	assert.Equal(t, "198.51.100.9", family().LastIP, "an unknown address keeps the last known one")

	assert.False(t, fam.Live(fam.IdleExpiresAt), "idle: its token expired")
	assert.False(t, fam.Live(fam.ExpiresAt), "too old")
	_, err = f.r.RevokeSession(t.Context(), "t-acme", fam.SessionID)
	require.NoError(t, err)
	assert.False(t, family().Live(f.clock.Now()), "revoked")
}
