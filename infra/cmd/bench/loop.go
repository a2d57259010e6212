package main

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// loop is a closed loop: Workers goroutines each start their next call as
// soon as their previous one returns. It ends when Calls calls have been
// started, when For has passed since it began (0: no time bound) or when
// ctx ends, whichever comes first; calls under way then run to completion.
// Every measurement of the bench (HTTP requests, table operations, audit
// appends) goes through it.
type loop struct {
	Workers int
	Calls   int
	For     time.Duration
}

// callFunc is one call: worker is the caller's index (0 to Workers-1) and
// seq a number unique to this call within the loop (0, 1, 2, ...).
type callFunc func(ctx context.Context, worker, seq int) error

// outcome is what a loop measured.
type outcome struct {
	Latencies []time.Duration // of the calls that succeeded, sorted
	Failed    int             // calls that failed, those cut short by ctx excepted
	FirstErr  error           // the first failure, when Failed > 0
	Started   int             // at least the highest seq handed out plus one
	Elapsed   time.Duration
}

func (l loop) run(ctx context.Context, call callFunc) outcome {
	var (
		next     atomic.Int64
		failed   atomic.Int64
		firstErr error
		errOnce  sync.Once
		wg       sync.WaitGroup
	)
	perWorker := make([][]time.Duration, l.Workers)
	start := time.Now()
	more := func() (int, bool) {
		seq := int(next.Add(1)) - 1
		timeLeft := l.For == 0 || time.Since(start) < l.For
		return seq, seq < l.Calls && timeLeft && ctx.Err() == nil
	}
	for w := range l.Workers {
		wg.Go(func() {
			for seq, ok := more(); ok; seq, ok = more() {
				t0 := time.Now()
				if err := call(ctx, w, seq); err != nil {
					if ctx.Err() == nil {
						failed.Add(1)
						errOnce.Do(func() { firstErr = err })
					}
					continue
				}
				perWorker[w] = append(perWorker[w], time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	latencies := slices.Concat(perWorker...)
	slices.Sort(latencies)
	return outcome{
		Latencies: latencies, Failed: int(failed.Load()), FirstErr: firstErr,
		Started: int(next.Load()), Elapsed: elapsed,
	}
}

// perSecond is the rate of successful calls over the loop's wall time.
func (o outcome) perSecond() float64 {
	if o.Elapsed <= 0 {
		return 0
	}
	return float64(len(o.Latencies)) / o.Elapsed.Seconds()
}
