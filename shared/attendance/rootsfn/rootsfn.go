// Package rootsfn builds the attendance functions that keep the daily
// signed roots (the admin API, which serves and proves against them, and
// the nightly root job) with their S3 and SSM adapters. It is apart from
// attendancefn so that the clock-in binary, on the 9:00 rush's path,
// links neither client.
package rootsfn

import (
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lantau-hq/lantau/shared/attendance/attendancefn"
	"github.com/lantau-hq/lantau/shared/awsconfig"
	"github.com/lantau-hq/lantau/shared/function"
	"github.com/lantau-hq/lantau/shared/keyparam"
)

// NewAPI is the constructor of functions/attendance.
func NewAPI(ctx context.Context, env function.Env) (lambda.Handler, error) {
	return attendancefn.Builder{Roots: Adapters}.API(ctx, env)
}

// NewDailyRoot is the constructor of functions/attendanceroot.
func NewDailyRoot(ctx context.Context, env function.Env) (lambda.Handler, error) {
	return attendancefn.Builder{Roots: Adapters}.DailyRoot(ctx, env)
}

// Adapters are the root signer (an Ed25519 seed in SSM, read when first
// needed) and the S3 root store of a function's configuration.
func Adapters(cfg aws.Config, env function.Env, c attendancefn.Config) (attendancefn.SignerSource, attendancefn.RootStore) {
	return LazySigner(keyparam.NewClient(cfg, env), c.KeyParameterPrefix+attendancefn.SigningKeyParameter),
		&S3Roots{API: NewS3Client(cfg, env), Bucket: c.RootsBucket}
}

// NewS3Client is an S3 client from the function's environment (path-style
// against the local runner).
func NewS3Client(cfg aws.Config, env function.Env) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = awsconfig.Endpoint(env, s3.ServiceID)
		o.UsePathStyle = o.BaseEndpoint != nil // the local runner serves path-style
	})
}

// LazySigner reads (or, the very first time, creates) the signing seed, a
// SecureString parameter, through keyparam when it is first needed, not at
// start: a cold start calls no SSM, and only the routes that sign or show
// the key wait for it. A failed read is tried again at the next call.
func LazySigner(api keyparam.GetPutAPI, name string) attendancefn.SignerSource {
	var mu sync.Mutex
	var signer *attendancefn.Signer
	return func(ctx context.Context) (*attendancefn.Signer, error) {
		mu.Lock()
		defer mu.Unlock()
		if signer != nil {
			return signer, nil
		}
		seed, err := keyparam.SealKey(ctx, api, name) // 32 random bytes, created once, never overwritten
		if err != nil {
			return nil, fmt.Errorf("root signing key: %w", err)
		}
		if signer, err = attendancefn.NewSigner(seed); err != nil {
			return nil, err
		}
		return signer, nil
	}
}
