package identityfn_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/identity/identityfn"
	"github.com/lantau-hq/lantau/shared/identity/identitytest"
	"github.com/lantau-hq/lantau/shared/token"
)

var testKey = func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}()

// keySet is a KeySet with the keys' activation times only.
type keySet struct {
	active  []time.Time
	rotated int
}

func (k *keySet) Keys(context.Context) ([]token.SigningKey, error) {
	var out []token.SigningKey
	for _, at := range k.active {
		sk, err := token.NewSigningKey(testKey, at)
		if err != nil {
			return nil, err
		}
		out = append(out, sk)
	}
	return out, nil
}

func (k *keySet) Rotate(context.Context) (token.SigningKey, error) {
	k.rotated++
	return token.NewSigningKey(testKey, time.Now())
}

func TestRotator_RotatesOnlyAStaleKeyUnlessForced(t *testing.T) {
	now := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	cases := []struct {
		name    string
		active  []time.Time
		payload string
		rotate  bool
	}{
		{"no key yet", nil, `{}`, true},
		{"newest key a month old", []time.Time{now.Add(-31 * 24 * time.Hour)}, `{"detail-type":"Scheduled Event"}`, true},
		{"newest key a week old (a redelivered run)", []time.Time{now.Add(-60 * 24 * time.Hour), now.Add(-7 * 24 * time.Hour)}, `{}`, false},
		{"forced after a suspected leak", []time.Time{now.Add(-time.Hour)}, `{"force":true}`, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ks := &keySet{active: tc.active}
			r := &identityfn.Rotator{Keys: ks, MinAge: identityfn.RotationMinAge, Now: func() time.Time { return now },
				Log: slog.New(slog.DiscardHandler)}
			out, err := r.Invoke(context.Background(), []byte(tc.payload))
			require.NoError(t, err)
			var res struct{ Rotated bool }
			require.NoError(t, json.Unmarshal(out, &res))
			assert.Equal(t, tc.rotate, res.Rotated)
			assert.Equal(t, map[bool]int{true: 1, false: 0}[tc.rotate], ks.rotated)
		})
	}
}

// Through the runner: a forced rotation publishes a second key and the
// tokens issued before it still work.
func TestKeyRotation_PublishesTheNewKeyAndKeepsSessions(t *testing.T) {
	t.Parallel()
	s := identitytest.Start(t)
	c := s.NewCompany(t, "acme-rotate.hk")
	jwks := func() int {
		res := s.Do(t, "GET", identityfn.IssuerPath+"/jwks", "", nil)
		require.Equal(t, http.StatusOK, res.Status)
		return len(res.Body["keys"].([]any))
	}
	before := jwks()
	out, err := s.Runner.Function("KeyRotationFunction").Invoke(context.Background(), "", []byte(`{"force":true}`))
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), `"rotated":true`)
	identitytest.Eventually(t, func() bool { return jwks() == before+1 }, "the new key is published (after the issuer's key cache)")
	assert.Equal(t, http.StatusOK, s.Do(t, "GET", "/v1/users/me", c.Access, nil).Status, "earlier tokens still verify")

	// A scheduled run right after changes nothing.
	out, err = s.Runner.Function("KeyRotationFunction").Invoke(context.Background(), "", []byte(`{"detail-type":"Scheduled Event","detail":{}}`))
	require.NoError(t, err)
	assert.Contains(t, string(out), `"rotated":false`)
}
