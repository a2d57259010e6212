package identityfn_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/identity/identityfn"
	"github.com/lantau-hq/lantau/shared/identity/identitytest"
)

// newPassword passes the password policy and differs from GoodPassword.
const newPassword = "a brand new harbour passphrase 2026"

// Changing one's password ends every other sign-in of the user while the
// caller's goes on, mails the user and is recorded in the audit trail.
func TestChangePassword_EndsTheOtherSignInsAndKeepsTheCallers(t *testing.T) {
	t.Parallel()
	s, c, bobEmail := startWithEmployee(t, "acme-pw.hk")
	phoneAccess, phoneRefresh := signIn(t, s, bobEmail, identitytest.GoodPassword, "phone-1")
	laptopAccess, laptopRefresh := signIn(t, s, bobEmail, identitytest.GoodPassword, "laptop-1")
	// A reset link asked for earlier dies with the change.
	require.Equal(t, http.StatusAccepted, s.Do(t, "POST", "/v1/auth/password/reset", "", map[string]any{"email": bobEmail}).Status)
	_, earlierReset := s.LastLink(t, bobEmail, "password-reset")

	res := s.Do(t, "POST", "/v1/auth/password", laptopAccess,
		map[string]any{"currentPassword": identitytest.GoodPassword, "newPassword": newPassword})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	assert.Equal(t, float64(1), res.Body["otherSignInsEnded"], "the phone's sign-in")

	// The phone's sign-in is over: its refresh token and, once the session
	// check notices, its access token.
	res = s.Do(t, "POST", "/v1/auth/refresh", "", map[string]any{"refreshToken": phoneRefresh})
	assert.Equal(t, http.StatusUnauthorized, res.Status, "%s", res.Raw)
	assert.Equal(t, identitytest.ProblemType("refresh-token-revoked"), res.Str("type"))
	identitytest.Eventually(t, func() bool { return s.Do(t, "GET", "/v1/users/me", phoneAccess, nil).Status == http.StatusUnauthorized },
		"the other session's access token is refused")
	// The caller's sign-in goes on.
	assert.Equal(t, http.StatusOK, s.Do(t, "GET", "/v1/users/me", laptopAccess, nil).Status)
	res = s.Do(t, "POST", "/v1/auth/refresh", "", map[string]any{"refreshToken": laptopRefresh})
	assert.Equal(t, http.StatusOK, res.Status, "the caller's refresh token still rotates: %s", res.Raw)

	res = s.Do(t, "POST", "/v1/auth/password/reset/confirm", "", map[string]any{"token": earlierReset, "newPassword": newPassword + " reset"})
	assert.Equal(t, http.StatusGone, res.Status, "the reset link asked for before the change: %s", res.Raw)

	// Only the new password signs in.
	res = s.Do(t, "POST", "/v1/auth/login", "", map[string]any{"email": bobEmail, "password": identitytest.GoodPassword})
	assert.Equal(t, http.StatusUnauthorized, res.Status)
	signIn(t, s, bobEmail, newPassword, "laptop-1")

	mails := s.Mails(t, bobEmail, "password-changed")
	require.Len(t, mails, 1)
	assert.Contains(t, mails[0].Text, "was changed")
	assert.Contains(t, mails[0].Text, "If this was not you")
	assert.NotContains(t, mails[0].Text, newPassword)
	identitytest.Eventually(t, func() bool { return containsAll(identityEvents(t, s, c.Access), "PasswordChanged") },
		"the change is in the audit trail")
}

// Bad input gets a clear 4xx and changes nothing; a wrong current password
// is a failed sign-in, throttled with the sign-ins to the same account.
func TestChangePassword_RefusesBadInputAndThrottlesWrongCurrentPasswords(t *testing.T) {
	t.Parallel()
	s, c, bobEmail := startWithEmployee(t, "acme-pwbad.hk")
	access, _ := signIn(t, s, bobEmail, identitytest.GoodPassword, "phone-1")

	cases := []struct {
		name   string
		body   any
		lang   string
		status int
		code   string
		field  string
		detail string
	}{
		{"weak new password", map[string]any{"currentPassword": identitytest.GoodPassword, "newPassword": "password1234"}, "",
			http.StatusBadRequest, "password-policy", "newPassword", "Choose a stronger password."},
		{"short new password in Chinese", map[string]any{"currentPassword": identitytest.GoodPassword, "newPassword": "Tr0ub4dor&3"}, "zh-HK",
			http.StatusBadRequest, "password-policy", "newPassword", "請選用更安全的密碼。"},
		{"new password with the user's address", map[string]any{"currentPassword": identitytest.GoodPassword, "newPassword": bobEmail + " forever"}, "",
			http.StatusBadRequest, "password-policy", "newPassword", "Choose a stronger password."},
		{"no current password", map[string]any{"newPassword": newPassword}, "",
			http.StatusBadRequest, "validation-failed", "currentPassword", "Some fields are not valid."},
		{"same password again", map[string]any{"currentPassword": identitytest.GoodPassword, "newPassword": identitytest.GoodPassword}, "",
			http.StatusBadRequest, "password-unchanged", "newPassword", "The new password must differ from the current one."},
		{"wrong current password", map[string]any{"currentPassword": "not the password at all", "newPassword": newPassword}, "zh-HK",
			http.StatusBadRequest, "current-password-incorrect", "currentPassword", "現時的密碼不正確。"},
		{"unknown field", map[string]any{"password": newPassword}, "",
			http.StatusBadRequest, "", "", ""},
		{"not JSON", "currentPassword=x", "",
			http.StatusBadRequest, "", "", ""},
	}
	for _, tc := range cases {
		res := s.Do(t, "POST", "/v1/auth/password", access, tc.body, "Accept-Language", tc.lang)
		assert.Equal(t, tc.status, res.Status, "%s: %s", tc.name, res.Raw)
		assert.Contains(t, res.Header.Get("Content-Type"), "application/problem+json", tc.name)
		if tc.code == "" {
			continue
		}
		assert.Equal(t, identitytest.ProblemType(tc.code), res.Str("type"), tc.name)
		assert.Equal(t, tc.detail, res.Str("detail"), tc.name)
		assert.Contains(t, string(res.Raw), `"field":"`+tc.field+`"`, tc.name)
	}
	assert.Equal(t, http.StatusUnauthorized, s.Do(t, "POST", "/v1/auth/password", "",
		map[string]any{"currentPassword": identitytest.GoodPassword, "newPassword": newPassword}).Status, "signed-in callers only")
	assert.Empty(t, s.Mails(t, bobEmail, "password-changed"), "nothing changed")
	signIn(t, s, bobEmail, identitytest.GoodPassword, "phone-1")

	// Wrong current passwords run up the account's sign-in throttle: first
	// this route answers 429, then the sign-in itself, right password or not.
	var res identitytest.Reply
	for range 6 {
		res = s.Do(t, "POST", "/v1/auth/password", access, map[string]any{"currentPassword": "not the password at all", "newPassword": newPassword})
		if res.Status == http.StatusTooManyRequests {
			break
		}
		require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Raw)
	}
	require.Equal(t, http.StatusTooManyRequests, res.Status, "%s", res.Raw)
	assert.Equal(t, identitytest.ProblemType("too-many-attempts"), res.Str("type"))
	assert.NotEmpty(t, res.Header.Get("Retry-After"))
	res = s.Do(t, "POST", "/v1/auth/login", "", map[string]any{"email": bobEmail, "password": identitytest.GoodPassword})
	assert.Equal(t, http.StatusTooManyRequests, res.Status, "the same throttle as sign-in: %s", res.Raw)
	identitytest.Eventually(t, func() bool { return containsAll(identityEvents(t, s, c.Access), "LoginFailed") },
		"wrong current passwords are failed sign-ins in the audit trail")
}

// A reset request is answered the same for every address, and only an
// active user with a password gets a link.
func TestPasswordReset_AnswersTheSameWhetherOrNotTheAccountExists(t *testing.T) {
	t.Parallel()
	s, c, bobEmail := startWithEmployee(t, "acme-forgot.hk")
	dee, deeEmail := s.Invite(t, c, "dee")
	require.Equal(t, http.StatusOK, s.Do(t, "POST", "/v1/users/"+dee+"/deactivate", c.Access, nil).Status)
	ivyEmail := "ivy@acme-forgot.hk" // invited, has no password yet
	res := s.Do(t, "POST", "/v1/users", c.Access, map[string]any{"email": ivyEmail, "name": "Ivy"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Raw)

	reference := s.Do(t, "POST", "/v1/auth/password/reset", "", map[string]any{"email": "nobody@acme-forgot.hk"})
	require.Equal(t, http.StatusAccepted, reference.Status, "%s", reference.Raw)
	assert.Contains(t, reference.Str("detail"), "If an active account uses this address")
	for _, email := range []string{bobEmail, strings.ToUpper(bobEmail), deeEmail, ivyEmail, "someone@unregistered.example", c.Email} {
		started := time.Now()
		res := s.Do(t, "POST", "/v1/auth/password/reset", "", map[string]any{"email": email})
		assert.GreaterOrEqual(t, time.Since(started), identityfn.ResetAnswerFloor,
			"%s: answered no sooner than any other address (the timing tells nothing)", email)
		assert.Equal(t, reference.Status, res.Status, email)
		assert.Equal(t, string(reference.Raw), string(res.Raw), "%s: the same answer", email)
		assert.Equal(t, reference.Header.Get("Content-Type"), res.Header.Get("Content-Type"), email)
	}
	assert.Len(t, s.Mails(t, bobEmail, "password-reset"), 2, "an active user gets a link (addresses in any case)")
	assert.Len(t, s.Mails(t, c.Email, "password-reset"), 1)
	for _, email := range []string{deeEmail, ivyEmail, "nobody@acme-forgot.hk", "someone@unregistered.example"} {
		assert.Empty(t, s.Mails(t, email, "password-reset"), "%s gets no link", email)
	}
	res = s.Do(t, "POST", "/v1/auth/password/reset", "", map[string]any{"email": "nobody@acme-forgot.hk"}, "Accept-Language", "zh-HK")
	assert.Contains(t, res.Str("detail"), "如有使用此電郵地址的有效帳戶")

	for _, body := range []any{map[string]any{}, map[string]any{"email": "not an address"}, map[string]any{"email": "x", "extra": 1}, "email=x"} {
		res := s.Do(t, "POST", "/v1/auth/password/reset", "", body)
		assert.Equal(t, http.StatusBadRequest, res.Status, "%v: %s", body, res.Raw)
	}

	// Requests are throttled per address (three, then a wait) whether or
	// not it has an account, and per network.
	for _, email := range []string{bobEmail, "nobody@acme-forgot.hk"} {
		res := s.Do(t, "POST", "/v1/auth/password/reset", "", map[string]any{"email": email})
		require.Equal(t, http.StatusAccepted, res.Status, "%s: the third request: %s", email, res.Raw)
		res = s.Do(t, "POST", "/v1/auth/password/reset", "", map[string]any{"email": email})
		require.Equal(t, http.StatusTooManyRequests, res.Status, "%s: the fourth request: %s", email, res.Raw)
		assert.Equal(t, identitytest.ProblemType("too-many-reset-requests"), res.Str("type"))
		assert.NotEmpty(t, res.Header.Get("Retry-After"))
	}
	assert.Len(t, s.Mails(t, bobEmail, "password-reset"), 3, "no mail past the throttle")
	throttled := 0
	for i := range 30 {
		res := s.Do(t, "POST", "/v1/auth/password/reset", "", map[string]any{"email": "someone" + string(rune('a'+i)) + "@elsewhere.example"})
		if res.Status == http.StatusTooManyRequests {
			throttled = i + 1
			assert.NotEmpty(t, res.Header.Get("Retry-After"))
			break
		}
		require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Raw)
	}
	assert.Greater(t, throttled, 5, "the network is throttled after more requests than one address")
}

// The mailed link opens a page, sets a password once, supersedes earlier
// links, ends every sign-in and clears the failed sign-ins; the second
// factor is still asked for.
func TestPasswordReset_LinkSetsThePasswordOnceAndKeepsTheSecondFactor(t *testing.T) {
	t.Parallel()
	s := identitytest.Start(t)
	c := s.NewCompany(t, "acme-reset.hk")

	// Someone runs up the admin's failed sign-ins until the account waits.
	var res identitytest.Reply
	for range 8 {
		res = s.Do(t, "POST", "/v1/auth/login", "", map[string]any{"email": c.Email, "password": "not the password at all"})
		if res.Status == http.StatusTooManyRequests {
			break
		}
	}
	require.Equal(t, http.StatusTooManyRequests, res.Status, "%s", res.Raw)

	require.Equal(t, http.StatusAccepted, s.Do(t, "POST", "/v1/auth/password/reset", "", map[string]any{"email": c.Email}).Status)
	_, first := s.LastLink(t, c.Email, "password-reset")
	require.Equal(t, http.StatusAccepted, s.Do(t, "POST", "/v1/auth/password/reset", "", map[string]any{"email": c.Email}).Status)
	link, second := s.LastLink(t, c.Email, "password-reset")
	require.NotEqual(t, first, second)
	assert.True(t, strings.HasPrefix(link, s.API+"/v1/auth/password/reset/confirm?token="), link)
	assert.Contains(t, s.Mails(t, c.Email, "password-reset")[0].Text, "30 minutes")

	page := s.Do(t, "GET", strings.TrimPrefix(link, s.API), "", nil, "Accept-Language", "zh-HK")
	assert.Equal(t, http.StatusOK, page.Status)
	assert.Contains(t, page.Header.Get("Content-Type"), "text/html")
	assert.Contains(t, string(page.Raw), `<form method="post" action="/v1/auth/password/reset/confirm">`)
	assert.Contains(t, string(page.Raw), `name="newPassword"`)
	assert.Contains(t, string(page.Raw), "設定新密碼")

	cases := []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"superseded link", map[string]any{"token": first, "newPassword": newPassword}, http.StatusGone, "link-invalid"},
		{"forged token", map[string]any{"token": c.ID + ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "newPassword": newPassword}, http.StatusGone, "link-invalid"},
		{"malformed token", map[string]any{"token": "not-a-token", "newPassword": newPassword}, http.StatusBadRequest, "reset-token-malformed"},
		{"no token", map[string]any{"newPassword": newPassword}, http.StatusBadRequest, "reset-token-malformed"},
		{"weak password", map[string]any{"token": second, "newPassword": "password1234"}, http.StatusBadRequest, "password-policy"},
		{"no password", map[string]any{"token": second}, http.StatusBadRequest, "password-policy"},
		{"unknown field", map[string]any{"token": second, "password": newPassword}, http.StatusBadRequest, ""},
	}
	for _, tc := range cases {
		res := s.Do(t, "POST", "/v1/auth/password/reset/confirm", "", tc.body)
		assert.Equal(t, tc.status, res.Status, "%s: %s", tc.name, res.Raw)
		if tc.code != "" {
			assert.Equal(t, identitytest.ProblemType(tc.code), res.Str("type"), tc.name)
		}
	}

	// The page's form sets the password (a refused password left the link usable).
	form := url.Values{"token": {second}, "newPassword": {newPassword}}.Encode()
	res = s.Do(t, "POST", "/v1/auth/password/reset/confirm", "", form, "Content-Type", "application/x-www-form-urlencoded")
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	assert.Equal(t, float64(1), res.Body["signInsEnded"], "the admin's sign-in from NewCompany")
	res = s.Do(t, "POST", "/v1/auth/password/reset/confirm", "", map[string]any{"token": second, "newPassword": newPassword + " again"})
	assert.Equal(t, http.StatusGone, res.Status, "the link works once: %s", res.Raw)
	assert.Equal(t, identitytest.ProblemType("link-invalid"), res.Str("type"))

	// Every sign-in ended.
	res = s.Do(t, "POST", "/v1/auth/refresh", "", map[string]any{"refreshToken": c.Refresh})
	assert.Equal(t, http.StatusUnauthorized, res.Status, "%s", res.Raw)
	identitytest.Eventually(t, func() bool { return s.Do(t, "GET", "/v1/users/me", c.Access, nil).Status == http.StatusUnauthorized },
		"access tokens of earlier sign-ins are refused")

	// The failed sign-ins are forgotten, the old password is gone, and the
	// new one still needs the second factor.
	res = s.Do(t, "POST", "/v1/auth/login", "", map[string]any{"email": c.Email, "password": c.Password})
	assert.Equal(t, http.StatusUnauthorized, res.Status, "the old password, not throttled: %s", res.Raw)
	res = s.Do(t, "POST", "/v1/auth/login", "", map[string]any{"email": c.Email, "password": newPassword})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	assert.Equal(t, true, res.Body["mfaRequired"], "a reset does not skip the second factor: %s", res.Raw)
	assert.Empty(t, res.Str("accessToken"))
	res = s.LoginTOTP(t, c.Email, newPassword, "", c.Recovery[0])
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	assert.Equal(t, "lantau/api", res.Str("scope"))

	mails := s.Mails(t, c.Email, "password-changed")
	require.Len(t, mails, 1)
	assert.Contains(t, mails[0].Text, "password reset link")
	identitytest.Eventually(t, func() bool {
		return containsAll(identityEvents(t, s, res.Str("accessToken")), "PasswordResetRequested", "PasswordChanged")
	}, "the request and the reset are in the audit trail")
}

// An admin resets a user's lost second factor: the user's sign-ins end and
// the next sign-in must enrol again. Nobody resets their own, only super
// admins reset admins', employees none, and other companies' users are not
// found.
func TestResetMFA_SendsTheUserBackToEnrolment(t *testing.T) {
	t.Parallel()
	s := identitytest.Start(t)
	c := s.NewCompany(t, "acme-mfa.hk")
	other := s.NewCompany(t, "bravo-mfa.hk")

	// Dana, a directory admin who reads Chinese, with her second factor.
	danaEmail := "dana@acme-mfa.hk"
	dana := s.InviteAs(t, c, danaEmail, "Dana", "zh-HK")
	res := s.Do(t, "PUT", "/v1/users/"+dana+"/roles", c.Access, map[string]any{"role": "admin", "areas": []string{"directory"}})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	danaSession := newCompanyFromLogin(t, s, danaEmail, identitytest.GoodPassword)

	// Erin, an employee who set up a second factor of her own accord.
	erin, erinEmail := s.Invite(t, c, "erin")
	erinAccess, _ := signIn(t, s, erinEmail, identitytest.GoodPassword, "phone-1")
	res = s.Do(t, "POST", "/v1/auth/totp", erinAccess, nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	res = s.Do(t, "POST", "/v1/auth/totp/confirm", erinAccess, map[string]any{"code": identitytest.Code(t, res.Str("secret"), 0)})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)

	refused := []struct {
		name   string
		access string
		id     string
		status int
		code   string
	}{
		{"a super admin's own factor", c.Access, c.AdminID, http.StatusForbidden, "own-mfa-reset"},
		{"an admin's own factor", danaSession.Access, dana, http.StatusForbidden, "own-mfa-reset"},
		{"a super admin's factor by an admin", danaSession.Access, c.AdminID, http.StatusForbidden, "forbidden"},
		{"by an employee", erinAccess, dana, http.StatusForbidden, "forbidden"},
		{"a user of another company", c.Access, other.AdminID, http.StatusNotFound, "user-not-found"},
		{"a user of another company, by an admin", danaSession.Access, other.AdminID, http.StatusNotFound, "user-not-found"},
		{"nobody", c.Access, "u-nobody", http.StatusNotFound, "user-not-found"},
	}
	for _, tc := range refused {
		res := s.Do(t, "POST", "/v1/users/"+tc.id+"/mfa/reset", tc.access, nil)
		assert.Equal(t, tc.status, res.Status, "%s: %s", tc.name, res.Raw)
		assert.Equal(t, identitytest.ProblemType(tc.code), res.Str("type"), tc.name)
	}
	res = s.Do(t, "GET", "/v1/users/"+other.AdminID, other.Access, nil)
	assert.Equal(t, true, res.Body["twoFactor"], "the other company's admin keeps the factor")

	// A directory admin resets an employee's factor.
	res = s.Do(t, "POST", "/v1/users/"+erin+"/mfa/reset", danaSession.Access, nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	assert.Equal(t, false, res.Body["twoFactor"])

	// The super admin resets the admin's factor: her sign-ins end and the
	// next one can only enrol.
	res = s.Do(t, "POST", "/v1/users/"+dana+"/mfa/reset", c.Access, nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	assert.Equal(t, false, res.Body["twoFactor"])
	res = s.Do(t, "POST", "/v1/auth/refresh", "", map[string]any{"refreshToken": danaSession.Refresh})
	assert.Equal(t, http.StatusUnauthorized, res.Status, "%s", res.Raw)
	identitytest.Eventually(t, func() bool {
		return s.Do(t, "GET", "/v1/users/me", danaSession.Access, nil).Status == http.StatusUnauthorized
	}, "the admin's access token is refused")
	res = s.Do(t, "POST", "/v1/auth/login", "", map[string]any{"email": danaEmail, "password": identitytest.GoodPassword})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	assert.Equal(t, true, res.Body["enrolmentRequired"], "%s", res.Raw)
	assert.Equal(t, "lantau/enrol", res.Str("scope"))
	assert.Empty(t, res.Str("refreshToken"))
	res = s.Do(t, "POST", "/v1/users/"+dana+"/mfa/reset", c.Access, nil)
	assert.Equal(t, http.StatusConflict, res.Status, "nothing left to reset: %s", res.Raw)
	assert.Equal(t, identitytest.ProblemType("mfa-not-enrolled"), res.Str("type"))

	mails := s.Mails(t, danaEmail, "mfa-reset")
	require.Len(t, mails, 1)
	assert.Contains(t, mails[0].Subject, "雙重認證", "in the user's language")
	assert.Contains(t, mails[0].Text, "重新設定雙重認證")
	require.Len(t, s.Mails(t, erinEmail, "mfa-reset"), 1)
	assert.Contains(t, s.Mails(t, erinEmail, "mfa-reset")[0].Text, "set up two-factor sign-in again")
	identitytest.Eventually(t, func() bool {
		n := 0
		for _, typ := range identityEvents(t, s, c.Access) {
			if typ == "MFAReset" {
				n++
			}
		}
		return n == 2
	}, "both resets are in the audit trail")
}
