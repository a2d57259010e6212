// Package function is the contract between a Lambda's main, the local runner
// and a function's handler: configuration comes in as an Env, the handler is
// built by a Constructor, and main only starts it.
package function

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
)

// Env reads one configuration variable. On Lambda it is os.Getenv; the local
// runner passes the function's own Environment from template.yaml, so many
// functions can live in one process with their own settings.
type Env func(key string) string

// MapEnv turns a map into an Env.
func MapEnv(m map[string]string) Env {
	return func(k string) string { return m[k] }
}

// Constructor builds a function's handler from its configuration. The same
// constructor is called by the function's main on Lambda and by the runner.
type Constructor func(ctx context.Context, env Env) (lambda.Handler, error)

// Main is the whole body of a function's main: build the handler from the
// process environment and hand it to the Lambda runtime.
func Main(build Constructor) {
	ctx := context.Background()
	h, err := build(ctx, os.Getenv)
	if err != nil {
		slog.New(slog.NewJSONHandler(os.Stderr, nil)).Error("function failed to start", "error", err.Error())
		os.Exit(1)
	}
	lambda.StartWithOptions(h, lambda.WithContext(ctx))
}

// HTTP serves a net/http handler as an API Gateway HTTP API (payload 2.0)
// function, through aws-lambda-go-api-proxy.
func HTTP(h http.Handler) lambda.Handler {
	return httpFunction{adapter: httpadapter.NewV2(h)}
}

// httpFunction decodes the event and encodes the answer itself: one JSON
// pass each way, no reflection, and a fresh output buffer per call.
type httpFunction struct {
	adapter *httpadapter.HandlerAdapterV2
}

func (f httpFunction) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var req events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(payload, &req); err != nil {
		return nil, fmt.Errorf("not an API Gateway HTTP API event: %w", err)
	}
	resp, err := f.adapter.ProxyWithContext(ctx, req)
	if err != nil {
		return nil, err
	}
	return json.Marshal(resp)
}

// Base is the configuration every function shares.
type Base struct {
	FunctionName string
	Region       string
	LogLevel     slog.Level
}

// LoadBase reads the shared settings. LOG_LEVEL is DEBUG, INFO, WARN or ERROR.
func LoadBase(env Env) (Base, error) {
	b := Base{FunctionName: env("AWS_LAMBDA_FUNCTION_NAME"), Region: env("AWS_REGION"), LogLevel: slog.LevelInfo}
	if lvl := env("LOG_LEVEL"); lvl != "" {
		if err := b.LogLevel.UnmarshalText([]byte(lvl)); err != nil {
			return b, fmt.Errorf("LOG_LEVEL %q: %w", lvl, err)
		}
	}
	return b, nil
}

// Require returns the values of the named variables, or one error naming every missing one.
func Require(env Env, keys ...string) (map[string]string, error) {
	out := make(map[string]string, len(keys))
	var missing []string
	for _, k := range keys {
		v := env(k)
		if v == "" {
			missing = append(missing, k)
		}
		out[k] = v
	}
	if len(missing) > 0 {
		return out, errors.New("missing configuration: " + strings.Join(missing, ", "))
	}
	return out, nil
}
