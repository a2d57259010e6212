//go:build !lantau_local

package storage

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lantau-hq/lantau/shared/awsconfig"
	"github.com/lantau-hq/lantau/shared/dynamo"
	"github.com/lantau-hq/lantau/shared/function"
	"github.com/lantau-hq/lantau/shared/table"
)

func openDynamo(ctx context.Context, env function.Env, name string) (table.Store, error) {
	cfg, err := awsconfig.Load(ctx, env)
	if err != nil {
		return nil, err
	}
	client := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = awsconfig.Endpoint(env, "DynamoDB") })
	return dynamo.New(client, name, table.Lantau), nil
}
