// Package table is Lantau's storage port: a single-table design shaped like
// DynamoDB (partition key, sort key, secondary indexes, conditional writes,
// transactions, TTL) that every capability stores through. Two
// implementations hold to one conformance suite (tabletest): the embedded
// store used by `make run` and DynamoDB.
//
// Every key carries its tenant: implementations prefix the physical
// partition keys (table and indexes) with the tenant, so one company can
// never read, list or overwrite another company's items.
package table

import (
	"context"
	"errors"
	"strconv"
)

// Limits shared by every implementation (DynamoDB's).
const (
	MaxItemSize     = 400 * 1024 // bytes, counted as ItemSize does
	MaxTransactOps  = 100
	MaxBatchGetKeys = 100
	MaxQueryLimit   = 1000
)

// Schema is the physical layout of the table, as template.yaml declares it.
type Schema struct {
	PK, SK  string // key attribute names
	Indexes []IndexSchema
	TTL     string // TTL attribute name
}

// IndexSchema is one global secondary index.
type IndexSchema struct {
	Name   string
	PK, SK string
}

// Lantau is the schema of template.yaml's Table (a test checks they agree).
var Lantau = Schema{
	PK: "PK", SK: "SK", TTL: "ttl",
	Indexes: []IndexSchema{{Name: "GSI1", PK: "GSI1PK", SK: "GSI1SK"}},
}

// Key names one item.
type Key struct {
	Tenant string
	PK     string
	SK     string
}

// Item is one stored record. Data is the owner's JSON document; the table
// reads only the keys, the version and the expiry.
type Item struct {
	Key
	// Index holds the key attributes of secondary indexes, by attribute
	// name as the template's table defines them (e.g. "GSI1PK", "GSI1SK").
	// An item without an index's partition key attribute is not in that index.
	Index map[string]string
	// Version is the item's optimistic-concurrency version, set by the writer.
	Version int64
	// ExpiresAt is the TTL in Unix seconds (0: never). An expired item is
	// never returned, even before it is physically removed.
	ExpiresAt int64
	Data      []byte
}

// Condition guards a write.
type Condition struct {
	kind    condKind
	version int64
}

type condKind uint8

const (
	condNone condKind = iota
	condNotExists
	condExists
	condVersion
)

// Conditions.
var (
	// Always writes unconditionally.
	Always = Condition{}
	// IfNotExists writes only when no (unexpired) item has the key.
	IfNotExists = Condition{kind: condNotExists}
	// IfExists writes only when an (unexpired) item has the key.
	IfExists = Condition{kind: condExists}
)

// IfVersion writes only when the stored item exists with this version.
func IfVersion(v int64) Condition { return Condition{kind: condVersion, version: v} }

// Kind reports the condition for implementations: "", "not-exists", "exists" or "version".
func (c Condition) Kind() string {
	return [...]string{"", "not-exists", "exists", "version"}[c.kind]
}

// Version is the expected version of an IfVersion condition.
func (c Condition) Version() int64 { return c.version }

// SortOp compares sort keys in a query.
type SortOp uint8

// Sort-key conditions.
const (
	SortAny SortOp = iota
	SortEq
	SortBeginsWith
	SortBetween // Value <= sk <= Value2
	SortLT
	SortLE
	SortGT
	SortGE
)

// Query reads one partition of the table or of an index.
type Query struct {
	Tenant  string
	Index   string // "" for the table itself, else an index name such as "GSI1"
	PK      string
	SortOp  SortOp
	Value   string
	Value2  string
	Reverse bool
	Limit   int    // 0 means the implementation default (100); at most MaxQueryLimit
	Cursor  string // opaque, from a previous Page
}

// Page is one page of a query; Cursor is empty on the last page.
type Page struct {
	Items  []Item
	Cursor string
}

// Op is one write of a transaction.
type Op struct {
	Put       *Item // put this item
	Delete    *Key  // or delete this key
	Check     *Key  // or only check Cond on this key
	Condition Condition
}

// Store is the port. Implementations must be safe for concurrent use.
type Store interface {
	Get(ctx context.Context, key Key) (Item, error)
	BatchGet(ctx context.Context, keys []Key) ([]Item, error) // found items only, in key order
	Put(ctx context.Context, item Item, cond Condition) error
	Delete(ctx context.Context, key Key, cond Condition) error
	Query(ctx context.Context, q Query) (Page, error)
	// Transact applies up to MaxTransactOps operations on distinct keys:
	// all or nothing. A failed condition returns a *TxError naming it.
	Transact(ctx context.Context, ops []Op) error
}

// Errors every implementation returns (wrapped; test with errors.Is).
var (
	ErrNotFound        = errors.New("item not found")
	ErrConditionFailed = errors.New("condition failed")
	ErrTooLarge        = errors.New("item larger than 400 KB")
	ErrBadCursor       = errors.New("malformed cursor")
	ErrInvalid         = errors.New("invalid request")
)

// TxError says which operation of a transaction failed its condition.
type TxError struct {
	Index int // position in ops
	Err   error
}

func (e *TxError) Error() string {
	return "transaction cancelled: operation " + strconv.Itoa(e.Index) + ": " + e.Err.Error()
}
func (e *TxError) Unwrap() error { return e.Err }

// ItemSize is the size DynamoDB would count for the item as stored: the
// lengths of attribute names and values. Both implementations refuse an
// item over MaxItemSize with ErrTooLarge before writing.
func ItemSize(it Item) int {
	const overhead = len("PK") + len("SK") + len("v") + len("data") + 8
	n := overhead + len(it.Tenant)*2 + 2 + len(it.PK) + len(it.SK) + len(it.Data)
	for k, v := range it.Index {
		n += len(k) + len(it.Tenant) + 1 + len(v)
	}
	if it.ExpiresAt != 0 {
		n += len("ttl") + 8
	}
	return n
}
