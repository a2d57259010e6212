package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/lantau-hq/lantau/shared/table"
	"github.com/lantau-hq/lantau/shared/table/tabletest"
)

func BenchmarkStore(b *testing.B) {
	tabletest.Bench(b, func(b *testing.B) table.Store {
		return open(b, filepath.Join(b.TempDir(), "bench.db"))
	})
}
