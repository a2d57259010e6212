package identityfn_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"maps"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/awsconfig"
	"github.com/lantau-hq/lantau/shared/function"
	"github.com/lantau-hq/lantau/shared/identity/identitytest"
	"github.com/lantau-hq/lantau/shared/keyparam"
	"github.com/lantau-hq/lantau/shared/token"
)

// The acceptance list of issue 4, through the HTTP API on the real runner:
// forged and foreign tokens, a sweep of every authenticated route with
// another company's token, and a token verified by an independent JOSE
// implementation against the JWKS the running API serves.

// gatewayUnauthorized is API Gateway's own answer to a refused token: it
// says nothing about why.
const gatewayUnauthorized = `{"message":"Unauthorized"}`

func TestAcceptance_ForgedAndForeignTokensAreRefused(t *testing.T) {
	t.Parallel()
	s := identitytest.Start(t)
	a := s.NewCompany(t, "acme.hk")
	b := s.NewCompany(t, "bravo.com.hk")
	bob, bobEmail := s.Invite(t, b, "bob")

	header, payload := decodeJWT(t, a.Access)
	kid := header["kid"].(string)
	pub := publishedKey(t, s, kid)
	priv := signingKey(t, s, kid) // the issuer's own key, read from the runner's data directory
	require.Equal(t, pub.N, priv.N, "the key file holds the published key")
	attacker, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)

	pkix, err := x509.MarshalPKIXPublicKey(pub)
	require.NoError(t, err)
	pkcs1 := x509.MarshalPKCS1PublicKey(pub)
	jwk := s.Do(t, "GET", "/v1/auth/jwks", "", nil).Body["keys"].([]any)[0]
	jwkJSON, err := json.Marshal(jwk)
	require.NoError(t, err)

	now := time.Now().Unix()
	with := claimsWith
	hs256 := func(secret []byte) string {
		return signJWT(t, with(header, "alg", "HS256"), payload, func(in []byte) []byte {
			m := hmac.New(sha256.New, secret)
			m.Write(in)
			return m.Sum(nil)
		})
	}
	rs256 := func(key *rsa.PrivateKey, h, p map[string]any) string {
		return signJWT(t, h, p, func(in []byte) []byte {
			sum := sha256.Sum256(in)
			sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
			require.NoError(t, err)
			return sig
		})
	}
	none := func(alg string) string {
		return signJWT(t, with(header, "alg", alg), payload, func([]byte) []byte { return nil })
	}
	attackerJWK := map[string]any{"kty": "RSA", "kid": "attacker", "n": b64(attacker.N.Bytes()), "e": b64(big.NewInt(int64(attacker.E)).Bytes())}

	// The control proves the forgeries below are refused for what they
	// change, not because this test signs badly: the same claims signed with
	// the issuer's key pass.
	control := rs256(priv, header, payload)
	res := s.Do(t, "GET", "/v1/users/me", control, nil)
	require.Equal(t, http.StatusOK, res.Status, "control: %s", res.Raw)
	require.Equal(t, a.AdminID, res.Str("id"))
	require.Equal(t, a.ID, res.Str("companyId"))

	cases := []struct{ name, token string }{
		{"alg none", none("none")},
		{"alg None", none("None")},
		{"alg none with the original signature", func() string {
			tok := none("none")
			return tok + a.Access[strings.LastIndexByte(a.Access, '.')+1:]
		}()},
		{"HS256 with the public key as PKIX PEM", hs256(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix}))},
		{"HS256 with the public key as PKCS#1 PEM", hs256(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: pkcs1}))},
		{"HS256 with the public key as PKIX DER", hs256(pkix)},
		{"HS256 with the public key as its JWK", hs256(jwkJSON)},
		{"HS256 with the modulus", hs256(pub.N.Bytes())},
		{"RS256 by another key under the issuer's kid", rs256(attacker, header, payload)},
		{"RS256 by another key carried in a jwk header", rs256(attacker, with(header, "kid", "attacker", "jwk", attackerJWK), payload)},
		{"tenant changed, signature kept", withPayload(t, a.Access, with(payload, "tenant", b.ID))},
		{"subject changed, signature kept", withPayload(t, a.Access, with(payload, "sub", bob))},
		{"expired", rs256(priv, header, with(payload, "iat", now-3600, "nbf", now-3600, "exp", now-60))},
		{"not valid yet", rs256(priv, header, with(payload, "iat", now, "nbf", now+3600, "exp", now+7200))},
		{"wrong audience", rs256(priv, header, with(payload, "aud", "payroll-api"))},
		{"no audience", rs256(priv, header, with(payload, "aud", nil))},
		{"wrong issuer", rs256(priv, header, with(payload, "iss", "https://evil.example/v1/auth"))},
		{"no expiry", rs256(priv, header, with(payload, "exp", nil))},
		{"no kid", rs256(priv, with(header, "kid", nil), payload)},
		{"truncated", a.Access[:len(a.Access)-10]},
		{"not a JWT", "Bearer-but-not-a-token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := s.Do(t, "GET", "/v1/users/me", tc.token, nil)
			assert.Equal(t, http.StatusUnauthorized, res.Status, "%s", res.Raw)
			assert.JSONEq(t, gatewayUnauthorized, string(res.Raw), "the gateway says nothing about why")
		})
	}

	// A correctly signed token whose tenant is B but whose session is A's
	// (what a confused issuer would sign) reaches the function, which finds
	// no such session in B: refused, and nothing of B comes back.
	t.Run("issuer's key, B's tenant with A's session", func(t *testing.T) {
		res := s.Do(t, "GET", "/v1/users/me", rs256(priv, header, with(payload, "tenant", b.ID)), nil)
		assert.Equal(t, http.StatusUnauthorized, res.Status, "%s", res.Raw)
		assertNoneOf(t, res.Raw, b.ID, b.AdminID, bob, b.Email, bobEmail)
	})

	// A's genuine token on B's resources: not found, as if they did not exist.
	for name, id := range map[string]string{"super admin": b.AdminID, "employee": bob} {
		t.Run("A's token on B's "+name, func(t *testing.T) {
			res := s.Do(t, "GET", "/v1/users/"+id, a.Access, nil)
			assert.Contains(t, []int{http.StatusNotFound, http.StatusForbidden}, res.Status, "%s", res.Raw)
			assertNoneOf(t, res.Raw, b.ID, b.AdminID, bob, b.Email, bobEmail)
		})
	}
	// None of this harmed A's own sign-in.
	assert.Equal(t, http.StatusOK, s.Do(t, "GET", "/v1/users/me", a.Access, nil).Status)
}

// The cross-tenant sweep calls every route of Runner.Wiring() that has an
// authorizer with company A's super admin, aiming at company B:
//
//   - every path parameter ({id}, {userId}, {proxy+}, any future name) is
//     filled in turn with each of B's real IDs: the company's, its super
//     admin's and an employee's; a route without parameters is called as is;
//   - each call is made again with B's IDs in the query string (tenant,
//     companyId, userId), which no route may take as a tenant;
//   - a route that takes a body gets no body, then each of the plausible
//     bodies below in turn until one is accepted (2xx): identity's decoders
//     refuse unknown fields, so there is one body per shape.
//
// No answer to a path naming B may be 2xx, and no answer at all may hold
// anything of B's: its e-mail addresses, an ID of B's that A never sent (a
// second employee's) or an ID A did send anywhere but in an echo of A's own
// request paths (the access log lists those). B's data is the same after the
// sweep, and B's tokens still work. New routes are swept with no change here.
func TestAcceptance_CrossTenantSweep(t *testing.T) {
	t.Parallel()
	s := identitytest.Start(t)
	a := s.NewCompany(t, "acme.hk")
	b := s.NewCompany(t, "bravo.com.hk")
	bob, bobEmail := s.Invite(t, b, "bob")
	carol, carolEmail := s.Invite(t, b, "carol") // never named by A: must never appear
	_, aliceEmail := s.Invite(t, a, "alice")

	bIDs := []string{b.ID, b.AdminID, bob}
	secrets := []string{b.Email, bobEmail, carolEmail, carol, b.Refresh, b.Secret}
	bQuery := "?tenant=" + b.ID + "&companyId=" + b.ID + "&userId=" + bob
	bodies := func(n int) []any {
		return []any{
			nil,
			map[string]any{"role": "employee"},
			map[string]any{"role": "super-admin"},
			map[string]any{"role": "admin", "areas": []string{"directory", "audit"}},
			map[string]any{"requireForEveryone": true},
			map[string]any{"email": fmt.Sprintf("sweep%d@%s", n, a.Domain), "name": "Sweep"},
			map[string]any{"code": "000000"},
			map[string]any{"refreshToken": b.Refresh},
			// A wrong current password: the change is refused (400) after
			// the handler and the domain have read the caller's account.
			map[string]any{"currentPassword": "not the password at all", "newPassword": "a brand new harbour passphrase 2026"},
		}
	}
	before := snapshot(t, s, b)

	param := regexp.MustCompile(`\{[^}]+\}`)
	access := a.Access
	var sentPaths []string
	recovery := slices.Clone(a.Recovery)
	calls, swept := 0, 0
	for _, rt := range s.Runner.Wiring().Routes {
		if !rt.Auth {
			continue
		}
		swept++
		method, pattern, ok := strings.Cut(rt.Route, " ")
		require.True(t, ok, rt.Route)
		paths := []string{pattern}
		if param.MatchString(pattern) {
			paths = nil
			for _, id := range bIDs {
				paths = append(paths, param.ReplaceAllString(pattern, id))
			}
		}
		payloads := []any{nil}
		if method != http.MethodGet && method != http.MethodHead && method != http.MethodDelete {
			payloads = bodies(calls)
		}
		for _, path := range paths {
			bScoped := path != pattern
			for _, target := range []string{path, path + bQuery} {
				for _, body := range payloads {
					calls++
					sentPaths = append(sentPaths, path)
					res := s.Do(t, method, target, access, body)
					what := fmt.Sprintf("%s %s %v", method, target, body)
					assert.NotEqual(t, http.StatusUnauthorized, res.Status, "%s: A's token must reach the function, else the sweep proves nothing: %s", what, res.Raw)
					if bScoped {
						assert.False(t, res.Status >= 200 && res.Status < 300, "%s: %d %s", what, res.Status, res.Raw)
					}
					rest := string(res.Raw)
					// Longest first: "/v1/users" must not eat the start of
					// "/v1/users/<id>/deactivate" before that is masked whole.
					masks := slices.Clone(sentPaths)
					slices.SortFunc(masks, func(x, y string) int { return len(y) - len(x) })
					for _, p := range masks {
						rest = strings.ReplaceAll(rest, p, "<A's own path>")
					}
					assertNoneOf(t, []byte(rest), append(slices.Clone(bIDs), secrets...)...)
					// A route may end A's sign-in (logout): sign in again
					// with a recovery code and go on.
					if s.Do(t, "GET", "/v1/users/me", access, nil).Status == http.StatusUnauthorized {
						require.NotEmpty(t, recovery, "out of recovery codes")
						res := s.LoginTOTP(t, a.Email, a.Password, "", recovery[0])
						require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
						recovery, access = recovery[1:], res.Str("accessToken")
					}
					if res.Status >= 200 && res.Status < 300 {
						break // the handler took this body; the others only tried to get past its decoder
					}
				}
			}
		}
	}
	t.Logf("swept %d authenticated routes with %d calls", swept, calls)
	require.GreaterOrEqual(t, swept, 10, "the wiring lists the authenticated routes")

	// B is as it was and its sign-in still works; A's invited user too.
	assert.Equal(t, before, snapshot(t, s, b), "B's users and security summary are untouched")
	res := s.Do(t, "POST", "/v1/auth/refresh", "", map[string]any{"refreshToken": b.Refresh})
	assert.Equal(t, http.StatusOK, res.Status, "B's refresh token was not revoked by A: %s", res.Raw)
	res = s.Do(t, "GET", "/v1/users", access, nil)
	require.Equal(t, http.StatusOK, res.Status)
	assert.Contains(t, string(res.Raw), aliceEmail)
}

// snapshot is what B's super admin sees of B: its users and its security
// summary.
func snapshot(t *testing.T, s *identitytest.Stack, c *identitytest.Company) string {
	t.Helper()
	var out []string
	for _, path := range []string{"/v1/users", "/v1/security/summary"} {
		res := s.Do(t, "GET", path, c.Access, nil)
		require.Equal(t, http.StatusOK, res.Status, "%s: %s", path, res.Raw)
		out = append(out, string(res.Raw))
	}
	return strings.Join(out, "\n")
}

// joseVersion is the jose npm package installed under .tools/jose, the
// version shared/token's cross-check uses.
const joseVersion = "6.2.18"

// A token from a real sign-in verifies with the jose npm package against
// the discovery document and JWKS the running API serves over HTTP, and
// jose refuses the same forgeries the gateway refuses.
func TestAcceptance_TokenVerifiesWithJOSEAgainstTheRunningAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Node and may install the jose npm package")
	}
	t.Parallel()
	joseDir := installJOSE(t)
	node, err := exec.LookPath("node")
	require.NoError(t, err, "node is needed for the jose cross-check")

	s := identitytest.Start(t)
	c := s.NewCompany(t, "acme.hk")
	res := s.Do(t, "POST", "/v1/auth/refresh", "", map[string]any{"refreshToken": c.Refresh})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	refreshed := res.Str("accessToken")
	header, payload := decodeJWT(t, c.Access)
	pub := publishedKey(t, s, header["kid"].(string))
	pkix, err := x509.MarshalPKIXPublicKey(pub)
	require.NoError(t, err)

	cases := []struct{ name, token, wantCode string }{
		{"access token of the first sign-in", c.Access, ""},
		{"access token after a refresh", refreshed, ""},
		{"alg none", signJWT(t, claimsWith(header, "alg", "none"), payload, func([]byte) []byte { return nil }), "ERR_JOSE_ALG_NOT_ALLOWED"},
		{"HS256 with the public key", signJWT(t, claimsWith(header, "alg", "HS256"), payload, func(in []byte) []byte {
			m := hmac.New(sha256.New, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix}))
			m.Write(in)
			return m.Sum(nil)
		}), "ERR_JOSE_ALG_NOT_ALLOWED"},
		{"tenant changed, signature kept", withPayload(t, c.Access, claimsWith(payload, "tenant", "c-other")), "ERR_JWS_SIGNATURE_VERIFICATION_FAILED"},
	}
	var stdin bytes.Buffer
	for _, tc := range cases {
		stdin.WriteString(tc.token + "\n")
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	issuer := s.API + "/v1/auth"
	cmd := exec.CommandContext(ctx, node, filepath.Join("..", "..", "token", "testdata", "verify.mjs"), joseDir, issuer, "lantau-api")
	cmd.Stdin = &stdin
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "node: %s", stderr.String())

	var got struct {
		Discovery map[string]any
		Results   []struct {
			OK      bool
			Code    string
			Header  map[string]any
			Payload map[string]any
		}
	}
	require.NoError(t, json.Unmarshal(out, &got), string(out))
	assert.Equal(t, issuer, got.Discovery["issuer"])
	assert.Equal(t, issuer+"/jwks", got.Discovery["jwks_uri"], "jose fetched the JWKS from the runner")
	require.Len(t, got.Results, len(cases))
	for i, tc := range cases {
		r := got.Results[i]
		if tc.wantCode != "" {
			assert.False(t, r.OK, tc.name)
			assert.Equal(t, tc.wantCode, r.Code, tc.name)
			continue
		}
		if assert.True(t, r.OK, "%s: %s", tc.name, r.Code) {
			h, p := decodeJWT(t, tc.token)
			assert.Equal(t, h, r.Header, tc.name)
			assert.Equal(t, p, r.Payload, tc.name)
			assert.Equal(t, c.ID, r.Payload["tenant"], tc.name)
			assert.Equal(t, c.AdminID, r.Payload["sub"], tc.name)
		}
	}
}

// installJOSE returns the directory holding the jose npm package, running
// npm install --prefix <repo>/.tools/jose when it is not there yet.
func installJOSE(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	require.NoError(t, err)
	require.FileExists(t, filepath.Join(root, "go.mod"), "the repository root")
	dir := filepath.Join(root, ".tools", "jose")
	manifest := filepath.Join(dir, "node_modules", "jose", "package.json")
	if b, err := os.ReadFile(manifest); err == nil {
		var pkg struct{ Version string }
		if json.Unmarshal(b, &pkg) == nil && pkg.Version == joseVersion {
			return dir
		}
	}
	npm, err := exec.LookPath("npm")
	require.NoError(t, err, "npm is needed to install the jose package for the cross-check (or run go test -short)")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, npm, "install", "--prefix", dir, "--no-audit", "--no-fund", "jose@"+joseVersion).CombinedOutput()
	require.NoError(t, err, "npm install jose: %s", out)
	require.FileExists(t, manifest)
	return dir
}

// publishedKey is the RSA key the running API publishes under kid.
func publishedKey(t *testing.T, s *identitytest.Stack, kid string) *rsa.PublicKey {
	t.Helper()
	res := s.Do(t, "GET", "/v1/auth/jwks", "", nil)
	require.Equal(t, http.StatusOK, res.Status)
	for _, k := range res.Body["keys"].([]any) {
		m := k.(map[string]any)
		if m["kid"] != kid {
			continue
		}
		n, err := base64.RawURLEncoding.DecodeString(m["n"].(string))
		require.NoError(t, err)
		e, err := base64.RawURLEncoding.DecodeString(m["e"].(string))
		require.NoError(t, err)
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	t.Fatalf("kid %s is not in the JWKS", kid)
	return nil
}

// signingKey reads the issuer's private key of kid from the SSM parameters
// the runner keeps for the identity function (PKCS #8 PEM under
// <KEY_PARAMETER_PREFIX>signing-keys/), as the function itself reads them,
// so that tests can sign tokens that differ from real ones only in the
// claims under test.
func signingKey(t *testing.T, s *identitytest.Stack, kid string) *rsa.PrivateKey {
	t.Helper()
	fn := s.Runner.Function("IdentityFunction")
	require.NotNil(t, fn)
	env := function.MapEnv(fn.Env)
	awsCfg, err := awsconfig.Load(t.Context(), env)
	require.NoError(t, err)
	store := &keyparam.Store{API: keyparam.NewClient(awsCfg, env)}
	var raw []byte
	for next := ""; raw == nil; {
		values, tok, err := store.ParametersByPath(t.Context(), env("KEY_PARAMETER_PREFIX")+"signing-keys/", next)
		require.NoError(t, err)
		for _, v := range values {
			if k, err := token.ParseSigningKey([]byte(v)); err == nil && k.ID() == kid {
				raw = []byte(v)
			}
		}
		if tok == "" {
			break
		}
		next = tok
	}
	require.NotNil(t, raw, "no signing key parameter holds kid %s", kid)
	block, _ := pem.Decode(raw)
	require.NotNil(t, block)
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	require.NoError(t, err)
	priv, ok := k.(*rsa.PrivateKey)
	require.True(t, ok, "an RSA key")
	return priv
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// signJWT builds a compact JWS of header and payload with sign's signature.
func signJWT(t *testing.T, header, payload map[string]any, sign func(signingInput []byte) []byte) string {
	t.Helper()
	h, err := json.Marshal(header)
	require.NoError(t, err)
	p, err := json.Marshal(payload)
	require.NoError(t, err)
	in := b64(h) + "." + b64(p)
	return in + "." + b64(sign([]byte(in)))
}

// withPayload swaps jws's payload and keeps its header and signature.
func withPayload(t *testing.T, jws string, payload map[string]any) string {
	t.Helper()
	parts := strings.Split(jws, ".")
	require.Len(t, parts, 3)
	p, err := json.Marshal(payload)
	require.NoError(t, err)
	return parts[0] + "." + b64(p) + "." + parts[2]
}

// claimsWith is a copy of m with each key of kv, value pairs set to its
// value, or removed when the value is nil.
func claimsWith(m map[string]any, kv ...any) map[string]any {
	out := maps.Clone(m)
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

// assertNoneOf checks that raw holds none of the values.
func assertNoneOf(t *testing.T, raw []byte, values ...string) {
	t.Helper()
	for _, v := range values {
		if v != "" {
			assert.NotContains(t, string(raw), v, "leaked another company's data")
		}
	}
}
