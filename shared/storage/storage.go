// Package storage opens the table store a function's environment names:
// the embedded bbolt file when the local runner set LANTAU_TABLE_PATH,
// otherwise the DynamoDB table TABLE_NAME through aws-sdk-go-v2.
//
// Lambda builds (tag lantau_lambda) leave the embedded store out: it would
// add megabytes to every function and is never used there.
package storage

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lantau-hq/lantau/shared/awsconfig"
	"github.com/lantau-hq/lantau/shared/dynamo"
	"github.com/lantau-hq/lantau/shared/function"
	"github.com/lantau-hq/lantau/shared/table"
)

// OpenTable returns the function's table store.
func OpenTable(ctx context.Context, env function.Env) (table.Store, error) {
	if path := env("LANTAU_TABLE_PATH"); path != "" {
		return openEmbedded(path)
	}
	name := env("TABLE_NAME")
	if name == "" {
		return nil, fmt.Errorf("missing configuration: TABLE_NAME (or LANTAU_TABLE_PATH for the embedded store)")
	}
	cfg, err := awsconfig.Load(ctx, env)
	if err != nil {
		return nil, err
	}
	client := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = awsconfig.Endpoint(env, "DynamoDB") })
	return dynamo.New(client, name, table.Lantau), nil
}
