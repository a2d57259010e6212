package tabletest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/table"
)

func testRoundTrip(t *testing.T, s table.Store) {
	ctx := t.Context()
	tenant := newTenant(t)
	want := table.Item{
		Key:       table.Key{Tenant: tenant, PK: "USER#u-1", SK: "PROFILE"},
		Index:     map[string]string{"GSI1PK": "EMAIL#chan@acme.com.hk", "GSI1SK": "USER#u-1"},
		Version:   7,
		ExpiresAt: time.Now().Add(time.Hour).Unix(),
		// Exact bytes: odd spacing, escapes and non-ASCII must survive.
		Data: []byte(" {\"name\":\"陳大文\",  \"note\":\"a\\u0000b\",\n\"emoji\":\"😀\"}\t"),
	}
	require.NoError(t, s.Put(ctx, want, table.Always))

	got, err := s.Get(ctx, want.Key)
	require.NoError(t, err)
	assertItem(t, want, got)

	page, err := s.Query(ctx, table.Query{Tenant: tenant, PK: want.PK})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	assertItem(t, want, page.Items[0], "table query")

	page, err = s.Query(ctx, table.Query{Tenant: tenant, Index: "GSI1", PK: "EMAIL#chan@acme.com.hk"})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	assertItem(t, want, page.Items[0], "GSI1 query")

	require.NoError(t, s.Delete(ctx, want.Key, table.Always))
	assertMissing(t, s, want.Key)
	page, err = s.Query(ctx, table.Query{Tenant: tenant, Index: "GSI1", PK: "EMAIL#chan@acme.com.hk"})
	require.NoError(t, err)
	assert.Empty(t, page.Items, "deleted item left in GSI1")

	// Deleting what is not there is not an error (DynamoDB's DeleteItem).
	assert.NoError(t, s.Delete(ctx, want.Key, table.Always))
}

func testPutReplaces(t *testing.T, s table.Store) {
	ctx := t.Context()
	tenant := newTenant(t)
	key := table.Key{Tenant: tenant, PK: "DOC#1", SK: "META"}
	put(t, s, table.Item{Key: key, Version: 1, ExpiresAt: time.Now().Add(time.Hour).Unix(),
		Index: map[string]string{"GSI1PK": "FOLDER#a", "GSI1SK": "DOC#1"}, Data: []byte(`{"v":1}`)})
	second := table.Item{Key: key, Version: 2, Data: []byte(`{"v":2}`)}
	put(t, s, second)

	got, err := s.Get(ctx, key)
	require.NoError(t, err)
	assertItem(t, second, got, "a put replaces every attribute, index and TTL included")
	page, err := s.Query(ctx, table.Query{Tenant: tenant, Index: "GSI1", PK: "FOLDER#a"})
	require.NoError(t, err)
	assert.Empty(t, page.Items, "an item without GSI1PK is not in GSI1")

	// Moving an item within the index.
	third := table.Item{Key: key, Version: 3, Data: []byte(`{}`),
		Index: map[string]string{"GSI1PK": "FOLDER#b", "GSI1SK": "DOC#1"}}
	put(t, s, third)
	page, err = s.Query(ctx, table.Query{Tenant: tenant, Index: "GSI1", PK: "FOLDER#b"})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	assertItem(t, third, page.Items[0])
}

func testValidation(t *testing.T, s table.Store) {
	tenant := newTenant(t)
	good := table.Key{Tenant: tenant, PK: "P", SK: "S"}
	badKeys := map[string]table.Key{
		"no tenant": {PK: "P", SK: "S"},
		"no PK":     {Tenant: tenant, SK: "S"},
		"no SK":     {Tenant: tenant, PK: "P"},
	}
	type call func(ctx context.Context) error
	cases := map[string]call{}
	for name, k := range badKeys {
		cases["Get "+name] = func(ctx context.Context) error { _, err := s.Get(ctx, k); return err }
		cases["Put "+name] = func(ctx context.Context) error { return s.Put(ctx, table.Item{Key: k}, table.Always) }
		cases["Delete "+name] = func(ctx context.Context) error { return s.Delete(ctx, k, table.Always) }
		cases["BatchGet "+name] = func(ctx context.Context) error { _, err := s.BatchGet(ctx, []table.Key{good, k}); return err }
		cases["Transact put "+name] = func(ctx context.Context) error {
			return s.Transact(ctx, []table.Op{{Put: &table.Item{Key: good}}, {Put: &table.Item{Key: k}}})
		}
	}
	query := func(q table.Query) call {
		return func(ctx context.Context) error { _, err := s.Query(ctx, q); return err }
	}
	cases["Query no tenant"] = query(table.Query{PK: "P"})
	cases["Query no PK"] = query(table.Query{Tenant: tenant})
	cases["Query unknown index"] = query(table.Query{Tenant: tenant, Index: "NOPE", PK: "P"})
	cases["Query negative limit"] = query(table.Query{Tenant: tenant, PK: "P", Limit: -1})
	cases["Query limit over MaxQueryLimit"] = query(table.Query{Tenant: tenant, PK: "P", Limit: table.MaxQueryLimit + 1})
	cases["Query between upside down"] = query(table.Query{Tenant: tenant, PK: "P", SortOp: table.SortBetween, Value: "b", Value2: "a"})
	cases["Query unknown sort op"] = query(table.Query{Tenant: tenant, PK: "P", SortOp: 200, Value: "a"})
	cases["Query not UTF-8"] = query(table.Query{Tenant: tenant, PK: "P\xff"})
	// Key limits count the tenant as DynamoDB stores it, escaped: this key
	// fits with the tenant as given, not once "#" and "%" are escaped.
	escaped := tenant + "#%"
	long := strings.Repeat("p", table.MaxPartitionKey-len(escaped)-1)
	cases["Put key too long once the tenant is escaped"] = func(ctx context.Context) error {
		return s.Put(ctx, table.Item{Key: table.Key{Tenant: escaped, PK: long, SK: "S"}}, table.Always)
	}
	cases["BatchGet duplicate keys"] = func(ctx context.Context) error { _, err := s.BatchGet(ctx, []table.Key{good, good}); return err }
	cases["Transact two ops on one key"] = func(ctx context.Context) error {
		return s.Transact(ctx, []table.Op{{Put: &table.Item{Key: good}}, {Check: &good, Condition: table.IfNotExists}})
	}
	cases["Transact op doing nothing"] = func(ctx context.Context) error {
		return s.Transact(ctx, []table.Op{{Put: &table.Item{Key: good}}, {Condition: table.IfExists}})
	}
	cases["Transact op doing two things"] = func(ctx context.Context) error {
		other := table.Key{Tenant: tenant, PK: "P", SK: "S2"}
		return s.Transact(ctx, []table.Op{{Put: &table.Item{Key: good}, Delete: &other}})
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			assert.ErrorIs(t, c(t.Context()), table.ErrInvalid)
		})
	}
	assertMissing(t, s, good, "a refused request wrote nothing")

	// The longest keys the limits allow are stored.
	longest := table.Key{Tenant: escaped, PK: strings.Repeat("p", table.MaxPartitionKey-len(table.TenantPrefix(escaped))),
		SK: strings.Repeat("s", table.MaxSortKey-len(table.TenantPrefix(escaped)))}
	require.NoError(t, s.Put(t.Context(), table.Item{Key: longest}, table.Always), "keys at the limits")
	assertVersion(t, s, longest, 0)
}

// conditionCases cover every condition against a missing, a live (version 3)
// and an expired (version 3) item.
var conditionCases = []struct {
	name  string
	state string // "missing", "live", "expired"
	cond  table.Condition
	ok    bool
}{
	{"Always over missing", "missing", table.Always, true},
	{"Always over live", "live", table.Always, true},
	{"IfNotExists over missing", "missing", table.IfNotExists, true},
	{"IfNotExists over live", "live", table.IfNotExists, false},
	{"IfNotExists over expired", "expired", table.IfNotExists, true},
	{"IfExists over missing", "missing", table.IfExists, false},
	{"IfExists over live", "live", table.IfExists, true},
	{"IfExists over expired", "expired", table.IfExists, false},
	{"IfVersion match", "live", table.IfVersion(3), true},
	{"IfVersion mismatch", "live", table.IfVersion(4), false},
	{"IfVersion over missing", "missing", table.IfVersion(0), false},
	{"IfVersion over expired", "expired", table.IfVersion(3), false},
}

// seedState writes the item a condition case starts from.
func seedState(t *testing.T, s table.Store, key table.Key, state string) {
	t.Helper()
	switch state {
	case "live":
		put(t, s, table.Item{Key: key, Version: 3, Data: []byte(`"old"`)})
	case "expired":
		put(t, s, table.Item{Key: key, Version: 3, ExpiresAt: time.Now().Add(-time.Hour).Unix(), Data: []byte(`"old"`)})
	}
}

func testPutConditions(t *testing.T, s table.Store) {
	tenant := newTenant(t)
	for i, tc := range conditionCases {
		t.Run(tc.name, func(t *testing.T) {
			key := table.Key{Tenant: tenant, PK: "COND", SK: fmt.Sprintf("put#%02d", i)}
			seedState(t, s, key, tc.state)
			err := s.Put(t.Context(), table.Item{Key: key, Version: 9, Data: []byte(`"new"`)}, tc.cond)
			switch {
			case tc.ok:
				require.NoError(t, err)
				assertVersion(t, s, key, 9)
			case tc.state == "live":
				require.ErrorIs(t, err, table.ErrConditionFailed)
				assertVersion(t, s, key, 3, "a failed put changed the item")
			default:
				require.ErrorIs(t, err, table.ErrConditionFailed)
				assertMissing(t, s, key, "a failed put wrote the item")
			}
		})
	}
}

func testDeleteConditions(t *testing.T, s table.Store) {
	tenant := newTenant(t)
	for i, tc := range conditionCases {
		t.Run(tc.name, func(t *testing.T) {
			key := table.Key{Tenant: tenant, PK: "COND", SK: fmt.Sprintf("del#%02d", i)}
			seedState(t, s, key, tc.state)
			err := s.Delete(t.Context(), key, tc.cond)
			if !tc.ok {
				require.ErrorIs(t, err, table.ErrConditionFailed)
			} else {
				require.NoError(t, err)
			}
			if !tc.ok && tc.state == "live" {
				assertVersion(t, s, key, 3, "a failed delete removed the item")
			} else {
				assertMissing(t, s, key)
			}
		})
	}
}

func testConcurrentWriters(t *testing.T, s table.Store) {
	const writers = 20
	tenant := newTenant(t)
	race := func(t *testing.T, write func(ctx context.Context, w int) error) (winner int) {
		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
			errs  = make([]error, writers)
			ctx   = t.Context()
		)
		winner = -1
		for w := range writers {
			wg.Go(func() {
				<-start
				errs[w] = write(ctx, w)
			})
		}
		close(start)
		wg.Wait()
		wins := 0
		for w, err := range errs {
			if err == nil {
				wins++
				winner = w
				continue
			}
			assert.ErrorIs(t, err, table.ErrConditionFailed, "writer %d", w)
		}
		require.Equal(t, 1, wins, "exactly one writer must win")
		return winner
	}

	t.Run("IfVersion", func(t *testing.T) {
		key := table.Key{Tenant: tenant, PK: "COUNTER", SK: "v"}
		put(t, s, table.Item{Key: key, Version: 1})
		w := race(t, func(ctx context.Context, w int) error {
			return s.Put(ctx, table.Item{Key: key, Version: 2, Data: fmt.Appendf(nil, "%d", w)}, table.IfVersion(1))
		})
		got, err := s.Get(t.Context(), key)
		require.NoError(t, err)
		assert.Equal(t, int64(2), got.Version)
		assert.Equal(t, fmt.Sprint(w), string(got.Data), "the stored item is the winner's")
	})
	t.Run("IfNotExists", func(t *testing.T) {
		key := table.Key{Tenant: tenant, PK: "COUNTER", SK: "new"}
		w := race(t, func(ctx context.Context, w int) error {
			return s.Put(ctx, table.Item{Key: key, Version: 1, Data: fmt.Appendf(nil, "%d", w)}, table.IfNotExists)
		})
		got, err := s.Get(t.Context(), key)
		require.NoError(t, err)
		assert.Equal(t, fmt.Sprint(w), string(got.Data), "the stored item is the winner's")
	})
	t.Run("Transact", func(t *testing.T) {
		key := table.Key{Tenant: tenant, PK: "COUNTER", SK: "tx"}
		put(t, s, table.Item{Key: key, Version: 1})
		race(t, func(ctx context.Context, w int) error {
			other := table.Item{Key: table.Key{Tenant: tenant, PK: "COUNTER", SK: fmt.Sprintf("tx#%02d", w)}, Version: 1}
			err := s.Transact(ctx, []table.Op{
				{Put: &table.Item{Key: key, Version: 2}, Condition: table.IfVersion(1)},
				{Put: &other},
			})
			return err
		})
		assertVersion(t, s, key, 2)
		page, err := s.Query(t.Context(), table.Query{Tenant: tenant, PK: "COUNTER", SortOp: table.SortBeginsWith, Value: "tx#"})
		require.NoError(t, err)
		assert.Len(t, page.Items, 1, "the losers' other writes were not applied")
	})
}

func testBatchGet(t *testing.T, s table.Store) {
	ctx := t.Context()
	tenant := newTenant(t)
	key := func(i int) table.Key { return table.Key{Tenant: tenant, PK: "BATCH", SK: fmt.Sprintf("%03d", i)} }
	// Items 0..99, even ones present, multiples of 10 expired.
	var ops []table.Op
	for i := 0; i < 100; i += 2 {
		it := table.Item{Key: key(i), Version: int64(i), Data: fmt.Appendf(nil, `{"i":%d}`, i)}
		if i%10 == 0 {
			it.ExpiresAt = time.Now().Add(-time.Hour).Unix()
		}
		ops = append(ops, table.Op{Put: &it})
	}
	require.NoError(t, s.Transact(ctx, ops))

	t.Run("order and missing keys", func(t *testing.T) {
		got, err := s.BatchGet(ctx, []table.Key{key(8), key(3), key(2), key(10), key(6)})
		require.NoError(t, err)
		assert.Equal(t, []string{"008", "002", "006"}, sortKeys(got), "found items in key order; missing and expired skipped")
		for _, it := range got {
			assert.Equal(t, tenant, it.Tenant)
			assert.Equal(t, fmt.Sprintf(`{"i":%d}`, it.Version), string(it.Data))
		}
	})
	t.Run("100 keys", func(t *testing.T) {
		keys := make([]table.Key, 100)
		var want []string
		for i := range keys {
			j := 99 - i // reverse order
			keys[i] = key(j)
			if j%2 == 0 && j%10 != 0 {
				want = append(want, fmt.Sprintf("%03d", j))
			}
		}
		got, err := s.BatchGet(ctx, keys)
		require.NoError(t, err)
		assert.Equal(t, want, sortKeys(got))
	})
	t.Run("101 keys refused", func(t *testing.T) {
		keys := make([]table.Key, table.MaxBatchGetKeys+1)
		for i := range keys {
			keys[i] = key(i)
		}
		_, err := s.BatchGet(ctx, keys)
		assert.ErrorIs(t, err, table.ErrInvalid)
	})
	t.Run("nothing found", func(t *testing.T) {
		got, err := s.BatchGet(ctx, []table.Key{key(1), key(3)})
		require.NoError(t, err)
		assert.Empty(t, got)
	})
}
