package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// delivery is one asynchronous invocation (an event from the bus, an S3
// notification, a schedule). It is spooled to disk before it is accepted,
// so a crash or a stop never loses it, and dead-lettered after its last
// failed attempt so it can be listed and replayed.
type delivery struct {
	ID        string          `json:"id"`
	Function  string          `json:"function"` // logical ID
	Trigger   string          `json:"trigger"`  // e.g. "EventBridgeRule:OnAnything"
	Payload   json.RawMessage `json:"payload"`
	Attempts  int             `json:"attempts"`
	Enqueued  time.Time       `json:"enqueued"`
	LastError string          `json:"lastError,omitempty"`
	FailedAt  *time.Time      `json:"failedAt,omitempty"`
}

type asyncInvoker struct {
	r       *Runner
	pending string
	dead    string
	sem     chan struct{}
	wg      sync.WaitGroup
	mu      sync.Mutex
	// OnDone is called after a delivery succeeds or is dead-lettered (tests use it).
	done func(d *delivery, err error)
}

func newAsyncInvoker(r *Runner) (*asyncInvoker, error) {
	a := &asyncInvoker{r: r, pending: r.dataPath("deliveries", "pending"), dead: r.dataPath("deliveries", "dead"), sem: make(chan struct{}, 64)}
	for _, d := range []string{a.pending, a.dead} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("delivery spool: %w", err)
		}
	}
	return a, nil
}

// resume re-delivers whatever a previous run left pending.
func (a *asyncInvoker) resume() {
	entries, _ := os.ReadDir(a.pending)
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		d, err := readDelivery(filepath.Join(a.pending, e.Name()))
		if err != nil {
			a.r.log.Error("unreadable pending delivery", "file", e.Name(), "error", err)
			continue
		}
		if a.r.functions[d.Function] == nil {
			a.r.log.Warn("pending delivery for a function no longer in the template: dead-lettered", "function", d.Function, "id", d.ID)
			d.LastError = "function no longer in the template"
			_ = a.bury(d)
			continue
		}
		a.start(d)
	}
}

// enqueue spools and starts the deliveries; when it returns nil they are durable.
func (a *asyncInvoker) enqueue(ds ...*delivery) error {
	for _, d := range ds {
		if d.ID == "" {
			d.ID = newID()
		}
		if d.Enqueued.IsZero() {
			d.Enqueued = time.Now().UTC()
		}
		if err := writeFileSync(filepath.Join(a.pending, d.ID+".json"), mustJSON(d)); err != nil {
			return fmt.Errorf("spool delivery: %w", err)
		}
	}
	for _, d := range ds {
		a.start(d)
	}
	return nil
}

func (a *asyncInvoker) start(d *delivery) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		a.run(d)
	}()
}

func (a *asyncInvoker) run(d *delivery) {
	ctx := a.r.ctx
	fn := a.r.functions[d.Function]
	attempts := 1 + fn.retries
	var err error
	for d.Attempts < attempts {
		if d.Attempts > 0 {
			delay := a.r.cfg.RetryBase << (d.Attempts - 1)
			select {
			case <-ctx.Done():
				return // stays spooled; delivered at next start
			case <-time.After(delay):
			}
		}
		select {
		case a.sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		d.Attempts++
		_, err = fn.Invoke(ctx, "", d.Payload)
		<-a.sem
		if err == nil {
			_ = os.Remove(filepath.Join(a.pending, d.ID+".json"))
			a.finish(d, nil)
			return
		}
		if ctx.Err() != nil {
			return
		}
		d.LastError = err.Error()
		fn.log.Warn("asynchronous invocation failed", "trigger", d.Trigger, "delivery", d.ID, "attempt", d.Attempts, "of", attempts, "error", err.Error())
		_ = writeFileSync(filepath.Join(a.pending, d.ID+".json"), mustJSON(d))
	}
	if berr := a.bury(d); berr != nil {
		fn.log.Error("could not dead-letter a delivery; it stays pending", "delivery", d.ID, "error", berr)
		return
	}
	fn.log.Error("delivery dead-lettered", "trigger", d.Trigger, "delivery", d.ID, "attempts", d.Attempts, "error", d.LastError)
	a.finish(d, err)
}

func (a *asyncInvoker) finish(d *delivery, err error) {
	a.mu.Lock()
	done := a.done
	a.mu.Unlock()
	if done != nil {
		done(d, err)
	}
}

// bury moves a delivery from pending to the dead-letter store.
func (a *asyncInvoker) bury(d *delivery) error {
	now := time.Now().UTC()
	d.FailedAt = &now
	if err := writeFileSync(filepath.Join(a.dead, d.ID+".json"), mustJSON(d)); err != nil {
		return err
	}
	return os.Remove(filepath.Join(a.pending, d.ID+".json"))
}

// deadLetters lists the dead-letter store, oldest first.
func (a *asyncInvoker) deadLetters() ([]*delivery, error) {
	entries, err := os.ReadDir(a.dead)
	if err != nil {
		return nil, err
	}
	var out []*delivery
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		d, err := readDelivery(filepath.Join(a.dead, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].FailedAt.Before(*out[j].FailedAt) })
	return out, nil
}

var errNoDeadLetter = errors.New("no such dead letter")

// replay moves a dead letter back to pending with fresh attempts.
func (a *asyncInvoker) replay(id string) (*delivery, error) {
	if strings.ContainsAny(id, `/\.`) || id == "" {
		return nil, errNoDeadLetter
	}
	path := filepath.Join(a.dead, id+".json")
	d, err := readDelivery(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, errNoDeadLetter
	}
	if err != nil {
		return nil, err
	}
	if a.r.functions[d.Function] == nil {
		return nil, fmt.Errorf("function %s is no longer in the template", d.Function)
	}
	d.Attempts, d.LastError, d.FailedAt = 0, "", nil
	if err := writeFileSync(filepath.Join(a.pending, d.ID+".json"), mustJSON(d)); err != nil {
		return nil, err
	}
	if err := os.Remove(path); err != nil {
		return nil, err
	}
	answer := *d
	a.start(d)
	return &answer, nil
}

// wait blocks until every running delivery has finished or gone back to the spool.
func (a *asyncInvoker) wait(ctx context.Context) {
	ch := make(chan struct{})
	go func() { a.wg.Wait(); close(ch) }()
	select {
	case <-ch:
	case <-ctx.Done():
	}
}

func readDelivery(path string) (*delivery, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var d delivery
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return &d, nil
}

// writeFileSync writes a file atomically and durably: temp file, fsync, rename.
func writeFileSync(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
