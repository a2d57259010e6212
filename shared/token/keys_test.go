package token_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/token"
)

func TestFileKeys_GeneratesKeyOnFirstUseReadableByOwnerOnly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), ".lantau", "issuer-keys")
	clk := newClock()
	keys := &token.FileKeys{Dir: dir, Now: clk.Now}

	got, err := keys.Keys(t.Context())
	require.NoError(t, err)
	require.Len(t, got, 1)
	k := got[0]
	assert.Equal(t, clk.Now().Unix(), k.ActiveAt().Unix())
	assert.Equal(t, 2048, k.Public().N.BitLen())

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.Equal(t, k.ID()+".pem", entries[0].Name())
	if runtime.GOOS != "windows" {
		info, err := entries[0].Info()
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
		dirInfo, err := os.Stat(dir)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o700), dirInfo.Mode().Perm())
	}

	// The same key again, from this FileKeys and from another on the same directory.
	again, err := keys.Keys(t.Context())
	require.NoError(t, err)
	assert.Equal(t, []string{k.ID()}, ids(again))
	other, err := (&token.FileKeys{Dir: dir, Now: clk.Now}).Keys(t.Context())
	require.NoError(t, err)
	assert.Equal(t, []string{k.ID()}, ids(other))

	// The file is the documented format.
	b, err := os.ReadFile(filepath.Join(dir, entries[0].Name()))
	require.NoError(t, err)
	parsed, err := token.ParseSigningKey(b)
	require.NoError(t, err)
	assert.Equal(t, k.ID(), parsed.ID())
	assert.True(t, k.ActiveAt().Equal(parsed.ActiveAt()))
}

func TestFileKeys_RefusesKeyFileOthersCanRead(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	dir := t.TempDir()
	keys := &token.FileKeys{Dir: dir}
	got, err := keys.Keys(t.Context())
	require.NoError(t, err)
	path := filepath.Join(dir, got[0].ID()+".pem")
	require.NoError(t, os.Chmod(path, 0o644))

	_, err = (&token.FileKeys{Dir: dir}).Keys(t.Context())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "accessible by others")
}

func TestFileKeys_IgnoresOtherFiles(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "README"), []byte("keys live here"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".key-123.tmp"), []byte("half a key"), 0o600))
	got, err := (&token.FileKeys{Dir: dir}).Keys(t.Context())
	require.NoError(t, err)
	assert.Len(t, got, 1)
}

func TestParseSigningKey(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	pkcs8 := func(k any, headers map[string]string) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		require.NoError(t, err)
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Headers: headers, Bytes: der})
	}
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)})

	cases := []struct {
		name     string
		pem      []byte
		activeAt time.Time
		wantErr  string
	}{
		{name: "PKCS #8 with Active-At", pem: pkcs8(rsaKey, map[string]string{"Active-At": "2026-11-25T01:00:00Z"}),
			activeAt: time.Date(2026, 11, 25, 1, 0, 0, 0, time.UTC)},
		{name: "PKCS #1, as the runner's development issuer writes it", pem: pkcs1},
		{name: "1024-bit key", pem: pkcs8(small, nil), wantErr: "at least 2048"},
		{name: "EC key", pem: pkcs8(ecKey, nil), wantErr: "not an RSA key"},
		{name: "public key", pem: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1}}), wantErr: "not a private key"},
		{name: "bad Active-At", pem: pkcs8(rsaKey, map[string]string{"Active-At": "tomorrow"}), wantErr: "Active-At"},
		{name: "not PEM", pem: []byte("-----BEGIN NOTHING"), wantErr: "no PEM block"},
		{name: "damaged key", pem: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("0123456789")}), wantErr: "malformed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k, err := token.ParseSigningKey(tc.pem)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				assert.NotContains(t, err.Error(), "MII", "errors never quote key material")
				return
			}
			require.NoError(t, err)
			assert.True(t, tc.activeAt.Equal(k.ActiveAt()))
			assert.Len(t, k.ID(), 43, "kid: SHA-256 JWK thumbprint, base64url")
		})
	}
}

// The kid is the RFC 7638 thumbprint: RFC 7638 section 3.1's example key
// has thumbprint NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs.
func TestNewSigningKey_KIDIsRFC7638Thumbprint(t *testing.T) {
	const n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
	// The private half is irrelevant to the kid; build a key whose modulus is n.
	raw, err := base64.RawURLEncoding.DecodeString(n)
	require.NoError(t, err)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	key.N.SetBytes(raw)
	key.E = 65537
	_, err = token.NewSigningKey(key, time.Time{})
	require.Error(t, err, "a key whose halves do not match is refused")

	// A consistent key: check the thumbprint against an independent computation.
	key, err = rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	k, err := token.NewSigningKey(key, time.Time{})
	require.NoError(t, err)
	assert.Equal(t, rfc7638(key.N.Bytes()), k.ID())
	assert.Equal(t, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", rfc7638(raw), "the reference computation matches the RFC")
}

func rfc7638(n []byte) string {
	doc, _ := json.Marshal(map[string]string{ // encoding/json sorts map keys
		"e": "AQAB", "kty": "RSA", "n": base64.RawURLEncoding.EncodeToString(n),
	})
	sum := sha256.Sum256(doc)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// A signing key prints, logs and marshals as its kid; the private exponent
// and primes appear nowhere.
func TestSigningKey_NeverRevealsThePrivateKey(t *testing.T) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	k, err := token.NewSigningKey(priv, start)
	require.NoError(t, err)
	type holder struct {
		name string
		key  token.SigningKey // unexported field: fmt cannot call methods on it
	}

	var outputs []string
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		outputs = append(outputs,
			fmt.Sprintf(format, k), fmt.Sprintf(format, &k), fmt.Sprintf(format, []token.SigningKey{k}),
			fmt.Sprintf(format, holder{"h", k}), fmt.Sprintf(format, &holder{"h", k}))
	}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("rotated", "key", k, "keys", []token.SigningKey{k})
	slog.New(slog.NewTextHandler(&logs, nil)).Info("rotated", "key", k, "holder", holder{"h", k})
	outputs = append(outputs, logs.String())
	j, err := json.Marshal(map[string]any{"key": k})
	require.NoError(t, err)
	outputs = append(outputs, string(j))

	secrets := map[string]string{
		"D (decimal)":   priv.D.String(),
		"D (base64url)": base64.RawURLEncoding.EncodeToString(priv.D.Bytes()),
		"P (decimal)":   priv.Primes[0].String(),
		"PEM":           "PRIVATE KEY",
	}
	for _, out := range outputs {
		assert.Contains(t, out, k.ID())
		for name, s := range secrets {
			assert.NotContains(t, out, s, "%s leaked", name)
		}
	}
}
