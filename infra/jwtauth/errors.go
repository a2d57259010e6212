package jwtauth

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Kind says why a request was refused, and so how API Gateway answers it.
type Kind int

const (
	// KindMissingToken: the identity source is absent or empty. 401.
	KindMissingToken Kind = iota + 1
	// KindInvalidToken: the token failed decoding, the algorithm, kid or
	// signature check, or a claim check. 401.
	KindInvalidToken
	// KindKeysUnavailable: the issuer's discovery document or key set could
	// not be fetched, so no token can be verified. 401, as API Gateway
	// cannot tell a good token from a bad one either.
	KindKeysUnavailable
	// KindInsufficientScope: a valid token without any of the route's
	// authorization scopes. 403.
	KindInsufficientScope
)

func (k Kind) String() string {
	switch k {
	case KindMissingToken:
		return "missing_token"
	case KindInvalidToken:
		return "invalid_token"
	case KindKeysUnavailable:
		return "keys_unavailable"
	case KindInsufficientScope:
		return "insufficient_scope"
	default:
		return fmt.Sprintf("Kind(%d)", int(k))
	}
}

// Status is the HTTP status API Gateway answers with.
func (k Kind) Status() int {
	if k == KindInsufficientScope {
		return http.StatusForbidden
	}
	return http.StatusUnauthorized
}

// Sentinels matched by errors.Is on an *Error, by the status it maps to.
var (
	ErrUnauthorized = errors.New("jwtauth: unauthorized")
	ErrForbidden    = errors.New("jwtauth: forbidden")
)

// Error is a refused request. Description is safe to show the client (it goes
// into the www-authenticate header, as API Gateway does); Err is the
// underlying cause, for logs only.
type Error struct {
	Kind           Kind
	Description    string
	RequiredScopes []string
	Err            error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("jwtauth: ")
	b.WriteString(e.Kind.String())
	if e.Description != "" {
		b.WriteString(": ")
		b.WriteString(e.Description)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Is reports ErrUnauthorized or ErrForbidden according to e's status.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.Kind.Status() == http.StatusUnauthorized
	case ErrForbidden:
		return e.Kind.Status() == http.StatusForbidden
	}
	return false
}

// Challenge is the www-authenticate value API Gateway sends with e, in the
// form its troubleshooting page shows:
//
//	Bearer scope="" error="invalid_token" error_description="the token does not have a valid audience"
//
// scope lists the route's required scopes, space-separated. A request with no
// token at all gets no challenge ("").
func (e *Error) Challenge() string {
	var code string
	switch e.Kind {
	case KindMissingToken:
		return ""
	case KindInsufficientScope:
		code = "insufficient_scope"
	default:
		code = "invalid_token"
	}
	return fmt.Sprintf(`Bearer scope=%s error=%q error_description=%s`,
		quote(strings.Join(e.RequiredScopes, " ")), code, quote(e.Description))
}

// quote makes s a quoted-string (RFC 9110 section 5.6.4).
func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\r", " ", "\n", " ")
	return `"` + r.Replace(s) + `"`
}

const (
	bodyUnauthorized = `{"message":"Unauthorized"}`
	bodyForbidden    = `{"message":"Forbidden"}`
)

// Deny writes API Gateway's answer to a refused request: 401
// {"message":"Unauthorized"} or 403 {"message":"Forbidden"}, with a
// www-authenticate challenge. An err that is not an *Error (which Authorize
// never returns) is answered as a 401 without a challenge. The cause is
// logged, never sent.
func (a *Authorizer) Deny(w http.ResponseWriter, err error) {
	status, body := http.StatusUnauthorized, bodyUnauthorized
	var e *Error
	if errors.As(err, &e) {
		if c := e.Challenge(); c != "" {
			w.Header().Set("Www-Authenticate", c)
		}
		if e.Kind.Status() == http.StatusForbidden {
			status, body = http.StatusForbidden, bodyForbidden
		}
		attrs := []any{"kind", e.Kind.String(), "description", e.Description}
		if e.Err != nil {
			attrs = append(attrs, "cause", e.Err.Error())
		}
		a.log.Info("jwt authorizer denied request", attrs...)
	} else {
		a.log.Error("jwt authorizer denied request for an unexpected error", "error", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}
