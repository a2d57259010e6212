package lambdatest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
)

// Issuer is an OpenID issuer on 127.0.0.1 for tests: it serves a discovery
// document and a JWKS with one RSA key, and signs tokens with it, so a
// runner started with JwtIssuer=Issuer.URL accepts them as API Gateway would.
type Issuer struct {
	*httptest.Server
	key *rsa.PrivateKey
}

// NewIssuer starts an issuer that stops at the end of the test.
func NewIssuer(t testing.TB) *Issuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	iss := &Issuer{key: key}
	mux := http.NewServeMux()
	iss.Server = httptest.NewServer(mux)
	t.Cleanup(iss.Close)
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": iss.URL, "jwks_uri": iss.URL + "/jwks"})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
			"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
			"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
		}}})
	})
	return iss
}

// Token signs a token for audience lantau-api, subject u-1 of tenant
// t-acme with role employee, valid for ten minutes; edit changes the claims.
func (i *Issuer) Token(t testing.TB, edit func(jwt.MapClaims)) string {
	t.Helper()
	claims := jwt.MapClaims{
		"iss": i.URL, "aud": "lantau-api", "sub": "u-1", "tenant": "t-acme",
		"roles": []string{"employee"}, "exp": time.Now().Add(10 * time.Minute).Unix(), "iat": time.Now().Add(-time.Minute).Unix(),
	}
	if edit != nil {
		edit(claims)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = "k1"
	s, err := tok.SignedString(i.key)
	require.NoError(t, err)
	return s
}
