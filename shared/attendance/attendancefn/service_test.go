package attendancefn_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/attendance"
	"github.com/lantau-hq/lantau/shared/attendance/attendancefn"
	"github.com/lantau-hq/lantau/shared/bolt"
	"github.com/lantau-hq/lantau/shared/table"
)

// countingStore counts the queries made of a store.
type countingStore struct {
	table.Store
	queries atomic.Int64
}

func (c *countingStore) Query(ctx context.Context, q table.Query) (table.Page, error) {
	c.queries.Add(1)
	return c.Store.Query(ctx, q)
}

// The 9:00 rush must not read the company's set-up on every punch.
func TestService_ReadsACompanysRulesOnceWithinTheTTL(t *testing.T) {
	b, err := bolt.Open(filepath.Join(t.TempDir(), "t.db"), table.Lantau)
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	store := &countingStore{Store: b}
	svc := attendancefn.NewService(store, nil, nil, nil, nil)
	_, err = svc.Store.SaveShift(context.Background(), "c-1", attendance.Shift{ID: "day", Start: "09:00", End: "18:00"})
	require.NoError(t, err)

	before := store.queries.Load()
	for range 5 {
		r, err := svc.Rules(context.Background(), "c-1")
		require.NoError(t, err)
		require.Len(t, r.Shifts, 1)
	}
	assert.Equal(t, int64(1), store.queries.Load()-before, "one read for five punches")
	_, err = svc.Rules(context.Background(), "c-2")
	require.NoError(t, err)
	assert.Equal(t, int64(2), store.queries.Load()-before, "each company its own entry")
}
