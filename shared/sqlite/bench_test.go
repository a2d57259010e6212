package sqlite_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/table"
)

// benchDoc is a typical small document (an attendance record).
var benchDoc = []byte(`{"employeeId":"e-1024","at":"2026-11-25T09:00:00+08:00","kind":"in","lat":22.2819,"lng":114.1582,"device":"ios-17"}`)

func benchItem(pk string, i int) table.Item {
	return table.Item{
		Key:     table.Key{Tenant: "t-acme", PK: pk, SK: fmt.Sprintf("CLOCK#%08d", i)},
		Index:   map[string]string{"GSI1PK": "DAY#2026-11-25", "GSI1SK": fmt.Sprintf("%08d", i)},
		Version: 1,
		Data:    benchDoc,
	}
}

func seed(b *testing.B, s table.Store, pk string, n int) {
	b.Helper()
	for start := 0; start < n; start += table.MaxTransactOps {
		var ops []table.Op
		for i := start; i < min(n, start+table.MaxTransactOps); i++ {
			it := benchItem(pk, i)
			ops = append(ops, table.Op{Put: &it})
		}
		require.NoError(b, s.Transact(b.Context(), ops))
	}
}

func BenchmarkGet(b *testing.B) {
	s := open(b, filepath.Join(b.TempDir(), "bench.db"))
	seed(b, s, "USER#u-1", 1000)
	ctx := b.Context()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := s.Get(ctx, benchItem("USER#u-1", (i*7919)%1000).Key); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPutConditional(b *testing.B) {
	s := open(b, filepath.Join(b.TempDir(), "bench.db"))
	ctx := b.Context()
	for i := 0; b.Loop(); i++ {
		if err := s.Put(ctx, benchItem("USER#u-1", i), table.IfNotExists); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkQuery100(b *testing.B) {
	s := open(b, filepath.Join(b.TempDir(), "bench.db"))
	seed(b, s, "USER#u-1", 1000)
	ctx := b.Context()
	q := table.Query{Tenant: "t-acme", PK: "USER#u-1", SortOp: table.SortBeginsWith, Value: "CLOCK#", Limit: 100}
	b.ResetTimer()
	for b.Loop() {
		page, err := s.Query(ctx, q)
		if err != nil || len(page.Items) != 100 {
			b.Fatal(err, len(page.Items))
		}
	}
}

func BenchmarkTransact2(b *testing.B) {
	s := open(b, filepath.Join(b.TempDir(), "bench.db"))
	ctx := b.Context()
	balance := table.Item{Key: table.Key{Tenant: "t-acme", PK: "LEAVE#u-1", SK: "BALANCE"}, Version: 0}
	require.NoError(b, s.Put(ctx, balance, table.Always))
	for i := 0; b.Loop(); i++ {
		req := benchItem("LEAVE#u-1", i)
		next := balance
		next.Version = int64(i + 1)
		err := s.Transact(ctx, []table.Op{
			{Put: &req, Condition: table.IfNotExists},
			{Put: &next, Condition: table.IfVersion(int64(i))},
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
