package bolt

import (
	"bytes"
	"context"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/lantau-hq/lantau/shared/table"
)

// Query reads one page of a partition of the table or of an index, in sort
// key order (for an index: index sort key, then the table's keys, so that
// ties page correctly). A cursor walks the partition from the first key in
// range; expired items are skipped as it goes, so pages are full whenever
// more items follow.
func (s *Store) Query(ctx context.Context, q table.Query) (table.Page, error) {
	page, err := s.query(ctx, q)
	if err != nil {
		return table.Page{}, fmt.Errorf("bolt: query %q/%q/%q: %w", q.Tenant, q.Index, q.PK, err)
	}
	return page, nil
}

func (s *Store) query(ctx context.Context, q table.Query) (table.Page, error) {
	if err := table.ValidateQuery(s.schema, q); err != nil {
		return table.Page{}, err
	}
	var after []string
	if q.Cursor != "" {
		var err error
		if after, err = table.DecodeCursor(s.schema, q); err != nil {
			return table.Page{}, err
		}
	}
	if err := ctx.Err(); err != nil {
		return table.Page{}, err
	}

	var g gsi
	if q.Index != "" {
		g = s.index[q.Index]
	}
	// sortLast: the sort value is the key's last component, stored raw
	// (the table's SK); otherwise it is the first, escaped (the index SK).
	sortLast := q.Index == ""
	prefix := partition(q.Tenant, q.PK)
	// at is the key prefix where the sort value v starts, plus a byte
	// that puts it just before (0x01) or just after (0x02) every key whose
	// sort value is exactly v; for the table's raw SK, "just before" is
	// the key of v itself and "just after" is v+0x00.
	at := func(v string, after bool) []byte {
		b := bytes.Clone(prefix)
		if sortLast {
			b = append(b, v...)
			if after {
				b = append(b, 0)
			}
			return b
		}
		b = appendEscBody(b, v)
		if after {
			return append(b, 0, 2)
		}
		return append(b, 0, 1)
	}
	// sortValue reads the sort value of a key of the partition.
	sortValue := func(rest []byte) (string, bool) {
		if sortLast {
			return string(rest), true
		}
		v, _, ok := readEsc(rest)
		return v, ok
	}

	lo, hi := sortBounds(q)
	// Forward: start at the first key >= start. Reverse: at the last key < start.
	var start []byte
	if !q.Reverse {
		start = prefix
		if lo != nil {
			start = maxBytes(start, at(lo.v, !lo.incl))
		}
		if after != nil {
			start = maxBytes(start, append(position(prefix, after), 0))
		}
	} else {
		start = append(bytes.Clone(prefix[:len(prefix)-1]), 2) // just past the partition
		if hi != nil {
			start = minBytes(start, at(hi.v, hi.incl))
		}
		if after != nil {
			start = minBytes(start, position(prefix, after))
		}
	}

	limit := q.PageSize()
	var page table.Page
	err := s.db.View(func(tx *bbolt.Tx) error {
		items, now := tx.Bucket(itemsBucket), s.now()
		bucket := items
		if q.Index != "" {
			bucket = tx.Bucket(g.bucket)
		}
		c := bucket.Cursor()
		var k, v []byte
		if !q.Reverse {
			k, v = c.Seek(start)
		} else {
			if k, _ = c.Seek(start); k == nil {
				k, v = c.Last()
			} else {
				k, v = c.Prev()
			}
		}
		for n := 0; k != nil && bytes.HasPrefix(k, prefix); n++ {
			if n%256 == 255 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			rest := k[len(prefix):]
			sv, ok := sortValue(rest)
			if !ok {
				return fmt.Errorf("corrupt key %q", k)
			}
			if !q.Reverse && hi != nil && (sv > hi.v || sv == hi.v && !hi.incl) ||
				q.Reverse && lo != nil && (sv < lo.v || sv == lo.v && !lo.incl) {
				break
			}
			var it table.Item
			var found bool
			if q.Index == "" {
				if exp, ok := peekExpiry(v); ok && alive(exp, now) {
					rec, err := decodeValue(v)
					if err != nil {
						return err
					}
					it, found = rec.item(table.Key{Tenant: q.Tenant, PK: q.PK, SK: sv}), true
				}
			} else {
				key, err := indexedKey(q.Tenant, rest, g.sk != "")
				if err != nil {
					return err
				}
				it, err = s.get(items, key, now)
				switch err {
				case nil:
					found = true
				case table.ErrNotFound:
				default:
					return err
				}
			}
			if found {
				page.Items = append(page.Items, it)
				if len(page.Items) > limit {
					break
				}
			}
			if q.Reverse {
				k, v = c.Prev()
			} else {
				k, v = c.Next()
			}
		}
		return nil
	})
	if err != nil {
		return table.Page{}, err
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		page.Cursor = table.EncodeCursor(s.schema, q, page.Items[limit-1])
	}
	return page, nil
}

// indexedKey reads the table key out of the rest of an index key (after
// the partition prefix).
func indexedKey(tenant string, rest []byte, hasSK bool) (table.Key, error) {
	var ok bool
	if hasSK {
		if _, rest, ok = readEsc(rest); !ok {
			return table.Key{}, fmt.Errorf("corrupt index key %q", rest)
		}
	}
	pk, rest, ok := readEsc(rest)
	if !ok {
		return table.Key{}, fmt.Errorf("corrupt index key %q", rest)
	}
	return table.Key{Tenant: tenant, PK: pk, SK: string(rest)}, nil
}

// bound is one end of a sort-key range.
type bound struct {
	v    string
	incl bool
}

// sortBounds turns a sort condition into a range (nil: unbounded).
func sortBounds(q table.Query) (lo, hi *bound) {
	switch q.SortOp {
	case table.SortEq:
		return &bound{q.Value, true}, &bound{q.Value, true}
	case table.SortBeginsWith:
		if q.Value == "" {
			return nil, nil
		}
		// Stored keys are UTF-8, whose bytes never reach 0xF5: every key with
		// the prefix, and only those, lies in [prefix, prefix+"\xF5").
		return &bound{q.Value, true}, &bound{q.Value + "\xf5", false}
	case table.SortBetween:
		return &bound{q.Value, true}, &bound{q.Value2, true}
	case table.SortLT:
		return nil, &bound{q.Value, false}
	case table.SortLE:
		return nil, &bound{q.Value, true}
	case table.SortGT:
		return &bound{q.Value, false}, nil
	case table.SortGE:
		return &bound{q.Value, true}, nil
	}
	return nil, nil
}

func maxBytes(a, b []byte) []byte {
	if bytes.Compare(a, b) >= 0 {
		return a
	}
	return b
}

func minBytes(a, b []byte) []byte {
	if bytes.Compare(a, b) <= 0 {
		return a
	}
	return b
}
