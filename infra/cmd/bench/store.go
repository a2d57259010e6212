package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lantau-hq/lantau/infra/dynamolocal"
	"github.com/lantau-hq/lantau/shared/bolt"
	"github.com/lantau-hq/lantau/shared/dynamo"
	"github.com/lantau-hq/lantau/shared/table"
)

// Every table and audit measurement: warmFor of unmeasured calls (DynamoDB
// Local's JVM compiles its hot paths; SQLite fills its page cache), then
// measureFor or maxCalls calls, whichever ends first.
const (
	warmFor    = 500 * time.Millisecond
	measureFor = 3 * time.Second
	maxCalls   = 500_000

	tableWorkers = 4
	seedItems    = 1000 // in one partition, for get and query
	queryItems   = 100
	benchTenant  = "t-bench"
	benchTable   = "lantau-bench"

	embeddedName = "bolt"
	dynamoName   = "dynamodb-local"
)

// storeRun is what one store did in one section of the report.
type storeRun struct {
	Store   string    `json:"store"`
	Setup   string    `json:"setup"`
	Skipped string    `json:"skipped,omitempty"` // why it was not measured
	Note    string    `json:"note,omitempty"`
	Ops     []opStats `json:"ops,omitempty"`
}

// opStats is one operation measured on one store.
type opStats struct {
	Op        string   `json:"op"`
	Workers   int      `json:"workers"`
	Tenants   int      `json:"tenants,omitempty"`
	Ops       int      `json:"ops"` // succeeded; any failure fails the bench
	Seconds   float64  `json:"seconds"`
	PerSecond float64  `json:"ops_per_s"`
	P50       float64  `json:"p50_ms"`
	P99       float64  `json:"p99_ms"`
	WCU       *float64 `json:"wcu_per_op,omitempty"` // as DynamoDB Local reports them
	RCU       *float64 `json:"rcu_per_op,omitempty"`
	Tx        float64  `json:"transactions_per_op,omitempty"` // Transact calls made, conflicts retried included
}

// backend is one table.Store implementation, metered.
type backend struct {
	name, setup, note string
	store             *meteredStore
	close             func() error
}

// measureStorage runs the table and audit workloads on SQLite, then on
// DynamoDB Local (skipped, with the reason, when it cannot start). Each
// store runs alone, so that java does not compete with SQLite for the cores.
func measureStorage(ctx context.Context, root, templatePath, workDir string) (tables, audits []storeRun, err error) {
	for _, open := range []func() (*backend, error){
		func() (*backend, error) { return openEmbedded(filepath.Join(workDir, "store")) },
		func() (*backend, error) { return startDynamo(ctx, root, templatePath) },
	} {
		b, err := open()
		var skip *skipError
		if errors.As(err, &skip) {
			run := storeRun{Store: skip.store, Skipped: skip.reason}
			tables, audits = append(tables, run), append(audits, run)
			continue
		}
		if err != nil {
			return tables, audits, err
		}
		t, a, err := b.run(ctx)
		if cerr := b.close(); err == nil && cerr != nil {
			err = fmt.Errorf("%s: close: %w", b.name, cerr)
		}
		if err != nil {
			return tables, audits, err
		}
		tables, audits = append(tables, t), append(audits, a)
	}
	return tables, audits, nil
}

// run measures the table operations, then the audit appends.
func (b *backend) run(ctx context.Context) (tables, audits storeRun, err error) {
	tables = storeRun{Store: b.name, Setup: b.setup, Note: b.note}
	audits = storeRun{Store: b.name, Setup: b.setup, Note: b.note}
	if tables.Ops, err = b.measureTable(ctx); err != nil {
		return tables, audits, fmt.Errorf("%s: %w", b.name, err)
	}
	if audits.Ops, err = b.measureAudit(ctx); err != nil {
		return tables, audits, fmt.Errorf("%s: %w", b.name, err)
	}
	return tables, audits, nil
}

// openEmbedded opens the embedded default store (bbolt), as make run uses it.
func openEmbedded(dir string) (*backend, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	s, err := bolt.Open(filepath.Join(dir, "bench.db"), table.Lantau)
	if err != nil {
		return nil, err
	}
	return &backend{
		name: embeddedName, setup: "temp file, an fsync per commit",
		store: &meteredStore{Store: s}, close: s.Close,
	}, nil
}

// skipError says a store cannot run on this machine.
type skipError struct{ store, reason string }

func (e *skipError) Error() string { return e.store + ": skipped: " + e.reason }

// startDynamo starts DynamoDB Local and creates one table from the template.
// Failing to start it is a skip; failing once it runs is an error.
func startDynamo(ctx context.Context, root, templatePath string) (*backend, error) {
	l, err := dynamolocal.StartProcess(ctx, root)
	if err != nil {
		return nil, &skipError{dynamoName, firstLine(err.Error())}
	}
	if err := dynamolocal.CreateTableFromTemplate(ctx, l.Client(), templatePath, dynamolocal.TableLogicalID, benchTable); err != nil {
		return nil, errors.Join(err, l.Close())
	}
	m := &meteredStore{capacity: true}
	s := dynamo.New(l.Client(), benchTable, table.Lantau)
	s.OnConsumed = m.consumed
	m.Store = s
	return &backend{
		name:  dynamoName,
		setup: fmt.Sprintf("DynamoDB Local %s in memory, started in %.1f s", dynamolocal.LocalVersion, l.StartupTime().Seconds()),
		note:  transactionNote, store: m, close: l.Close,
	}, nil
}

// transactionNote warns that DynamoDB Local's transaction figures are not
// AWS's bill. Checked on 1.25.1: transactions of 1, 2 and 3 small items
// (no index) each report 4 WCU, where AWS charges 2 WCU per KB of each item.
const transactionNote = "DynamoDB Local reports 4 WCU per small transaction whatever its item count; " +
	"AWS charges 2 WCU per KB of each item: 6 WCU per append"

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// meteredStore counts the transactions a store is asked for and sums the
// capacity DynamoDB reports through OnConsumed.
type meteredStore struct {
	table.Store
	capacity bool // the store reports consumed capacity
	tx       atomic.Int64
	mu       sync.Mutex
	wcu, rcu float64
}

func (m *meteredStore) Transact(ctx context.Context, ops []table.Op) error {
	m.tx.Add(1)
	return m.Store.Transact(ctx, ops)
}

func (m *meteredStore) consumed(_ string, wcu, rcu float64) {
	m.mu.Lock()
	m.wcu += wcu
	m.rcu += rcu
	m.mu.Unlock()
}

// reset forgets what was counted; call it with no operation under way.
func (m *meteredStore) reset() {
	m.mu.Lock()
	m.wcu, m.rcu = 0, 0
	m.mu.Unlock()
	m.tx.Store(0)
}

// perOp divides what was counted since reset among n operations.
func (m *meteredStore) perOp(s *opStats, n int) {
	if n == 0 {
		return
	}
	s.Tx = float64(m.tx.Load()) / float64(n)
	if m.capacity {
		m.mu.Lock()
		wcu, rcu := m.wcu/float64(n), m.rcu/float64(n)
		m.mu.Unlock()
		s.WCU, s.RCU = &wcu, &rcu
	}
}

// measure warms call up, then measures it. Calls of both phases get distinct
// sequence numbers, so that a call can make a new key of its seq. A failed
// call fails the measurement: a store's rate with errors means nothing.
func (b *backend) measure(ctx context.Context, name string, workers int, call callFunc) (opStats, error) {
	warm := loop{Workers: workers, Calls: maxCalls, For: warmFor}.run(ctx, call)
	if warm.Failed > 0 {
		return opStats{}, fmt.Errorf("%s: warm-up: %d calls failed, the first: %w", name, warm.Failed, warm.FirstErr)
	}
	b.store.reset()
	o := loop{Workers: workers, Calls: maxCalls, For: measureFor}.run(ctx, func(ctx context.Context, w, seq int) error {
		return call(ctx, w, warm.Started+seq)
	})
	if err := ctx.Err(); err != nil {
		return opStats{}, fmt.Errorf("%s: %w", name, err)
	}
	if o.Failed > 0 {
		return opStats{}, fmt.Errorf("%s: %d of %d calls failed, the first: %w", name, o.Failed, o.Failed+len(o.Latencies), o.FirstErr)
	}
	s := opStats{
		Op: name, Workers: workers, Ops: len(o.Latencies), Seconds: o.Elapsed.Seconds(), PerSecond: o.perSecond(),
		P50: millis(percentile(o.Latencies, 50)), P99: millis(percentile(o.Latencies, 99)),
	}
	b.store.perOp(&s, s.Ops)
	return s, nil
}
