package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/lantau-hq/lantau/shared/table"
)

// Get reads one unexpired item.
func (s *Store) Get(ctx context.Context, key table.Key) (table.Item, error) {
	if err := table.ValidateKey(key); err != nil {
		return table.Item{}, fmt.Errorf("sqlite: get: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return table.Item{}, fmt.Errorf("sqlite: get: %w", err)
	}
	it, err := s.getWith(ctx, s.get, key)
	if err != nil {
		return table.Item{}, fmt.Errorf("sqlite: get: %w", err)
	}
	return it, nil
}

func (s *Store) getWith(ctx context.Context, stmt *sql.Stmt, key table.Key) (table.Item, error) {
	rows, err := stmt.QueryContext(ctx, key.Tenant, key.PK, key.SK, s.now())
	if err != nil {
		return table.Item{}, ctxErr(ctx, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return table.Item{}, ctxErr(ctx, err)
		}
		return table.Item{}, table.ErrNotFound
	}
	it, err := s.newScanner().scan(rows, key.Tenant)
	if err != nil {
		return table.Item{}, ctxErr(ctx, err)
	}
	return it, nil
}

// BatchGet reads up to MaxBatchGetKeys items from one snapshot, returning
// those found in the order of keys.
func (s *Store) BatchGet(ctx context.Context, keys []table.Key) ([]table.Item, error) {
	if err := table.ValidateBatchGet(keys); err != nil {
		return nil, fmt.Errorf("sqlite: batch get: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: batch get: %w", err)
	}
	if len(keys) == 0 {
		return nil, nil
	}
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("sqlite: batch get: %w", ctxErr(ctx, err))
	}
	defer tx.Rollback()
	get := tx.StmtContext(ctx, s.get)
	items := make([]table.Item, 0, len(keys))
	for _, k := range keys {
		it, err := s.getWith(ctx, get, k)
		if errors.Is(err, table.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("sqlite: batch get: %w", err)
		}
		items = append(items, it)
	}
	return items, nil
}

// Put writes item if cond holds, in one statement.
func (s *Store) Put(ctx context.Context, item table.Item, cond table.Condition) error {
	if err := table.ValidateItem(s.schema, item); err != nil {
		return fmt.Errorf("sqlite: put: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqlite: put: %w", err)
	}
	args := s.itemArgs(item)
	var stmt *sql.Stmt
	switch cond.Kind() {
	case "":
		stmt = s.putAlways
	case "not-exists":
		stmt, args = s.putIfNotExists, append(args, s.now())
	case "exists":
		stmt, args = s.putIfExists, append(args, s.now())
	case "version":
		stmt, args = s.putIfVersion, append(args, s.now(), cond.Version())
	}
	if err := execOne(ctx, stmt, args...); err != nil {
		return fmt.Errorf("sqlite: put %s: %w", table.KeyString(item.Key), err)
	}
	return nil
}

// Delete removes key if cond holds.
func (s *Store) Delete(ctx context.Context, key table.Key, cond table.Condition) error {
	if err := table.ValidateKey(key); err != nil {
		return fmt.Errorf("sqlite: delete: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqlite: delete: %w", err)
	}
	var err error
	switch cond.Kind() {
	case "":
		_, err = s.del.ExecContext(ctx, key.Tenant, key.PK, key.SK)
		err = ctxErr(ctx, err)
	case "exists":
		err = execOne(ctx, s.delIfExists, key.Tenant, key.PK, key.SK, s.now())
	case "version":
		err = execOne(ctx, s.delIfVersion, key.Tenant, key.PK, key.SK, s.now(), cond.Version())
	case "not-exists":
		// Deleting only what is not there: a no-op unless an expired row
		// lingers. Rare enough for a transaction.
		err = s.Transact(ctx, []table.Op{{Delete: &key, Condition: cond}})
		var txErr *table.TxError
		if errors.As(err, &txErr) {
			err = txErr.Err
		}
	}
	if err != nil {
		return fmt.Errorf("sqlite: delete %s: %w", table.KeyString(key), err)
	}
	return nil
}

// Transact applies ops all or nothing in one BEGIN IMMEDIATE transaction:
// every condition is checked first, then every write is made.
func (s *Store) Transact(ctx context.Context, ops []table.Op) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("sqlite: transact: %w", err)
		}
	}()
	if err := table.ValidateTransact(s.schema, ops); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return ctxErr(ctx, err)
	}
	defer tx.Rollback()

	now := s.now()
	var alive *sql.Stmt
	for i, op := range ops {
		if op.Condition.Kind() == "" {
			continue
		}
		if alive == nil {
			alive = tx.StmtContext(ctx, s.alive)
		}
		k := op.Key()
		var version int64
		err := alive.QueryRowContext(ctx, k.Tenant, k.PK, k.SK, now).Scan(&version)
		exists := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return ctxErr(ctx, err)
		}
		if !holds(op.Condition, exists, version) {
			return &table.TxError{Index: i, Err: table.ErrConditionFailed}
		}
	}
	var put, del *sql.Stmt
	for _, op := range ops {
		switch {
		case op.Put != nil:
			if put == nil {
				put = tx.StmtContext(ctx, s.putAlways)
			}
			_, err = put.ExecContext(ctx, s.itemArgs(*op.Put)...)
		case op.Delete != nil:
			if del == nil {
				del = tx.StmtContext(ctx, s.del)
			}
			_, err = del.ExecContext(ctx, op.Delete.Tenant, op.Delete.PK, op.Delete.SK)
		}
		if err != nil {
			return ctxErr(ctx, err)
		}
	}
	return ctxErr(ctx, tx.Commit())
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

// execOne runs a conditional write: no row changed means the condition failed.
func execOne(ctx context.Context, stmt *sql.Stmt, args ...any) error {
	res, err := stmt.ExecContext(ctx, args...)
	if err != nil {
		return ctxErr(ctx, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return table.ErrConditionFailed
	}
	return nil
}

// itemArgs are the ?1.. parameters of the write statements.
func (s *Store) itemArgs(it table.Item) []any {
	data := it.Data
	if data == nil {
		data = []byte{}
	}
	args := make([]any, 0, 6+len(s.attrs)+2)
	args = append(args, it.Tenant, it.PK, it.SK, it.Version, it.ExpiresAt, data)
	for _, a := range s.attrs {
		if v, ok := it.Index[a]; ok {
			args = append(args, v)
		} else {
			args = append(args, nil)
		}
	}
	return args
}

// scanner reads the columns of selectCols, reusing its buffers row to row.
type scanner struct {
	s     *Store
	row   table.Item
	data  sql.RawBytes
	attrs []sql.NullString
	dst   []any
}

func (s *Store) newScanner() *scanner {
	sc := &scanner{s: s, attrs: make([]sql.NullString, len(s.attrs))}
	sc.dst = []any{&sc.row.PK, &sc.row.SK, &sc.row.Version, &sc.row.ExpiresAt, &sc.data}
	for i := range sc.attrs {
		sc.dst = append(sc.dst, &sc.attrs[i])
	}
	return sc
}

func (sc *scanner) scan(rows *sql.Rows, tenant string) (table.Item, error) {
	if err := rows.Scan(sc.dst...); err != nil {
		return table.Item{}, err
	}
	it := sc.row
	it.Tenant = tenant
	it.Data = bytes.Clone(sc.data)
	if it.Data == nil {
		it.Data = []byte{}
	}
	for i, a := range sc.attrs {
		if a.Valid {
			if it.Index == nil {
				it.Index = make(map[string]string, len(sc.attrs))
			}
			it.Index[sc.s.attrs[i]] = a.String
		}
	}
	return it, nil
}

// ctxErr prefers the context's error, so that callers can test for
// context.Canceled whatever SQLite made of the interruption.
func ctxErr(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return err
}
