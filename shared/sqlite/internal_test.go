package sqlite

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/table"
)

func TestOpen_IsDurableWALWithOneWriter(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "lantau.db"), table.Lantau)
	require.NoError(t, err)
	defer s.Close()
	var mode string
	var sync, busy int
	require.NoError(t, s.w.QueryRow("PRAGMA journal_mode").Scan(&mode))
	require.NoError(t, s.w.QueryRow("PRAGMA synchronous").Scan(&sync))
	require.NoError(t, s.w.QueryRow("PRAGMA busy_timeout").Scan(&busy))
	assert.Equal(t, "wal", mode)
	assert.Equal(t, 2, sync, "synchronous=FULL")
	assert.Positive(t, busy)
	assert.Equal(t, 1, s.w.Stats().MaxOpenConnections)
	var queryOnly int
	require.NoError(t, s.r.QueryRow("PRAGMA query_only").Scan(&queryOnly))
	assert.Equal(t, 1, queryOnly, "readers cannot write")
}

// TestQuery_PlansUseTheKeyIndexes guards against a query that SQLite would
// answer with a scan or a sort: every shape must walk an index in order.
func TestQuery_PlansUseTheKeyIndexes(t *testing.T) {
	s, err := Open(":memory:", table.Lantau)
	require.NoError(t, err)
	defer s.Close()
	ctx := t.Context()
	for _, q := range []table.Query{
		{Tenant: "t", PK: "p"},
		{Tenant: "t", PK: "p", SortOp: table.SortBeginsWith, Value: "a", Reverse: true},
		{Tenant: "t", Index: "GSI1", PK: "p"},
		{Tenant: "t", Index: "GSI1", PK: "p", SortOp: table.SortBetween, Value: "a", Value2: "b", Reverse: true},
	} {
		// Fill a page so the query has a cursor, then run its continuation.
		for i := range 3 {
			require.NoError(t, s.Put(ctx, table.Item{Key: table.Key{Tenant: "t", PK: "p", SK: "a" + string(rune('0'+i))},
				Index: map[string]string{"GSI1PK": "p", "GSI1SK": "a" + string(rune('0'+i))}}, table.Always))
		}
		q.Limit = 1
		page, err := s.Query(ctx, q)
		require.NoError(t, err)
		require.NotEmpty(t, page.Cursor)
		q.Cursor = page.Cursor
		_, err = s.Query(ctx, q)
		require.NoError(t, err)
	}
	n := 0
	s.queries.Range(func(k, _ any) bool {
		n++
		query := k.(string)
		rows, err := s.r.Query("EXPLAIN QUERY PLAN "+query, "t", "p", 1, "a", "b", "c", "d", "e", 2)
		require.NoError(t, err)
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			require.NoError(t, rows.Scan(&id, &parent, &notused, &detail))
			plan = append(plan, detail)
		}
		require.NoError(t, rows.Close())
		joined := strings.Join(plan, "; ")
		assert.Contains(t, joined, "USING INDEX", query)
		assert.NotContains(t, joined, "TEMP B-TREE", query)
		t.Logf("%s\n  -> %s", query, joined)
		return true
	})
	assert.Equal(t, 8, n)
}

func TestOpen_RebuildsRedefinedAndDropsRemovedIndexes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lantau.db")
	indexes := func(s *Store) map[string]string {
		rows, err := s.r.Query(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name LIKE 'gsi%'`)
		require.NoError(t, err)
		defer rows.Close()
		out := map[string]string{}
		for rows.Next() {
			var name, def string
			require.NoError(t, rows.Scan(&name, &def))
			out[name] = def
		}
		return out
	}
	two := table.Schema{PK: "PK", SK: "SK", TTL: "ttl", Indexes: []table.IndexSchema{
		{Name: "GSI1", PK: "GSI1PK", SK: "GSI1SK"}, {Name: "GSI2", PK: "GSI2PK", SK: "GSI2SK"}}}
	s, err := Open(path, two)
	require.NoError(t, err)
	require.NoError(t, s.Put(t.Context(), table.Item{Key: table.Key{Tenant: "t", PK: "p", SK: "s"},
		Index: map[string]string{"GSI1PK": "a", "GSI2SK": "z"}}, table.Always))
	assert.Len(t, indexes(s), 2)
	require.NoError(t, s.Close())

	// GSI1 now sorts on GSI2SK; GSI2 is gone.
	one := table.Schema{PK: "PK", SK: "SK", TTL: "ttl", Indexes: []table.IndexSchema{{Name: "GSI1", PK: "GSI1PK", SK: "GSI2SK"}}}
	s, err = Open(path, one)
	require.NoError(t, err)
	defer s.Close()
	got := indexes(s)
	require.Len(t, got, 1)
	assert.Contains(t, got["gsi_GSI1"], `"a_GSI2SK"`)
	page, err := s.Query(t.Context(), table.Query{Tenant: "t", Index: "GSI1", PK: "a"})
	require.NoError(t, err)
	require.Len(t, page.Items, 1, "the rebuilt index holds the old item")
	assert.Equal(t, map[string]string{"GSI1PK": "a", "GSI2SK": "z"}, page.Items[0].Index)
}
