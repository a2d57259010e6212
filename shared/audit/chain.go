// Package audit keeps Lantau's audit trail: every domain event is appended
// to its company's hash chain (each entry holds the SHA-256 of the previous
// entry and of its own canonical content), so that an edited, inserted or
// deleted entry is found by Verify. Entries are never updated or deleted by
// any API.
package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/table"
)

// Genesis is the previous-hash of a chain's first entry.
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// Record is what is appended: an event or another auditable fact.
type Record struct {
	ID     string          `json:"id"`     // unique per fact (the event ID); appending it twice is a no-op
	Kind   string          `json:"kind"`   // "event", "access", "login", ...
	Source string          `json:"source"` // e.g. lantau.directory
	Type   string          `json:"type"`   // e.g. EmployeeLeft
	Actor  string          `json:"actor"`
	Time   time.Time       `json:"time"` // when it happened
	Data   json.RawMessage `json:"data,omitempty"`
}

// Entry is one link of a chain.
type Entry struct {
	Record
	Tenant      string    `json:"tenant"`
	Seq         int64     `json:"seq"`
	Appended    time.Time `json:"appended"`
	Prev        string    `json:"prev"`        // Hash of entry Seq-1 (Genesis for the first)
	ContentHash string    `json:"contentHash"` // SHA-256 of the canonical content
	Hash        string    `json:"hash"`        // SHA-256 over Seq, Prev and ContentHash
}

// head is the chain's tip, kept in its own item so appends are linear.
type head struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// Chain appends to and reads the per-tenant chains.
type Chain struct {
	store table.Store
	now   func() time.Time
}

// New returns a chain over the table.
func New(store table.Store, now func() time.Time) *Chain {
	if now == nil {
		now = time.Now
	}
	return &Chain{store: store, now: now}
}

// Keys of the chain's items in the tenant's part of the table.
const (
	pkEntries = "AUDIT#CHAIN"
	pkHead    = "AUDIT#HEAD"
	pkSeen    = "AUDIT#SEEN#"
)

func entryKey(tenant string, seq int64) table.Key {
	return table.Key{Tenant: tenant, PK: pkEntries, SK: fmt.Sprintf("%020d", seq)}
}

func headKey(tenant string) table.Key { return table.Key{Tenant: tenant, PK: pkHead, SK: "H"} }

func seenKey(tenant, id string) table.Key {
	return table.Key{Tenant: tenant, PK: pkSeen + id, SK: "S"}
}

// canonical is the content that ContentHash covers: every field of the
// record and the entry's place, encoded with sorted keys and no spaces.
func canonical(tenant string, seq int64, appended time.Time, r Record) ([]byte, error) {
	var data any
	if len(r.Data) > 0 {
		dec := json.NewDecoder(bytes.NewReader(r.Data))
		dec.UseNumber()
		if err := dec.Decode(&data); err != nil {
			return nil, fmt.Errorf("record data: %w", err)
		}
	}
	return json.Marshal(map[string]any{
		"tenant": tenant, "seq": seq, "appended": appended.UTC().Format(time.RFC3339Nano),
		"id": r.ID, "kind": r.Kind, "source": r.Source, "type": r.Type, "actor": r.Actor,
		"time": r.Time.UTC().Format(time.RFC3339Nano), "data": data,
	})
}

func sum(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(strconv.Itoa(len(p))))
		h.Write([]byte{':'})
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// seal computes the entry's hashes.
func seal(e *Entry) error {
	c, err := canonical(e.Tenant, e.Seq, e.Appended, e.Record)
	if err != nil {
		return err
	}
	sh := sha256.Sum256(c)
	e.ContentHash = hex.EncodeToString(sh[:])
	e.Hash = sum(strconv.FormatInt(e.Seq, 10), e.Prev, e.ContentHash)
	return nil
}

// ErrBusy is returned when an append lost the race too many times.
var ErrBusy = errors.New("audit chain busy")

// Append adds the record to the tenant's chain and returns its entry. A
// record whose ID was appended before is not appended again: the earlier
// entry is returned (the bus delivers at least once). Concurrent appends
// never fork or skip: each one moves the head with a conditional write in
// the same transaction as its entry.
func (c *Chain) Append(ctx context.Context, tenant string, r Record) (Entry, error) {
	const op = "audit.Append"
	if tenant == "" || r.ID == "" || r.Kind == "" {
		return Entry{}, problem.E(op, problem.Invalid, fmt.Errorf("tenant, id and kind are required"))
	}
	if len(r.Data) > 0 && !json.Valid(r.Data) {
		return Entry{}, problem.E(op, problem.Invalid, fmt.Errorf("record data is not JSON"))
	}
	for attempt := 0; attempt < 200; attempt++ {
		h, version, err := c.head(ctx, tenant)
		if err != nil {
			return Entry{}, problem.E(op, problem.Internal, err)
		}
		e := Entry{Record: r, Tenant: tenant, Seq: h.Seq + 1, Appended: c.now().UTC(), Prev: h.Hash}
		if err := seal(&e); err != nil {
			return Entry{}, problem.E(op, problem.Invalid, err)
		}
		body, _ := json.Marshal(e)
		headCond := table.IfNotExists
		if version > 0 {
			headCond = table.IfVersion(version)
		}
		seen := seenKey(tenant, r.ID)
		err = c.store.Transact(ctx, []table.Op{
			{Put: &table.Item{Key: seen, Version: 1, Data: []byte(strconv.FormatInt(e.Seq, 10))}, Condition: table.IfNotExists},
			{Put: &table.Item{Key: entryKey(tenant, e.Seq), Version: 1, Data: body}, Condition: table.IfNotExists},
			{Put: &table.Item{Key: headKey(tenant), Version: version + 1, Data: mustJSON(head{Seq: e.Seq, Hash: e.Hash})}, Condition: headCond},
		})
		if err == nil {
			return e, nil
		}
		var txe *table.TxError
		if !errors.As(err, &txe) {
			return Entry{}, problem.E(op, problem.Internal, err)
		}
		if txe.Index == 0 {
			return c.appendedBefore(ctx, tenant, seen)
		}
		// Another writer moved the head first: read it again.
		backoff := time.Duration(rand.IntN(1+min(attempt, 20))) * time.Millisecond
		select {
		case <-ctx.Done():
			return Entry{}, problem.E(op, problem.Unavailable, ctx.Err())
		case <-time.After(backoff):
		}
	}
	return Entry{}, problem.E(op, problem.Unavailable, ErrBusy)
}

// ByRecordID returns the entry that appended the record id; table.ErrNotFound
// (wrapped) when there is none.
func (c *Chain) ByRecordID(ctx context.Context, tenant, id string) (Entry, error) {
	if _, err := c.store.Get(ctx, seenKey(tenant, id)); err != nil {
		return Entry{}, err
	}
	return c.appendedBefore(ctx, tenant, seenKey(tenant, id))
}

func (c *Chain) appendedBefore(ctx context.Context, tenant string, seen table.Key) (Entry, error) {
	it, err := c.store.Get(ctx, seen)
	if err != nil {
		return Entry{}, problem.E("audit.Append", problem.Internal, err)
	}
	seq, err := strconv.ParseInt(string(it.Data), 10, 64)
	if err != nil {
		return Entry{}, problem.E("audit.Append", problem.Internal, err)
	}
	return c.Entry(ctx, tenant, seq)
}

func (c *Chain) head(ctx context.Context, tenant string) (head, int64, error) {
	it, err := c.store.Get(ctx, headKey(tenant))
	if errors.Is(err, table.ErrNotFound) {
		return head{Seq: 0, Hash: Genesis}, 0, nil
	}
	if err != nil {
		return head{}, 0, err
	}
	var h head
	if err := json.Unmarshal(it.Data, &h); err != nil {
		return head{}, 0, fmt.Errorf("audit head: %w", err)
	}
	return h, it.Version, nil
}

// Entry reads one entry.
func (c *Chain) Entry(ctx context.Context, tenant string, seq int64) (Entry, error) {
	it, err := c.store.Get(ctx, entryKey(tenant, seq))
	if errors.Is(err, table.ErrNotFound) {
		return Entry{}, problem.E("audit.Entry", problem.NotFound, err)
	}
	if err != nil {
		return Entry{}, problem.E("audit.Entry", problem.Internal, err)
	}
	var e Entry
	if err := json.Unmarshal(it.Data, &e); err != nil {
		return Entry{}, problem.E("audit.Entry", problem.Internal, err)
	}
	return e, nil
}

// Page lists entries in order from a cursor.
func (c *Chain) Page(ctx context.Context, tenant string, limit int, cursor string, newestFirst bool) ([]Entry, string, error) {
	p, err := c.store.Query(ctx, table.Query{Tenant: tenant, PK: pkEntries, Limit: limit, Cursor: cursor, Reverse: newestFirst})
	if err != nil {
		if errors.Is(err, table.ErrBadCursor) {
			return nil, "", problem.E("audit.Page", problem.Invalid, problem.Code("bad-cursor"), err)
		}
		return nil, "", problem.E("audit.Page", problem.Internal, err)
	}
	out := make([]Entry, 0, len(p.Items))
	for _, it := range p.Items {
		var e Entry
		if err := json.Unmarshal(it.Data, &e); err != nil {
			// An unreadable entry is shown as such; Verify names it.
			e = Entry{Seq: seqOf(it.SK), Tenant: tenant}
		}
		out = append(out, e)
	}
	return out, p.Cursor, nil
}

func seqOf(sk string) int64 {
	n, _ := strconv.ParseInt(sk, 10, 64)
	return n
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// Reseal returns the entry with its hashes recomputed from its fields. It
// exists for tests and tools that show what a forger could do: a resealed
// entry still breaks the next entry's link.
func Reseal(e Entry) (Entry, error) {
	err := seal(&e)
	return e, err
}
