//go:build lantau_local

package storage

import (
	"context"
	"errors"

	"github.com/lantau-hq/lantau/shared/function"
	"github.com/lantau-hq/lantau/shared/table"
)

func openDynamo(context.Context, function.Env, string) (table.Store, error) {
	return nil, errors.New("this build of the local runner has no DynamoDB client: set LANTAU_TABLE_PATH (the runner always does)")
}
