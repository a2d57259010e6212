// Package storage opens the table store a function's environment names:
// the embedded SQLite file when the local runner set LANTAU_TABLE_PATH,
// otherwise the DynamoDB table TABLE_NAME through aws-sdk-go-v2.
package storage

import (
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lantau-hq/lantau/shared/awsconfig"
	"github.com/lantau-hq/lantau/shared/dynamo"
	"github.com/lantau-hq/lantau/shared/function"
	"github.com/lantau-hq/lantau/shared/sqlite"
	"github.com/lantau-hq/lantau/shared/table"
)

// embedded holds one open SQLite store per file for the whole process: the
// runner hosts many functions (and many instances of each) in one process,
// and they must share one writer rather than contend on the file.
var embedded struct {
	sync.Mutex
	stores map[string]*sqlite.Store
}

// OpenTable returns the function's table store.
func OpenTable(ctx context.Context, env function.Env) (table.Store, error) {
	if path := env("LANTAU_TABLE_PATH"); path != "" {
		embedded.Lock()
		defer embedded.Unlock()
		if s, ok := embedded.stores[path]; ok {
			return s, nil
		}
		s, err := sqlite.Open(path, table.Lantau)
		if err != nil {
			return nil, fmt.Errorf("embedded table %s: %w", path, err)
		}
		if embedded.stores == nil {
			embedded.stores = map[string]*sqlite.Store{}
		}
		embedded.stores[path] = s
		return s, nil
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
