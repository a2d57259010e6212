package keyparam_test

import (
	"context"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/infra/runner/runnertest"
	"github.com/lantau-hq/lantau/shared/keyparam"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/token"
)

const name = "/lantau/identity/totp-seal-key"

func TestSealKey_CreatesA32ByteSecureStringOnceAndReadsItAfter(t *testing.T) {
	dir := t.TempDir()
	a := runnertest.Start(t, runnertest.Options{DataDir: dir})
	client := keyparam.NewClient(a.Config, a.Env())
	key, err := keyparam.SealKey(t.Context(), client, name)
	require.NoError(t, err)
	assert.Len(t, key, keyparam.SealKeySize)

	out, err := client.GetParameter(t.Context(), &ssm.GetParameterInput{Name: aws.String(name)})
	require.NoError(t, err)
	assert.Equal(t, types.ParameterTypeSecureString, out.Parameter.Type)

	again, err := keyparam.SealKey(t.Context(), client, name)
	require.NoError(t, err)
	assert.Equal(t, key, again)
	other, err := keyparam.SealKey(t.Context(), client, "/lantau/identity/sso-seal-key")
	require.NoError(t, err)
	assert.NotEqual(t, key, other, "each name has its own key")

	require.NoError(t, a.Runner.Close())
	a = runnertest.Start(t, runnertest.Options{DataDir: dir})
	restarted, err := keyparam.SealKey(t.Context(), keyparam.NewClient(a.Config, a.Env()), name)
	require.NoError(t, err)
	assert.Equal(t, key, restarted, "the key survives a restart of the runner")
}

func TestSealKey_ConcurrentFirstUsesConvergeOnOneKey(t *testing.T) {
	a := runnertest.Start(t, runnertest.Options{})
	const n = 8
	keys := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			k, err := keyparam.SealKey(context.Background(), keyparam.NewClient(a.Config, a.Env()), name)
			assert.NoError(t, err)
			keys[i] = k
		})
	}
	wg.Wait()
	for _, k := range keys {
		assert.Equal(t, keys[0], k)
	}
}

func TestSealKey_RefusesAParameterThatIsNotAKeyWithoutQuotingIt(t *testing.T) {
	a := runnertest.Start(t, runnertest.Options{})
	client := keyparam.NewClient(a.Config, a.Env())
	for _, v := range []string{"not base64 at all!", "c2hvcnQ="} { // "short"
		_, err := client.PutParameter(t.Context(), &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(v), Type: types.ParameterTypeSecureString, Overwrite: aws.Bool(true)})
		require.NoError(t, err)
		_, err = keyparam.SealKey(t.Context(), client, name)
		require.Error(t, err)
		assert.Equal(t, problem.Internal, problem.KindOf(err))
		assert.NotContains(t, err.Error(), v)
	}
}

func TestStore_CreateSecretNeverOverwrites(t *testing.T) {
	a := runnertest.Start(t, runnertest.Options{})
	store := &keyparam.Store{API: keyparam.NewClient(a.Config, a.Env())}
	require.NoError(t, store.CreateSecret(t.Context(), "/p/a", "one"))
	err := store.CreateSecret(t.Context(), "/p/a", "two")
	assert.ErrorIs(t, err, token.ErrParameterExists)
	values, next, err := store.ParametersByPath(t.Context(), "/p/", "")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"/p/a": "one"}, values, "decrypted, and not overwritten")
	assert.Empty(t, next)

	require.NoError(t, store.DeleteParameter(t.Context(), "/p/a"))
	require.NoError(t, store.DeleteParameter(t.Context(), "/p/a"), "deleting what is gone is no error")
}
