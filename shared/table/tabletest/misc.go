package tabletest

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/table"
)

func testTTL(t *testing.T, s table.Store) {
	ctx := t.Context()
	tenant := newTenant(t)
	past, future := time.Now().Add(-time.Hour).Unix(), time.Now().Add(time.Hour).Unix()
	k := func(i int) table.Key { return table.Key{Tenant: tenant, PK: "SESSION", SK: fmt.Sprintf("%02d", i)} }
	// Ten items, the odd ones expired; the limit of 2 cuts pages among them.
	var ops []table.Op
	var live []string
	for i := range 10 {
		it := table.Item{Key: k(i), Version: 1, ExpiresAt: future,
			Index: map[string]string{"GSI1PK": "SESSIONS", "GSI1SK": k(i).SK}}
		if i%2 == 1 {
			it.ExpiresAt = past
		} else {
			live = append(live, it.SK)
		}
		ops = append(ops, table.Op{Put: &it})
	}
	require.NoError(t, s.Transact(ctx, ops))

	_, err := s.Get(ctx, k(1))
	assert.ErrorIs(t, err, table.ErrNotFound, "Get of an expired item")
	got, err := s.Get(ctx, k(0))
	require.NoError(t, err)
	assert.Equal(t, future, got.ExpiresAt)

	items, err := s.BatchGet(ctx, []table.Key{k(1), k(2), k(3), k(4)})
	require.NoError(t, err)
	assert.Equal(t, []string{"02", "04"}, sortKeys(items), "BatchGet skips expired items")

	assert.Equal(t, live, sortKeys(drain(t, s, table.Query{Tenant: tenant, PK: "SESSION", Limit: 2})),
		"table query skips expired items and its cursor goes on past short pages")
	assert.Equal(t, live, sortKeys(drain(t, s, table.Query{Tenant: tenant, Index: "GSI1", PK: "SESSIONS", Limit: 2})),
		"GSI1 query skips expired items")

	require.NoError(t, s.Put(ctx, table.Item{Key: k(1), Version: 2}, table.IfNotExists), "IfNotExists over an expired item")
	assertVersion(t, s, k(1), 2)
	assert.NoError(t, s.Transact(ctx, []table.Op{{Check: ptr(k(3)), Condition: table.IfNotExists}}),
		"check IfNotExists over an expired item")
	err = s.Transact(ctx, []table.Op{{Put: &table.Item{Key: k(10)}}, {Check: ptr(k(5)), Condition: table.IfExists}})
	requireTxError(t, err, 1)
}

func testTenantIsolation(t *testing.T, s table.Store) {
	ctx := t.Context()
	a, b := newTenant(t), newTenant(t)
	keyA := table.Key{Tenant: a, PK: "USER#u-1", SK: "PROFILE"}
	keyB := table.Key{Tenant: b, PK: "USER#u-1", SK: "PROFILE"}
	put(t, s, table.Item{Key: keyA, Version: 1, Data: []byte(`"a"`),
		Index: map[string]string{"GSI1PK": "EMAIL#x@acme.com.hk", "GSI1SK": "USER#u-1"}})

	_, err := s.Get(ctx, keyB)
	assert.ErrorIs(t, err, table.ErrNotFound, "Get")
	items, err := s.BatchGet(ctx, []table.Key{keyB})
	require.NoError(t, err)
	assert.Empty(t, items, "BatchGet")
	page, err := s.Query(ctx, table.Query{Tenant: b, PK: "USER#u-1"})
	require.NoError(t, err)
	assert.Empty(t, page.Items, "table query")
	page, err = s.Query(ctx, table.Query{Tenant: b, Index: "GSI1", PK: "EMAIL#x@acme.com.hk"})
	require.NoError(t, err)
	assert.Empty(t, page.Items, "GSI1 query")
	assert.ErrorIs(t, s.Put(ctx, table.Item{Key: keyB}, table.IfExists), table.ErrConditionFailed, "IfExists")
	assert.ErrorIs(t, s.Delete(ctx, keyB, table.IfVersion(1)), table.ErrConditionFailed, "Delete IfVersion")
	err = s.Transact(ctx, []table.Op{{Check: &keyB, Condition: table.IfExists}})
	requireTxError(t, err, 0)

	// Writes in b leave a alone.
	require.NoError(t, s.Put(ctx, table.Item{Key: keyB, Version: 9, Data: []byte(`"b"`)}, table.IfNotExists))
	require.NoError(t, s.Delete(ctx, keyB, table.Always))
	got, err := s.Get(ctx, keyA)
	require.NoError(t, err)
	assert.Equal(t, `"a"`, string(got.Data))
	assert.Equal(t, int64(1), got.Version)

	// A tenant name must not let one company reach into another's keys
	// through the separator: either it is refused or the keys stay apart.
	tricky := table.Key{Tenant: a + "#USER", PK: "u-1", SK: "PROFILE"}
	err = s.Put(ctx, table.Item{Key: tricky, Data: []byte(`"tricky"`)}, table.IfNotExists)
	if err != nil {
		assert.ErrorIs(t, err, table.ErrInvalid)
	} else {
		got, err := s.Get(ctx, tricky)
		require.NoError(t, err)
		assert.Equal(t, `"tricky"`, string(got.Data))
	}
	got, err = s.Get(ctx, keyA)
	require.NoError(t, err)
	assert.Equal(t, `"a"`, string(got.Data))
	page, err = s.Query(ctx, table.Query{Tenant: a, PK: "USER#u-1"})
	require.NoError(t, err)
	assert.Len(t, page.Items, 1)
}

func testItemSize(t *testing.T, s table.Store) {
	ctx := t.Context()
	tenant := newTenant(t)
	base := table.Item{
		Key:       table.Key{Tenant: tenant, PK: "FILE#f-1", SK: "BLOB"},
		Index:     map[string]string{"GSI1PK": "FOLDER#d-1", "GSI1SK": "FILE#f-1"},
		Version:   1,
		ExpiresAt: time.Now().Add(time.Hour).Unix(),
	}
	sized := func(n int) table.Item {
		it := base
		it.Data = bytes.Repeat([]byte("x"), n-table.ItemSize(base))
		require.Equal(t, n, table.ItemSize(it))
		return it
	}
	under, over := sized(table.MaxItemSize), sized(table.MaxItemSize+1)

	require.ErrorIs(t, s.Put(ctx, over, table.Always), table.ErrTooLarge, "Put")
	assertMissing(t, s, base.Key)
	other := table.Item{Key: table.Key{Tenant: tenant, PK: "FILE#f-1", SK: "META"}}
	require.ErrorIs(t, s.Transact(ctx, []table.Op{{Put: &other}, {Put: &over}}), table.ErrTooLarge, "Transact")
	assertMissing(t, s, other.Key, "a refused transaction wrote nothing")

	require.NoError(t, s.Put(ctx, under, table.IfNotExists), "an item of exactly MaxItemSize")
	got, err := s.Get(ctx, base.Key)
	require.NoError(t, err)
	assertItem(t, under, got)
	require.NoError(t, s.Transact(ctx, []table.Op{{Put: &under, Condition: table.IfVersion(1)}}), "Transact of MaxItemSize")
}

func testUnicodeKeys(t *testing.T, s table.Store) {
	ctx := t.Context()
	tenant := newTenant(t)
	pk := "部門#銷售#員工"
	// In UTF-8 byte order (which is code point order; UTF-16 would put 😀 before ｡).
	order := []string{"A", "a", "z", "é", "中", "中國", "中文#1", "中文#2", "ｱ", "😀"}
	var ops []table.Op
	for i, sk := range order {
		ops = append(ops, table.Op{Put: &table.Item{Key: table.Key{Tenant: tenant, PK: pk, SK: sk}, Version: int64(i),
			Index: map[string]string{"GSI1PK": "名冊#" + pk, "GSI1SK": sk}, Data: []byte(`{"名":"陳"}`)}})
	}
	// Reverse insertion order, so storage order proves nothing.
	for i, j := 0, len(ops)-1; i < j; i, j = i+1, j-1 {
		ops[i], ops[j] = ops[j], ops[i]
	}
	require.NoError(t, s.Transact(ctx, ops))

	got, err := s.Get(ctx, table.Key{Tenant: tenant, PK: pk, SK: "中國"})
	require.NoError(t, err)
	assert.Equal(t, `{"名":"陳"}`, string(got.Data))
	assert.Equal(t, "名冊#"+pk, got.Index["GSI1PK"])

	assert.Equal(t, order, sortKeys(drain(t, s, table.Query{Tenant: tenant, PK: pk, Limit: 3})), "table order")
	var gsks []string
	for _, it := range drain(t, s, table.Query{Tenant: tenant, Index: "GSI1", PK: "名冊#" + pk, Limit: 3}) {
		gsks = append(gsks, it.Index["GSI1SK"])
	}
	assert.Equal(t, order, gsks, "GSI1 order")

	page, err := s.Query(ctx, table.Query{Tenant: tenant, PK: pk, SortOp: table.SortBeginsWith, Value: "中文#"})
	require.NoError(t, err)
	assert.Equal(t, []string{"中文#1", "中文#2"}, sortKeys(page.Items))
	page, err = s.Query(ctx, table.Query{Tenant: tenant, PK: pk, SortOp: table.SortBeginsWith, Value: "中"})
	require.NoError(t, err)
	assert.Equal(t, []string{"中", "中國", "中文#1", "中文#2"}, sortKeys(page.Items))
	page, err = s.Query(ctx, table.Query{Tenant: tenant, PK: pk, SortOp: table.SortGT, Value: "ｱ"})
	require.NoError(t, err)
	assert.Equal(t, []string{"😀"}, sortKeys(page.Items))
	page, err = s.Query(ctx, table.Query{Tenant: tenant, PK: "部門#銷售", SortOp: table.SortAny})
	require.NoError(t, err)
	assert.Empty(t, page.Items, "a partition key is not a prefix match")
}

func testContextCancelled(t *testing.T, s table.Store) {
	tenant := newTenant(t)
	key := table.Key{Tenant: tenant, PK: "CTX", SK: "1"}
	existing := table.Key{Tenant: tenant, PK: "CTX", SK: "0"}
	put(t, s, table.Item{Key: existing, Version: 1})

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	calls := map[string]func() error{
		"Get":      func() error { _, err := s.Get(ctx, existing); return err },
		"BatchGet": func() error { _, err := s.BatchGet(ctx, []table.Key{existing}); return err },
		"Put":      func() error { return s.Put(ctx, table.Item{Key: key}, table.Always) },
		"Delete":   func() error { return s.Delete(ctx, existing, table.Always) },
		"Query":    func() error { _, err := s.Query(ctx, table.Query{Tenant: tenant, PK: "CTX"}); return err },
		"Transact": func() error { return s.Transact(ctx, []table.Op{{Put: &table.Item{Key: key}}}) },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			assert.ErrorIs(t, call(), context.Canceled)
		})
	}
	assertMissing(t, s, key, "a cancelled write wrote nothing")
	assertVersion(t, s, existing, 1, "a cancelled delete deleted nothing")
}
