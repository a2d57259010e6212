package table

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// DynamoDB's key size limits. Every implementation counts them on the
// value as DynamoDB stores it, TenantPrefix(tenant)+key, for sort keys too
// (which DynamoDB stores without the prefix), so that whatever the embedded
// store accepts, DynamoDB accepts as well.
const (
	MaxPartitionKey = 2048
	MaxSortKey      = 1024
)

// TenantPrefix is what every stored partition key of tenant starts with
// where a store keeps tenants apart by prefixing keys (DynamoDB). A tenant
// holding the separator is escaped ("%" as "%25", "#" as "%23"), so that
// tenant "a#USER" with PK "u-1" can never meet tenant "a" with PK
// "USER#u-1". Ordinary tenant IDs are stored as they are: "t-acme#USER#u-1".
func TenantPrefix(tenant string) string {
	if strings.ContainsAny(tenant, "#%") {
		tenant = strings.NewReplacer("%", "%25", "#", "%23").Replace(tenant)
	}
	return tenant + "#"
}

// KeyString names a key in error messages.
func KeyString(k Key) string { return fmt.Sprintf("%q/%q/%q", k.Tenant, k.PK, k.SK) }

// Index is the schema's index called name.
func (s Schema) Index(name string) (IndexSchema, bool) {
	for _, ix := range s.Indexes {
		if ix.Name == name {
			return ix, true
		}
	}
	return IndexSchema{}, false
}

// Key is the key an operation writes or checks.
func (op Op) Key() Key {
	switch {
	case op.Put != nil:
		return op.Put.Key
	case op.Delete != nil:
		return *op.Delete
	case op.Check != nil:
		return *op.Check
	}
	return Key{}
}

// ValidateKey checks what every implementation requires of a key: tenant,
// PK and SK present, UTF-8, and within DynamoDB's size limits.
func ValidateKey(k Key) error {
	prefix := len(TenantPrefix(k.Tenant))
	switch {
	case k.Tenant == "" || k.PK == "" || k.SK == "":
		return fmt.Errorf("key %s: tenant, PK and SK are required: %w", KeyString(k), ErrInvalid)
	case !utf8.ValidString(k.Tenant) || !utf8.ValidString(k.PK) || !utf8.ValidString(k.SK):
		return fmt.Errorf("key %s: not UTF-8: %w", KeyString(k), ErrInvalid)
	case prefix+len(k.PK) > MaxPartitionKey || prefix+len(k.SK) > MaxSortKey:
		return fmt.Errorf("key %s: longer than DynamoDB allows: %w", KeyString(k), ErrInvalid)
	}
	return nil
}

// ValidateItem checks an item before it is written: its key, its expiry,
// its index attributes (key attributes of an index of schema, non-empty,
// UTF-8, within the key size limits, the sort key's where any index sorts
// on the attribute) and its size (ErrTooLarge over MaxItemSize).
func ValidateItem(schema Schema, it Item) error {
	if err := ValidateKey(it.Key); err != nil {
		return err
	}
	if it.ExpiresAt < 0 {
		return fmt.Errorf("item %s: negative ExpiresAt: %w", KeyString(it.Key), ErrInvalid)
	}
	prefix := len(TenantPrefix(it.Tenant))
	for a, v := range it.Index {
		known, sort := false, false
		for _, ix := range schema.Indexes {
			known = known || a == ix.PK || a == ix.SK
			sort = sort || a == ix.SK
		}
		if !known {
			return fmt.Errorf("item %s: %q is no index key attribute of the schema: %w", KeyString(it.Key), a, ErrInvalid)
		}
		limit := MaxPartitionKey
		if sort {
			limit = MaxSortKey
		}
		if v == "" || !utf8.ValidString(v) || prefix+len(v) > limit {
			return fmt.Errorf("item %s: index attribute %s: empty, not UTF-8 or too long: %w", KeyString(it.Key), a, ErrInvalid)
		}
	}
	if n := ItemSize(it); n > MaxItemSize {
		return fmt.Errorf("item %s: %d bytes: %w", KeyString(it.Key), n, ErrTooLarge)
	}
	return nil
}

// ValidateBatchGet checks the keys of a BatchGet: at most MaxBatchGetKeys,
// each valid, none twice.
func ValidateBatchGet(keys []Key) error {
	if len(keys) > MaxBatchGetKeys {
		return fmt.Errorf("%d keys, at most %d: %w", len(keys), MaxBatchGetKeys, ErrInvalid)
	}
	seen := make(map[Key]bool, len(keys))
	for _, k := range keys {
		if err := ValidateKey(k); err != nil {
			return err
		}
		if seen[k] {
			return fmt.Errorf("key %s twice: %w", KeyString(k), ErrInvalid)
		}
		seen[k] = true
	}
	return nil
}

// DefaultQueryLimit is the page size of a query without a Limit.
const DefaultQueryLimit = 100

// PageSize is the most items a page of q holds: its Limit, else DefaultQueryLimit.
func (q Query) PageSize() int {
	if q.Limit == 0 {
		return DefaultQueryLimit
	}
	return q.Limit
}

// ValidateQuery checks a query against schema: tenant and PK present,
// strings UTF-8, a limit in range, a known sort operation with its values
// in order, a known index that has a sort key if the query compares one.
func ValidateQuery(schema Schema, q Query) error {
	switch {
	case q.Tenant == "" || q.PK == "":
		return fmt.Errorf("tenant and PK are required: %w", ErrInvalid)
	case !utf8.ValidString(q.Tenant) || !utf8.ValidString(q.PK) || !utf8.ValidString(q.Value) || !utf8.ValidString(q.Value2):
		return fmt.Errorf("not UTF-8: %w", ErrInvalid)
	case q.Limit < 0 || q.Limit > MaxQueryLimit:
		return fmt.Errorf("limit %d, want 0 to %d: %w", q.Limit, MaxQueryLimit, ErrInvalid)
	case q.SortOp > SortGE:
		return fmt.Errorf("sort op %d: %w", q.SortOp, ErrInvalid)
	case q.SortOp == SortBetween && q.Value > q.Value2:
		return fmt.Errorf("between %q and %q: %w", q.Value, q.Value2, ErrInvalid)
	}
	if q.Index == "" {
		return nil
	}
	ix, ok := schema.Index(q.Index)
	if !ok {
		return fmt.Errorf("no index %q: %w", q.Index, ErrInvalid)
	}
	if ix.SK == "" && q.SortOp != SortAny {
		return fmt.Errorf("index %q has no sort key: %w", q.Index, ErrInvalid)
	}
	return nil
}

// ValidateTransact checks a transaction before it starts: 1 to
// MaxTransactOps operations, each doing exactly one thing (a check with a
// condition), on valid items and keys, no two on the same key.
func ValidateTransact(schema Schema, ops []Op) error {
	if len(ops) == 0 || len(ops) > MaxTransactOps {
		return fmt.Errorf("%d operations, want 1 to %d: %w", len(ops), MaxTransactOps, ErrInvalid)
	}
	seen := make(map[Key]int, len(ops))
	for i, op := range ops {
		n := 0
		for _, set := range []bool{op.Put != nil, op.Delete != nil, op.Check != nil} {
			if set {
				n++
			}
		}
		if n != 1 {
			return fmt.Errorf("operation %d: want exactly one of Put, Delete, Check: %w", i, ErrInvalid)
		}
		if op.Check != nil && op.Condition.Kind() == "" {
			return fmt.Errorf("operation %d: a check needs a condition: %w", i, ErrInvalid)
		}
		k := op.Key()
		if op.Put != nil {
			if err := ValidateItem(schema, *op.Put); err != nil {
				return fmt.Errorf("operation %d: %w", i, err)
			}
		} else if err := ValidateKey(k); err != nil {
			return fmt.Errorf("operation %d: %w", i, err)
		}
		if j, dup := seen[k]; dup {
			return fmt.Errorf("operations %d and %d on the same key %s: %w", j, i, KeyString(k), ErrInvalid)
		}
		seen[k] = i
	}
	return nil
}
