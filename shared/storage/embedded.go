//go:build !lantau_lambda

package storage

import (
	"fmt"
	"sync"

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

func openEmbedded(path string) (table.Store, error) {
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
