package identityfn_test

import (
	"bytes"
	"encoding/base64"
	"image/png"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/identity/identitytest"
)

func TestRegistration_ConfirmationLinkActivatesTheCompanyOnce(t *testing.T) {
	t.Parallel()
	s := identitytest.Start(t)
	body := identitytest.Registration("acme.com.hk", "chan@acme.com.hk")
	res := s.Do(t, "POST", "/v1/companies", "", body, "Idempotency-Key", "reg-1", "Accept-Language", "zh-HK")
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Raw)
	assert.Equal(t, "pending", res.Str("status"))
	assert.Equal(t, "ap-east-1", res.Str("dataRegion"))
	assert.Equal(t, "acme.com.hk", res.Str("domain"))
	assert.Equal(t, "chan@acme.com.hk", res.Str("confirmationSentTo"))
	companyID := res.Str("companyId")
	require.NotEmpty(t, companyID)

	// A retry with the same key gets the same answer and sends no second mail.
	again := s.Do(t, "POST", "/v1/companies", "", body, "Idempotency-Key", "reg-1")
	assert.Equal(t, http.StatusCreated, again.Status)
	assert.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
	assert.JSONEq(t, string(res.Raw), string(again.Raw))
	msgs := s.Outbox(t)
	require.Len(t, msgs, 1)
	assert.Equal(t, "company-confirmation", msgs[0].Kind)
	assert.Equal(t, companyID, msgs[0].Tenant)
	assert.Contains(t, msgs[0].Subject, "確認你的 Lantau 公司帳戶", "mailed in the language of the registration")

	// Before confirmation the admin cannot sign in.
	res = s.Do(t, "POST", "/v1/auth/login", "", map[string]any{"email": "chan@acme.com.hk", "password": identitytest.GoodPassword})
	assert.Equal(t, http.StatusForbidden, res.Status)
	assert.Equal(t, identitytest.ProblemType("confirmation-pending"), res.Str("type"))

	url, tok := s.LastLink(t, "chan@acme.com.hk", "company-confirmation")
	assert.True(t, strings.HasPrefix(url, s.API+"/v1/companies/confirm?token="), url)
	page := s.Do(t, "GET", strings.TrimPrefix(url, s.API), "", nil)
	assert.Equal(t, http.StatusOK, page.Status, "opening the link uses nothing up")
	assert.Contains(t, string(page.Raw), `<form method="post" action="/v1/companies/confirm">`)

	res = s.Do(t, "POST", "/v1/companies/confirm", "", map[string]any{"token": tok})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	assert.Equal(t, "active", res.Str("status"))
	assert.Equal(t, companyID, res.Str("companyId"))
	res = s.Do(t, "POST", "/v1/companies/confirm", "", map[string]any{"token": tok})
	assert.Equal(t, http.StatusGone, res.Status, "the link works once")
	assert.Equal(t, identitytest.ProblemType("link-invalid"), res.Str("type"))

	// The admin is now the super admin, who must set up 2FA before anything else.
	res = s.Do(t, "POST", "/v1/auth/login", "", map[string]any{"email": "CHAN@acme.com.hk", "password": identitytest.GoodPassword})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	assert.Equal(t, "lantau/enrol", res.Str("scope"))
	assert.Empty(t, res.Str("refreshToken"))

	// The registration and the confirmation are in the company's audit trail.
	c := newCompanyFromLogin(t, s, "chan@acme.com.hk", identitytest.GoodPassword)
	identitytest.Eventually(t, func() bool {
		return containsAll(identityEvents(t, s, c.Access), "CompanyRegistered", "CompanyConfirmed", "LoginSucceeded", "TOTPEnrolled")
	}, "identity events reach the audit trail")
}

func TestRegistration_RefusesFreeMailForeignAddressesAndWeakPasswords(t *testing.T) {
	t.Parallel()
	s := identitytest.Start(t)
	cases := []struct {
		name   string
		edit   func(map[string]any)
		lang   string
		code   string
		field  string
		detail string
	}{
		{"free-mail domain", func(b map[string]any) { b["domain"], b["adminEmail"] = "gmail.com", "chan@gmail.com" }, "",
			"free-mail-domain", "domain", "gmail.com gives addresses to anyone"},
		{"free-mail domain in Chinese", func(b map[string]any) { b["domain"], b["adminEmail"] = "yahoo.com.hk", "chan@yahoo.com.hk" }, "zh-HK",
			"free-mail-domain", "domain", "任何人都可以申請 yahoo.com.hk 的電郵地址"},
		{"free-mail address", func(b map[string]any) { b["adminEmail"] = "chan@qq.com" }, "",
			"free-mail-domain", "adminEmail", "qq.com gives addresses to anyone"},
		{"address on another domain", func(b map[string]any) { b["adminEmail"] = "chan@other.com.hk" }, "",
			"email-not-on-domain", "adminEmail", "must be on the company's domain, acme.hk"},
		{"weak password in Chinese", func(b map[string]any) { b["password"] = "password1234" }, "zh-HK",
			"password-policy", "password", "請選用更安全的密碼。"},
		{"short password", func(b map[string]any) { b["password"] = "Tr0ub4dor&3" }, "",
			"password-policy", "password", "Choose a stronger password."},
		{"unknown data region", func(b map[string]any) { b["dataRegion"] = "us-east-1" }, "",
			"validation-failed", "dataRegion", "Some fields are not valid."},
		{"not a domain", func(b map[string]any) { b["domain"] = "acme" }, "",
			"validation-failed", "domain", "Some fields are not valid."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := identitytest.Registration("acme.hk", "chan@acme.hk")
			tc.edit(body)
			res := s.Do(t, "POST", "/v1/companies", "", body, "Accept-Language", tc.lang)
			require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Raw)
			assert.Equal(t, identitytest.ProblemType(tc.code), res.Str("type"))
			assert.Contains(t, res.Str("detail"), tc.detail)
			var fields []string
			for _, e := range res.Body["errors"].([]any) {
				fields = append(fields, e.(map[string]any)["field"].(string))
			}
			assert.Contains(t, fields, tc.field)
		})
	}
	res := s.Do(t, "POST", "/v1/companies", "", map[string]any{"companyName": "x", "domain": "acme.hk", "dataRegion": "ap-east-1",
		"adminName": "x", "adminEmail": "x@acme.hk", "password": "password1234"}, "Accept-Language", "zh-HK")
	require.Equal(t, http.StatusBadRequest, res.Status)
	assert.Equal(t, "zh-HK", res.Header.Get("Content-Language"))
	assert.Contains(t, string(res.Raw), "太常見，容易被猜中", "the reason, in Traditional Chinese")
	assert.Empty(t, s.Outbox(t), "nothing was registered")
}

func TestRegistration_ADomainBelongsToOneCompany(t *testing.T) {
	t.Parallel()
	s := identitytest.Start(t)
	res := s.Do(t, "POST", "/v1/companies", "", identitytest.Registration("acme.hk", "chan@acme.hk"))
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Raw)
	res = s.Do(t, "POST", "/v1/companies", "", identitytest.Registration("ACME.hk", "wong@acme.hk"))
	assert.Equal(t, http.StatusConflict, res.Status)
	assert.Equal(t, identitytest.ProblemType("domain-taken"), res.Str("type"))
	assert.Contains(t, res.Str("detail"), "acme.hk is already registered")

	// Concurrent registrations of one domain: exactly one wins.
	const n = 6
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			email := []string{"alice", "bruno", "chloe", "derek", "elena", "felix"}[i] + "@race.com.hk"
			statuses[i] = s.Do(t, "POST", "/v1/companies", "", identitytest.Registration("race.com.hk", email)).Status
		})
	}
	wg.Wait()
	created, conflicts := 0, 0
	for _, st := range statuses {
		switch st {
		case http.StatusCreated:
			created++
		case http.StatusConflict:
			conflicts++
		}
	}
	assert.Equal(t, 1, created, "statuses %v", statuses)
	assert.Equal(t, n-1, conflicts, "statuses %v", statuses)
	race := 0
	for _, m := range s.Outbox(t) {
		if strings.HasSuffix(m.To, "@race.com.hk") {
			race++
		}
	}
	assert.Equal(t, 1, race, "one confirmation mail")
}

func TestLogin_WrongPasswordIsGenericAndThrottled(t *testing.T) {
	t.Parallel()
	s := identitytest.Start(t)
	c := s.NewCompany(t, "acme.hk")

	unknown := s.Do(t, "POST", "/v1/auth/login", "", map[string]any{"email": "nobody@acme.hk", "password": "whatever password"})
	wrong := s.Do(t, "POST", "/v1/auth/login", "", map[string]any{"email": c.Email, "password": "not the password"})
	for _, res := range []identitytest.Reply{unknown, wrong} {
		assert.Equal(t, http.StatusUnauthorized, res.Status)
		assert.Equal(t, identitytest.ProblemType("invalid-credentials"), res.Str("type"))
		assert.Equal(t, "The e-mail address or password is incorrect.", res.Str("detail"))
	}
	// Failures in a row on one account: three are free, then the account waits.
	s.Do(t, "POST", "/v1/auth/login", "", map[string]any{"email": c.Email, "password": "not the password"})
	s.Do(t, "POST", "/v1/auth/login", "", map[string]any{"email": c.Email, "password": "not the password"})
	res := s.Do(t, "POST", "/v1/auth/login", "", map[string]any{"email": c.Email, "password": c.Password}, "Accept-Language", "zh-HK")
	assert.Equal(t, http.StatusTooManyRequests, res.Status, "%s", res.Raw)
	assert.Equal(t, identitytest.ProblemType("too-many-attempts"), res.Str("type"))
	assert.NotEmpty(t, res.Header.Get("Retry-After"))
	assert.Contains(t, res.Str("detail"), "登入嘗試次數過多")
	identitytest.Eventually(t, func() bool {
		return s.Do(t, "POST", "/v1/auth/login", "", map[string]any{"email": c.Email, "password": c.Password}).Status == http.StatusOK
	}, "the right password works once the delay has passed")
}

func TestTOTP_EnrolmentLoginReplayAndRecoveryCodes(t *testing.T) {
	t.Parallel()
	s := identitytest.Start(t)
	res := s.Do(t, "POST", "/v1/companies", "", identitytest.Registration("acme.hk", "chan@acme.hk"))
	require.Equal(t, http.StatusCreated, res.Status)
	_, tok := s.LastLink(t, "chan@acme.hk", "company-confirmation")
	require.Equal(t, http.StatusOK, s.Do(t, "POST", "/v1/companies/confirm", "", map[string]any{"token": tok}).Status)

	res = s.Do(t, "POST", "/v1/auth/login", "", map[string]any{"email": "chan@acme.hk", "password": identitytest.GoodPassword})
	require.Equal(t, http.StatusOK, res.Status)
	enrol := res.Str("accessToken")

	// The enrol-only token reaches nothing but enrolment.
	for _, path := range []string{"/v1/users", "/v1/users/me", "/v1/security/summary"} {
		res := s.Do(t, "GET", path, enrol, nil)
		assert.Equal(t, http.StatusForbidden, res.Status, path)
		assert.JSONEq(t, `{"message":"Forbidden"}`, string(res.Raw), "%s: the gateway refuses the scope", path)
	}
	res = s.Do(t, "GET", "/v1/audit/verify", enrol, nil)
	assert.Equal(t, http.StatusForbidden, res.Status, "no roles in an enrol-only token")

	res = s.Do(t, "POST", "/v1/auth/totp", enrol, nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	secret := res.Str("secret")
	assert.True(t, strings.HasPrefix(res.Str("otpauthUri"), "otpauth://totp/Lantau:chan@acme.hk?"), res.Str("otpauthUri"))
	qr, err := base64.StdEncoding.DecodeString(res.Str("qrCodePng"))
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(qr))
	require.NoError(t, err)
	assert.Equal(t, 256, img.Bounds().Dx())

	res = s.Do(t, "POST", "/v1/auth/totp/confirm", enrol, map[string]any{"code": "000000"})
	assert.Equal(t, http.StatusBadRequest, res.Status)
	res = s.Do(t, "POST", "/v1/auth/totp/confirm", enrol, map[string]any{"code": identitytest.Code(t, secret, 0)})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	recovery := res.Body["recoveryCodes"].([]any)
	require.Len(t, recovery, 10)
	full := res.Body["tokens"].(map[string]any)
	assert.Equal(t, "lantau/api", full["scope"])
	assert.NotEmpty(t, full["refreshToken"])
	res = s.Do(t, "POST", "/v1/auth/totp", full["accessToken"].(string), nil)
	assert.Equal(t, http.StatusConflict, res.Status, "already enrolled")
	identitytest.Eventually(t, func() bool { return s.Do(t, "GET", "/v1/users/me", enrol, nil).Status == http.StatusForbidden },
		"the enrol-only session ended")

	// Sign-in with the next code; the same code again is refused.
	next := identitytest.Code(t, secret, 1)
	res = s.LoginTOTP(t, "chan@acme.hk", identitytest.GoodPassword, next, "")
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	assert.Equal(t, "lantau/api", res.Str("scope"))
	me := s.Do(t, "GET", "/v1/users/me", res.Str("accessToken"), nil)
	require.Equal(t, http.StatusOK, me.Status, "%s", me.Raw)
	assert.Equal(t, "super-admin", me.Str("role"))
	assert.Equal(t, true, me.Body["twoFactor"])
	res = s.LoginTOTP(t, "chan@acme.hk", identitytest.GoodPassword, next, "")
	assert.Equal(t, http.StatusUnauthorized, res.Status, "a TOTP code is accepted once")
	assert.Equal(t, identitytest.ProblemType("invalid-code"), res.Str("type"))

	// A recovery code works once, in any case and grouping.
	rc := recovery[3].(string)
	res = s.LoginTOTP(t, "chan@acme.hk", identitytest.GoodPassword, "", strings.ToLower(strings.ReplaceAll(rc, "-", "")))
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	res = s.LoginTOTP(t, "chan@acme.hk", identitytest.GoodPassword, "", rc)
	assert.Equal(t, http.StatusUnauthorized, res.Status, "a recovery code is used up")

	// A challenge is single use.
	login := s.Do(t, "POST", "/v1/auth/login", "", map[string]any{"email": "chan@acme.hk", "password": identitytest.GoodPassword})
	ch := login.Str("challenge")
	require.Equal(t, http.StatusOK, s.Do(t, "POST", "/v1/auth/login/totp", "", map[string]any{"challenge": ch, "recoveryCode": recovery[0]}).Status)
	res = s.Do(t, "POST", "/v1/auth/login/totp", "", map[string]any{"challenge": ch, "recoveryCode": recovery[1]})
	assert.Equal(t, http.StatusUnauthorized, res.Status)
	assert.Equal(t, identitytest.ProblemType("challenge-invalid"), res.Str("type"))
}

func TestRefresh_RotatesAndAReusedTokenRevokesTheSignIn(t *testing.T) {
	t.Parallel()
	s := identitytest.Start(t)
	c := s.NewCompany(t, "acme.hk")

	first := s.Do(t, "POST", "/v1/auth/refresh", "", map[string]any{"refreshToken": c.Refresh})
	require.Equal(t, http.StatusOK, first.Status, "%s", first.Raw)
	r2 := first.Str("refreshToken")
	assert.NotEqual(t, c.Refresh, r2)
	access := first.Str("accessToken")
	require.Equal(t, http.StatusOK, s.Do(t, "GET", "/v1/users/me", access, nil).Status)

	reuse := s.Do(t, "POST", "/v1/auth/refresh", "", map[string]any{"refreshToken": c.Refresh})
	assert.Equal(t, http.StatusUnauthorized, reuse.Status)
	assert.Equal(t, identitytest.ProblemType("refresh-token-reused"), reuse.Str("type"))
	res := s.Do(t, "POST", "/v1/auth/refresh", "", map[string]any{"refreshToken": r2})
	assert.Equal(t, http.StatusUnauthorized, res.Status, "the newer token of the family is revoked too")
	assert.Equal(t, identitytest.ProblemType("refresh-token-revoked"), res.Str("type"))
	identitytest.Eventually(t, func() bool { return s.Do(t, "GET", "/v1/users/me", access, nil).Status == http.StatusUnauthorized },
		"the session's access tokens stop working")
	res = s.Do(t, "GET", "/v1/users/me", access, nil)
	assert.Equal(t, identitytest.ProblemType("session-ended"), res.Str("type"))
}

func TestLogout_EndsTheSession(t *testing.T) {
	t.Parallel()
	s := identitytest.Start(t)
	c := s.NewCompany(t, "acme.hk")
	res := s.Do(t, "POST", "/v1/auth/logout", c.Access, nil)
	require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Raw)
	identitytest.Eventually(t, func() bool { return s.Do(t, "GET", "/v1/users/me", c.Access, nil).Status == http.StatusUnauthorized },
		"the access token of a logged-out session is refused")
	res = s.Do(t, "POST", "/v1/auth/refresh", "", map[string]any{"refreshToken": c.Refresh})
	assert.Equal(t, http.StatusUnauthorized, res.Status)
	assert.Equal(t, identitytest.ProblemType("refresh-token-revoked"), res.Str("type"))
	res = s.Do(t, "GET", "/v1/users/me", "", nil)
	assert.Equal(t, http.StatusUnauthorized, res.Status, "no token at all")
}

func TestRoles_TheCompanyKeepsTwoSuperAdminsOnceItHasTwo(t *testing.T) {
	t.Parallel()
	s := identitytest.Start(t)
	c := s.NewCompany(t, "acme.hk")

	res := s.Do(t, "PUT", "/v1/users/"+c.AdminID+"/roles", c.Access, map[string]any{"role": "employee"})
	assert.Equal(t, http.StatusConflict, res.Status)
	assert.Equal(t, identitytest.ProblemType("last-super-admin"), res.Str("type"))

	sum := s.Do(t, "GET", "/v1/security/summary", c.Access, nil)
	require.Equal(t, http.StatusOK, sum.Status, "%s", sum.Raw)
	assert.Equal(t, true, sum.Body["fewerThanTwoSuperAdmins"])
	assert.Empty(t, sum.Body["adminsWithout2fa"])

	bob, bobEmail := s.Invite(t, c, "bob")
	res = s.Do(t, "PUT", "/v1/users/"+bob+"/roles", c.Access, map[string]any{"role": "admin"})
	assert.Equal(t, http.StatusBadRequest, res.Status, "an admin needs an area")
	res = s.Do(t, "PUT", "/v1/users/"+bob+"/roles", c.Access, map[string]any{"role": "super-admin"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	assert.Equal(t, "super-admin", res.Str("role"))

	sum = s.Do(t, "GET", "/v1/security/summary", c.Access, nil)
	assert.Equal(t, false, sum.Body["fewerThanTwoSuperAdmins"])
	assert.Equal(t, float64(2), sum.Body["superAdmins"])
	without := sum.Body["adminsWithout2fa"].([]any)
	require.Len(t, without, 1)
	assert.Equal(t, bobEmail, without[0].(map[string]any)["email"])
	admins := sum.Body["admins"].([]any)
	require.Len(t, admins, 2)
	for _, a := range admins {
		if m := a.(map[string]any); m["id"] == c.AdminID {
			assert.NotEmpty(t, m["lastLoginAt"], "the admin's last sign-in")
		}
	}

	for _, target := range []string{c.AdminID, bob} {
		res = s.Do(t, "PUT", "/v1/users/"+target+"/roles", c.Access, map[string]any{"role": "admin", "areas": []string{"directory"}}, "Accept-Language", "zh-HK")
		assert.Equal(t, http.StatusConflict, res.Status, "%s", res.Raw)
		assert.Equal(t, identitytest.ProblemType("two-super-admins-required"), res.Str("type"))
		assert.Contains(t, res.Str("detail"), "必須保持最少兩位")
		res = s.Do(t, "POST", "/v1/users/"+target+"/deactivate", c.Access, nil)
		assert.Equal(t, http.StatusConflict, res.Status, "deactivating counts too")
	}

	// A third super admin: now one of the three may step down.
	carol, _ := s.Invite(t, c, "carol")
	require.Equal(t, http.StatusOK, s.Do(t, "PUT", "/v1/users/"+carol+"/roles", c.Access, map[string]any{"role": "super-admin"}).Status)
	res = s.Do(t, "PUT", "/v1/users/"+bob+"/roles", c.Access, map[string]any{"role": "admin", "areas": []string{"directory", "audit"}})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	assert.Equal(t, []any{"audit", "directory"}, res.Body["areas"])

	// Bob, an admin, must enrol a second factor; an employee need not until the company says so.
	res = s.Do(t, "POST", "/v1/auth/login", "", map[string]any{"email": bobEmail, "password": identitytest.GoodPassword})
	assert.Equal(t, true, res.Body["enrolmentRequired"])
	dave, daveEmail := s.Invite(t, c, "dave")
	res = s.Do(t, "POST", "/v1/auth/login", "", map[string]any{"email": daveEmail, "password": identitytest.GoodPassword})
	assert.Equal(t, "lantau/api", res.Str("scope"))
	daveAccess := res.Str("accessToken")
	res = s.Do(t, "GET", "/v1/users", daveAccess, nil)
	assert.Equal(t, http.StatusForbidden, res.Status, "employees cannot list users")
	assert.Equal(t, identitytest.ProblemType("forbidden"), res.Str("type"))
	res = s.Do(t, "PUT", "/v1/users/"+dave+"/roles", daveAccess, map[string]any{"role": "super-admin"})
	assert.Equal(t, http.StatusForbidden, res.Status, "nobody promotes themselves")
	require.Equal(t, http.StatusOK, s.Do(t, "PUT", "/v1/companies/"+c.ID+"/mfa-policy", c.Access, map[string]any{"requireForEveryone": true}).Status)
	res = s.Do(t, "POST", "/v1/auth/login", "", map[string]any{"email": daveEmail, "password": identitytest.GoodPassword})
	assert.Equal(t, true, res.Body["enrolmentRequired"], "the company requires 2FA for everyone")
}

func TestTenancy_ATokenOfOneCompanyCannotReachAnother(t *testing.T) {
	t.Parallel()
	s := identitytest.Start(t)
	a := s.NewCompany(t, "acme.hk")
	b := s.NewCompany(t, "bravo.com.hk")
	bUser, _ := s.Invite(t, b, "bob")

	for _, req := range []struct{ method, path string }{
		{"GET", "/v1/users/" + b.AdminID},
		{"GET", "/v1/users/" + bUser},
		{"PUT", "/v1/users/" + bUser + "/roles"},
		{"POST", "/v1/users/" + bUser + "/deactivate"},
		{"PUT", "/v1/companies/" + b.ID + "/mfa-policy"},
	} {
		var body any
		switch {
		case strings.HasSuffix(req.path, "/roles"):
			body = map[string]any{"role": "employee"}
		case strings.HasSuffix(req.path, "/mfa-policy"):
			body = map[string]any{"requireForEveryone": true}
		}
		res := s.Do(t, req.method, req.path, a.Access, body)
		assert.Equal(t, http.StatusNotFound, res.Status, "%s %s: %s", req.method, req.path, res.Raw)
	}
	res := s.Do(t, "GET", "/v1/users", a.Access, nil)
	require.Equal(t, http.StatusOK, res.Status)
	users := res.Body["users"].([]any)
	require.Len(t, users, 1)
	assert.Equal(t, a.AdminID, users[0].(map[string]any)["id"])
	res = s.Do(t, "POST", "/v1/users", a.Access, map[string]any{"email": "eve@bravo.com.hk", "name": "Eve"})
	assert.Equal(t, http.StatusBadRequest, res.Status, "an address on another company's domain")
	assert.Equal(t, identitytest.ProblemType("email-not-on-domain"), res.Str("type"))
	// B is untouched.
	res = s.Do(t, "GET", "/v1/users/"+bUser, b.Access, nil)
	require.Equal(t, http.StatusOK, res.Status)
	assert.Equal(t, "active", res.Str("status"))
	assert.Equal(t, "employee", res.Str("role"))
}

func TestDeactivation_AStillValidAccessTokenIsRefused(t *testing.T) {
	t.Parallel()
	s := identitytest.Start(t)
	c := s.NewCompany(t, "acme.hk")
	bob, bobEmail := s.Invite(t, c, "bob")

	res := s.Do(t, "POST", "/v1/auth/login", "", map[string]any{"email": bobEmail, "password": identitytest.GoodPassword, "deviceId": "phone-1"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	access, refresh := res.Str("accessToken"), res.Str("refreshToken")
	require.Equal(t, http.StatusOK, s.Do(t, "GET", "/v1/users/me", access, nil).Status)

	// A sign-in from another device is mailed to Bob.
	res = s.Do(t, "POST", "/v1/auth/login", "", map[string]any{"email": bobEmail, "password": identitytest.GoodPassword, "deviceId": "phone-2"})
	require.Equal(t, http.StatusOK, res.Status)
	var alerts int
	for _, m := range s.Outbox(t) {
		if m.To == bobEmail && m.Kind == "new-device" {
			alerts++
			assert.Contains(t, m.Text, "127.0.0.1")
		}
	}
	assert.Equal(t, 1, alerts, "one alert, for the second device only")

	res = s.Do(t, "POST", "/v1/users/"+bob+"/deactivate", c.Access, nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	assert.Equal(t, "deactivated", res.Str("status"))
	identitytest.Eventually(t, func() bool { return s.Do(t, "GET", "/v1/users/me", access, nil).Status == http.StatusUnauthorized },
		"the deactivated user's unexpired token is refused")
	res = s.Do(t, "POST", "/v1/auth/refresh", "", map[string]any{"refreshToken": refresh})
	assert.Equal(t, http.StatusUnauthorized, res.Status)
	res = s.Do(t, "POST", "/v1/auth/login", "", map[string]any{"email": bobEmail, "password": identitytest.GoodPassword})
	assert.Equal(t, http.StatusUnauthorized, res.Status)
	assert.Equal(t, identitytest.ProblemType("invalid-credentials"), res.Str("type"))
}

func TestIssuer_ServesDiscoveryAndJWKSThatTheGatewayTrusts(t *testing.T) {
	t.Parallel()
	s := identitytest.Start(t)
	res := s.Do(t, "GET", "/v1/auth/.well-known/openid-configuration", "", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	assert.Equal(t, s.API+"/v1/auth", res.Str("issuer"))
	assert.Equal(t, s.API+"/v1/auth/jwks", res.Str("jwks_uri"))
	res = s.Do(t, "GET", "/v1/auth/jwks", "", nil)
	require.Equal(t, http.StatusOK, res.Status)
	keys := res.Body["keys"].([]any)
	require.NotEmpty(t, keys)
	kids := map[string]bool{}
	for _, k := range keys {
		m := k.(map[string]any)
		assert.Equal(t, "RSA", m["kty"])
		assert.NotContains(t, m, "d", "no private parts")
		kids[m["kid"].(string)] = true
	}

	c := s.NewCompany(t, "acme.hk")
	header, payload := decodeJWT(t, c.Access)
	assert.True(t, kids[header["kid"].(string)], "signed with a published key")
	assert.Equal(t, s.API+"/v1/auth", payload["iss"])
	assert.Equal(t, "lantau-api", payload["aud"])
	assert.Equal(t, c.ID, payload["tenant"])
	assert.Equal(t, c.AdminID, payload["sub"])
	assert.Equal(t, []any{"super-admin", "employee"}, payload["roles"])
	assert.NotEmpty(t, payload["sid"])
	assert.Contains(t, payload, "ver")

	// A token with a forged signature is refused by the gateway.
	forged := c.Access[:strings.LastIndexByte(c.Access, '.')+1] + "AAAA"
	assert.Equal(t, http.StatusUnauthorized, s.Do(t, "GET", "/v1/users/me", forged, nil).Status)
}

// An admin can send an invited person a new link (the first mail got lost);
// the new link activates the account, and there is nothing to resend to
// someone who already set a password.
func TestInvitation_CanBeSentAgain(t *testing.T) {
	t.Parallel()
	s := identitytest.Start(t)
	c := s.NewCompany(t, "acme-resend.hk")
	res := s.Do(t, "POST", "/v1/users", c.Access, map[string]any{"email": "lost@acme-resend.hk", "name": "Lost Mail"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Raw)
	id := res.Str("id")
	_, first := s.LastLink(t, "lost@acme-resend.hk", "invitation")

	res = s.Do(t, "POST", "/v1/users/"+id+"/invitation", c.Access, nil)
	require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Raw)
	assert.Equal(t, "invited", res.Str("status"))
	_, second := s.LastLink(t, "lost@acme-resend.hk", "invitation")
	require.NotEqual(t, first, second, "a new link")

	res = s.Do(t, "POST", "/v1/users/invitations/accept", "", map[string]any{"token": second, "password": identitytest.GoodPassword})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	assert.Equal(t, "active", res.Str("status"))

	res = s.Do(t, "POST", "/v1/users/"+id+"/invitation", c.Access, nil, "Accept-Language", "zh-HK")
	assert.Equal(t, http.StatusConflict, res.Status, "%s", res.Raw)
	assert.Equal(t, identitytest.ProblemType("user-not-invited"), res.Str("type"))
	assert.Contains(t, res.Str("detail"), "邀請")
	res = s.Do(t, "POST", "/v1/users/u-nobody/invitation", c.Access, nil)
	assert.Equal(t, http.StatusNotFound, res.Status, "%s", res.Raw)
}
