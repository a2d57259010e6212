package identityfn_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/identity/identitytest"
)

// User agents of the devices the tests sign in from.
const (
	iPhoneSafari = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
	macChrome    = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	winFirefox   = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
)

// device is one sign-in of a user who has no second factor.
type device struct {
	access, refresh string
}

// signInFrom signs email in from a device with its own ID and user agent.
func signInFrom(t *testing.T, s *identitytest.Stack, email, deviceID, userAgent string) device {
	t.Helper()
	res := s.Do(t, "POST", "/v1/auth/login", "", map[string]any{"email": email, "password": identitytest.GoodPassword, "deviceId": deviceID},
		"User-Agent", userAgent)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	require.Equal(t, "lantau/api", res.Str("scope"), "%s", res.Raw)
	return device{res.Str("accessToken"), res.Str("refreshToken")}
}

// sessions lists the sign-ins access sees at path (its own by default).
func sessions(t *testing.T, s *identitytest.Stack, access string, headers ...string) []map[string]any {
	t.Helper()
	res := s.Do(t, "GET", "/v1/auth/sessions", access, nil, headers...)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	return sessionList(t, res)
}

func sessionList(t *testing.T, res identitytest.Reply) []map[string]any {
	t.Helper()
	list, ok := res.Body["sessions"].([]any)
	require.True(t, ok, "%s", res.Raw)
	out := make([]map[string]any, 0, len(list))
	for _, v := range list {
		out = append(out, v.(map[string]any))
	}
	return out
}

// sidOf is the session ID (sid claim) of an access token.
func sidOf(t *testing.T, access string) string {
	t.Helper()
	_, claims := decodeJWT(t, access)
	sid, _ := claims["sid"].(string)
	require.NotEmpty(t, sid)
	return sid
}

// ended asserts that d's sign-in is over: its refresh token is refused at
// once, its access token once the session checks' caches expire.
func assertEnded(t *testing.T, s *identitytest.Stack, d device, what string) {
	t.Helper()
	res := s.Do(t, "POST", "/v1/auth/refresh", "", map[string]any{"refreshToken": d.refresh})
	assert.Equal(t, http.StatusUnauthorized, res.Status, "%s: %s", what, res.Raw)
	assert.Equal(t, identitytest.ProblemType("refresh-token-revoked"), res.Str("type"), what)
	identitytest.Eventually(t, func() bool { return s.Do(t, "GET", "/v1/users/me", d.access, nil).Status == http.StatusUnauthorized },
		"%s: its access token is refused within the session cache TTL", what)
}

// sessionEndedEvents are the data of the SessionEnded entries in the audit
// trail of access's company.
func sessionEndedEvents(t *testing.T, s *identitytest.Stack, access string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, e := range identityEntries(t, s, access) {
		if e["type"] == "SessionEnded" {
			out = append(out, e["data"].(map[string]any))
		}
	}
	return out
}

// Two sign-ins of one user are listed newest first with where they came
// from, the caller's marked current; ending the other one stops its refresh
// token at once and its access token within the cache TTL, while the
// caller's goes on, and the end is in the audit trail.
func TestSessions_ListsEachSignInAndEndsTheOtherOne(t *testing.T) {
	t.Parallel()
	s, c, bobEmail := startWithEmployee(t, "acme-sess.hk")
	phone := signInFrom(t, s, bobEmail, "phone-1", iPhoneSafari)
	time.Sleep(5 * time.Millisecond) // distinct start times, so the order is the newest first
	laptop := signInFrom(t, s, bobEmail, "laptop-1", macChrome)
	// The phone refreshes: its last use moves on, its start does not.
	res := s.Do(t, "POST", "/v1/auth/refresh", "", map[string]any{"refreshToken": phone.refresh}, "User-Agent", iPhoneSafari)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	phone = device{res.Str("accessToken"), res.Str("refreshToken")}

	res = s.Do(t, "GET", "/v1/auth/sessions", laptop.access, nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	list := sessionList(t, res)
	require.Len(t, list, 2, "%s", res.Raw)
	l, p := list[0], list[1]
	assert.Equal(t, sidOf(t, laptop.access), l["id"], "newest first")
	assert.Equal(t, sidOf(t, phone.access), p["id"])
	assert.Equal(t, true, l["current"])
	assert.Equal(t, false, p["current"])
	assert.Equal(t, "laptop-1", l["deviceId"])
	assert.Equal(t, "phone-1", p["deviceId"])
	assert.Equal(t, "Chrome on macOS", l["device"])
	assert.Equal(t, "Safari on iPhone", p["device"])
	assert.Equal(t, "iPhone", p["os"])
	assert.Equal(t, iPhoneSafari, p["userAgent"])
	for _, v := range list {
		assert.Equal(t, "127.0.0.1", v["signInIp"])
		assert.Equal(t, "127.0.0.1", v["lastUsedIp"])
		assert.Equal(t, []any{"pwd"}, v["methods"])
	}
	started, lastUsed := parseTime(t, p["startedAt"]), parseTime(t, p["lastUsedAt"])
	assert.True(t, lastUsed.After(started), "the phone's refresh is its last use: %v, %v", started, lastUsed)
	assert.Equal(t, l["startedAt"], l["lastUsedAt"], "the laptop never refreshed")
	assert.True(t, parseTime(t, l["startedAt"]).After(started))
	zh := sessions(t, s, laptop.access, "Accept-Language", "zh-HK")
	assert.Equal(t, "macOS 上的 Chrome", zh[0]["device"], "labels in the caller's language")

	res = s.Do(t, "DELETE", "/v1/auth/sessions/"+p["id"].(string), laptop.access, nil)
	require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Raw)
	assertEnded(t, s, phone, "the phone")
	assert.Equal(t, http.StatusOK, s.Do(t, "GET", "/v1/users/me", laptop.access, nil).Status, "the caller's sign-in goes on")
	list = sessions(t, s, laptop.access)
	require.Len(t, list, 1)
	assert.Equal(t, l["id"], list[0]["id"])

	res = s.Do(t, "DELETE", "/v1/auth/sessions/"+p["id"].(string), laptop.access, nil)
	assert.Equal(t, http.StatusNotFound, res.Status, "an ended sign-in is not found again: %s", res.Raw)
	assert.Equal(t, identitytest.ProblemType("session-not-found"), res.Str("type"))

	bob := s.Do(t, "GET", "/v1/users/me", laptop.access, nil).Str("id")
	identitytest.Eventually(t, func() bool { return len(sessionEndedEvents(t, s, c.Access)) == 1 }, "the end is in the audit trail")
	assert.Equal(t, map[string]any{"user": bob, "session": p["id"], "reason": "user", "current": false},
		sessionEndedEvents(t, s, c.Access)[0])
}

func parseTime(t *testing.T, v any) time.Time {
	t.Helper()
	s, _ := v.(string)
	at, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err, "%v", v)
	return at
}

// Ending the others ends every sign-in but the caller's, says how many,
// records each, and ends none the second time.
func TestSessions_EndOthersKeepsOnlyTheCallersSignIn(t *testing.T) {
	t.Parallel()
	s, c, bobEmail := startWithEmployee(t, "acme-sessothers.hk")
	phone := signInFrom(t, s, bobEmail, "phone-1", iPhoneSafari)
	desktop := signInFrom(t, s, bobEmail, "desktop-1", winFirefox)
	laptop := signInFrom(t, s, bobEmail, "laptop-1", macChrome)
	require.Len(t, sessions(t, s, laptop.access), 3)

	res := s.Do(t, "POST", "/v1/auth/sessions/end-others", laptop.access, nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	assert.Equal(t, float64(2), res.Body["ended"])
	assertEnded(t, s, phone, "the phone")
	assertEnded(t, s, desktop, "the desktop")
	list := sessions(t, s, laptop.access)
	require.Len(t, list, 1)
	assert.Equal(t, sidOf(t, laptop.access), list[0]["id"])
	assert.Equal(t, true, list[0]["current"])
	res = s.Do(t, "POST", "/v1/auth/refresh", "", map[string]any{"refreshToken": laptop.refresh})
	assert.Equal(t, http.StatusOK, res.Status, "the caller's refresh token still rotates: %s", res.Raw)

	res = s.Do(t, "POST", "/v1/auth/sessions/end-others", res.Str("accessToken"), nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	assert.Equal(t, float64(0), res.Body["ended"], "nothing left to end")

	identitytest.Eventually(t, func() bool { return len(sessionEndedEvents(t, s, c.Access)) == 2 }, "both ends are in the audit trail")
	var ended []any
	for _, e := range sessionEndedEvents(t, s, c.Access) {
		assert.Equal(t, "user", e["reason"])
		assert.Equal(t, false, e["current"])
		ended = append(ended, e["session"])
	}
	assert.ElementsMatch(t, []any{sidOf(t, phone.access), sidOf(t, desktop.access)}, ended)
}

// A user may end the sign-in they call from, as with logout.
func TestSessions_EndingTheCurrentSignInIsALogout(t *testing.T) {
	t.Parallel()
	s, c, bobEmail := startWithEmployee(t, "acme-sesscur.hk")
	phone := signInFrom(t, s, bobEmail, "phone-1", iPhoneSafari)
	laptop := signInFrom(t, s, bobEmail, "laptop-1", macChrome)

	res := s.Do(t, "DELETE", "/v1/auth/sessions/"+sidOf(t, laptop.access), laptop.access, nil)
	require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Raw)
	assertEnded(t, s, laptop, "the caller's own sign-in")
	assert.Len(t, sessions(t, s, phone.access), 1, "the other one goes on")
	identitytest.Eventually(t, func() bool { return len(sessionEndedEvents(t, s, c.Access)) == 1 }, "the end is in the audit trail")
	assert.Equal(t, true, sessionEndedEvents(t, s, c.Access)[0]["current"])
}

// Nobody ends or sees another user's sign-ins through these routes: an ID
// that is not a live sign-in of the caller (another user's of the same
// company or of another company, or no ID at all) is the same 404, and
// the sign-in it names goes on. A super admin may list a user's sign-ins
// of their own company only.
func TestSessions_OthersSignInsAreNotFound(t *testing.T) {
	t.Parallel()
	s, c, bobEmail := startWithEmployee(t, "acme-sessfoe.hk")
	other := s.NewCompany(t, "bravo-sessfoe.hk")
	carolID, carolEmail := s.Invite(t, c, "carol")
	bob := signInFrom(t, s, bobEmail, "phone-1", iPhoneSafari)
	carol := signInFrom(t, s, carolEmail, "laptop-1", macChrome)
	bobSID := sidOf(t, bob.access)

	for _, tc := range []struct{ name, access, id string }{
		{"a colleague's sign-in", carol.access, bobSID},
		{"a super admin of the same company: not through this route", c.Access, bobSID},
		{"another company's super admin", other.Access, bobSID},
		{"another company's sign-in", bob.access, sidOf(t, other.Access)},
		{"an unknown ID", bob.access, "s-AAAAAAAAAAAAAAAAAAAAAA"},
		{"garbage", bob.access, "%2e%2e%2F%00%E2%98%83"},
		{"a user ID", bob.access, carolID},
		{"very long", bob.access, strings.Repeat("s", 4000)},
	} {
		res := s.Do(t, "DELETE", "/v1/auth/sessions/"+tc.id, tc.access, nil)
		assert.Equal(t, http.StatusNotFound, res.Status, "%s: %s", tc.name, res.Raw)
		assert.Contains(t, res.Header.Get("Content-Type"), "application/problem+json", tc.name)
		assert.Equal(t, identitytest.ProblemType("session-not-found"), res.Str("type"), tc.name)
		assert.NotContains(t, string(res.Raw), bobEmail, tc.name)
	}
	res := s.Do(t, "DELETE", "/v1/auth/sessions/"+bobSID, "", nil)
	assert.Equal(t, http.StatusUnauthorized, res.Status, "signed-in callers only: %s", res.Raw)
	res = s.Do(t, "GET", "/v1/auth/sessions/"+bobSID, bob.access, nil)
	assert.NotEqual(t, http.StatusOK, res.Status, "no such route: %s", res.Raw)
	// Bob's and the other company's sign-ins all go on.
	assert.Len(t, sessions(t, s, bob.access), 1)
	res = s.Do(t, "POST", "/v1/auth/refresh", "", map[string]any{"refreshToken": bob.refresh})
	assert.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	assert.Equal(t, http.StatusOK, s.Do(t, "GET", "/v1/users/me", other.Access, nil).Status)

	// The admin view: own company's super admin only.
	bobID := s.Do(t, "GET", "/v1/users/me", bob.access, nil).Str("id")
	res = s.Do(t, "GET", "/v1/users/"+bobID+"/sessions", c.Access, nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	list := sessionList(t, res)
	require.Len(t, list, 1)
	assert.Equal(t, bobSID, list[0]["id"])
	assert.Equal(t, false, list[0]["current"], "not the admin's own sign-in")
	assert.Equal(t, "Safari on iPhone", list[0]["device"])
	for _, tc := range []struct {
		name, access, id string
		status           int
		code             string
	}{
		{"another company's super admin", other.Access, bobID, http.StatusNotFound, "user-not-found"},
		{"an unknown user", c.Access, "u-nobody", http.StatusNotFound, "user-not-found"},
		{"an employee", carol.access, bobID, http.StatusForbidden, "forbidden"},
		{"oneself, as an employee", bob.access, bobID, http.StatusForbidden, "forbidden"},
	} {
		res := s.Do(t, "GET", "/v1/users/"+tc.id+"/sessions", tc.access, nil)
		assert.Equal(t, tc.status, res.Status, "%s: %s", tc.name, res.Raw)
		assert.Equal(t, identitytest.ProblemType(tc.code), res.Str("type"), tc.name)
		assert.NotContains(t, string(res.Raw), bobSID, tc.name)
	}
}

// A token that may only enrol a second factor can neither list nor end
// sign-ins (only log itself out), and the sign-ins it names go on.
func TestSessions_RefuseEnrolOnlyTokens(t *testing.T) {
	t.Parallel()
	s, c, bobEmail := startWithEmployee(t, "acme-sessenrol.hk")
	phone := signInFrom(t, s, bobEmail, "phone-1", iPhoneSafari)
	res := s.Do(t, "PUT", "/v1/companies/"+c.ID+"/mfa-policy", c.Access, map[string]any{"requireForEveryone": true})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	res = s.Do(t, "POST", "/v1/auth/login", "", map[string]any{"email": bobEmail, "password": identitytest.GoodPassword, "deviceId": "laptop-1"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	require.Equal(t, true, res.Body["enrolmentRequired"], "%s", res.Raw)
	enrol := res.Str("accessToken")

	for _, call := range [][2]string{
		{"GET", "/v1/auth/sessions"},
		{"DELETE", "/v1/auth/sessions/" + sidOf(t, phone.access)},
		{"DELETE", "/v1/auth/sessions/" + sidOf(t, enrol)},
		{"POST", "/v1/auth/sessions/end-others"},
	} {
		res := s.Do(t, call[0], call[1], enrol, nil)
		// The gateway refuses it (the routes want scope lantau/api); the
		// function's own session check and Authorize would too.
		assert.Equal(t, http.StatusForbidden, res.Status, "%s %s: %s", call[0], call[1], res.Raw)
	}
	res = s.Do(t, "POST", "/v1/auth/refresh", "", map[string]any{"refreshToken": phone.refresh})
	assert.Equal(t, http.StatusOK, res.Status, "the phone's sign-in was not ended: %s", res.Raw)
}
