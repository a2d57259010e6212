package runner

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func ssmClient(f *fixture) *ssm.Client {
	return ssm.NewFromConfig(aws.Config{
		Region:      "ap-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
	}, func(o *ssm.Options) { o.BaseEndpoint = aws.String(f.r.AWSEndpoint()) })
}

func TestParameterStore_AnswersTheSDKAndKeepsParametersAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	f := start(t, dir)
	ctx := context.Background()
	c := ssmClient(f)

	_, err := c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/lantau/identity/keys/k1"), Value: aws.String("-----BEGIN PRIVATE KEY-----"), Type: types.ParameterTypeSecureString})
	require.NoError(t, err)
	_, err = c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/lantau/identity/keys/k1"), Value: aws.String("other"), Type: types.ParameterTypeSecureString})
	var exists *types.ParameterAlreadyExists
	require.True(t, errors.As(err, &exists), "a second put without Overwrite is refused: %v", err)
	out, err := c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/lantau/identity/keys/k1"), Value: aws.String("rotated"), Type: types.ParameterTypeSecureString, Overwrite: aws.Bool(true)})
	require.NoError(t, err)
	assert.Equal(t, int64(2), out.Version)

	got, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/lantau/identity/keys/k1"), WithDecryption: aws.Bool(true)})
	require.NoError(t, err)
	assert.Equal(t, "rotated", aws.ToString(got.Parameter.Value))
	hidden, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/lantau/identity/keys/k1")})
	require.NoError(t, err)
	assert.NotContains(t, aws.ToString(hidden.Parameter.Value), "rotated", "a SecureString is not shown without decryption")

	_, err = c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/nope")})
	var notFound *types.ParameterNotFound
	require.True(t, errors.As(err, &notFound), "%v", err)

	for i := range 13 {
		_, err := c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(fmt.Sprintf("/lantau/identity/keys/n%02d", i)), Value: aws.String("v"), Type: types.ParameterTypeString})
		require.NoError(t, err)
	}
	_, err = c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/lantau/identity/keys/deeper/x"), Value: aws.String("v"), Type: types.ParameterTypeString})
	require.NoError(t, err)

	require.NoError(t, f.r.Close())
	f.restart(t)
	c = ssmClient(f)
	var names []string
	pages := ssm.NewGetParametersByPathPaginator(c, &ssm.GetParametersByPathInput{Path: aws.String("/lantau/identity/keys"), WithDecryption: aws.Bool(true)})
	for pages.HasMorePages() {
		p, err := pages.NextPage(ctx)
		require.NoError(t, err)
		for _, par := range p.Parameters {
			names = append(names, aws.ToString(par.Name))
		}
	}
	assert.Len(t, names, 14, "k1 and n00..n12 after a restart; deeper/x only when recursive")
	assert.NotContains(t, strings.Join(names, ","), "deeper")

	_, err = c.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String("/lantau/identity/keys/k1")})
	require.NoError(t, err)
	_, err = c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/lantau/identity/keys/k1")})
	require.True(t, errors.As(err, &notFound))
}
