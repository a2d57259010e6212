package main

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoop_StopsAfterCallsWithDistinctSeqs(t *testing.T) {
	var mu sync.Mutex
	seen := map[int]int{}
	o := loop{Workers: 4, Calls: 1000}.run(t.Context(), func(_ context.Context, worker, seq int) error {
		mu.Lock()
		defer mu.Unlock()
		seen[seq]++
		assert.True(t, worker >= 0 && worker < 4, "worker %d", worker)
		return nil
	})
	assert.Len(t, o.Latencies, 1000)
	assert.Len(t, seen, 1000)
	for seq, n := range seen {
		require.True(t, seq >= 0 && seq < 1000 && n == 1, "seq %d called %d times", seq, n)
	}
	assert.GreaterOrEqual(t, o.Started, 1000)
	assert.True(t, slices.IsSorted(o.Latencies))
}

func TestLoop_StopsStartingCallsWhenTimeIsUp(t *testing.T) {
	o := loop{Workers: 2, Calls: 1_000_000, For: 50 * time.Millisecond}.run(t.Context(), func(context.Context, int, int) error {
		time.Sleep(time.Millisecond)
		return nil
	})
	assert.Less(t, len(o.Latencies), 1_000_000)
	assert.Less(t, o.Elapsed, time.Second)
	assert.Greater(t, o.perSecond(), 0.0)
}

func TestLoop_CountsFailuresButNotCallsCutShortByTheContext(t *testing.T) {
	boom := errors.New("boom")
	o := loop{Workers: 2, Calls: 10}.run(t.Context(), func(_ context.Context, _, seq int) error {
		if seq%2 == 0 {
			return boom
		}
		return nil
	})
	assert.Equal(t, 5, o.Failed)
	assert.ErrorIs(t, o.FirstErr, boom)
	assert.Len(t, o.Latencies, 5)

	ctx, cancel := context.WithCancel(t.Context())
	o = loop{Workers: 2, Calls: 10}.run(ctx, func(ctx context.Context, _, _ int) error {
		cancel()
		return ctx.Err()
	})
	assert.Zero(t, o.Failed)
	assert.Empty(t, o.Latencies)
}

func TestStartDynamo_WithoutJavaIsASkipNotAFailure(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("JAVA_HOME", "")
	_, err := startDynamo(t.Context(), t.TempDir(), "template.yaml")
	var skip *skipError
	require.ErrorAs(t, err, &skip)
	assert.Equal(t, dynamoName, skip.store)
	assert.Contains(t, skip.reason, "java")
}

func TestJudge_FailsAStorageFloorThatWasNotMeasured(t *testing.T) {
	r := newReport()
	r.Table = []storeRun{{Store: embeddedName, Ops: []opStats{{Op: "put if not exists", PerSecond: 4000}}}}
	r.Audit = []storeRun{{Store: embeddedName, Skipped: "no disk"}}
	r.judge()
	verdicts := map[string]bool{}
	for _, tg := range r.Targets {
		verdicts[tg.Name] = tg.Pass
	}
	assert.True(t, verdicts["bolt put if not exists, 4 workers (ops/s)"])
	assert.False(t, verdicts["bolt audit appends, 1 tenant, 8 appenders (/s)"])
}
