package main

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
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/lantau-hq/lantau/infra/catalog"
	"github.com/lantau-hq/lantau/infra/jwtauth"
	"github.com/lantau-hq/lantau/infra/runner"
	"github.com/lantau-hq/lantau/shared/mail"
)

// The identity measurements. A login is the whole sign-in of a user with
// TOTP through the runner's HTTP API: POST /v1/auth/login (argon2id verify
// of the password, by design about 25 ms of one core) then POST
// /v1/auth/login/totp. A TOTP code is accepted once per user and 30 s step,
// so every measured login is a different user, made beforehand; that caps
// the run at loginUsers logins. Token verification is infra/jwtauth's
// Authorize, as the runner's gateway does it, with the issuer's JWKS
// fetched once and cached.
const (
	loginClients = 4
	loginWarmups = 8                  // users signed in before measuring
	loginUsers   = 300 + loginWarmups // bounds the run with loginFor
	loginFor     = 6 * time.Second    // at most
	setupWorkers = 4                  // making users: one argon2id hash and one verify each
	identityNote = "argon2id (19 MiB, t=2) costs ~25 ms of one core per password check by design, " +
		"so logins are tens per second on 2 cores; each login is one check, its TOTP and two HTTP calls"
)

var verifyWorkers = runtime.NumCPU()

// identityReport is what the identity section measured.
type identityReport struct {
	Setup         string  `json:"setup"`
	Note          string  `json:"note"`
	Logins        opStats `json:"logins"`
	Verifications opStats `json:"token_verifications"`
}

const (
	opLogin  = "login: password + TOTP over HTTP"
	opVerify = "token verification: jwtauth.Authorize, JWKS cached"
)

// measureIdentity serves template.yaml with identity's own issuer trusted,
// registers a company with loginUsers TOTP-enrolled employees, and measures
// their logins, then the verification of the tokens they got.
func measureIdentity(ctx context.Context, templatePath, dataDir string) (identityReport, error) {
	rep := identityReport{Note: identityNote}
	started := time.Now()
	stack, err := startIdentityStack(ctx, templatePath, dataDir)
	if err != nil {
		return rep, err
	}
	defer stack.close()
	users, err := stack.company(ctx, loginUsers)
	if err != nil {
		return rep, fmt.Errorf("setup: %w", err)
	}
	rep.Setup = fmt.Sprintf("runner with identity's issuer trusted; 1 company, %d TOTP-enrolled users made in %.1f s; "+
		"each client on its own loopback address", len(users), time.Since(started).Seconds())

	var mu sync.Mutex
	var tokens []string
	login := func(ctx context.Context, w, seq int) error {
		tok, err := stack.login(ctx, w, users[seq])
		if err == nil {
			mu.Lock()
			tokens = append(tokens, tok)
			mu.Unlock()
		}
		return err
	}
	if rep.Logins, err = measureCalls(ctx, opLogin, loginClients, loginWarmups, len(users), 0, loginFor, login); err != nil {
		return rep, err
	}

	auth, err := jwtauth.New(jwtauth.Config{Issuer: stack.issuer(), Audience: []string{stack.audience}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return rep, err
	}
	defer auth.Close()
	reqs := make([]*http.Request, len(tokens))
	for i, tok := range tokens {
		if reqs[i], err = http.NewRequest(http.MethodGet, stack.api+"/v1/users/me", nil); err != nil {
			return rep, err
		}
		reqs[i].Header.Set("Authorization", "Bearer "+tok)
	}
	verify := func(ctx context.Context, _, seq int) error {
		_, err := auth.Authorize(ctx, reqs[seq%len(reqs)], []string{"lantau/api"})
		return err
	}
	rep.Verifications, err = measureCalls(ctx, opVerify, verifyWorkers, maxCalls, 2*maxCalls, warmFor, measureFor, verify)
	return rep, err
}

// measureCalls runs call for warm-up (up to warmCalls calls or warmTime),
// then measures until calls sequence numbers in all are handed out or
// measureTime has passed. Sequence numbers go on from the warm-up's, so no
// call ever gets a number of calls or more. Any failure fails the
// measurement.
func measureCalls(ctx context.Context, name string, workers, warmCalls, calls int, warmTime, measureTime time.Duration, call callFunc) (opStats, error) {
	warm := loop{Workers: workers, Calls: warmCalls, For: warmTime}.run(ctx, call)
	if warm.Failed > 0 {
		return opStats{}, fmt.Errorf("%s: warm-up: %d calls failed, the first: %w", name, warm.Failed, warm.FirstErr)
	}
	o := loop{Workers: workers, Calls: calls - warm.Started, For: measureTime}.run(ctx, func(ctx context.Context, w, seq int) error {
		return call(ctx, w, warm.Started+seq)
	})
	if err := ctx.Err(); err != nil {
		return opStats{}, fmt.Errorf("%s: %w", name, err)
	}
	if o.Failed > 0 {
		return opStats{}, fmt.Errorf("%s: %d of %d calls failed, the first: %w", name, o.Failed, o.Failed+len(o.Latencies), o.FirstErr)
	}
	return opStats{
		Op: name, Workers: workers, Ops: len(o.Latencies), Seconds: o.Elapsed.Seconds(), PerSecond: o.perSecond(),
		P50: millis(percentile(o.Latencies, 50)), P99: millis(percentile(o.Latencies, 99)),
	}, nil
}

// identityStack is the runner serving the API, trusting identity's issuer
// as API Gateway would (JwtIssuer = <API>/v1/auth).
type identityStack struct {
	r        *runner.Runner
	api      string
	dataDir  string
	audience string
	clients  []*http.Client // one per worker, see loopbackClient
}

// loopbackClient is worker w's HTTP client. Each worker connects from an
// address of its own (127.0.0.10+w): the sign-in throttle keeps one counter
// per address, and concurrent sign-ins on one counter are refused now and
// then (429, "try again in 1 second") when their clocks interleave (see
// the bench note). Own addresses keep that out of the figures; every call
// that fails still fails the bench.
func loopbackClient(w int) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(10+w))}}
	return &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{DialContext: dialer.DialContext, MaxIdleConnsPerHost: 2},
	}
}

func startIdentityStack(ctx context.Context, templatePath, dataDir string) (*identityStack, error) {
	// The issuer URL names the API's port, which must be known before New.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		return nil, err
	}
	s := &identityStack{api: "http://" + addr, dataDir: dataDir}
	for w := range max(loginClients, setupWorkers) {
		s.clients = append(s.clients, loopbackClient(w))
	}
	s.r, err = runner.New(ctx, runner.Config{
		Template: templatePath, Constructors: catalog.Constructors(), DataDir: dataDir,
		Addr: addr, AWSAddr: "127.0.0.1:0", NoSchedules: true,
		Params: map[string]string{"JwtIssuer": s.issuer()},
		Env:    map[string]string{"LANTAU_ECHO_MAIL": "off", "LOG_LEVEL": "WARN"},
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return nil, fmt.Errorf("runner: %w", err)
	}
	s.r.Start()
	return s, nil
}

func (s *identityStack) issuer() string { return s.api + "/v1/auth" }

func (s *identityStack) close() {
	for _, c := range s.clients {
		c.CloseIdleConnections()
	}
	_ = s.r.Close()
}

// benchPassword passes identity's password policy.
const benchPassword = "harbour lights at nine 香港"

// benchUser is an employee enrolled in TOTP.
type benchUser struct{ email, secret string }

// company registers and confirms a company, enrols its super admin's TOTP,
// and makes n employees who have accepted their invitation and enrolled TOTP.
func (s *identityStack) company(ctx context.Context, n int) ([]benchUser, error) {
	const domain = "bench.lantau.hk"
	access, err := s.newCompany(ctx, "Bench Trading", domain)
	if err != nil {
		return nil, err
	}
	if s.audience, err = audienceOf(access); err != nil {
		return nil, err
	}

	users := make([]benchUser, n)
	for i := range users {
		users[i].email = fmt.Sprintf("staff%04d@%s", i, domain)
	}
	each := func(f func(ctx context.Context, w int, u *benchUser) error) error {
		o := loop{Workers: setupWorkers, Calls: n}.run(ctx, func(ctx context.Context, w, seq int) error { return f(ctx, w, &users[seq]) })
		if o.Failed > 0 {
			return o.FirstErr
		}
		return ctx.Err()
	}
	if err := each(func(ctx context.Context, w int, u *benchUser) error {
		_, err := s.call(ctx, w, "POST", "/v1/users", access, http.StatusCreated, map[string]any{"email": u.email, "name": "Staff " + u.email[:9]})
		return err
	}); err != nil {
		return nil, fmt.Errorf("invite: %w", err)
	}
	links, err := s.links("invitation")
	if err != nil {
		return nil, err
	}
	if err := each(func(ctx context.Context, w int, u *benchUser) error {
		if _, err := s.call(ctx, w, "POST", "/v1/users/invitations/accept", "", http.StatusOK,
			map[string]any{"token": links[u.email], "password": benchPassword}); err != nil {
			return err
		}
		var err error
		u.secret, _, err = s.enrol(ctx, w, u.email)
		return err
	}); err != nil {
		return nil, fmt.Errorf("enrol: %w", err)
	}
	return users, nil
}

// enrol signs email in with its password and enrols TOTP; it returns the
// TOTP secret and the full access token.
func (s *identityStack) enrol(ctx context.Context, w int, email string) (secret, access string, err error) {
	res, err := s.call(ctx, w, "POST", "/v1/auth/login", "", http.StatusOK, map[string]any{"email": email, "password": benchPassword, "deviceId": "bench"})
	if err != nil {
		return "", "", err
	}
	tok := str(res, "accessToken")
	if res, err = s.call(ctx, w, "POST", "/v1/auth/totp", tok, http.StatusOK, nil); err != nil {
		return "", "", err
	}
	secret = str(res, "secret")
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		return "", "", err
	}
	if res, err = s.call(ctx, w, "POST", "/v1/auth/totp/confirm", tok, http.StatusOK, map[string]any{"code": code, "deviceId": "bench"}); err != nil {
		return "", "", err
	}
	tokens, _ := res["tokens"].(map[string]any)
	return secret, str(tokens, "accessToken"), nil
}

// login is one measured sign-in: password, then the code of the next TOTP
// step (accepted within the allowed drift, and never the step the user
// enrolled with, which was used up).
func (s *identityStack) login(ctx context.Context, w int, u benchUser) (string, error) {
	res, err := s.call(ctx, w, "POST", "/v1/auth/login", "", http.StatusOK, map[string]any{"email": u.email, "password": benchPassword, "deviceId": "bench"})
	if err != nil {
		return "", err
	}
	code, err := totp.GenerateCode(u.secret, time.Now().Add(30*time.Second))
	if err != nil {
		return "", err
	}
	res, err = s.call(ctx, w, "POST", "/v1/auth/login/totp", "", http.StatusOK, map[string]any{"challenge": str(res, "challenge"), "code": code})
	if err != nil {
		return "", err
	}
	tok := str(res, "accessToken")
	if tok == "" {
		return "", errors.New("login/totp: no access token")
	}
	return tok, nil
}

// call sends a JSON request from worker's address and wants status back; it returns the decoded body.
func (s *identityStack) call(ctx context.Context, worker int, method, path, bearer string, want int, body any) (map[string]any, error) {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.api+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := s.clients[worker].Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != want {
		return nil, fmt.Errorf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, firstLine(string(raw)))
	}
	out := map[string]any{}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			return nil, fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return out, nil
}

var linkToken = regexp.MustCompile(`https?://\S+\?token=(\S+)`)

// links maps each recipient of mails of kind in the outbox to the token of
// the link in the newest such mail.
func (s *identityStack) links(kind string) (map[string]string, error) {
	msgs, err := mail.NewOutbox(filepath.Join(s.dataDir, "outbox")).List()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, m := range msgs {
		if m.Kind != kind {
			continue
		}
		if match := linkToken.FindStringSubmatch(m.Text); match != nil {
			out[m.To] = match[1]
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no %s mail with a link in the outbox", kind)
	}
	return out, nil
}

// audienceOf reads the aud claim of a JWT, unverified: the bench verifies
// against what the issuer signs.
func audienceOf(jws string) (string, error) {
	parts := strings.Split(jws, ".")
	if len(parts) != 3 {
		return "", errors.New("access token is not a JWS")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", err
	}
	var claims struct {
		Aud string `json:"aud"`
	}
	if err := json.Unmarshal(raw, &claims); err != nil || claims.Aud == "" {
		return "", fmt.Errorf("access token without a single audience: %v", err)
	}
	return claims.Aud, nil
}

func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

// newCompany registers and confirms a company on domain and enrols its
// super admin (chan@domain) in TOTP; it returns the admin's access token.
func (s *identityStack) newCompany(ctx context.Context, name, domain string) (string, error) {
	admin := "chan@" + domain
	if _, err := s.call(ctx, 0, "POST", "/v1/companies", "", http.StatusCreated, map[string]any{
		"companyName": name, "domain": domain, "dataRegion": "ap-east-1",
		"adminName": "Chan Tai Man", "adminEmail": admin, "password": benchPassword,
	}); err != nil {
		return "", err
	}
	links, err := s.links("company-confirmation")
	if err != nil {
		return "", err
	}
	if _, err := s.call(ctx, 0, "POST", "/v1/companies/confirm", "", http.StatusOK, map[string]any{"token": links[admin]}); err != nil {
		return "", err
	}
	_, access, err := s.enrol(ctx, 0, admin)
	return access, err
}
