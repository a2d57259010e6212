// Package jwtauth is the local runner's stand-in for the JWT authorizer of an
// Amazon API Gateway HTTP API.
//
// It checks a request the way API Gateway documents it in "Control access to
// HTTP APIs with JWT authorizers"
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-jwt-authorizer.html):
//
//  1. The token is read from the identity source; it may be the bare token or
//     the token prefixed with "Bearer ".
//  2. The token is decoded.
//  3. Its algorithm and signature are checked with the public key fetched from
//     the issuer's jwks_uri. Only RSA-based algorithms are supported.
//  4. Its claims are checked: kid names a published key, iss equals the
//     configured issuer, aud (or client_id when aud is absent) is one of the
//     configured audiences, exp is after now, nbf and iat are not after now,
//     and scope or scp holds at least one of the route's authorization scopes.
//
// The documentation names no clock skew allowance, so none is applied.
//
// A failed check is returned as an *Error; Deny writes the answer API Gateway
// gives for it (401 {"message":"Unauthorized"} or 403 {"message":"Forbidden"}).
package jwtauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/aws/aws-lambda-go/events"
	"github.com/golang-jwt/jwt/v5"
)

// DefaultIdentitySource is where API Gateway looks for the token when the
// authorizer names no identity source.
const DefaultIdentitySource = "$request.header.Authorization"

// allowedAlgorithms are the RSA-based JWS algorithms. The documentation says
// "Currently, only RSA-based algorithms are supported."; everything else
// (none, HMAC, ECDSA, EdDSA) is refused before any key is looked up.
var allowedAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}

// Config describes one JWT authorizer, as declared in template.yaml under
// Auth.Authorizers with a JwtConfiguration.
type Config struct {
	// Issuer must equal the token's iss claim exactly. The signing keys are
	// found through {Issuer}/.well-known/openid-configuration.
	Issuer string
	// Audience lists the accepted aud (or client_id) values; at least one.
	Audience []string
	// IdentitySource is "$request.header.<Name>" or
	// "$request.querystring.<name>". Empty means DefaultIdentitySource.
	IdentitySource string
	// HTTPClient fetches the discovery document and the key set. Optional.
	HTTPClient *http.Client
	// Now is the clock the time claims are checked against. Optional.
	Now func() time.Time
	// Logger receives key fetch failures and denials. Optional; defaults to
	// slog.Default().
	Logger *slog.Logger
}

// Result is what an accepted token hands to the route's integration.
type Result struct {
	// Claims are the token's claims flattened to strings, as API Gateway puts
	// them in requestContext.authorizer.jwt.claims.
	Claims map[string]string
	// Scopes are the token's scopes (scope and scp claims). They are nil when
	// the route requires no scopes, as API Gateway sends "scopes": null then.
	Scopes []string
}

// JWT returns r in the shape of the payload 2.0 event's
// requestContext.authorizer.jwt.
func (r *Result) JWT() *events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription {
	return &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
		Claims: r.Claims,
		Scopes: r.Scopes,
	}
}

// Authorizer checks requests against one JWT authorizer configuration. It is
// safe for concurrent use. The issuer's keys are fetched on first use, not by
// New, so the runner starts without waiting on the identity provider.
type Authorizer struct {
	issuer    string
	audiences []string
	source    identitySource
	client    *http.Client
	now       func() time.Time
	log       *slog.Logger
	parser    *jwt.Parser

	// ctx bounds the key set's background refresh; Close cancels it.
	ctx    context.Context
	cancel context.CancelFunc

	// keys is set once discovery and the first key set fetch succeed.
	keys atomic.Pointer[keyfunc.Keyfunc]
	// initMu serialises discovery so concurrent first requests fetch once.
	initMu   sync.Mutex
	lastErr  error
	lastFail time.Time
	stopKeys context.CancelFunc
	// retryAfter is how long a failed discovery is remembered before the
	// next request tries again.
	retryAfter time.Duration
	// refreshEvery is the minimum interval between key set refreshes caused
	// by tokens naming an unknown kid.
	refreshEvery time.Duration
}

// New checks cfg and returns an Authorizer. It does no network I/O.
func New(cfg Config) (*Authorizer, error) {
	if cfg.Issuer == "" {
		return nil, errors.New("jwtauth: Issuer is required")
	}
	if len(cfg.Audience) == 0 {
		return nil, errors.New("jwtauth: at least one Audience is required")
	}
	src, err := parseIdentitySource(cfg.IdentitySource)
	if err != nil {
		return nil, err
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	a := &Authorizer{
		issuer:    cfg.Issuer,
		audiences: slices.Clone(cfg.Audience),
		source:    src,
		client:    client,
		now:       now,
		log:       log.With("component", "jwtauth", "issuer", cfg.Issuer),
		parser: jwt.NewParser(
			jwt.WithValidMethods(allowedAlgorithms),
			jwt.WithoutClaimsValidation(), // checked in validateClaims, in the documented order
			jwt.WithJSONNumber(),          // numbers keep their literal form in Result.Claims
		),
		ctx:          ctx,
		cancel:       cancel,
		retryAfter:   time.Second,
		refreshEvery: 30 * time.Second,
	}
	return a, nil
}

// Close stops the background refresh of the issuer's key set.
func (a *Authorizer) Close() error {
	a.cancel()
	return nil
}

// Authorize checks the token in r's identity source. requiredScopes are the
// route's AuthorizationScopes; when there are any, the token must carry at
// least one of them. A refusal is an *Error.
func (a *Authorizer) Authorize(ctx context.Context, r *http.Request, requiredScopes []string) (*Result, error) {
	deny := func(kind Kind, desc string, cause error) error {
		return &Error{Kind: kind, Description: desc, RequiredScopes: requiredScopes, Err: cause}
	}

	raw := a.source.token(r)
	if raw == "" {
		return nil, deny(KindMissingToken, "", nil)
	}

	claims := jwt.MapClaims{}
	var keyErr *Error
	token, err := a.parser.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		key, err := a.key(ctx, t)
		if err != nil {
			keyErr = err
			return nil, err
		}
		return key, nil
	})
	if err != nil {
		if keyErr != nil {
			keyErr.RequiredScopes = requiredScopes
			return nil, keyErr
		}
		kind, desc := classifyParseError(token, err)
		return nil, deny(kind, desc, err)
	}

	if desc := a.validateClaims(claims); desc != "" {
		return nil, deny(KindInvalidToken, desc, nil)
	}

	res := &Result{Claims: flattenClaims(claims)}
	if len(requiredScopes) > 0 {
		have := tokenScopes(claims)
		if !slices.ContainsFunc(requiredScopes, func(s string) bool { return slices.Contains(have, s) }) {
			return nil, deny(KindInsufficientScope, "the token does not have any of the required scopes", nil)
		}
		res.Scopes = have
	}
	return res, nil
}

// key resolves the verification key for t: t must name a kid, and that kid
// must be in the issuer's key set (refreshed once, rate limited, if not).
func (a *Authorizer) key(ctx context.Context, t *jwt.Token) (any, *Error) {
	kid, _ := t.Header["kid"].(string)
	if kid == "" {
		return nil, &Error{Kind: KindInvalidToken, Description: "the token does not have a kid header", Err: errNoKID}
	}
	kf, err := a.keySet(ctx)
	if err != nil {
		return nil, &Error{Kind: KindKeysUnavailable, Description: "the signing keys of the issuer could not be fetched", Err: err}
	}
	key, err := kf.KeyfuncCtx(ctx)(t)
	if err != nil {
		return nil, &Error{Kind: KindInvalidToken, Description: fmt.Sprintf("the token's kid %q does not match a key of the issuer", kid), Err: err}
	}
	return key, nil
}

var errNoKID = errors.New("token header has no kid")

// classifyParseError turns a golang-jwt error (other than a key lookup
// failure) into a kind and a description safe to show the client.
func classifyParseError(t *jwt.Token, err error) (Kind, string) {
	if t != nil && t.Header != nil {
		if alg, ok := t.Header["alg"].(string); ok && !slices.Contains(allowedAlgorithms, alg) {
			return KindInvalidToken, fmt.Sprintf("signing method %s is invalid", alg)
		}
	}
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return KindInvalidToken, "the token is malformed"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return KindInvalidToken, "the token signature is invalid"
	default:
		return KindInvalidToken, "the token could not be verified"
	}
}

// validateClaims checks the registered claims in the order the documentation
// lists them (kid and the signature were checked already) and returns a
// description of the first failure, or "".
func (a *Authorizer) validateClaims(c jwt.MapClaims) string {
	iss, err := c.GetIssuer()
	if err != nil || iss != a.issuer {
		return "the token does not have a valid issuer"
	}

	// "API Gateway validates client_id only if aud is not present. When both
	// aud and client_id are present, API Gateway evaluates aud."
	var candidates []string
	if _, present := c["aud"]; present {
		aud, err := c.GetAudience()
		if err != nil {
			return "the token does not have a valid audience"
		}
		candidates = aud
	} else if id, ok := c["client_id"].(string); ok {
		candidates = []string{id}
	}
	if !slices.ContainsFunc(candidates, func(s string) bool { return slices.Contains(a.audiences, s) }) {
		return "the token does not have a valid audience"
	}

	now := a.now()
	exp, err := c.GetExpirationTime()
	switch {
	case err != nil:
		return "the token has an invalid exp claim"
	case exp == nil:
		return "the token does not have an exp claim"
	case !now.Before(exp.Time):
		return "the token has expired"
	}
	nbf, err := c.GetNotBefore()
	switch {
	case err != nil:
		return "the token has an invalid nbf claim"
	case nbf != nil && nbf.After(now):
		return "the token is not valid yet"
	}
	iat, err := c.GetIssuedAt()
	switch {
	case err != nil:
		return "the token has an invalid iat claim"
	case iat != nil && iat.After(now):
		return "the token was issued in the future"
	}
	return ""
}

// identitySource is one parsed "$request.header.X" or
// "$request.querystring.X" expression.
type identitySource struct {
	header string // canonical header name, or ""
	query  string // query parameter name, or ""
}

func parseIdentitySource(s string) (identitySource, error) {
	if s == "" {
		s = DefaultIdentitySource
	}
	const hdr, qs = "$request.header.", "$request.querystring."
	switch {
	case strings.HasPrefix(s, hdr) && len(s) > len(hdr):
		return identitySource{header: http.CanonicalHeaderKey(s[len(hdr):])}, nil
	case strings.HasPrefix(s, qs) && len(s) > len(qs):
		return identitySource{query: s[len(qs):]}, nil
	default:
		return identitySource{}, fmt.Errorf("jwtauth: unsupported identity source %q (want $request.header.<name> or $request.querystring.<name>)", s)
	}
}

// token returns the token in r, without its optional "Bearer " prefix.
func (s identitySource) token(r *http.Request) string {
	var v string
	if s.header != "" {
		v = r.Header.Get(s.header)
	} else {
		v = r.URL.Query().Get(s.query)
	}
	v = strings.TrimSpace(v)
	if len(v) > len("bearer ") && strings.EqualFold(v[:len("bearer ")], "bearer ") {
		v = strings.TrimSpace(v[len("bearer "):])
	}
	return v
}
