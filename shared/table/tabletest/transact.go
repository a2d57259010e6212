package tabletest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/table"
)

// requireTxError checks that err is a cancelled transaction naming op index.
func requireTxError(t *testing.T, err error, index int) {
	t.Helper()
	require.ErrorIs(t, err, table.ErrConditionFailed)
	var txErr *table.TxError
	require.True(t, errors.As(err, &txErr), "want a *table.TxError, got %T: %v", err, err)
	assert.Equal(t, index, txErr.Index, "TxError.Index names the failed operation")
}

func testTransactAtomic(t *testing.T, s table.Store) {
	ctx := t.Context()
	tenant := newTenant(t)
	k := func(sk string) table.Key { return table.Key{Tenant: tenant, PK: "TX", SK: sk} }
	for _, sk := range []string{"b", "c", "d", "e"} {
		put(t, s, table.Item{Key: k(sk), Version: 1, Data: []byte(`"before"`),
			Index: map[string]string{"GSI1PK": "TXG", "GSI1SK": sk}})
	}
	ops := func(dVersion int64) []table.Op {
		return []table.Op{
			{Put: &table.Item{Key: k("a"), Version: 1, Index: map[string]string{"GSI1PK": "TXG", "GSI1SK": "a"}}, Condition: table.IfNotExists},
			{Delete: ptr(k("b"))},
			{Put: &table.Item{Key: k("c"), Version: 2, Data: []byte(`"after"`)}, Condition: table.IfVersion(1)},
			{Put: &table.Item{Key: k("d"), Version: 2, Data: []byte(`"after"`)}, Condition: table.IfVersion(dVersion)},
			{Check: ptr(k("e")), Condition: table.IfExists},
			{Delete: ptr(k("f")), Condition: table.IfNotExists},
		}
	}

	err := s.Transact(ctx, ops(7))
	requireTxError(t, err, 3)
	assertMissing(t, s, k("a"), "op 0 was applied")
	assertVersion(t, s, k("b"), 1, "op 1 was applied")
	assertVersion(t, s, k("c"), 1, "op 2 was applied")
	assertVersion(t, s, k("d"), 1, "op 3 was applied")
	page, err := s.Query(ctx, table.Query{Tenant: tenant, Index: "GSI1", PK: "TXG"})
	require.NoError(t, err)
	assert.Equal(t, []string{"b", "c", "d", "e"}, sortKeys(page.Items), "GSI1 unchanged")

	require.NoError(t, s.Transact(ctx, ops(1)))
	assertVersion(t, s, k("a"), 1)
	assertMissing(t, s, k("b"))
	got, err := s.Get(ctx, k("c"))
	require.NoError(t, err)
	assertItem(t, table.Item{Key: k("c"), Version: 2, Data: []byte(`"after"`)}, got)
	assertVersion(t, s, k("d"), 2)
	page, err = s.Query(ctx, table.Query{Tenant: tenant, Index: "GSI1", PK: "TXG"})
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "e"}, sortKeys(page.Items), "GSI1 follows the transaction")
}

func testTransactCheck(t *testing.T, s table.Store) {
	ctx := t.Context()
	tenant := newTenant(t)
	balance := table.Key{Tenant: tenant, PK: "LEAVE#u-1", SK: "BALANCE"}
	put(t, s, table.Item{Key: balance, Version: 5})
	request := func(n int) table.Item {
		return table.Item{Key: table.Key{Tenant: tenant, PK: "LEAVE#u-1", SK: fmt.Sprintf("REQ#%d", n)}, Version: 1}
	}

	cases := []struct {
		name string
		cond table.Condition
		ok   bool
	}{
		{"IfVersion match", table.IfVersion(5), true},
		{"IfVersion mismatch", table.IfVersion(4), false},
		{"IfExists", table.IfExists, true},
		{"IfNotExists", table.IfNotExists, false},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := request(i)
			err := s.Transact(ctx, []table.Op{{Put: &req, Condition: table.IfNotExists}, {Check: &balance, Condition: tc.cond}})
			if tc.ok {
				require.NoError(t, err)
				assertVersion(t, s, req.Key, 1)
			} else {
				requireTxError(t, err, 1)
				assertMissing(t, s, req.Key)
			}
			assertVersion(t, s, balance, 5, "a check never writes")
		})
	}
	t.Run("missing item", func(t *testing.T) {
		missing := table.Key{Tenant: tenant, PK: "LEAVE#u-1", SK: "NOPE"}
		req := request(99)
		err := s.Transact(ctx, []table.Op{{Put: &req}, {Check: &missing, Condition: table.IfExists}})
		requireTxError(t, err, 1)
		assertMissing(t, s, req.Key)
		assertMissing(t, s, missing, "a check never writes")
	})
}

func testTransactLimits(t *testing.T, s table.Store) {
	ctx := t.Context()
	tenant := newTenant(t)
	k := func(i int) table.Key { return table.Key{Tenant: tenant, PK: "LIMIT", SK: fmt.Sprintf("%03d", i)} }
	// Items 0..39 exist; the 100-op transaction puts 40..99, deletes 0..19 and checks 20..39.
	var seed []table.Op
	for i := range 40 {
		seed = append(seed, table.Op{Put: &table.Item{Key: k(i), Version: 1}})
	}
	require.NoError(t, s.Transact(ctx, seed))

	ops := make([]table.Op, 0, table.MaxTransactOps+1)
	for i := range table.MaxTransactOps {
		switch {
		case i < 20:
			ops = append(ops, table.Op{Delete: ptr(k(i)), Condition: table.IfVersion(1)})
		case i < 40:
			ops = append(ops, table.Op{Check: ptr(k(i)), Condition: table.IfExists})
		default:
			ops = append(ops, table.Op{Put: &table.Item{Key: k(i), Version: 2}, Condition: table.IfNotExists})
		}
	}
	tooMany := append(ops[:len(ops):len(ops)], table.Op{Put: &table.Item{Key: k(100), Version: 2}})
	err := s.Transact(ctx, tooMany)
	require.ErrorIs(t, err, table.ErrInvalid, "101 operations")
	assertVersion(t, s, k(0), 1, "a refused transaction wrote nothing")
	assertMissing(t, s, k(40), "a refused transaction wrote nothing")

	require.NoError(t, s.Transact(ctx, ops), "100 operations")
	page, err := s.Query(ctx, table.Query{Tenant: tenant, PK: "LIMIT", Limit: table.MaxQueryLimit})
	require.NoError(t, err)
	require.Len(t, page.Items, 80)
	for i, it := range page.Items {
		want := int64(1)
		if i >= 20 {
			want = 2
		}
		assert.Equal(t, k(i+20), it.Key)
		assert.Equal(t, want, it.Version, it.SK)
	}
}

func ptr[T any](v T) *T { return &v }
