package identityfn_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
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
	"github.com/lantau-hq/lantau/shared/mail"
)

// stack is the whole API on the real runner, trusting identity's own
// issuer as API Gateway would (JwtIssuer = <API>/v1/auth).
type stack struct {
	r    *runner.Runner
	api  string
	data string
}

func startStack(t *testing.T) *stack {
	t.Helper()
	// The issuer URL names the API's port, which must be known before New.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	s := &stack{api: "http://" + addr, data: t.TempDir()}
	r, err := runner.New(context.Background(), runner.Config{
		Template: "../../../template.yaml", Constructors: catalog.Constructors(), DataDir: s.data,
		Addr: addr, AWSAddr: "127.0.0.1:0", NoSchedules: true, RetryBase: 5 * time.Millisecond,
		Params: map[string]string{"JwtIssuer": s.api + "/v1/auth"},
		// A short session cache, so that a revoked session is refused within the test.
		Env:    map[string]string{"SESSION_CACHE_TTL": "100ms"},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err)
	r.Start()
	t.Cleanup(func() { _ = r.Close() })
	s.r = r
	require.Equal(t, s.api, r.APIEndpoint())
	return s
}

// reply is an HTTP answer with its JSON body.
type reply struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    []byte
}

func (r reply) str(key string) string { s, _ := r.Body[key].(string); return s }

// do calls the API. body is encoded as JSON unless it is a string; headers
// come in name, value pairs.
func (s *stack) do(t *testing.T, method, path, bearer string, body any, headers ...string) reply {
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
	req, err := http.NewRequest(method, s.api+path, rd)
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
	out := reply{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if len(raw) > 0 && strings.Contains(resp.Header.Get("Content-Type"), "json") {
		require.NoError(t, json.Unmarshal(raw, &out.Body), "body: %s", raw)
	}
	return out
}

// outbox lists the mails sent so far.
func (s *stack) outbox(t *testing.T) []mail.Message {
	t.Helper()
	msgs, err := mail.NewOutbox(filepath.Join(s.data, "outbox")).List()
	require.NoError(t, err)
	return msgs
}

var linkToken = regexp.MustCompile(`https?://\S+\?token=(\S+)`)

// lastLink returns the URL and token of the newest mail of kind to address.
func (s *stack) lastLink(t *testing.T, to, kind string) (url, token string) {
	t.Helper()
	msgs := s.outbox(t)
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

const goodPassword = "correct horse battery staple 香港"

// company is a registered, confirmed company whose first super admin has
// enrolled TOTP.
type company struct {
	ID, Domain, Email, Password string
	Secret                      string   // the super admin's TOTP secret
	Recovery                    []string // unused recovery codes
	Access, Refresh             string   // the super admin's tokens
	AdminID                     string
}

func registration(domain, email string) map[string]any {
	return map[string]any{
		"companyName": "Acme Trading 雅美貿易", "domain": domain, "dataRegion": "ap-east-1",
		"adminName": "陳大文 Chan Tai Man", "adminEmail": email, "password": goodPassword,
	}
}

// newCompany registers and confirms a company on domain and enrols its
// super admin's second factor.
func (s *stack) newCompany(t *testing.T, domain string) *company {
	t.Helper()
	c := &company{Domain: domain, Email: "chan@" + domain, Password: goodPassword}
	res := s.do(t, "POST", "/v1/companies", "", registration(domain, c.Email))
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Raw)
	c.ID = res.str("companyId")
	_, tok := s.lastLink(t, c.Email, "company-confirmation")
	res = s.do(t, "POST", "/v1/companies/confirm", "", map[string]any{"token": tok})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)

	res = s.do(t, "POST", "/v1/auth/login", "", map[string]any{"email": c.Email, "password": c.Password, "deviceId": "laptop-1"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	require.Equal(t, true, res.Body["enrolmentRequired"], "a super admin must enrol a second factor first")
	enrol := res.str("accessToken")
	res = s.do(t, "POST", "/v1/auth/totp", enrol, nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	c.Secret = res.str("secret")
	res = s.do(t, "POST", "/v1/auth/totp/confirm", enrol, map[string]any{"code": code(t, c.Secret, 0), "deviceId": "laptop-1"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	for _, rc := range res.Body["recoveryCodes"].([]any) {
		c.Recovery = append(c.Recovery, rc.(string))
	}
	tokens := res.Body["tokens"].(map[string]any)
	c.Access, c.Refresh = tokens["accessToken"].(string), tokens["refreshToken"].(string)
	me := s.do(t, "GET", "/v1/users/me", c.Access, nil)
	require.Equal(t, http.StatusOK, me.Status, "%s", me.Raw)
	c.AdminID = me.str("id")
	return c
}

// code is the TOTP code of secret steps periods from now.
func code(t *testing.T, secret string, steps int) string {
	t.Helper()
	c, err := totp.GenerateCode(secret, time.Now().Add(time.Duration(steps)*30*time.Second))
	require.NoError(t, err)
	return c
}

// loginTOTP signs in with password and a TOTP code (or recovery code).
func (s *stack) loginTOTP(t *testing.T, email, password, totpCode, recovery string) reply {
	t.Helper()
	res := s.do(t, "POST", "/v1/auth/login", "", map[string]any{"email": email, "password": password})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	require.Equal(t, true, res.Body["mfaRequired"], "%s", res.Raw)
	body := map[string]any{"challenge": res.str("challenge")}
	if totpCode != "" {
		body["code"] = totpCode
	}
	if recovery != "" {
		body["recoveryCode"] = recovery
	}
	return s.do(t, "POST", "/v1/auth/login/totp", "", body)
}

// invite invites name@domain as an employee of c, accepts the invitation
// and returns the new user's ID.
func (s *stack) invite(t *testing.T, c *company, local string) (id, email string) {
	t.Helper()
	email = local + "@" + c.Domain
	res := s.do(t, "POST", "/v1/users", c.Access, map[string]any{"email": email, "name": "Wong " + local})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Raw)
	id = res.str("id")
	assert.Equal(t, "invited", res.str("status"))
	_, tok := s.lastLink(t, email, "invitation")
	res = s.do(t, "POST", "/v1/users/invitations/accept", "", map[string]any{"token": tok, "password": goodPassword})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	assert.Equal(t, "active", res.str("status"))
	return id, email
}

// problemType is the type URI of a problem code.
func problemType(code string) string { return "https://lantau.dev/problems/" + code }

func eventually(t *testing.T, cond func() bool, msg string, args ...any) {
	t.Helper()
	require.Eventually(t, cond, 5*time.Second, 20*time.Millisecond, fmt.Sprintf(msg, args...))
}
