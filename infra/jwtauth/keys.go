package jwtauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"golang.org/x/time/rate"
)

const (
	// keySetRefresh is how long fetched keys are trusted before the key set
	// is fetched again in the background. The documentation: "API Gateway
	// can cache the public key for two hours."
	keySetRefresh = 2 * time.Hour
	// fetchTimeout bounds each fetch of the discovery document or key set.
	fetchTimeout = 10 * time.Second
	// refreshWaitMax bounds how long a request naming an unknown kid waits
	// for the refresh rate limiter and the refresh itself; when the limiter
	// would make it wait longer, the request is refused at once.
	refreshWaitMax = 5 * time.Second
	// maxDocumentBytes caps the discovery document read into memory.
	maxDocumentBytes = 1 << 20
)

// keySet returns the issuer's key set, discovering and fetching it on first
// use. A failure is logged and remembered for a.retryAfter so a down identity
// provider is not asked again on every request; after that it is retried.
func (a *Authorizer) keySet(ctx context.Context) (keyfunc.Keyfunc, error) {
	if kf := a.keys.Load(); kf != nil {
		return *kf, nil
	}
	a.initMu.Lock()
	defer a.initMu.Unlock()
	if kf := a.keys.Load(); kf != nil {
		return *kf, nil
	}
	if a.lastErr != nil && time.Since(a.lastFail) < a.retryAfter {
		return nil, a.lastErr
	}
	kf, err := a.fetchKeySet(ctx)
	if err != nil {
		if ctx.Err() == nil { // a caller giving up says nothing about the provider
			a.lastErr, a.lastFail = err, time.Now()
		}
		a.log.ErrorContext(ctx, "jwt authorizer could not fetch the issuer's signing keys", "error", err)
		return nil, err
	}
	a.lastErr = nil
	a.keys.Store(&kf)
	return kf, nil
}

// fetchKeySet reads {issuer}/.well-known/openid-configuration, then loads the
// key set at its jwks_uri. The returned Keyfunc refreshes the set every
// keySetRefresh, and on a token naming an unknown kid (at most once per
// a.refreshEvery), until a.ctx is cancelled. The caller holds a.initMu.
func (a *Authorizer) fetchKeySet(ctx context.Context) (keyfunc.Keyfunc, error) {
	jwksURI, err := a.discover(ctx)
	if err != nil {
		return nil, err
	}

	// The key set's refresh goroutine lives as long as storeCtx; cancel it
	// if the first fetch fails, so a failed attempt leaves nothing running.
	storeCtx, cancel := context.WithCancel(a.ctx)
	noErrorOnFirstFetch := false
	kf, err := keyfunc.NewDefaultOverrideCtx(storeCtx, []string{jwksURI}, keyfunc.Override{
		Client:                    a.client,
		HTTPTimeout:               fetchTimeout,
		NoErrorReturnFirstHTTPReq: &noErrorOnFirstFetch,
		RateLimitWaitMax:          refreshWaitMax,
		RefreshInterval:           keySetRefresh,
		RefreshUnknownKID:         rate.NewLimiter(rate.Every(a.refreshEvery), 1),
		RefreshErrorHandlerFunc: func(u string) func(context.Context, error) {
			return func(ctx context.Context, err error) {
				a.log.ErrorContext(ctx, "jwt authorizer could not refresh the issuer's signing keys", "jwks_uri", u, "error", err)
			}
		},
	})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("load key set %s: %w", jwksURI, err)
	}
	a.stopKeys = cancel // also cancelled through a.ctx by Close
	return kf, nil
}

// discover returns the jwks_uri of the issuer's OpenID configuration.
func (a *Authorizer) discover(ctx context.Context) (string, error) {
	u := strings.TrimSuffix(a.issuer, "/") + "/.well-known/openid-configuration"
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", fmt.Errorf("discovery %s: %w", u, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("discovery %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("discovery %s: status %d", u, resp.StatusCode)
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxDocumentBytes)).Decode(&doc); err != nil {
		return "", fmt.Errorf("discovery %s: decode: %w", u, err)
	}
	if doc.JWKSURI == "" {
		return "", fmt.Errorf("discovery %s: %w", u, errNoJWKSURI)
	}
	if doc.Issuer != "" && doc.Issuer != a.issuer {
		// Not fatal: API Gateway documents no such check, but a mismatch
		// usually means tokens will fail the iss check.
		a.log.WarnContext(ctx, "discovery document names a different issuer", "document_issuer", doc.Issuer)
	}
	return doc.JWKSURI, nil
}

var errNoJWKSURI = errors.New("no jwks_uri in discovery document")
