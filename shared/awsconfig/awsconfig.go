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
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/lantau-hq/lantau/shared/function"
)

// Load returns the SDK configuration for a function: its region and the
// credentials its environment names. Lambda always sets AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN for the execution
// environment, and so does the local runner, so the SDK's whole default
// chain (shared config files, SSO, IMDS, STS) is not needed: leaving it
// out keeps every function smaller and quicker to build and start.
func Load(_ context.Context, env function.Env) (aws.Config, error) {
	region := env("AWS_REGION")
	if region == "" {
		region = env("AWS_DEFAULT_REGION")
	}
	id, secret := env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")
	if region == "" || id == "" || secret == "" {
		return aws.Config{}, fmt.Errorf("aws config: AWS_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set (Lambda and the local runner set them)")
	}
	return aws.Config{
		Region:      region,
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(id, secret, env("AWS_SESSION_TOKEN"))),
	}, nil
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
