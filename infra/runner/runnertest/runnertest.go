// Package runnertest starts the local runner with no functions, for tests
// of the adapters that talk to its AWS endpoint (SSM Parameter Store, SES,
// S3, EventBridge) through aws-sdk-go-v2.
//
// Like net/http/httptest it is meant for tests only; it fails the test it
// is given rather than returning errors.
package runnertest

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/infra/runner"
	"github.com/lantau-hq/lantau/shared/function"
)

// Region is the region the runner answers in.
const Region = "ap-east-1"

// emptyStack is the smallest template the runner serves: a bus, no functions.
const emptyStack = `AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  EventBus:
    Type: AWS::Events::EventBus
    Properties:
      Name: runnertest
`

// AWS is a running runner's AWS endpoint.
type AWS struct {
	Runner   *runner.Runner
	Endpoint string     // base URL, http://127.0.0.1:port
	DataDir  string     // the runner's data directory (ssm-parameters.json, outbox/, ...)
	Config   aws.Config // the runner's region and credentials; set BaseEndpoint to Endpoint
}

// Options tune Start.
type Options struct {
	// DataDir is the data directory; "" means a new temporary one. Start
	// again on the same directory to see what a restart keeps.
	DataDir string
	// MailEcho gets the runner's copy of each mail; nil means none.
	MailEcho io.Writer
}

// Start runs a runner with no functions until the test ends (or Close).
func Start(t testing.TB, o Options) *AWS {
	t.Helper()
	if o.DataDir == "" {
		o.DataDir = t.TempDir()
	}
	if o.MailEcho == nil {
		o.MailEcho = io.Discard
	}
	tmpl := filepath.Join(t.TempDir(), "template.yaml")
	require.NoError(t, os.WriteFile(tmpl, []byte(emptyStack), 0o644))
	r, err := runner.New(context.Background(), runner.Config{
		Template: tmpl, Constructors: map[string]function.Constructor{}, DataDir: o.DataDir,
		Addr: "127.0.0.1:0", AWSAddr: "127.0.0.1:0", Region: Region, NoSchedules: true,
		Logger: slog.New(slog.DiscardHandler), MailEcho: o.MailEcho,
	})
	require.NoError(t, err)
	r.Start()
	t.Cleanup(func() { _ = r.Close() })
	return &AWS{
		Runner: r, Endpoint: r.AWSEndpoint(), DataDir: o.DataDir,
		Config: aws.Config{
			Region:      Region,
			Credentials: credentials.NewStaticCredentialsProvider(runner.AccessKeyID, runner.SecretAccessKey, ""),
		},
	}
}

// Env is a function environment pointing every AWS service at the runner,
// as the runner sets it for its functions, plus vars (name, value pairs).
func (a *AWS) Env(vars ...string) function.Env {
	env := map[string]string{
		"AWS_REGION": Region, "AWS_ACCESS_KEY_ID": runner.AccessKeyID, "AWS_SECRET_ACCESS_KEY": runner.SecretAccessKey,
		"AWS_ENDPOINT_URL": a.Endpoint,
	}
	for i := 0; i+1 < len(vars); i += 2 {
		env[vars[i]] = vars[i+1]
	}
	return function.MapEnv(env)
}
