// Package identitytest provides test helpers: the whole API on the real
// runner, and companies with signed-in users.
//
// Like net/http/httptest it is meant for tests only; it fails the test it
// is given (through testify's require) rather than returning errors.
package identitytest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/infra/catalog"
	"github.com/lantau-hq/lantau/infra/runner"
	"github.com/lantau-hq/lantau/shared/identity/session"
	"github.com/lantau-hq/lantau/shared/mail"
)

// SessionCacheTTL is how long the functions of a Stack cache a session
// check, kept short so that a revoked session or a deactivated user is
// refused within a test.
const SessionCacheTTL = 100 * time.Millisecond

// Stack is the whole API on the real runner, trusting identity's own
// issuer as API Gateway would (JwtIssuer = <API>/v1/auth).
type Stack struct {
	Runner  *runner.Runner
	API     string // base URL of the HTTP API, http://127.0.0.1:port
	DataDir string // the runner's data directory (table, outbox, ...)
}

// Start runs the stack of template.yaml until the test ends.
func Start(t testing.TB) *Stack {
	t.Helper()
	// The issuer URL names the API's port, which must be known before New.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	s := &Stack{API: "http://" + addr, DataDir: t.TempDir()}
	r, err := runner.New(context.Background(), runner.Config{
		Template: filepath.Join(moduleRoot(t), "template.yaml"), Constructors: catalog.Constructors(), DataDir: s.DataDir,
		Addr: addr, AWSAddr: "127.0.0.1:0", NoSchedules: true, RetryBase: 5 * time.Millisecond,
		Params: map[string]string{"JwtIssuer": s.API + "/v1/auth"},
		Env: map[string]string{session.CacheTTLVariable: SessionCacheTTL.String(),
			"KEY_CACHE_TTL": SessionCacheTTL.String()},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err)
	r.Start()
	t.Cleanup(func() { _ = r.Close() })
	s.Runner = r
	require.Equal(t, s.API, r.APIEndpoint())
	return s
}

// moduleRoot is the directory of go.mod above the test's working directory.
func moduleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, dir, parent, "no go.mod above the working directory")
		dir = parent
	}
}

// Reply is an HTTP answer with its JSON body.
type Reply struct {
	Status int
	Header http.Header
	Body   map[string]any // the decoded body, when it is JSON
	Raw    []byte
}

// Str is the string at key of the body, or "".
func (r Reply) Str(key string) string { s, _ := r.Body[key].(string); return s }

// Do calls the API. body is encoded as JSON unless it is a string; headers
// come in name, value pairs.
func (s *Stack) Do(t testing.TB, method, path, bearer string, body any, headers ...string) Reply {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, s.API+path, rd)
	require.NoError(t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	out := Reply{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if len(raw) > 0 && strings.Contains(resp.Header.Get("Content-Type"), "json") {
		require.NoError(t, json.Unmarshal(raw, &out.Body), "body: %s", raw)
	}
	return out
}

// Outbox lists the mails sent so far.
func (s *Stack) Outbox(t testing.TB) []mail.Message {
	t.Helper()
	msgs, err := mail.NewOutbox(filepath.Join(s.DataDir, "outbox")).List()
	require.NoError(t, err)
	return msgs
}

// Mails are the mails of kind sent to an address so far, oldest first.
func (s *Stack) Mails(t testing.TB, to, kind string) []mail.Message {
	t.Helper()
	var out []mail.Message
	for _, m := range s.Outbox(t) {
		if m.To == to && m.Kind == kind {
			out = append(out, m)
		}
	}
	return out
}

var linkToken = regexp.MustCompile(`https?://\S+\?token=(\S+)`)

// LastLink returns the URL and token of the newest mail of kind to address.
func (s *Stack) LastLink(t testing.TB, to, kind string) (url, token string) {
	t.Helper()
	msgs := s.Outbox(t)
	for i := len(msgs) - 1; i >= 0; i-- {
		if m := msgs[i]; m.To == to && m.Kind == kind {
			match := linkToken.FindStringSubmatch(m.Text)
			require.NotNil(t, match, "no link in %q", m.Text)
			return match[0], match[1]
		}
	}
	t.Fatalf("no %s mail to %s in %d mails", kind, to, len(msgs))
	return "", ""
}

// GoodPassword passes the password policy; every user made here has it.
const GoodPassword = "correct horse battery staple 香港"

// Company is a registered, confirmed company whose first super admin has
// enrolled TOTP and is signed in.
type Company struct {
	ID                      string   // the company's ID, which identity's tokens carry as the tenant
	Domain, Email, Password string   // the company's domain; the super admin's e-mail address and password
	Secret                  string   // the super admin's TOTP secret
	Recovery                []string // unused recovery codes
	Access, Refresh         string   // the super admin's tokens (scope lantau/api)
	AdminID                 string   // the super admin's user ID
}

// Registration is the body of POST /v1/companies for domain with its
// admin at email.
func Registration(domain, email string) map[string]any {
	return map[string]any{
		"companyName": "Acme Trading 雅美貿易", "domain": domain, "dataRegion": "ap-east-1",
		"adminName": "陳大文 Chan Tai Man", "adminEmail": email, "password": GoodPassword,
	}
}

// NewCompany registers and confirms a company on domain and enrols its
// super admin's second factor.
func (s *Stack) NewCompany(t testing.TB, domain string) *Company {
	t.Helper()
	c := &Company{Domain: domain, Email: "chan@" + domain, Password: GoodPassword}
	res := s.Do(t, "POST", "/v1/companies", "", Registration(domain, c.Email))
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Raw)
	c.ID = res.Str("companyId")
	_, tok := s.LastLink(t, c.Email, "company-confirmation")
	res = s.Do(t, "POST", "/v1/companies/confirm", "", map[string]any{"token": tok})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)

	res = s.Do(t, "POST", "/v1/auth/login", "", map[string]any{"email": c.Email, "password": c.Password, "deviceId": "laptop-1"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	require.Equal(t, true, res.Body["enrolmentRequired"], "a super admin must enrol a second factor first")
	enrol := res.Str("accessToken")
	res = s.Do(t, "POST", "/v1/auth/totp", enrol, nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	c.Secret = res.Str("secret")
	res = s.Do(t, "POST", "/v1/auth/totp/confirm", enrol, map[string]any{"code": Code(t, c.Secret, 0), "deviceId": "laptop-1"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	for _, rc := range res.Body["recoveryCodes"].([]any) {
		c.Recovery = append(c.Recovery, rc.(string))
	}
	tokens := res.Body["tokens"].(map[string]any)
	c.Access, c.Refresh = tokens["accessToken"].(string), tokens["refreshToken"].(string)
	me := s.Do(t, "GET", "/v1/users/me", c.Access, nil)
	require.Equal(t, http.StatusOK, me.Status, "%s", me.Raw)
	c.AdminID = me.Str("id")
	return c
}

// Code is the TOTP code of secret steps periods from now.
func Code(t testing.TB, secret string, steps int) string {
	t.Helper()
	c, err := totp.GenerateCode(secret, time.Now().Add(time.Duration(steps)*30*time.Second))
	require.NoError(t, err)
	return c
}

// LoginTOTP signs in with password and a TOTP code (or recovery code).
func (s *Stack) LoginTOTP(t testing.TB, email, password, totpCode, recovery string) Reply {
	t.Helper()
	res := s.Do(t, "POST", "/v1/auth/login", "", map[string]any{"email": email, "password": password})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	require.Equal(t, true, res.Body["mfaRequired"], "%s", res.Raw)
	body := map[string]any{"challenge": res.Str("challenge")}
	if totpCode != "" {
		body["code"] = totpCode
	}
	if recovery != "" {
		body["recoveryCode"] = recovery
	}
	return s.Do(t, "POST", "/v1/auth/login/totp", "", body)
}

// Invite invites local@domain as an employee of c, accepts the invitation
// with GoodPassword and returns the new user's ID and address.
func (s *Stack) Invite(t testing.TB, c *Company, local string) (id, email string) {
	t.Helper()
	email = local + "@" + c.Domain
	return s.InviteAs(t, c, email, "Wong "+local, ""), email
}

// InviteAs invites email, named name, as an employee of c, in language
// (for their mails; "" is the default), accepts the invitation with
// GoodPassword and returns the new user's ID.
func (s *Stack) InviteAs(t testing.TB, c *Company, email, name, language string) (id string) {
	t.Helper()
	body := map[string]any{"email": email, "name": name}
	if language != "" {
		body["language"] = language
	}
	res := s.Do(t, "POST", "/v1/users", c.Access, body)
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Raw)
	id = res.Str("id")
	assert.Equal(t, "invited", res.Str("status"))
	_, tok := s.LastLink(t, email, "invitation")
	res = s.Do(t, "POST", "/v1/users/invitations/accept", "", map[string]any{"token": tok, "password": GoodPassword})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	assert.Equal(t, "active", res.Str("status"))
	return id
}

// ProblemType is the type URI of a problem code.
func ProblemType(code string) string { return "https://lantau.dev/problems/" + code }

// Eventually waits up to five seconds for cond to hold.
func Eventually(t testing.TB, cond func() bool, msg string, args ...any) {
	t.Helper()
	require.Eventually(t, cond, 5*time.Second, 20*time.Millisecond, fmt.Sprintf(msg, args...))
}
