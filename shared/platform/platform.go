// Package platform opens what every Lantau function stands on: its base
// configuration, its logger, the table, the AWS SDK configuration and the
// event bus. Constructors call Open once, at init, and build their
// capability on top; on AWS and under the local runner alike (the runner
// sets the endpoints and the embedded table path).
package platform

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/lantau-hq/lantau/shared/awsconfig"
	"github.com/lantau-hq/lantau/shared/eventbridge"
	"github.com/lantau-hq/lantau/shared/function"
	"github.com/lantau-hq/lantau/shared/logging"
	"github.com/lantau-hq/lantau/shared/storage"
	"github.com/lantau-hq/lantau/shared/table"
)

// Platform is a function's foundations.
type Platform struct {
	Base  function.Base
	Log   *slog.Logger
	Store table.Store
	AWS   aws.Config
	Bus   *eventbridge.Publisher
}

// Open reads env and opens the table, the AWS configuration and the bus.
func Open(ctx context.Context, env function.Env) (*Platform, error) {
	base, err := function.LoadBase(env)
	if err != nil {
		return nil, err
	}
	store, err := storage.OpenTable(ctx, env)
	if err != nil {
		return nil, err
	}
	cfg, err := awsconfig.Load(ctx, env)
	if err != nil {
		return nil, err
	}
	bus, err := eventbridge.NewFromEnv(cfg, env)
	if err != nil {
		return nil, err
	}
	return &Platform{Base: base, Log: logging.New(os.Stdout, base.FunctionName, base.LogLevel), Store: store, AWS: cfg, Bus: bus}, nil
}
