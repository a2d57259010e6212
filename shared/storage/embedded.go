//go:build !lantau_lambda

package storage

import (
	"fmt"
	"sync"

	"github.com/lantau-hq/lantau/shared/bolt"
	"github.com/lantau-hq/lantau/shared/table"
)

// embedded holds one open bbolt store per file for the whole process: the
// runner hosts many functions (and many instances of each) in one process,
// and bbolt lets only one process open a file, so they share it.
var embedded struct {
	sync.Mutex
	stores map[string]*bolt.Store
}

func openEmbedded(path string) (table.Store, error) {
	embedded.Lock()
	defer embedded.Unlock()
	if s, ok := embedded.stores[path]; ok {
		return s, nil
	}
	s, err := bolt.Open(path, table.Lantau)
	if err != nil {
		return nil, fmt.Errorf("embedded table %s: %w", path, err)
	}
	if embedded.stores == nil {
		embedded.stores = map[string]*bolt.Store{}
	}
	embedded.stores[path] = s
	return s, nil
}
