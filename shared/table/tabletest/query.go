package tabletest

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/table"
)

// sortValues are the sort keys of the sort-op partition, in byte order.
var sortValues = []string{"a", "b", "b#1", "b#2", "c", "d"}

var sortCases = []struct {
	name          string
	op            table.SortOp
	value, value2 string
	want          []string // forward order
}{
	{"Any", table.SortAny, "", "", sortValues},
	{"Eq", table.SortEq, "b", "", []string{"b"}},
	{"Eq nothing", table.SortEq, "bb", "", nil},
	{"BeginsWith", table.SortBeginsWith, "b", "", []string{"b", "b#1", "b#2"}},
	{"BeginsWith separator", table.SortBeginsWith, "b#", "", []string{"b#1", "b#2"}},
	{"Between", table.SortBetween, "b#1", "c", []string{"b#1", "b#2", "c"}},
	{"Between one value", table.SortBetween, "b", "b", []string{"b"}},
	{"LT", table.SortLT, "b#1", "", []string{"a", "b"}},
	{"LE", table.SortLE, "b#1", "", []string{"a", "b", "b#1"}},
	{"GT", table.SortGT, "b#2", "", []string{"c", "d"}},
	{"GE", table.SortGE, "b#2", "", []string{"b#2", "c", "d"}},
	{"GT nothing", table.SortGT, "d", "", nil},
}

// testSortOps runs every sort condition, both ways, on the table or on GSI1.
func testSortOps(t *testing.T, s table.Store, index string) {
	tenant := newTenant(t)
	pk := "SORT"
	var ops []table.Op
	for i, v := range sortValues {
		it := table.Item{Version: int64(i), Data: []byte(`{}`)}
		if index == "" {
			it.Key = table.Key{Tenant: tenant, PK: pk, SK: v}
		} else {
			// Table sort keys in another order than the index's.
			it.Key = table.Key{Tenant: tenant, PK: "ITEM", SK: fmt.Sprintf("%02d", len(sortValues)-i)}
			it.Index = map[string]string{"GSI1PK": pk, "GSI1SK": v}
		}
		ops = append(ops, table.Op{Put: &it})
	}
	// Neighbouring partitions whose names share a prefix with pk.
	for _, other := range []string{"SOR", "SORT#", "SORTX"} {
		it := table.Item{Key: table.Key{Tenant: tenant, PK: other, SK: "b"}}
		if index != "" {
			it.Key.PK = "OTHER" + other
			it.Index = map[string]string{"GSI1PK": other, "GSI1SK": "b"}
		}
		ops = append(ops, table.Op{Put: &it})
	}
	require.NoError(t, s.Transact(t.Context(), ops))

	sortKey := func(it table.Item) string {
		if index == "" {
			return it.SK
		}
		return it.Index["GSI1SK"]
	}
	for _, tc := range sortCases {
		for _, reverse := range []bool{false, true} {
			name := tc.name
			want := slices.Clone(tc.want)
			if reverse {
				name += " reverse"
				slices.Reverse(want)
			}
			t.Run(name, func(t *testing.T) {
				page, err := s.Query(t.Context(), table.Query{Tenant: tenant, Index: index, PK: pk,
					SortOp: tc.op, Value: tc.value, Value2: tc.value2, Reverse: reverse})
				require.NoError(t, err)
				var got []string
				for _, it := range page.Items {
					got = append(got, sortKey(it))
					assert.Equal(t, tenant, it.Tenant)
				}
				assert.Equal(t, want, got)
				assert.Empty(t, page.Cursor, "a page under its limit is the last")
			})
		}
	}
}

func testQueryLimit(t *testing.T, s table.Store) {
	ctx := t.Context()
	tenant := newTenant(t)
	seed := func(pk string, n int) {
		t.Helper()
		for start := 0; start < n; start += table.MaxTransactOps {
			var ops []table.Op
			for i := start; i < min(n, start+table.MaxTransactOps); i++ {
				ops = append(ops, table.Op{Put: &table.Item{Key: table.Key{Tenant: tenant, PK: pk, SK: fmt.Sprintf("%04d", i)}}})
			}
			require.NoError(t, s.Transact(ctx, ops))
		}
	}
	seed("FIVE", 5)
	seed("MANY", 150)

	t.Run("pages of 2", func(t *testing.T) {
		page, err := s.Query(ctx, table.Query{Tenant: tenant, PK: "FIVE", Limit: 2})
		require.NoError(t, err)
		assert.Equal(t, []string{"0000", "0001"}, sortKeys(page.Items))
		assert.NotEmpty(t, page.Cursor)
		all := drain(t, s, table.Query{Tenant: tenant, PK: "FIVE", Limit: 2})
		assert.Equal(t, []string{"0000", "0001", "0002", "0003", "0004"}, sortKeys(all))
		all = drain(t, s, table.Query{Tenant: tenant, PK: "FIVE", Limit: 2, Reverse: true})
		assert.Equal(t, []string{"0004", "0003", "0002", "0001", "0000"}, sortKeys(all))
	})
	t.Run("default limit is 100", func(t *testing.T) {
		page, err := s.Query(ctx, table.Query{Tenant: tenant, PK: "MANY"})
		require.NoError(t, err)
		assert.Len(t, page.Items, 100)
		assert.NotEmpty(t, page.Cursor)
	})
	t.Run("limit 1000", func(t *testing.T) {
		page, err := s.Query(ctx, table.Query{Tenant: tenant, PK: "MANY", Limit: table.MaxQueryLimit})
		require.NoError(t, err)
		assert.Len(t, page.Items, 150)
		assert.Empty(t, page.Cursor)
	})
}

func testPagination(t *testing.T, s table.Store) {
	const n = 1000
	tenant := newTenant(t)
	sk := func(i int) string { return fmt.Sprintf("ITEM#%04d", i) }
	// Ten items share each GSI1 sort key: ties must not lose or repeat items.
	gsk := func(i int) string { return fmt.Sprintf("G#%03d", (i*7919)%n/10) }

	var wg sync.WaitGroup
	errs := make([]error, n/table.MaxTransactOps)
	for b := range errs {
		wg.Go(func() {
			ops := make([]table.Op, 0, table.MaxTransactOps)
			for i := b * table.MaxTransactOps; i < (b+1)*table.MaxTransactOps; i++ {
				ops = append(ops, table.Op{Put: &table.Item{
					Key:     table.Key{Tenant: tenant, PK: "PAGE", SK: sk(i)},
					Index:   map[string]string{"GSI1PK": "GPAGE", "GSI1SK": gsk(i)},
					Version: int64(i),
				}})
			}
			errs[b] = s.Transact(t.Context(), ops)
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	all := make([]string, n)
	for i := range all {
		all[i] = sk(i)
	}
	reversed := slices.Clone(all)
	slices.Reverse(reversed)

	t.Run("table forward", func(t *testing.T) {
		assert.Equal(t, all, sortKeys(drain(t, s, table.Query{Tenant: tenant, PK: "PAGE", Limit: 100})))
	})
	t.Run("table reverse", func(t *testing.T) {
		assert.Equal(t, reversed, sortKeys(drain(t, s, table.Query{Tenant: tenant, PK: "PAGE", Limit: 100, Reverse: true})))
	})
	t.Run("table between, odd limit", func(t *testing.T) {
		got := drain(t, s, table.Query{Tenant: tenant, PK: "PAGE", Limit: 33,
			SortOp: table.SortBetween, Value: sk(100), Value2: sk(499)})
		assert.Equal(t, all[100:500], sortKeys(got))
		got = drain(t, s, table.Query{Tenant: tenant, PK: "PAGE", Limit: 33, Reverse: true,
			SortOp: table.SortBetween, Value: sk(100), Value2: sk(499)})
		assert.Equal(t, reversed[500:900], sortKeys(got))
	})
	for _, reverse := range []bool{false, true} {
		t.Run(fmt.Sprintf("GSI1 with ties reverse=%v", reverse), func(t *testing.T) {
			got := drain(t, s, table.Query{Tenant: tenant, Index: "GSI1", PK: "GPAGE", Limit: 64, Reverse: reverse})
			seen := map[string]int{}
			for i, it := range got {
				seen[it.SK]++
				if i > 0 {
					prev, cur := got[i-1].Index["GSI1SK"], it.Index["GSI1SK"]
					if reverse {
						prev, cur = cur, prev
					}
					require.LessOrEqual(t, prev, cur, "GSI1 sort order at %d", i)
				}
				require.Equal(t, gsk(int(it.Version)), it.Index["GSI1SK"])
			}
			assert.Len(t, got, n, "no item missed or repeated")
			assert.Len(t, seen, n, "no item missed or repeated")
		})
	}
}

func testBadCursors(t *testing.T, s table.Store) {
	ctx := t.Context()
	tenantA, tenantB := newTenant(t), newTenant(t)
	var ops []table.Op
	for _, tenant := range []string{tenantA, tenantB} {
		for _, pk := range []string{"P", "Q"} {
			for i := range 3 {
				ops = append(ops, table.Op{Put: &table.Item{
					Key:   table.Key{Tenant: tenant, PK: pk, SK: fmt.Sprint(i)},
					Index: map[string]string{"GSI1PK": pk, "GSI1SK": fmt.Sprint(i)},
				}})
			}
		}
	}
	require.NoError(t, s.Transact(ctx, ops))

	first, err := s.Query(ctx, table.Query{Tenant: tenantA, PK: "P", Limit: 1})
	require.NoError(t, err)
	require.NotEmpty(t, first.Cursor)
	cursor := first.Cursor

	next, err := s.Query(ctx, table.Query{Tenant: tenantA, PK: "P", Limit: 1, Cursor: cursor})
	require.NoError(t, err, "the cursor works where it came from")
	assert.Equal(t, []string{"1"}, sortKeys(next.Items))

	cases := []struct {
		name string
		q    table.Query
	}{
		{"garbage", table.Query{Tenant: tenantA, PK: "P", Cursor: "not a cursor!"}},
		{"empty JSON", table.Query{Tenant: tenantA, PK: "P", Cursor: "e30"}},
		{"truncated", table.Query{Tenant: tenantA, PK: "P", Cursor: cursor[:len(cursor)/2]}},
		{"another tenant's", table.Query{Tenant: tenantB, PK: "P", Cursor: cursor}},
		{"another partition's", table.Query{Tenant: tenantA, PK: "Q", Cursor: cursor}},
		{"the table's on an index", table.Query{Tenant: tenantA, Index: "GSI1", PK: "P", Cursor: cursor}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			page, err := s.Query(ctx, tc.q)
			assert.ErrorIs(t, err, table.ErrBadCursor)
			assert.Empty(t, page.Items)
		})
	}
}
