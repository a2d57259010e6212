package main

import (
	"context"
	"fmt"

	"github.com/lantau-hq/lantau/shared/table"
)

// The table workloads are those of the stores' own Go benchmarks
// (shared/bolt and shared/dynamo bench_test.go), run concurrently.

// benchDoc is a typical small document (an attendance record).
var benchDoc = []byte(`{"employeeId":"e-1024","at":"2026-11-25T09:00:00+08:00","kind":"in","lat":22.2819,"lng":114.1582,"device":"ios-17"}`)

// seedPK is the partition that get and query read.
const seedPK = "CLOCK#u-1"

func benchItem(pk string, i int) table.Item {
	return table.Item{
		Key:     table.Key{Tenant: benchTenant, PK: pk, SK: fmt.Sprintf("CLOCK#%08d", i)},
		Index:   map[string]string{"GSI1PK": "DAY#2026-11-25", "GSI1SK": fmt.Sprintf("%08d", i)},
		Version: 1,
		Data:    benchDoc,
	}
}

// measureTable seeds the table, then measures each operation in turn.
func (b *backend) measureTable(ctx context.Context) ([]opStats, error) {
	if err := seed(ctx, b.store, seedPK, seedItems); err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	leave, err := newLeaveBalances(ctx, b.store, tableWorkers)
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	workloads := []struct {
		name string
		call callFunc
	}{
		{"get", getSeeded(b.store)},
		{"put if not exists", putNew(b.store)},
		{fmt.Sprintf("query %d items", queryItems), queryPage(b.store)},
		{"transact 2 items", leave.approve},
	}
	var all []opStats
	for _, w := range workloads {
		s, err := b.measure(ctx, w.name, tableWorkers, w.call)
		if err != nil {
			return all, err
		}
		all = append(all, s)
	}
	return all, nil
}

// seed writes n items into partition pk, a full transaction at a time.
func seed(ctx context.Context, s table.Store, pk string, n int) error {
	for start := 0; start < n; start += table.MaxTransactOps {
		var ops []table.Op
		for i := start; i < min(n, start+table.MaxTransactOps); i++ {
			it := benchItem(pk, i)
			ops = append(ops, table.Op{Put: &it})
		}
		if err := s.Transact(ctx, ops); err != nil {
			return err
		}
	}
	return nil
}

// getSeeded reads the seeded items in a scattered order.
func getSeeded(s table.Store) callFunc {
	return func(ctx context.Context, _, seq int) error {
		_, err := s.Get(ctx, benchItem(seedPK, seq*7919%seedItems).Key)
		return err
	}
}

// putNew writes a new item under a conditional put that must not find one.
func putNew(s table.Store) callFunc {
	return func(ctx context.Context, _, seq int) error {
		return s.Put(ctx, benchItem("CLOCK#u-2", seq), table.IfNotExists)
	}
}

// queryPage reads the first queryItems items of the seeded partition.
func queryPage(s table.Store) callFunc {
	q := table.Query{Tenant: benchTenant, PK: seedPK, SortOp: table.SortBeginsWith, Value: "CLOCK#", Limit: queryItems}
	return func(ctx context.Context, _, _ int) error {
		page, err := s.Query(ctx, q)
		if err == nil && len(page.Items) != queryItems {
			err = fmt.Errorf("query returned %d items, want %d", len(page.Items), queryItems)
		}
		return err
	}
}

// leaveBalances is the 2-item transaction: file a new leave request (put if
// not exists) and move a leave balance on (put if version), as approving
// leave does. Each worker owns a balance, so transactions never conflict.
type leaveBalances struct {
	store    table.Store
	versions []int64 // by worker; each worker touches only its own
}

func newLeaveBalances(ctx context.Context, s table.Store, workers int) (*leaveBalances, error) {
	l := &leaveBalances{store: s, versions: make([]int64, workers)}
	for w := range workers {
		if err := s.Put(ctx, balanceItem(w, 0), table.IfNotExists); err != nil {
			return nil, err
		}
	}
	return l, nil
}

func balanceItem(worker int, version int64) table.Item {
	return table.Item{
		Key:     table.Key{Tenant: benchTenant, PK: fmt.Sprintf("BALANCE#u-%d", worker), SK: "ANNUAL"},
		Version: version, Data: []byte(`{"days":14}`),
	}
}

func (l *leaveBalances) approve(ctx context.Context, worker, seq int) error {
	v := l.versions[worker]
	request := benchItem("LEAVE#u-1", seq)
	balance := balanceItem(worker, v+1)
	err := l.store.Transact(ctx, []table.Op{
		{Put: &request, Condition: table.IfNotExists},
		{Put: &balance, Condition: table.IfVersion(v)},
	})
	if err == nil {
		l.versions[worker] = v + 1
	}
	return err
}
