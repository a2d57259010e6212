package jwtauth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
)

// signingKey is a private key and the kid and alg it is published under.
type signingKey struct {
	kid string
	alg jwkset.ALG
	key crypto.Signer
}

var (
	keysOnce sync.Once
	rsaOld   signingKey // published from the start
	rsaNew   signingKey // published by the rotation test
	rsaOther signingKey // never published
	ecKey    signingKey // published, but ES256 is not an RSA algorithm
)

// testKeys generates the keys once per test binary; RSA generation is slow.
func testKeys(t testing.TB) {
	t.Helper()
	keysOnce.Do(func() {
		gen := func(kid string) signingKey {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			return signingKey{kid: kid, alg: jwkset.AlgRS256, key: k}
		}
		rsaOld, rsaNew, rsaOther = gen("rsa-old"), gen("rsa-new"), gen("rsa-other")
		ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		ecKey = signingKey{kid: "ec-1", alg: jwkset.AlgES256, key: ec}
	})
}

// testIdP is an OpenID provider on 127.0.0.1 serving a discovery document
// and a key set that a test can change while it runs.
type testIdP struct {
	srv       *httptest.Server
	mu        sync.Mutex
	published []signingKey
	jwksHits  atomic.Int64
	discHits  atomic.Int64
	failDisc  atomic.Bool
	failJWKS  atomic.Bool
}

func newTestIdP(t testing.TB, published ...signingKey) *testIdP {
	t.Helper()
	p := &testIdP{published: published}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		p.discHits.Add(1)
		if p.failDisc.Load() {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{
			"issuer":   p.issuer(),
			"jwks_uri": p.srv.URL + "/keys",
		})
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		p.jwksHits.Add(1)
		if p.failJWKS.Load() {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		p.mu.Lock()
		keys := append([]signingKey(nil), p.published...)
		p.mu.Unlock()
		var set jwkset.JWKSMarshal
		for _, k := range keys {
			jwk, err := jwkset.NewJWKFromKey(k.key.Public(), jwkset.JWKOptions{
				Metadata: jwkset.JWKMetadataOptions{KID: k.kid, ALG: k.alg, USE: jwkset.UseSig},
			})
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			set.Keys = append(set.Keys, jwk.Marshal())
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	})
	p.srv = httptest.NewServer(mux) // listens on 127.0.0.1
	t.Cleanup(p.srv.Close)
	return p
}

func (p *testIdP) issuer() string { return p.srv.URL }

func (p *testIdP) publish(keys ...signingKey) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.published = keys
}

// sign makes a compact JWS of claims with k, under k's kid.
func sign(t testing.TB, k signingKey, method jwt.SigningMethod, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	tok.Header["kid"] = k.kid
	s, err := tok.SignedString(k.key)
	require.NoError(t, err)
	return s
}
