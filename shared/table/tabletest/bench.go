package tabletest

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/table"
)

// Meter measures something besides time over a benchmark's timed loop:
// it is called on the store just before the loop, and the function it
// returns just after, to report what it counted with b.ReportMetric.
type Meter func(b *testing.B, s table.Store) (report func())

// Bench runs the store benchmarks, the same workloads for every
// implementation, as sub-benchmarks of b:
//
//	func BenchmarkStore(b *testing.B) {
//		tabletest.Bench(b, func(b *testing.B) table.Store { return open(b) })
//	}
//
// newStore is called once per sub-benchmark and must return an empty store
// (or one whose tenant "t-acme" is empty) that it cleans up with b.Cleanup.
func Bench(b *testing.B, newStore func(b *testing.B) table.Store, meters ...Meter) {
	for _, bm := range benchmarks {
		b.Run(bm.name, func(b *testing.B) {
			s := newStore(b)
			if bm.setup != nil {
				bm.setup(b, s)
			}
			var reports []func()
			for _, m := range meters {
				reports = append(reports, m(b, s))
			}
			bm.run(b, s)
			for _, r := range reports {
				r()
			}
		})
	}
}

var benchmarks = []struct {
	name  string
	setup func(*testing.B, table.Store)
	run   func(*testing.B, table.Store)
}{
	{"Get", func(b *testing.B, s table.Store) { seed(b, s, "USER#u-1", 1000) }, benchGet},
	{"PutConditional", nil, benchPutConditional},
	{"Query100", func(b *testing.B, s table.Store) { seed(b, s, "USER#u-1", 1000) }, benchQuery100},
	{"Transact2", func(b *testing.B, s table.Store) {
		require.NoError(b, s.Put(b.Context(), benchBalance, table.Always))
	}, benchTransact2},
}

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

// benchBalance is the item every Transact2 iteration updates.
var benchBalance = table.Item{Key: table.Key{Tenant: "t-acme", PK: "LEAVE#u-1", SK: "BALANCE"}, Version: 0}

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

func benchGet(b *testing.B, s table.Store) {
	ctx := b.Context()
	for i := 0; b.Loop(); i++ {
		if _, err := s.Get(ctx, benchItem("USER#u-1", (i*7919)%1000).Key); err != nil {
			b.Fatal(err)
		}
	}
}

func benchPutConditional(b *testing.B, s table.Store) {
	ctx := b.Context()
	for i := 0; b.Loop(); i++ {
		if err := s.Put(ctx, benchItem("USER#u-1", i), table.IfNotExists); err != nil {
			b.Fatal(err)
		}
	}
}

func benchQuery100(b *testing.B, s table.Store) {
	ctx := b.Context()
	q := table.Query{Tenant: "t-acme", PK: "USER#u-1", SortOp: table.SortBeginsWith, Value: "CLOCK#", Limit: 100}
	for b.Loop() {
		page, err := s.Query(ctx, q)
		if err != nil || len(page.Items) != 100 {
			b.Fatal(err, len(page.Items))
		}
	}
}

func benchTransact2(b *testing.B, s table.Store) {
	ctx := b.Context()
	for i := 0; b.Loop(); i++ {
		req := benchItem("LEAVE#u-1", i)
		next := benchBalance
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
