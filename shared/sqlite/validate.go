package sqlite

import (
	"fmt"
	"unicode/utf8"

	"github.com/lantau-hq/lantau/shared/table"
)

// DynamoDB's key size limits, counted on the stored (tenant-prefixed) value
// "<tenant>#<key>" so that what the embedded store accepts, DynamoDB does too.
const (
	maxPartitionKey = 2048
	maxSortKey      = 1024
)

func validKey(k table.Key) error {
	switch {
	case k.Tenant == "" || k.PK == "" || k.SK == "":
		return fmt.Errorf("key %s: tenant, PK and SK are required: %w", keyString(k), table.ErrInvalid)
	case !utf8.ValidString(k.Tenant) || !utf8.ValidString(k.PK) || !utf8.ValidString(k.SK):
		return fmt.Errorf("key %s: not UTF-8: %w", keyString(k), table.ErrInvalid)
	case len(k.Tenant)+1+len(k.PK) > maxPartitionKey || len(k.Tenant)+1+len(k.SK) > maxSortKey:
		return fmt.Errorf("key %s: longer than DynamoDB allows: %w", keyString(k), table.ErrInvalid)
	}
	return nil
}

// validItem checks the key, the index attributes (known to the schema, as
// the embedded store keeps no others, non-empty, UTF-8) and the size.
func (s *Store) validItem(it table.Item) error {
	if err := validKey(it.Key); err != nil {
		return err
	}
	if it.ExpiresAt < 0 {
		return fmt.Errorf("item %s: negative ExpiresAt: %w", keyString(it.Key), table.ErrInvalid)
	}
	for a, v := range it.Index {
		if _, ok := s.known[a]; !ok {
			return fmt.Errorf("item %s: %q is no index key attribute of the schema: %w", keyString(it.Key), a, table.ErrInvalid)
		}
		limit := maxPartitionKey
		if s.isSortAttr(a) {
			limit = maxSortKey
		}
		if v == "" || !utf8.ValidString(v) || len(it.Tenant)+1+len(v) > limit {
			return fmt.Errorf("item %s: index attribute %s: empty, not UTF-8 or too long: %w", keyString(it.Key), a, table.ErrInvalid)
		}
	}
	if n := table.ItemSize(it); n > table.MaxItemSize {
		return fmt.Errorf("item %s: %d bytes: %w", keyString(it.Key), n, table.ErrTooLarge)
	}
	return nil
}

// isSortAttr tells whether attribute a is the sort key of an index.
func (s *Store) isSortAttr(a string) bool {
	for _, ix := range s.schema.Indexes {
		if ix.SK == a {
			return true
		}
	}
	return false
}

// validOps checks a transaction before it starts.
func (s *Store) validOps(ops []table.Op) error {
	if len(ops) == 0 || len(ops) > table.MaxTransactOps {
		return fmt.Errorf("%d operations, want 1 to %d: %w", len(ops), table.MaxTransactOps, table.ErrInvalid)
	}
	seen := make(map[table.Key]int, len(ops))
	for i, op := range ops {
		n := 0
		for _, set := range []bool{op.Put != nil, op.Delete != nil, op.Check != nil} {
			if set {
				n++
			}
		}
		if n != 1 {
			return fmt.Errorf("operation %d: want exactly one of Put, Delete, Check: %w", i, table.ErrInvalid)
		}
		if op.Check != nil && op.Condition.Kind() == "" {
			return fmt.Errorf("operation %d: a check needs a condition: %w", i, table.ErrInvalid)
		}
		if op.Put != nil {
			if err := s.validItem(*op.Put); err != nil {
				return fmt.Errorf("operation %d: %w", i, err)
			}
		} else if err := validKey(opKey(op)); err != nil {
			return fmt.Errorf("operation %d: %w", i, err)
		}
		k := opKey(op)
		if j, dup := seen[k]; dup {
			return fmt.Errorf("operations %d and %d on the same key %s: %w", j, i, keyString(k), table.ErrInvalid)
		}
		seen[k] = i
	}
	return nil
}

func opKey(op table.Op) table.Key {
	switch {
	case op.Put != nil:
		return op.Put.Key
	case op.Delete != nil:
		return *op.Delete
	}
	return *op.Check
}
