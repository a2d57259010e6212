package dynamo_test

import (
	"sync"
	"testing"

	"github.com/lantau-hq/lantau/shared/dynamo"
	"github.com/lantau-hq/lantau/shared/table"
	"github.com/lantau-hq/lantau/shared/table/tabletest"
)

// The same workloads as shared/bolt's benchmarks, against DynamoDB Local.
// Besides time they report the capacity units DynamoDB Local says each
// operation consumed (WCU/op, RCU/op): what the operation would cost on AWS.
func BenchmarkStore(b *testing.B) {
	tabletest.Bench(b, func(b *testing.B) table.Store {
		s, _, _ := newStore(b)
		return s
	}, capacityPerOp)
}

// capacityPerOp counts what OnConsumed reports during the timed loop and
// reports it per iteration.
func capacityPerOp(b *testing.B, s table.Store) func() {
	var (
		mu       sync.Mutex
		wcu, rcu float64
	)
	s.(*dynamo.Store).OnConsumed = func(_ string, w, r float64) {
		mu.Lock()
		wcu += w
		rcu += r
		mu.Unlock()
	}
	return func() {
		mu.Lock()
		defer mu.Unlock()
		b.ReportMetric(wcu/float64(b.N), "WCU/op")
		b.ReportMetric(rcu/float64(b.N), "RCU/op")
	}
}
