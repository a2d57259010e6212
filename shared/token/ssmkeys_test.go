package token_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/infra/jwtauth"
	"github.com/lantau-hq/lantau/infra/runner/runnertest"
	"github.com/lantau-hq/lantau/shared/keyparam"
	"github.com/lantau-hq/lantau/shared/token"
)

const prefix = "/lantau/identity/"

// paramKeys is a ParameterKeys over the runner's SSM.
func paramKeys(a *runnertest.AWS, clk *clock) *token.ParameterKeys {
	k := &token.ParameterKeys{Store: &keyparam.Store{API: keyparam.NewClient(a.Config, a.Env())}, Prefix: prefix, Grace: time.Hour}
	if clk != nil {
		k.Now = clk.Now
	}
	return k
}

// keyParameters lists the names of the signing key parameters in the runner.
func keyParameters(t *testing.T, a *runnertest.AWS) []string {
	t.Helper()
	var names []string
	pages := ssm.NewGetParametersByPathPaginator(keyparam.NewClient(a.Config, a.Env()), &ssm.GetParametersByPathInput{Path: aws.String(prefix + "signing-keys/")})
	for pages.HasMorePages() {
		p, err := pages.NextPage(t.Context())
		require.NoError(t, err)
		for _, par := range p.Parameters {
			names = append(names, aws.ToString(par.Name))
			assert.Equal(t, "SecureString", string(par.Type))
			assert.NotContains(t, aws.ToString(par.Value), "PRIVATE KEY", "not shown without decryption")
		}
	}
	return names
}

func TestParameterKeys_FirstStartCreatesAKeyThatOtherInstancesAndRestartsRead(t *testing.T) {
	dir := t.TempDir()
	a := runnertest.Start(t, runnertest.Options{DataDir: dir})
	first, err := paramKeys(a, nil).Keys(t.Context())
	require.NoError(t, err)
	require.Len(t, first, 1)
	assert.Equal(t, []string{prefix + "signing-keys/000001"}, keyParameters(t, a))

	second, err := paramKeys(a, nil).Keys(t.Context())
	require.NoError(t, err)
	assert.Equal(t, ids(first), ids(second), "a second instance reads the same key")

	require.NoError(t, a.Runner.Close())
	a = runnertest.Start(t, runnertest.Options{DataDir: dir})
	again, err := paramKeys(a, nil).Keys(t.Context())
	require.NoError(t, err)
	assert.Equal(t, ids(first), ids(again), "the runner keeps the parameter across restarts")
}

func TestParameterKeys_ConcurrentFirstStartsConvergeOnOneKey(t *testing.T) {
	a := runnertest.Start(t, runnertest.Options{})
	const n = 6
	kids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			keys, err := paramKeys(a, nil).Keys(context.Background())
			if assert.NoError(t, err) && assert.Len(t, keys, 1) {
				kids[i] = keys[0].ID()
			}
		})
	}
	wg.Wait()
	for _, kid := range kids {
		assert.Equal(t, kids[0], kid)
	}
	assert.Len(t, keyParameters(t, a), 1)
}

// issuerOn serves an Issuer over keys on 127.0.0.1, as the identity
// function does, and returns it with an authorizer (API Gateway's stand-in)
// that caches its JWKS.
func issuerOn(t *testing.T, keys token.KeySource, clk *clock) (*token.Issuer, *jwtauth.Authorizer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	iss := &token.Issuer{URL: "http://" + ln.Addr().String() + "/issuer", Audience: audience, Keys: keys, Now: clk.Now}
	srv := httptest.NewUnstartedServer(iss.Handler("/issuer"))
	require.NoError(t, srv.Listener.Close())
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	a, err := jwtauth.New(jwtauth.Config{Issuer: iss.URL, Audience: []string{audience}, Now: clk.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	return iss, a
}

func TestParameterKeys_RotationPublishesBothKeysAndOldTokensStillVerify(t *testing.T) {
	a := runnertest.Start(t, runnertest.Options{})
	clk := newClock()
	keys := paramKeys(a, clk)
	iss, authz := issuerOn(t, keys, clk)
	old, err := iss.Issue(t.Context(), employee)
	require.NoError(t, err)
	_, err = authorize(t.Context(), authz, old.JWT)
	require.NoError(t, err)

	clk.Advance(time.Minute)
	next, err := keys.Rotate(t.Context())
	require.NoError(t, err)
	require.NotEqual(t, old.KeyID, next.ID())
	published, err := keys.Keys(t.Context())
	require.NoError(t, err)
	assert.Equal(t, []string{next.ID(), old.KeyID}, ids(published), "both keys published, newest first")
	assert.Equal(t, []string{prefix + "signing-keys/000001", prefix + "signing-keys/000002"}, keyParameters(t, a))

	fresh, err := iss.Issue(t.Context(), employee)
	require.NoError(t, err)
	assert.Equal(t, next.ID(), fresh.KeyID, "new tokens use the new key")
	for name, tok := range map[string]string{"token issued before the rotation": old.JWT, "token issued after": fresh.JWT} {
		_, err := authorize(t.Context(), authz, tok)
		assert.NoError(t, err, name)
	}

	// Another instance over the same parameters sees both keys too.
	other, err := paramKeys(a, clk).Keys(t.Context())
	require.NoError(t, err)
	assert.Equal(t, ids(published), ids(other))

	// Past the grace period the old key is no longer published, and the
	// next rotation deletes its parameter.
	clk.Advance(time.Hour)
	published, err = keys.Keys(t.Context())
	require.NoError(t, err)
	assert.Equal(t, []string{next.ID()}, ids(published))
	third, err := keys.Rotate(t.Context())
	require.NoError(t, err)
	assert.Equal(t, []string{prefix + "signing-keys/000002", prefix + "signing-keys/000003"}, keyParameters(t, a))
	published, err = keys.Keys(t.Context())
	require.NoError(t, err)
	assert.Equal(t, []string{third.ID(), next.ID()}, ids(published))
}

func TestParameterKeys_ConcurrentRotationsAddOneKey(t *testing.T) {
	a := runnertest.Start(t, runnertest.Options{})
	clk := newClock()
	_, err := paramKeys(a, clk).Keys(t.Context())
	require.NoError(t, err)
	const n = 4
	kids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			k, err := paramKeys(a, clk).Rotate(context.Background())
			if assert.NoError(t, err) {
				kids[i] = k.ID()
			}
		})
	}
	wg.Wait()
	for _, kid := range kids {
		assert.Equal(t, kids[0], kid, "every instance reports the one key that was added")
	}
	assert.Len(t, keyParameters(t, a), 2)
}

func TestParameterKeys_AnswersFromMemoryUntilCacheTTL(t *testing.T) {
	a := runnertest.Start(t, runnertest.Options{})
	clk := newClock()
	reader := paramKeys(a, clk)
	reader.CacheTTL = time.Minute
	before, err := reader.Keys(t.Context())
	require.NoError(t, err)

	added, err := paramKeys(a, clk).Rotate(t.Context()) // by another instance
	require.NoError(t, err)
	cached, err := reader.Keys(t.Context())
	require.NoError(t, err)
	assert.Equal(t, ids(before), ids(cached), "within CacheTTL the reader answers from memory")

	clk.Advance(time.Minute)
	fresh, err := reader.Keys(t.Context())
	require.NoError(t, err)
	assert.Equal(t, added.ID(), fresh[0].ID(), "after CacheTTL the reader sees the new key")
}

func TestParameterKeys_KeepsCachedKeysWhenTheStoreFails(t *testing.T) {
	a := runnertest.Start(t, runnertest.Options{})
	clk := newClock()
	keys := paramKeys(a, clk)
	before, err := keys.Keys(t.Context())
	require.NoError(t, err)
	require.NoError(t, a.Runner.Close())

	clk.Advance(time.Hour)
	after, err := keys.Keys(t.Context())
	require.NoError(t, err, "the keys read before keep signing while the store is down")
	assert.Equal(t, ids(before), ids(after))

	_, err = paramKeys(a, clk).Keys(t.Context())
	require.Error(t, err, "an instance that never read the keys cannot start")
}

func TestParameterKeys_RefusesAMalformedKeyParameterWithoutQuotingIt(t *testing.T) {
	a := runnertest.Start(t, runnertest.Options{})
	store := &keyparam.Store{API: keyparam.NewClient(a.Config, a.Env())}
	require.NoError(t, store.CreateSecret(t.Context(), prefix+"signing-keys/000001", "secret-garbage-value"))
	require.NoError(t, store.CreateSecret(t.Context(), prefix+"signing-keys/notes", "ignored: not a generation"))
	_, err := paramKeys(a, nil).Keys(t.Context())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "signing-keys/000001")
	assert.NotContains(t, err.Error(), "secret-garbage-value")
}

func TestParameterKeys_ReadsEveryPageOfKeys(t *testing.T) {
	a := runnertest.Start(t, runnertest.Options{})
	clk := newClock()
	keys := paramKeys(a, clk)
	keys.Grace = 100 * time.Hour
	var want []string
	for i := range 12 { // the runner answers ten a page, as SSM does
		k, err := keys.Rotate(t.Context())
		require.NoError(t, err, "rotation %d", i)
		want = append([]string{k.ID()}, want...)
		clk.Advance(time.Minute)
	}
	got, err := paramKeys(a, clk).Keys(t.Context())
	require.NoError(t, err)
	assert.Equal(t, want, ids(got))
	assert.True(t, strings.HasSuffix(keyParameters(t, a)[11], fmt.Sprintf("%06d", 12)))
}
