package token_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/lantau-hq/lantau/shared/token"
)

// BenchmarkIssue signs one access token (RS256, 2048-bit key from FileKeys).
func BenchmarkIssue(b *testing.B) {
	f := newIssuerFixture(b, newClock(), nil)
	ctx := b.Context()
	if _, err := f.iss.Issue(ctx, employee); err != nil { // generates the key
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.iss.Issue(ctx, employee); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify checks one token through jwtauth, the local runner's API
// Gateway JWT authorizer, with the JWKS cached after the first request.
func BenchmarkVerify(b *testing.B) {
	f := newIssuerFixture(b, newClock(), nil)
	a := f.authorizer(b)
	tok := f.issue(b, employee)
	req := httptest.NewRequest(http.MethodGet, "/v1/attendance", nil)
	req.Header.Set("Authorization", "Bearer "+tok.JWT)
	ctx := b.Context()
	if _, err := a.Authorize(ctx, req, nil); err != nil { // fetches discovery and JWKS
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Authorize(ctx, req, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRefreshRotate rotates a refresh token on the embedded store
// (two reads and a three-item transaction, synchronous=FULL).
func BenchmarkRefreshRotate(b *testing.B) {
	f := newRefreshFixture(b)
	rt, err := f.r.Start(b.Context(), "t-acme", "u-1", "s-1", token.Origin{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if rt, err = f.r.Rotate(ctx, "t-acme", rt.Token, ""); err != nil {
			b.Fatal(err)
		}
	}
}
