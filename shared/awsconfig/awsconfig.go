// Package awsconfig builds the aws-sdk-go-v2 configuration of a function
// from its own Env (not the process environment), so the local runner can
// host many functions in one process, each pointed at the runner's S3 and
// EventBridge endpoints.
package awsconfig

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/lantau-hq/lantau/shared/function"
)

// Load returns the SDK configuration for a function: its region, and static
// credentials when its environment names them (Lambda sets them, and so
// does the runner); otherwise the SDK's default chain.
func Load(ctx context.Context, env function.Env) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{}
	if r := env("AWS_REGION"); r != "" {
		opts = append(opts, config.WithRegion(r))
	}
	if id, secret := env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"); id != "" && secret != "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(id, secret, env("AWS_SESSION_TOKEN"))))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("aws config: %w", err)
	}
	return cfg, nil
}

// Endpoint is the endpoint override for a service, as the SDK's
// AWS_ENDPOINT_URL_<SERVICE> and AWS_ENDPOINT_URL variables name it, read
// from the function's Env; "" means the service's real endpoint.
func Endpoint(env function.Env, service string) *string {
	key := "AWS_ENDPOINT_URL_" + strings.ToUpper(strings.ReplaceAll(service, " ", "_"))
	if v := env(key); v != "" {
		return aws.String(v)
	}
	if v := env("AWS_ENDPOINT_URL"); v != "" {
		return aws.String(v)
	}
	return nil
}
