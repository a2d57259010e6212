package identity_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/identity"
	"github.com/lantau-hq/lantau/shared/problem"
)

// A reset link works for PasswordResetTTL by the service's clock: at the
// end of it the link is refused as expired (410, "link-expired") and the
// password stays; a link used inside it sets the password.
func TestResetPassword_ExpiredLinkIsRefused(t *testing.T) {
	d := newDomain(t)
	now := d.stopClock()
	d.activeCompany(t, "acme-expiry.hk")
	ctx := context.Background()
	const prefix = "http://api.test/v1/auth/password/reset/confirm?token="
	c := identity.Client{IP: "203.0.113.9"}

	cases := []struct {
		name  string
		after time.Duration
		code  problem.Code // "": the link works
	}{
		{"at the end of its lifetime", identity.PasswordResetTTL, "link-expired"},
		{"an hour later", time.Hour, "link-expired"},
		{"a minute before the end", identity.PasswordResetTTL - time.Minute, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, d.svc.RequestPasswordReset(ctx, "chan@acme-expiry.hk", c))
			tok := d.lastLinkToken(t, prefix)
			*now = now.Add(tc.after)
			_, err := d.svc.ResetPassword(ctx, tok, "a brand new harbour passphrase "+tc.name, c)
			if tc.code == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Equal(t, problem.Gone, problem.KindOf(err), "410: %v", err)
			assert.Equal(t, tc.code, problem.CodeOf(err), "%v", err)
			// The password did not change.
			_, err = d.svc.Login(ctx, "chan@acme-expiry.hk", "correct horse battery staple", c)
			require.NoError(t, err)
		})
	}
}
