// Package idempotency makes retries harmless, in the spirit of Powertools
// for AWS Lambda: the first call with a key locks a record (a conditional
// put), runs, and stores its result; a retry with the same key gets the
// stored result; the same key with a different payload is a conflict.
// Event consumers use it too, since the bus and S3 deliver at least once.
package idempotency

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/table"
)

// Status of a record.
const (
	InProgress = "in-progress"
	Completed  = "completed"
)

// record is what the table keeps per key.
type record struct {
	Status      string          `json:"status"`
	PayloadHash string          `json:"payloadHash"`
	LockedUntil time.Time       `json:"lockedUntil"`
	Result      json.RawMessage `json:"result,omitempty"`
}

// Guard runs operations at most once per (tenant, operation, key).
type Guard struct {
	store table.Store
	// TTL is how long a completed result is kept (default 24 h).
	TTL time.Duration
	// Lock is how long an in-progress record blocks others before it is
	// taken over (the first caller crashed); keep it above the function's timeout.
	Lock time.Duration
	// Wait is how long a concurrent caller waits for the first to finish.
	Wait time.Duration
	Now  func() time.Time
}

// New returns a guard over the table.
func New(store table.Store) *Guard {
	return &Guard{store: store, TTL: 24 * time.Hour, Lock: 30 * time.Second, Wait: 30 * time.Second, Now: time.Now}
}

// Errors callers can test for; both are problem errors (409) for handlers.
var (
	ErrKeyReused  = problem.E("idempotency", problem.Conflict, problem.Code("idempotency-key-reused"), i18n.Text{EN: "This Idempotency-Key was already used for a different request.", ZH: "此 Idempotency-Key 已用於另一個不同的請求。"})
	ErrInProgress = problem.E("idempotency", problem.Conflict, problem.Code("request-in-progress"), i18n.Text{EN: "The same request is still being processed; retry shortly.", ZH: "相同的請求仍在處理中，請稍後再試。"})
)

// Hash is the payload fingerprint stored with a key.
func Hash(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:", len(p))
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Do runs fn once for (tenant, operation, key) and payload hash. A repeat
// with the same payload returns the first result (waiting for it when the
// first call is still running); a repeat with a different payload returns
// ErrKeyReused. If fn fails, the key is released so a retry can run again.
func (g *Guard) Do(ctx context.Context, tenant, operation, key, payloadHash string, fn func(ctx context.Context) ([]byte, error)) ([]byte, error) {
	out, _, err := g.Run(ctx, tenant, operation, key, payloadHash, fn)
	return out, err
}

// Run is Do that also reports whether the result was replayed from an
// earlier call rather than produced by fn now.
func (g *Guard) Run(ctx context.Context, tenant, operation, key, payloadHash string, fn func(ctx context.Context) ([]byte, error)) (result []byte, replayed bool, err error) {
	out, replayed, err := g.do(ctx, tenant, operation, key, payloadHash, fn)
	return out, replayed, err
}

func (g *Guard) do(ctx context.Context, tenant, operation, key, payloadHash string, fn func(ctx context.Context) ([]byte, error)) ([]byte, bool, error) {
	const op = "idempotency.Do"
	if tenant == "" || operation == "" || key == "" {
		return nil, false, problem.E(op, problem.Invalid, problem.Code("idempotency-key-missing"), i18n.Text{EN: "An idempotency key is required.", ZH: "必須提供 Idempotency-Key。"})
	}
	if len(key) > 255 {
		return nil, false, problem.E(op, problem.Invalid, problem.Code("idempotency-key-too-long"), i18n.Text{EN: "The idempotency key is longer than 255 characters.", ZH: "Idempotency-Key 超過 255 個字元。"})
	}
	k := table.Key{Tenant: tenant, PK: "IDEMPOTENCY#" + operation + "#" + key, SK: "R"}
	deadline := g.Now().Add(g.Wait)
	for attempt := 0; ; attempt++ {
		now := g.Now()
		lock := record{Status: InProgress, PayloadHash: payloadHash, LockedUntil: now.Add(g.Lock)}
		item := table.Item{Key: k, Version: 1, ExpiresAt: now.Add(g.TTL).Unix(), Data: mustJSON(lock)}
		err := g.store.Put(ctx, item, table.IfNotExists)
		if err == nil {
			out, err := g.run(ctx, item, lock, fn)
			return out, false, err
		}
		if !errors.Is(err, table.ErrConditionFailed) {
			return nil, false, problem.E(op, problem.Internal, err)
		}
		existing, err := g.store.Get(ctx, k)
		if errors.Is(err, table.ErrNotFound) {
			continue // released or expired meanwhile: try to lock again
		}
		if err != nil {
			return nil, false, problem.E(op, problem.Internal, err)
		}
		var rec record
		if err := json.Unmarshal(existing.Data, &rec); err != nil {
			return nil, false, problem.E(op, problem.Internal, fmt.Errorf("idempotency record %s: %w", k.PK, err))
		}
		if rec.PayloadHash != payloadHash {
			return nil, false, ErrKeyReused
		}
		if rec.Status == Completed {
			return rec.Result, true, nil
		}
		if now.After(rec.LockedUntil) {
			// The first caller died holding the lock: take it over.
			item.Version = existing.Version + 1
			if err := g.store.Put(ctx, item, table.IfVersion(existing.Version)); err == nil {
				out, err := g.run(ctx, item, lock, fn)
				return out, false, err
			} else if !errors.Is(err, table.ErrConditionFailed) {
				return nil, false, problem.E(op, problem.Internal, err)
			}
			continue
		}
		if now.After(deadline) {
			return nil, false, ErrInProgress
		}
		backoff := time.Duration(min(5+attempt*5, 100)+rand.IntN(10)) * time.Millisecond
		select {
		case <-ctx.Done():
			return nil, false, problem.E(op, problem.Unavailable, ctx.Err())
		case <-time.After(backoff):
		}
	}
}

func (g *Guard) run(ctx context.Context, item table.Item, lock record, fn func(ctx context.Context) ([]byte, error)) ([]byte, error) {
	const op = "idempotency.run"
	result, err := fn(ctx)
	if err != nil {
		// Release the key so that a retry runs again; the error goes back as it is.
		if derr := g.store.Delete(context.WithoutCancel(ctx), item.Key, table.IfVersion(item.Version)); derr != nil && !errors.Is(derr, table.ErrConditionFailed) {
			return nil, errors.Join(err, fmt.Errorf("release idempotency key: %w", derr))
		}
		return nil, err
	}
	if result == nil {
		result = json.RawMessage("null")
	}
	if !json.Valid(result) {
		result = mustJSON(string(result))
	}
	done := record{Status: Completed, PayloadHash: lock.PayloadHash, LockedUntil: lock.LockedUntil, Result: result}
	completed := item
	completed.Version = item.Version + 1
	completed.Data = mustJSON(done)
	if err := g.store.Put(context.WithoutCancel(ctx), completed, table.IfVersion(item.Version)); err != nil {
		if errors.Is(err, table.ErrConditionFailed) {
			// Our lock expired while fn ran and was taken over or lapsed.
			// The effect happened, once, here: answer with it.
			return result, nil
		}
		return nil, problem.E(op, problem.Internal, fmt.Errorf("store idempotent result: %w", err))
	}
	return result, nil
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
