// Package storage opens the table store a function's environment names:
// the embedded bbolt file when the local runner set LANTAU_TABLE_PATH,
// otherwise the DynamoDB table TABLE_NAME through aws-sdk-go-v2.
//
// Each build leaves out what it never uses: Lambda builds (tag
// lantau_lambda) have no embedded store, and the runner's own build for
// `make run` (tag lantau_local) has no DynamoDB client, which keeps the
// first `make run` on a fresh machine quick. Plain builds and tests have both.
package storage

import (
	"context"
	"fmt"

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
	return openDynamo(ctx, env, name)
}
