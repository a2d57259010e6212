package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/lantau-hq/lantau/shared/table"
)

// Get reads one unexpired item.
func (s *Store) Get(ctx context.Context, key table.Key) (table.Item, error) {
	if err := table.ValidateKey(key); err != nil {
		return table.Item{}, fmt.Errorf("bolt: get: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return table.Item{}, fmt.Errorf("bolt: get: %w", err)
	}
	var it table.Item
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		it, err = s.get(tx.Bucket(itemsBucket), key, s.now())
		return err
	})
	if err != nil {
		return table.Item{}, fmt.Errorf("bolt: get: %w", err)
	}
	return it, nil
}

// get reads key from the items bucket: ErrNotFound if absent or expired.
func (s *Store) get(items *bbolt.Bucket, key table.Key, now int64) (table.Item, error) {
	v := items.Get(itemKey(key))
	if v == nil {
		return table.Item{}, table.ErrNotFound
	}
	if exp, ok := peekExpiry(v); ok && !alive(exp, now) {
		return table.Item{}, table.ErrNotFound
	}
	rec, err := decodeValue(v)
	if err != nil {
		return table.Item{}, err
	}
	return rec.item(key), nil
}

// BatchGet reads up to MaxBatchGetKeys items from one snapshot, returning
// those found in the order of keys.
func (s *Store) BatchGet(ctx context.Context, keys []table.Key) ([]table.Item, error) {
	if err := table.ValidateBatchGet(keys); err != nil {
		return nil, fmt.Errorf("bolt: batch get: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("bolt: batch get: %w", err)
	}
	if len(keys) == 0 {
		return nil, nil
	}
	items := make([]table.Item, 0, len(keys))
	err := s.db.View(func(tx *bbolt.Tx) error {
		b, now := tx.Bucket(itemsBucket), s.now()
		for _, k := range keys {
			it, err := s.get(b, k, now)
			if errors.Is(err, table.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			items = append(items, it)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bolt: batch get: %w", err)
	}
	return items, nil
}

// Put writes item if cond holds.
func (s *Store) Put(ctx context.Context, item table.Item, cond table.Condition) error {
	if err := table.ValidateItem(s.schema, item); err != nil {
		return fmt.Errorf("bolt: put: %w", err)
	}
	if err := s.write(ctx, []table.Op{{Put: &item, Condition: cond}}); err != nil {
		return fmt.Errorf("bolt: put %s: %w", table.KeyString(item.Key), unwrapTx(err))
	}
	return nil
}

// Delete removes key if cond holds.
func (s *Store) Delete(ctx context.Context, key table.Key, cond table.Condition) error {
	if err := table.ValidateKey(key); err != nil {
		return fmt.Errorf("bolt: delete: %w", err)
	}
	if err := s.write(ctx, []table.Op{{Delete: &key, Condition: cond}}); err != nil {
		return fmt.Errorf("bolt: delete %s: %w", table.KeyString(key), unwrapTx(err))
	}
	return nil
}

// Transact applies ops all or nothing in one write transaction: every
// condition is checked first, then every write is made.
func (s *Store) Transact(ctx context.Context, ops []table.Op) error {
	if err := table.ValidateTransact(s.schema, ops); err != nil {
		return fmt.Errorf("bolt: transact: %w", err)
	}
	if err := s.write(ctx, ops); err != nil {
		return fmt.Errorf("bolt: transact: %w", err)
	}
	return nil
}

// unwrapTx turns the *TxError of a single write into its condition error.
func unwrapTx(err error) error {
	var txErr *table.TxError
	if errors.As(err, &txErr) {
		return txErr.Err
	}
	return err
}

// write runs validated ops in one bbolt write transaction; a failed
// condition is a *TxError and rolls everything back.
func (s *Store) write(ctx context.Context, ops []table.Op) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// Batch: concurrent writers share one commit (one fsync), which is
	// what a 9:00 clock-in rush needs. A writer whose condition fails makes
	// bbolt roll the batch back and run the others again without it, and
	// it alone, so every writer still sees exactly its own outcome; the
	// function must therefore only act on tx, which it does.
	return s.db.Batch(func(tx *bbolt.Tx) error {
		items, now := tx.Bucket(itemsBucket), s.now()
		for i, op := range ops {
			if op.Condition.Kind() == "" {
				continue
			}
			exists, version := false, int64(0)
			if v := items.Get(itemKey(op.Key())); v != nil {
				exp, ok := peekExpiry(v)
				if !ok {
					return errCorrupt
				}
				if alive(exp, now) {
					rec, err := decodeValue(v)
					if err != nil {
						return err
					}
					exists, version = true, rec.version
				}
			}
			if !holds(op.Condition, exists, version) {
				return &table.TxError{Index: i, Err: table.ErrConditionFailed}
			}
		}
		for _, op := range ops {
			var err error
			switch {
			case op.Put != nil:
				err = s.put(tx, *op.Put)
			case op.Delete != nil:
				_, err = s.remove(tx, *op.Delete)
			}
			if err != nil {
				return err
			}
		}
		// Last chance to honour a cancellation: returning rolls back.
		return ctx.Err()
	})
}

// holds tells whether cond accepts an item that exists (unexpired) or not.
func holds(cond table.Condition, exists bool, version int64) bool {
	switch cond.Kind() {
	case "not-exists":
		return !exists
	case "exists":
		return exists
	case "version":
		return exists && version == cond.Version()
	}
	return true
}

// put stores it and its index entries, replacing those of the item it
// overwrites.
func (s *Store) put(tx *bbolt.Tx, it table.Item) error {
	items := tx.Bucket(itemsBucket)
	k := itemKey(it.Key)
	var old map[string]string
	if v := items.Get(k); v != nil {
		rec, err := decodeValue(v)
		if err != nil {
			return err
		}
		old = rec.index
	}
	for _, g := range s.gsis {
		b := tx.Bucket(g.bucket)
		was := g.key(it.Tenant, it.PK, it.SK, old)
		now := g.key(it.Tenant, it.PK, it.SK, it.Index)
		if bytes.Equal(was, now) && (was == nil) == (now == nil) {
			continue
		}
		if was != nil {
			if err := b.Delete(was); err != nil {
				return err
			}
		}
		if now != nil {
			if err := b.Put(now, nil); err != nil {
				return err
			}
		}
	}
	return items.Put(k, encodeValue(it))
}

// remove deletes key and its index entries, reporting whether it was there.
func (s *Store) remove(tx *bbolt.Tx, key table.Key) (bool, error) {
	items := tx.Bucket(itemsBucket)
	k := itemKey(key)
	v := items.Get(k)
	if v == nil {
		return false, nil
	}
	rec, err := decodeValue(v)
	if err != nil {
		return false, err
	}
	for _, g := range s.gsis {
		if ik := g.key(key.Tenant, key.PK, key.SK, rec.index); ik != nil {
			if err := tx.Bucket(g.bucket).Delete(ik); err != nil {
				return false, err
			}
		}
	}
	return true, items.Delete(k)
}
