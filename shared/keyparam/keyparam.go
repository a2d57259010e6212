// Package keyparam keeps Lantau's secret keys in AWS Systems Manager
// Parameter Store through aws-sdk-go-v2, as SecureString parameters
// (encrypted with the account's aws/ssm KMS key): Store is the parameter
// store under token.ParameterKeys (signing keys), and SealKey gets or
// creates a 32-byte sealing key. Locally the runner answers the same calls
// and keeps the parameters in its data directory.
package keyparam

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/lantau-hq/lantau/shared/awsconfig"
	"github.com/lantau-hq/lantau/shared/function"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/token"
)

// GetPutAPI is what SealKey calls (*ssm.Client has it).
type GetPutAPI interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, opts ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
	PutParameter(ctx context.Context, in *ssm.PutParameterInput, opts ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
}

// API is what Store calls (*ssm.Client has it).
type API interface {
	GetPutAPI
	GetParametersByPath(ctx context.Context, in *ssm.GetParametersByPathInput, opts ...func(*ssm.Options)) (*ssm.GetParametersByPathOutput, error)
	DeleteParameter(ctx context.Context, in *ssm.DeleteParameterInput, opts ...func(*ssm.Options)) (*ssm.DeleteParameterOutput, error)
}

// NewClient builds the SSM client for the function's environment
// (AWS_ENDPOINT_URL_SSM points it at the local runner).
func NewClient(cfg aws.Config, env function.Env) *ssm.Client {
	return ssm.NewFromConfig(cfg, func(o *ssm.Options) { o.BaseEndpoint = awsconfig.Endpoint(env, ssm.ServiceID) })
}

// Store is token.ParameterStore over SSM.
type Store struct{ API API }

var _ token.ParameterStore = (*Store)(nil)

// ParametersByPath reads one page of the parameters directly under path,
// decrypted.
func (s *Store) ParametersByPath(ctx context.Context, path, next string) (map[string]string, string, error) {
	in := &ssm.GetParametersByPathInput{Path: aws.String(path), WithDecryption: aws.Bool(true), Recursive: aws.Bool(false), MaxResults: aws.Int32(10)}
	if next != "" {
		in.NextToken = aws.String(next)
	}
	out, err := s.API.GetParametersByPath(ctx, in)
	if err != nil {
		return nil, "", problem.E("keyparam.ParametersByPath", problem.Unavailable, err)
	}
	values := make(map[string]string, len(out.Parameters))
	for _, p := range out.Parameters {
		values[aws.ToString(p.Name)] = aws.ToString(p.Value)
	}
	return values, aws.ToString(out.NextToken), nil
}

// CreateSecret puts a SecureString parameter without overwriting; a taken
// name is token.ErrParameterExists.
func (s *Store) CreateSecret(ctx context.Context, name, value string) error {
	return createSecret(ctx, s.API, "keyparam.CreateSecret", name, value)
}

// DeleteParameter deletes name; one already gone is no error.
func (s *Store) DeleteParameter(ctx context.Context, name string) error {
	_, err := s.API.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String(name)})
	var notFound *types.ParameterNotFound
	if err != nil && !errors.As(err, &notFound) {
		return problem.E("keyparam.DeleteParameter", problem.Unavailable, err)
	}
	return nil
}

func createSecret(ctx context.Context, api GetPutAPI, op, name, value string) error {
	_, err := api.PutParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String(name), Value: aws.String(value), Type: types.ParameterTypeSecureString, Overwrite: aws.Bool(false),
	})
	var exists *types.ParameterAlreadyExists
	switch {
	case err == nil:
		return nil
	case errors.As(err, &exists):
		return problem.E(op, problem.Conflict, fmt.Errorf("%s: %w (%w)", name, token.ErrParameterExists, err))
	}
	return problem.E(op, problem.Unavailable, fmt.Errorf("%s: %w", name, err))
}

// SealKeySize is the length of a sealing key (AES-256).
const SealKeySize = 32

// SealKey returns the sealing key stored under name (a SecureString holding
// the key in standard base64), creating a random one on first use. Of
// several instances starting at once, one creates it and the others read
// it back: the parameter is never overwritten.
func SealKey(ctx context.Context, api GetPutAPI, name string) ([]byte, error) {
	const op = "keyparam.SealKey"
	key, err := getSealKey(ctx, api, name)
	var notFound *types.ParameterNotFound
	switch {
	case err == nil:
		return key, nil
	case !errors.As(err, &notFound):
		return nil, problem.Wrap(op, err)
	}
	key = make([]byte, SealKeySize)
	_, _ = rand.Read(key)
	err = createSecret(ctx, api, op, name, base64.StdEncoding.EncodeToString(key))
	switch {
	case err == nil:
		return key, nil
	case errors.Is(err, token.ErrParameterExists):
		key, err = getSealKey(ctx, api, name) // another instance won: use its key
		return key, problem.Wrap(op, err)
	}
	return nil, err
}

func getSealKey(ctx context.Context, api GetPutAPI, name string) ([]byte, error) {
	out, err := api.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)})
	var notFound *types.ParameterNotFound
	switch {
	case errors.As(err, &notFound):
		return nil, err
	case err != nil:
		return nil, problem.E("keyparam.SealKey", problem.Unavailable, fmt.Errorf("%s: %w", name, err))
	}
	if out.Parameter == nil {
		return nil, problem.E("keyparam.SealKey", problem.Internal, fmt.Sprintf("parameter %s: no value in the answer", name))
	}
	key, err := base64.StdEncoding.DecodeString(aws.ToString(out.Parameter.Value))
	if err != nil || len(key) != SealKeySize {
		// Never quote the value: it is a secret.
		return nil, problem.E("keyparam.SealKey", problem.Internal, fmt.Sprintf("parameter %s does not hold %d bytes in base64", name, SealKeySize))
	}
	return key, nil
}
