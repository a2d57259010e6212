package token_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/infra/toolbox"
	"github.com/lantau-hq/lantau/shared/token"
)

// joseVersion is the jose npm package the cross-check installs under
// .tools/jose on first use.
const joseVersion = "6.2.18"

// An independent JOSE implementation (the jose npm package, on Node) reads
// the discovery document and JWKS over HTTP and verifies what the issuer
// signs, before and after a key rotation, and refuses the same forgeries
// jwtauth refuses.
func TestIssue_VerifiedByIndependentJOSEImplementation(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Node and may install the jose npm package")
	}
	joseDir := installJOSE(t)
	node, err := exec.LookPath("node")
	require.NoError(t, err, "node is needed for the jose cross-check (installed with npm)")

	f := newIssuerFixture(t, nil, nil) // real clock: jose checks exp against its own
	before := f.issue(t, employee)
	rotated, err := f.keys.Rotate(t.Context())
	require.NoError(t, err)
	after := f.issue(t, token.Claims{Subject: "陳大文", Tenant: "t-acme", Roles: []string{"auditor"}})
	require.Equal(t, rotated.ID(), after.KeyID)

	header, payload := segments(t, before.JWT)
	keys, err := f.keys.Keys(t.Context())
	require.NoError(t, err)
	pubDER, err := x509.MarshalPKIXPublicKey(keys[0].Public())
	require.NoError(t, err)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	edited := func(m map[string]any, k string, v any) map[string]any {
		out := map[string]any{k: v}
		for key, val := range m {
			if key != k {
				out[key] = val
			}
		}
		return out
	}
	other := func(edit func(*token.Issuer)) string {
		iss := *f.iss
		edit(&iss)
		tok, err := iss.Issue(t.Context(), employee)
		require.NoError(t, err)
		return tok.JWT
	}

	cases := []struct {
		name, token, wantCode string
	}{
		{"signed before the rotation (old kid)", before.JWT, ""},
		{"signed after the rotation (new kid)", after.JWT, ""},
		{"alg none", compact(t, edited(header, "alg", "none"), payload, func(string) []byte { return nil }), "ERR_JOSE_ALG_NOT_ALLOWED"},
		{"HS256 with the public key as secret", compact(t, edited(header, "alg", "HS256"), payload, func(in string) []byte {
			m := hmac.New(sha256.New, pubPEM)
			m.Write([]byte(in))
			return m.Sum(nil)
		}), "ERR_JOSE_ALG_NOT_ALLOWED"},
		{"payload changed, signature kept", withPayload(t, before.JWT, edited(payload, "tenant", "t-other")), "ERR_JWS_SIGNATURE_VERIFICATION_FAILED"},
		{"wrong audience", other(func(i *token.Issuer) { i.Audience = "payroll-api" }), "ERR_JWT_CLAIM_VALIDATION_FAILED"},
		{"wrong issuer", other(func(i *token.Issuer) { i.URL = "https://evil.example" }), "ERR_JWT_CLAIM_VALIDATION_FAILED"},
		{"expired", other(func(i *token.Issuer) { i.TTL = time.Nanosecond }), "ERR_JWT_EXPIRED"}, // exp = iat
	}

	var stdin bytes.Buffer
	for _, tc := range cases {
		stdin.WriteString(tc.token + "\n")
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("testdata", "verify.mjs"), joseDir, f.iss.URL, audience)
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
	assert.Equal(t, f.iss.URL+"/jwks", got.Discovery["jwks_uri"])
	require.Len(t, got.Results, len(cases))
	for i, tc := range cases {
		r := got.Results[i]
		if tc.wantCode != "" {
			assert.False(t, r.OK, tc.name)
			assert.Equal(t, tc.wantCode, r.Code, tc.name)
			continue
		}
		if assert.True(t, r.OK, "%s: %s", tc.name, r.Code) {
			wantHeader, wantPayload := segments(t, tc.token)
			assert.Equal(t, wantHeader, r.Header, tc.name)
			assert.Equal(t, wantPayload, r.Payload, tc.name)
		}
	}
	assert.Equal(t, before.KeyID, got.Results[0].Header["kid"])
	assert.Equal(t, after.KeyID, got.Results[1].Header["kid"])
	assert.Equal(t, []any{"employee", "approver"}, got.Results[0].Payload["roles"])
}

// installJOSE returns the directory holding the jose npm package,
// <repo>/.tools/jose, installing it there on first use.
func installJOSE(t *testing.T) string {
	t.Helper()
	dir, err := toolbox.Dir("jose")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	require.NoError(t, toolbox.NPMInstall(ctx, dir, "jose@"+joseVersion), "the jose cross-check needs npm (or run go test -short)")
	return dir
}
