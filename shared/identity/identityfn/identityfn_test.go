package identityfn_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image/png"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRegistration_ConfirmationLinkActivatesTheCompanyOnce(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	body := registration("acme.com.hk", "chan@acme.com.hk")
	res := s.do(t, "POST", "/v1/companies", "", body, "Idempotency-Key", "reg-1", "Accept-Language", "zh-HK")
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Raw)
	assert.Equal(t, "pending", res.str("status"))
	assert.Equal(t, "ap-east-1", res.str("dataRegion"))
	assert.Equal(t, "acme.com.hk", res.str("domain"))
	assert.Equal(t, "chan@acme.com.hk", res.str("confirmationSentTo"))
	companyID := res.str("companyId")
	require.NotEmpty(t, companyID)

	// A retry with the same key gets the same answer and sends no second mail.
	again := s.do(t, "POST", "/v1/companies", "", body, "Idempotency-Key", "reg-1")
	assert.Equal(t, http.StatusCreated, again.Status)
	assert.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
	assert.JSONEq(t, string(res.Raw), string(again.Raw))
	msgs := s.outbox(t)
	require.Len(t, msgs, 1)
	assert.Equal(t, "company-confirmation", msgs[0].Kind)
	assert.Equal(t, companyID, msgs[0].Tenant)
	assert.Contains(t, msgs[0].Subject, "確認你的 Lantau 公司帳戶", "mailed in the language of the registration")

	// Before confirmation the admin cannot sign in.
	res = s.do(t, "POST", "/v1/auth/login", "", map[string]any{"email": "chan@acme.com.hk", "password": goodPassword})
	assert.Equal(t, http.StatusForbidden, res.Status)
	assert.Equal(t, problemType("confirmation-pending"), res.str("type"))

	url, tok := s.lastLink(t, "chan@acme.com.hk", "company-confirmation")
	assert.True(t, strings.HasPrefix(url, s.api+"/v1/companies/confirm?token="), url)
	page := s.do(t, "GET", strings.TrimPrefix(url, s.api), "", nil)
	assert.Equal(t, http.StatusOK, page.Status, "opening the link uses nothing up")
	assert.Contains(t, string(page.Raw), `<form method="post" action="/v1/companies/confirm">`)

	res = s.do(t, "POST", "/v1/companies/confirm", "", map[string]any{"token": tok})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	assert.Equal(t, "active", res.str("status"))
	assert.Equal(t, companyID, res.str("companyId"))
	res = s.do(t, "POST", "/v1/companies/confirm", "", map[string]any{"token": tok})
	assert.Equal(t, http.StatusGone, res.Status, "the link works once")
	assert.Equal(t, problemType("link-invalid"), res.str("type"))

	// The admin is now the super admin, who must set up 2FA before anything else.
	res = s.do(t, "POST", "/v1/auth/login", "", map[string]any{"email": "CHAN@acme.com.hk", "password": goodPassword})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	assert.Equal(t, "lantau/enrol", res.str("scope"))
	assert.Empty(t, res.str("refreshToken"))

	// The registration and the confirmation are in the company's audit trail.
	c := s.newCompanyFromLogin(t, "chan@acme.com.hk", goodPassword)
	eventually(t, func() bool {
		res := s.do(t, "GET", "/v1/audit/entries?order=oldest&limit=100", c.Access, nil)
		if res.Status != http.StatusOK {
			return false
		}
		var types []string
		for _, e := range res.Body["entries"].([]any) {
			m := e.(map[string]any)
			if m["source"] == "lantau.identity" {
				types = append(types, m["type"].(string))
			}
		}
		return containsAll(types, "CompanyRegistered", "CompanyConfirmed", "LoginSucceeded", "TOTPEnrolled")
	}, "identity events reach the audit trail")
}

func TestRegistration_RefusesFreeMailForeignAddressesAndWeakPasswords(t *testing.T) {
	t.Parallel()
	s := startStack(t)
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
			body := registration("acme.hk", "chan@acme.hk")
			tc.edit(body)
			res := s.do(t, "POST", "/v1/companies", "", body, "Accept-Language", tc.lang)
			require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Raw)
			assert.Equal(t, problemType(tc.code), res.str("type"))
			assert.Contains(t, res.str("detail"), tc.detail)
			var fields []string
			for _, e := range res.Body["errors"].([]any) {
				fields = append(fields, e.(map[string]any)["field"].(string))
			}
			assert.Contains(t, fields, tc.field)
		})
	}
	res := s.do(t, "POST", "/v1/companies", "", map[string]any{"companyName": "x", "domain": "acme.hk", "dataRegion": "ap-east-1",
		"adminName": "x", "adminEmail": "x@acme.hk", "password": "password1234"}, "Accept-Language", "zh-HK")
	require.Equal(t, http.StatusBadRequest, res.Status)
	assert.Equal(t, "zh-HK", res.Header.Get("Content-Language"))
	assert.Contains(t, string(res.Raw), "太常見，容易被猜中", "the reason, in Traditional Chinese")
	assert.Empty(t, s.outbox(t), "nothing was registered")
}

func TestRegistration_ADomainBelongsToOneCompany(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	res := s.do(t, "POST", "/v1/companies", "", registration("acme.hk", "chan@acme.hk"))
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Raw)
	res = s.do(t, "POST", "/v1/companies", "", registration("ACME.hk", "wong@acme.hk"))
	assert.Equal(t, http.StatusConflict, res.Status)
	assert.Equal(t, problemType("domain-taken"), res.str("type"))
	assert.Contains(t, res.str("detail"), "acme.hk is already registered")

	// Concurrent registrations of one domain: exactly one wins.
	const n = 6
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			email := []string{"alice", "bruno", "chloe", "derek", "elena", "felix"}[i] + "@race.com.hk"
			statuses[i] = s.do(t, "POST", "/v1/companies", "", registration("race.com.hk", email)).Status
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
	for _, m := range s.outbox(t) {
		if strings.HasSuffix(m.To, "@race.com.hk") {
			race++
		}
	}
	assert.Equal(t, 1, race, "one confirmation mail")
}

func TestLogin_WrongPasswordIsGenericAndThrottled(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	c := s.newCompany(t, "acme.hk")

	unknown := s.do(t, "POST", "/v1/auth/login", "", map[string]any{"email": "nobody@acme.hk", "password": "whatever password"})
	wrong := s.do(t, "POST", "/v1/auth/login", "", map[string]any{"email": c.Email, "password": "not the password"})
	for _, res := range []reply{unknown, wrong} {
		assert.Equal(t, http.StatusUnauthorized, res.Status)
		assert.Equal(t, problemType("invalid-credentials"), res.str("type"))
		assert.Equal(t, "The e-mail address or password is incorrect.", res.str("detail"))
	}
	// Failures in a row on one account: three are free, then the account waits.
	s.do(t, "POST", "/v1/auth/login", "", map[string]any{"email": c.Email, "password": "not the password"})
	s.do(t, "POST", "/v1/auth/login", "", map[string]any{"email": c.Email, "password": "not the password"})
	res := s.do(t, "POST", "/v1/auth/login", "", map[string]any{"email": c.Email, "password": c.Password}, "Accept-Language", "zh-HK")
	assert.Equal(t, http.StatusTooManyRequests, res.Status, "%s", res.Raw)
	assert.Equal(t, problemType("too-many-attempts"), res.str("type"))
	assert.NotEmpty(t, res.Header.Get("Retry-After"))
	assert.Contains(t, res.str("detail"), "登入嘗試次數過多")
	eventually(t, func() bool {
		return s.do(t, "POST", "/v1/auth/login", "", map[string]any{"email": c.Email, "password": c.Password}).Status == http.StatusOK
	}, "the right password works once the delay has passed")
}

func TestTOTP_EnrolmentLoginReplayAndRecoveryCodes(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	res := s.do(t, "POST", "/v1/companies", "", registration("acme.hk", "chan@acme.hk"))
	require.Equal(t, http.StatusCreated, res.Status)
	_, tok := s.lastLink(t, "chan@acme.hk", "company-confirmation")
	require.Equal(t, http.StatusOK, s.do(t, "POST", "/v1/companies/confirm", "", map[string]any{"token": tok}).Status)

	res = s.do(t, "POST", "/v1/auth/login", "", map[string]any{"email": "chan@acme.hk", "password": goodPassword})
	require.Equal(t, http.StatusOK, res.Status)
	enrol := res.str("accessToken")

	// The enrol-only token reaches nothing but enrolment.
	for _, path := range []string{"/v1/users", "/v1/users/me", "/v1/security/summary"} {
		res := s.do(t, "GET", path, enrol, nil)
		assert.Equal(t, http.StatusForbidden, res.Status, path)
		assert.JSONEq(t, `{"message":"Forbidden"}`, string(res.Raw), "%s: the gateway refuses the scope", path)
	}
	res = s.do(t, "GET", "/v1/audit/verify", enrol, nil)
	assert.Equal(t, http.StatusForbidden, res.Status, "no roles in an enrol-only token")

	res = s.do(t, "POST", "/v1/auth/totp", enrol, nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	secret := res.str("secret")
	assert.True(t, strings.HasPrefix(res.str("otpauthUri"), "otpauth://totp/Lantau:chan@acme.hk?"), res.str("otpauthUri"))
	qr, err := base64.StdEncoding.DecodeString(res.str("qrCodePng"))
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(qr))
	require.NoError(t, err)
	assert.Equal(t, 256, img.Bounds().Dx())

	res = s.do(t, "POST", "/v1/auth/totp/confirm", enrol, map[string]any{"code": "000000"})
	assert.Equal(t, http.StatusBadRequest, res.Status)
	res = s.do(t, "POST", "/v1/auth/totp/confirm", enrol, map[string]any{"code": code(t, secret, 0)})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	recovery := res.Body["recoveryCodes"].([]any)
	require.Len(t, recovery, 10)
	full := res.Body["tokens"].(map[string]any)
	assert.Equal(t, "lantau/api", full["scope"])
	assert.NotEmpty(t, full["refreshToken"])
	res = s.do(t, "POST", "/v1/auth/totp", full["accessToken"].(string), nil)
	assert.Equal(t, http.StatusConflict, res.Status, "already enrolled")
	eventually(t, func() bool { return s.do(t, "GET", "/v1/users/me", enrol, nil).Status == http.StatusForbidden },
		"the enrol-only session ended")

	// Sign-in with the next code; the same code again is refused.
	next := code(t, secret, 1)
	res = s.loginTOTP(t, "chan@acme.hk", goodPassword, next, "")
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	assert.Equal(t, "lantau/api", res.str("scope"))
	me := s.do(t, "GET", "/v1/users/me", res.str("accessToken"), nil)
	require.Equal(t, http.StatusOK, me.Status, "%s", me.Raw)
	assert.Equal(t, "super-admin", me.str("role"))
	assert.Equal(t, true, me.Body["twoFactor"])
	res = s.loginTOTP(t, "chan@acme.hk", goodPassword, next, "")
	assert.Equal(t, http.StatusUnauthorized, res.Status, "a TOTP code is accepted once")
	assert.Equal(t, problemType("invalid-code"), res.str("type"))

	// A recovery code works once, in any case and grouping.
	rc := recovery[3].(string)
	res = s.loginTOTP(t, "chan@acme.hk", goodPassword, "", strings.ToLower(strings.ReplaceAll(rc, "-", "")))
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	res = s.loginTOTP(t, "chan@acme.hk", goodPassword, "", rc)
	assert.Equal(t, http.StatusUnauthorized, res.Status, "a recovery code is used up")

	// A challenge is single use.
	login := s.do(t, "POST", "/v1/auth/login", "", map[string]any{"email": "chan@acme.hk", "password": goodPassword})
	ch := login.str("challenge")
	require.Equal(t, http.StatusOK, s.do(t, "POST", "/v1/auth/login/totp", "", map[string]any{"challenge": ch, "recoveryCode": recovery[0]}).Status)
	res = s.do(t, "POST", "/v1/auth/login/totp", "", map[string]any{"challenge": ch, "recoveryCode": recovery[1]})
	assert.Equal(t, http.StatusUnauthorized, res.Status)
	assert.Equal(t, problemType("challenge-invalid"), res.str("type"))
}

func TestRefresh_RotatesAndAReusedTokenRevokesTheSignIn(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	c := s.newCompany(t, "acme.hk")

	first := s.do(t, "POST", "/v1/auth/refresh", "", map[string]any{"refreshToken": c.Refresh})
	require.Equal(t, http.StatusOK, first.Status, "%s", first.Raw)
	r2 := first.str("refreshToken")
	assert.NotEqual(t, c.Refresh, r2)
	access := first.str("accessToken")
	require.Equal(t, http.StatusOK, s.do(t, "GET", "/v1/users/me", access, nil).Status)

	reuse := s.do(t, "POST", "/v1/auth/refresh", "", map[string]any{"refreshToken": c.Refresh})
	assert.Equal(t, http.StatusUnauthorized, reuse.Status)
	assert.Equal(t, problemType("refresh-token-reused"), reuse.str("type"))
	res := s.do(t, "POST", "/v1/auth/refresh", "", map[string]any{"refreshToken": r2})
	assert.Equal(t, http.StatusUnauthorized, res.Status, "the newer token of the family is revoked too")
	assert.Equal(t, problemType("refresh-token-revoked"), res.str("type"))
	eventually(t, func() bool { return s.do(t, "GET", "/v1/users/me", access, nil).Status == http.StatusUnauthorized },
		"the session's access tokens stop working")
	res = s.do(t, "GET", "/v1/users/me", access, nil)
	assert.Equal(t, problemType("session-ended"), res.str("type"))
}

func TestLogout_EndsTheSession(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	c := s.newCompany(t, "acme.hk")
	res := s.do(t, "POST", "/v1/auth/logout", c.Access, nil)
	require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Raw)
	eventually(t, func() bool { return s.do(t, "GET", "/v1/users/me", c.Access, nil).Status == http.StatusUnauthorized },
		"the access token of a logged-out session is refused")
	res = s.do(t, "POST", "/v1/auth/refresh", "", map[string]any{"refreshToken": c.Refresh})
	assert.Equal(t, http.StatusUnauthorized, res.Status)
	assert.Equal(t, problemType("refresh-token-revoked"), res.str("type"))
	res = s.do(t, "GET", "/v1/users/me", "", nil)
	assert.Equal(t, http.StatusUnauthorized, res.Status, "no token at all")
}

func TestRoles_TheCompanyKeepsTwoSuperAdminsOnceItHasTwo(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	c := s.newCompany(t, "acme.hk")

	res := s.do(t, "PUT", "/v1/users/"+c.AdminID+"/roles", c.Access, map[string]any{"role": "employee"})
	assert.Equal(t, http.StatusConflict, res.Status)
	assert.Equal(t, problemType("last-super-admin"), res.str("type"))

	sum := s.do(t, "GET", "/v1/security/summary", c.Access, nil)
	require.Equal(t, http.StatusOK, sum.Status, "%s", sum.Raw)
	assert.Equal(t, true, sum.Body["fewerThanTwoSuperAdmins"])
	assert.Empty(t, sum.Body["adminsWithout2fa"])

	bob, bobEmail := s.invite(t, c, "bob")
	res = s.do(t, "PUT", "/v1/users/"+bob+"/roles", c.Access, map[string]any{"role": "admin"})
	assert.Equal(t, http.StatusBadRequest, res.Status, "an admin needs an area")
	res = s.do(t, "PUT", "/v1/users/"+bob+"/roles", c.Access, map[string]any{"role": "super-admin"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	assert.Equal(t, "super-admin", res.str("role"))

	sum = s.do(t, "GET", "/v1/security/summary", c.Access, nil)
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
		res = s.do(t, "PUT", "/v1/users/"+target+"/roles", c.Access, map[string]any{"role": "admin", "areas": []string{"directory"}}, "Accept-Language", "zh-HK")
		assert.Equal(t, http.StatusConflict, res.Status, "%s", res.Raw)
		assert.Equal(t, problemType("two-super-admins-required"), res.str("type"))
		assert.Contains(t, res.str("detail"), "必須保持最少兩位")
		res = s.do(t, "POST", "/v1/users/"+target+"/deactivate", c.Access, nil)
		assert.Equal(t, http.StatusConflict, res.Status, "deactivating counts too")
	}

	// A third super admin: now one of the three may step down.
	carol, _ := s.invite(t, c, "carol")
	require.Equal(t, http.StatusOK, s.do(t, "PUT", "/v1/users/"+carol+"/roles", c.Access, map[string]any{"role": "super-admin"}).Status)
	res = s.do(t, "PUT", "/v1/users/"+bob+"/roles", c.Access, map[string]any{"role": "admin", "areas": []string{"directory", "audit"}})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	assert.Equal(t, []any{"audit", "directory"}, res.Body["areas"])

	// Bob, an admin, must enrol a second factor; an employee need not until the company says so.
	res = s.do(t, "POST", "/v1/auth/login", "", map[string]any{"email": bobEmail, "password": goodPassword})
	assert.Equal(t, true, res.Body["enrolmentRequired"])
	dave, daveEmail := s.invite(t, c, "dave")
	res = s.do(t, "POST", "/v1/auth/login", "", map[string]any{"email": daveEmail, "password": goodPassword})
	assert.Equal(t, "lantau/api", res.str("scope"))
	daveAccess := res.str("accessToken")
	res = s.do(t, "GET", "/v1/users", daveAccess, nil)
	assert.Equal(t, http.StatusForbidden, res.Status, "employees cannot list users")
	assert.Equal(t, problemType("forbidden"), res.str("type"))
	res = s.do(t, "PUT", "/v1/users/"+dave+"/roles", daveAccess, map[string]any{"role": "super-admin"})
	assert.Equal(t, http.StatusForbidden, res.Status, "nobody promotes themselves")
	require.Equal(t, http.StatusOK, s.do(t, "PUT", "/v1/companies/"+c.ID+"/mfa-policy", c.Access, map[string]any{"requireForEveryone": true}).Status)
	res = s.do(t, "POST", "/v1/auth/login", "", map[string]any{"email": daveEmail, "password": goodPassword})
	assert.Equal(t, true, res.Body["enrolmentRequired"], "the company requires 2FA for everyone")
}

func TestTenancy_ATokenOfOneCompanyCannotReachAnother(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	a := s.newCompany(t, "acme.hk")
	b := s.newCompany(t, "bravo.com.hk")
	bUser, _ := s.invite(t, b, "bob")

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
		res := s.do(t, req.method, req.path, a.Access, body)
		assert.Equal(t, http.StatusNotFound, res.Status, "%s %s: %s", req.method, req.path, res.Raw)
	}
	res := s.do(t, "GET", "/v1/users", a.Access, nil)
	require.Equal(t, http.StatusOK, res.Status)
	users := res.Body["users"].([]any)
	require.Len(t, users, 1)
	assert.Equal(t, a.AdminID, users[0].(map[string]any)["id"])
	res = s.do(t, "POST", "/v1/users", a.Access, map[string]any{"email": "eve@bravo.com.hk", "name": "Eve"})
	assert.Equal(t, http.StatusBadRequest, res.Status, "an address on another company's domain")
	assert.Equal(t, problemType("email-not-on-domain"), res.str("type"))
	// B is untouched.
	res = s.do(t, "GET", "/v1/users/"+bUser, b.Access, nil)
	require.Equal(t, http.StatusOK, res.Status)
	assert.Equal(t, "active", res.str("status"))
	assert.Equal(t, "employee", res.str("role"))
}

func TestDeactivation_AStillValidAccessTokenIsRefused(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	c := s.newCompany(t, "acme.hk")
	bob, bobEmail := s.invite(t, c, "bob")

	res := s.do(t, "POST", "/v1/auth/login", "", map[string]any{"email": bobEmail, "password": goodPassword, "deviceId": "phone-1"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	access, refresh := res.str("accessToken"), res.str("refreshToken")
	require.Equal(t, http.StatusOK, s.do(t, "GET", "/v1/users/me", access, nil).Status)

	// A sign-in from another device is mailed to Bob.
	res = s.do(t, "POST", "/v1/auth/login", "", map[string]any{"email": bobEmail, "password": goodPassword, "deviceId": "phone-2"})
	require.Equal(t, http.StatusOK, res.Status)
	var alerts int
	for _, m := range s.outbox(t) {
		if m.To == bobEmail && m.Kind == "new-device" {
			alerts++
			assert.Contains(t, m.Text, "127.0.0.1")
		}
	}
	assert.Equal(t, 1, alerts, "one alert, for the second device only")

	res = s.do(t, "POST", "/v1/users/"+bob+"/deactivate", c.Access, nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	assert.Equal(t, "deactivated", res.str("status"))
	eventually(t, func() bool { return s.do(t, "GET", "/v1/users/me", access, nil).Status == http.StatusUnauthorized },
		"the deactivated user's unexpired token is refused")
	res = s.do(t, "POST", "/v1/auth/refresh", "", map[string]any{"refreshToken": refresh})
	assert.Equal(t, http.StatusUnauthorized, res.Status)
	res = s.do(t, "POST", "/v1/auth/login", "", map[string]any{"email": bobEmail, "password": goodPassword})
	assert.Equal(t, http.StatusUnauthorized, res.Status)
	assert.Equal(t, problemType("invalid-credentials"), res.str("type"))
}

func TestIssuer_ServesDiscoveryAndJWKSThatTheGatewayTrusts(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	res := s.do(t, "GET", "/v1/auth/.well-known/openid-configuration", "", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	assert.Equal(t, s.api+"/v1/auth", res.str("issuer"))
	assert.Equal(t, s.api+"/v1/auth/jwks", res.str("jwks_uri"))
	res = s.do(t, "GET", "/v1/auth/jwks", "", nil)
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

	c := s.newCompany(t, "acme.hk")
	header, payload := decodeJWT(t, c.Access)
	assert.True(t, kids[header["kid"].(string)], "signed with a published key")
	assert.Equal(t, s.api+"/v1/auth", payload["iss"])
	assert.Equal(t, "lantau-api", payload["aud"])
	assert.Equal(t, c.ID, payload["tenant"])
	assert.Equal(t, c.AdminID, payload["sub"])
	assert.Equal(t, []any{"super-admin", "employee"}, payload["roles"])
	assert.NotEmpty(t, payload["sid"])
	assert.Contains(t, payload, "ver")

	// A token with a forged signature is refused by the gateway.
	forged := c.Access[:strings.LastIndexByte(c.Access, '.')+1] + "AAAA"
	assert.Equal(t, http.StatusUnauthorized, s.do(t, "GET", "/v1/users/me", forged, nil).Status)
}

func decodeJWT(t *testing.T, jws string) (header, payload map[string]any) {
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

// newCompanyFromLogin finishes the TOTP enrolment of a confirmed company's
// first admin and returns the company with full tokens.
func (s *stack) newCompanyFromLogin(t *testing.T, email, password string) *company {
	t.Helper()
	res := s.do(t, "POST", "/v1/auth/login", "", map[string]any{"email": email, "password": password})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	enrol := res.str("accessToken")
	res = s.do(t, "POST", "/v1/auth/totp", enrol, nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	c := &company{Email: email, Password: password, Secret: res.str("secret")}
	res = s.do(t, "POST", "/v1/auth/totp/confirm", enrol, map[string]any{"code": code(t, c.Secret, 0)})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	tokens := res.Body["tokens"].(map[string]any)
	c.Access, c.Refresh = tokens["accessToken"].(string), tokens["refreshToken"].(string)
	return c
}

func containsAll(have []string, want ...string) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			found = found || h == w
		}
		if !found {
			return false
		}
	}
	return true
}
