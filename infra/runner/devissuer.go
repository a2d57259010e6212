package runner

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// devIssuer signs tokens for local development until the identity
// functions issue real ones: an RSA key kept in the data directory, its
// discovery document and JWKS on the runner's admin port, and a token
// endpoint. It only ever serves on the runner's own (loopback) address.
type devIssuer struct {
	url string
	key *rsa.PrivateKey
	kid string
}

// DevIssuerPath is where the development issuer lives on the AWS port.
const DevIssuerPath = "/_lantau/dev-issuer"

func newDevIssuer(r *Runner) (*devIssuer, error) {
	path := r.dataPath("dev-issuer-key.pem")
	key, err := loadOrCreateKey(path)
	if err != nil {
		return nil, fmt.Errorf("development issuer key: %w", err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	kid := fmt.Sprintf("dev-%x", der[len(der)-8:])
	return &devIssuer{url: r.AWSEndpoint() + DevIssuerPath, key: key, kid: kid}, nil
}

func loadOrCreateKey(path string) (*rsa.PrivateKey, error) {
	if b, err := os.ReadFile(path); err == nil {
		block, _ := pem.Decode(b)
		if block == nil {
			return nil, errors.New(path + ": not a PEM key")
		}
		return x509.ParsePKCS1PrivateKey(block.Bytes)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	return key, writeFileSync(path, pemBytes)
}

func (d *devIssuer) register(mux *http.ServeMux) {
	mux.HandleFunc("GET "+DevIssuerPath+"/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": d.url, "jwks_uri": d.url + "/jwks", "token_endpoint": d.url + "/token",
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET "+DevIssuerPath+"/jwks", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
			"kty": "RSA", "kid": d.kid, "use": "sig", "alg": "RS256",
			"n": base64.RawURLEncoding.EncodeToString(d.key.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(d.key.E)).Bytes()),
		}}})
	})
	mux.HandleFunc("POST "+DevIssuerPath+"/token", func(w http.ResponseWriter, req *http.Request) {
		var in struct {
			Subject  string   `json:"sub"`
			Tenant   string   `json:"tenant"`
			Roles    []string `json:"roles"`
			Scope    string   `json:"scope"`
			Audience string   `json:"aud"`
			Minutes  int      `json:"minutes"`
		}
		if err := json.NewDecoder(req.Body).Decode(&in); err != nil || in.Subject == "" || in.Tenant == "" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"message":"send {\"sub\":\"u-1\",\"tenant\":\"t-acme\",\"roles\":[\"auditor\"]}"}` + "\n"))
			return
		}
		if in.Minutes <= 0 || in.Minutes > 24*60 {
			in.Minutes = 60
		}
		if in.Audience == "" {
			in.Audience = "lantau-api"
		}
		now := time.Now()
		claims := jwt.MapClaims{
			"iss": d.url, "aud": in.Audience, "sub": in.Subject, "tenant": in.Tenant, "roles": in.Roles,
			"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Duration(in.Minutes) * time.Minute).Unix(),
		}
		if s := strings.TrimSpace(in.Scope); s != "" {
			claims["scope"] = s
		}
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
		tok.Header["kid"] = d.kid
		signed, err := tok.SignedString(d.key)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": signed, "token_type": "Bearer", "expires_in": in.Minutes * 60})
	})
}
