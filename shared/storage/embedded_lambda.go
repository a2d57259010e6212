//go:build lantau_lambda

package storage

import (
	"errors"

	"github.com/lantau-hq/lantau/shared/table"
)

func openEmbedded(string) (table.Store, error) {
	return nil, errors.New("LANTAU_TABLE_PATH is set, but Lambda builds have no embedded store: unset it to use DynamoDB (TABLE_NAME)")
}
