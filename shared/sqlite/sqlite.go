// Package sqlite is the embedded table.Store: one SQLite file (pure Go,
// modernc.org/sqlite) that `make run` and tests use in place of DynamoDB.
//
// Layout: one row per item in table items, keyed (tenant, pk, sk), with one
// column per secondary-index key attribute ("a_GSI1PK", "a_GSI1SK") and one
// partial SQLite index per GSI on (tenant, index pk, index sk, pk, sk). A
// write is then a single statement on a single row: SQLite keeps the GSIs in
// step inside the same B-tree transaction, with no index rows of ours to
// maintain or to leave behind. The tenant is the leading column of every
// key and index and every statement binds it, so no query can cross tenants.
//
// Durability: WAL with synchronous=FULL, so an acknowledged write survives
// kill -9 and power loss. Writes go through one connection (SQLite has one
// writer anyway; queueing in database/sql beats SQLITE_BUSY retries) and
// transactions start with BEGIN IMMEDIATE; reads use a separate pool that
// WAL lets run beside the writer.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/lantau-hq/lantau/shared/table"
)

var _ table.Store = (*Store)(nil)

// sweepEvery is how often expired items are removed; reads never return
// them in the meantime.
const sweepEvery = time.Minute

// Store is a table.Store in one SQLite file. It is safe for concurrent use,
// and by several processes on the same file (through SQLite's locks).
type Store struct {
	w, r   *sql.DB // writer (one connection) and reader pool; the same for :memory:
	schema table.Schema
	attrs  []string          // index key attribute names, one column each
	index  map[string]gsi    // by index name
	known  map[string]string // attribute name -> column
	now    func() int64      // Unix seconds, for TTL

	putAlways, putIfNotExists, putIfExists, putIfVersion *sql.Stmt
	del, delIfExists, delIfVersion, alive, get, sweep    *sql.Stmt

	queries sync.Map // query SQL -> *sql.Stmt on r

	sweepCtx context.Context // cancelled by Close
	endSweep context.CancelFunc
	stopped  sync.WaitGroup
	closeErr error
	once     sync.Once
}

// gsi is one secondary index as stored.
type gsi struct {
	name, pkCol, skCol string // skCol is "" for an index without a sort key
}

var identRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,255}$`)

// Open opens (creating if needed) the store at path, a file name without
// URI parameters; ":memory:" gives a private in-memory store. Columns and
// indexes for GSIs the schema adds later are created on open.
func Open(path string, schema table.Schema) (*Store, error) {
	s := &Store{schema: schema, index: map[string]gsi{}, known: map[string]string{},
		now: func() int64 { return time.Now().Unix() }}
	if err := s.readSchema(); err != nil {
		return nil, err
	}
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlite: open: path %q: %w", path, table.ErrInvalid)
	}
	const pragmas = "_pragma=busy_timeout(10000)&_pragma=foreign_keys(0)&_pragma=temp_store(memory)"
	var err error
	if path == ":memory:" {
		if s.w, err = sql.Open("sqlite", ":memory:?_txlock=immediate&"+pragmas); err != nil {
			return nil, fmt.Errorf("sqlite: open: %w", err)
		}
		s.w.SetMaxOpenConns(1) // every connection would be a database of its own
		s.w.SetMaxIdleConns(1)
		s.r = s.w
	} else {
		// The writer sets WAL (persistent in the file) before any reader opens.
		if s.w, err = sql.Open("sqlite", path+"?_txlock=immediate&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&"+pragmas); err != nil {
			return nil, fmt.Errorf("sqlite: open: %w", err)
		}
		s.w.SetMaxOpenConns(1)
		s.w.SetMaxIdleConns(1)
	}
	if err := s.migrate(); err != nil {
		s.w.Close()
		return nil, err
	}
	if s.r == nil {
		if s.r, err = sql.Open("sqlite", path+"?_pragma=query_only(1)&"+pragmas); err != nil {
			s.w.Close()
			return nil, fmt.Errorf("sqlite: open: %w", err)
		}
		n := max(4, runtime.GOMAXPROCS(0))
		s.r.SetMaxOpenConns(n)
		s.r.SetMaxIdleConns(n)
	}
	if err := s.prepare(); err != nil {
		s.Close()
		return nil, err
	}
	s.sweepCtx, s.endSweep = context.WithCancel(context.Background())
	s.stopped.Add(1)
	go s.sweeper()
	return s, nil
}

// Close stops the sweeper and closes the database.
func (s *Store) Close() error {
	s.once.Do(func() {
		if s.endSweep != nil {
			s.endSweep()
			s.stopped.Wait()
		}
		var errs []error
		s.queries.Range(func(_, v any) bool { errs = append(errs, v.(*sql.Stmt).Close()); return true })
		for _, st := range []*sql.Stmt{s.putAlways, s.putIfNotExists, s.putIfExists, s.putIfVersion,
			s.del, s.delIfExists, s.delIfVersion, s.alive, s.get, s.sweep} {
			if st != nil {
				errs = append(errs, st.Close())
			}
		}
		if s.r != s.w {
			errs = append(errs, s.r.Close())
		}
		_, err := s.w.Exec("PRAGMA optimize")
		errs = append(errs, err, s.w.Close())
		if err := errors.Join(errs...); err != nil {
			s.closeErr = fmt.Errorf("sqlite: close: %w", err)
		}
	})
	return s.closeErr
}

// readSchema checks the schema and names a column for each index key
// attribute (an attribute two indexes share gets one column).
func (s *Store) readSchema() error {
	sc := s.schema
	if sc.PK == "" || sc.SK == "" {
		return fmt.Errorf("sqlite: schema without PK or SK: %w", table.ErrInvalid)
	}
	column := func(attr string) (string, error) {
		if !identRE.MatchString(attr) || attr == sc.PK || attr == sc.SK || attr == sc.TTL {
			return "", fmt.Errorf("sqlite: schema: index attribute %q: %w", attr, table.ErrInvalid)
		}
		if c, ok := s.known[attr]; ok {
			return c, nil
		}
		c := `"a_` + attr + `"`
		s.known[attr] = c
		s.attrs = append(s.attrs, attr)
		return c, nil
	}
	for _, ix := range sc.Indexes {
		if !identRE.MatchString(ix.Name) || ix.PK == "" {
			return fmt.Errorf("sqlite: schema: index %q: %w", ix.Name, table.ErrInvalid)
		}
		if _, dup := s.index[ix.Name]; dup {
			return fmt.Errorf("sqlite: schema: index %q twice: %w", ix.Name, table.ErrInvalid)
		}
		g := gsi{name: ix.Name}
		var err error
		if g.pkCol, err = column(ix.PK); err != nil {
			return err
		}
		if ix.SK != "" {
			if g.skCol, err = column(ix.SK); err != nil {
				return err
			}
		}
		s.index[ix.Name] = g
	}
	return nil
}

// migrate creates the table, and the columns and indexes of GSIs it lacks.
func (s *Store) migrate() error {
	ctx := context.Background()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	defer tx.Rollback()
	stmts := []string{
		// A rowid table rather than WITHOUT ROWID: rows carry JSON documents
		// often larger than 1/20 of a page, where SQLite advises rowid tables.
		`CREATE TABLE IF NOT EXISTS items (
			tenant     TEXT    NOT NULL,
			pk         TEXT    NOT NULL,
			sk         TEXT    NOT NULL,
			version    INTEGER NOT NULL,
			expires_at INTEGER NOT NULL DEFAULT 0,
			data       BLOB    NOT NULL,
			PRIMARY KEY (tenant, pk, sk)
		)`,
		`CREATE INDEX IF NOT EXISTS items_expiry ON items (expires_at) WHERE expires_at > 0`,
	}
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("sqlite: migrate: %w", err)
		}
	}
	have := map[string]bool{}
	rows, err := tx.QueryContext(ctx, `SELECT name FROM pragma_table_info('items')`)
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return fmt.Errorf("sqlite: migrate: %w", err)
		}
		have[`"`+name+`"`] = true
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	for _, attr := range s.attrs {
		if c := s.known[attr]; !have[c] {
			if _, err := tx.ExecContext(ctx, `ALTER TABLE items ADD COLUMN `+c+` TEXT`); err != nil {
				return fmt.Errorf("sqlite: migrate: %w", err)
			}
		}
	}
	// One SQLite index per GSI, named gsi_<name>: created when missing,
	// rebuilt when the schema redefines it, dropped when the schema drops it.
	existing := map[string]string{}
	rows, err = tx.QueryContext(ctx, `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name LIKE 'gsi\_%' ESCAPE '\'`)
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			rows.Close()
			return fmt.Errorf("sqlite: migrate: %w", err)
		}
		existing[name] = def
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	var ddl []string
	for _, g := range s.index {
		cols, where := g.pkCol, g.pkCol+" IS NOT NULL"
		if g.skCol != "" {
			cols += ", " + g.skCol
			where += " AND " + g.skCol + " IS NOT NULL"
		}
		name := "gsi_" + g.name
		def := fmt.Sprintf(`CREATE INDEX "%s" ON items (tenant, %s, pk, sk) WHERE %s`, name, cols, where)
		if old, ok := existing[name]; ok && old != def {
			ddl = append(ddl, `DROP INDEX "`+name+`"`)
		}
		if existing[name] != def {
			ddl = append(ddl, def)
		}
		delete(existing, name)
	}
	for name := range existing {
		ddl = append(ddl, `DROP INDEX "`+name+`"`)
	}
	for _, q := range ddl {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("sqlite: migrate: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	return nil
}

// alive is the SQL condition of an unexpired row; ? is now.
const aliveSQL = "(expires_at = 0 OR expires_at > ?%d)"

// prepare builds the fixed statements. Parameters are numbered: ?1 tenant,
// ?2 pk, ?3 sk, ?4 version, ?5 expires_at, ?6 data, then one per attribute
// column, then now, then the expected version.
func (s *Store) prepare() error {
	cols := []string{"tenant", "pk", "sk", "version", "expires_at", "data"}
	for _, a := range s.attrs {
		cols = append(cols, s.known[a])
	}
	params, sets := make([]string, len(cols)), make([]string, 0, len(cols))
	for i, c := range cols {
		params[i] = fmt.Sprintf("?%d", i+1)
		if i >= 3 {
			sets = append(sets, fmt.Sprintf("%s = ?%d", c, i+1))
		}
	}
	nowP, verP := len(cols)+1, len(cols)+2
	upsert := fmt.Sprintf("INSERT INTO items (%s) VALUES (%s) ON CONFLICT (tenant, pk, sk) DO UPDATE SET %s",
		strings.Join(cols, ", "), strings.Join(params, ", "), strings.Join(sets, ", "))
	update := fmt.Sprintf("UPDATE items SET %s WHERE tenant = ?1 AND pk = ?2 AND sk = ?3 AND "+aliveSQL,
		strings.Join(sets, ", "), nowP)
	key := "FROM items WHERE tenant = ?1 AND pk = ?2 AND sk = ?3"
	stmts := []struct {
		dst **sql.Stmt
		db  *sql.DB
		sql string
	}{
		{&s.putAlways, s.w, upsert},
		{&s.putIfNotExists, s.w, upsert + fmt.Sprintf(" WHERE items.expires_at > 0 AND items.expires_at <= ?%d", nowP)},
		{&s.putIfExists, s.w, update},
		{&s.putIfVersion, s.w, update + fmt.Sprintf(" AND version = ?%d", verP)},
		{&s.del, s.w, "DELETE " + key},
		{&s.delIfExists, s.w, "DELETE " + key + " AND " + fmt.Sprintf(aliveSQL, 4)},
		{&s.delIfVersion, s.w, "DELETE " + key + " AND " + fmt.Sprintf(aliveSQL, 4) + " AND version = ?5"},
		{&s.alive, s.w, "SELECT version " + key + " AND " + fmt.Sprintf(aliveSQL, 4)},
		{&s.get, s.r, "SELECT " + s.selectCols() + " " + key + " AND " + fmt.Sprintf(aliveSQL, 4)},
		{&s.sweep, s.w, "DELETE FROM items WHERE rowid IN (SELECT rowid FROM items WHERE expires_at > 0 AND expires_at <= ?1 LIMIT 1000)"},
	}
	for _, st := range stmts {
		var err error
		if *st.dst, err = st.db.Prepare(st.sql); err != nil {
			return fmt.Errorf("sqlite: prepare %q: %w", st.sql, err)
		}
	}
	return nil
}

// selectCols are the columns a scanner reads.
func (s *Store) selectCols() string {
	cols := "pk, sk, version, expires_at, data"
	for _, a := range s.attrs {
		cols += ", " + s.known[a]
	}
	return cols
}

// sweeper removes expired rows now and then until Close.
func (s *Store) sweeper() {
	defer s.stopped.Done()
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-s.sweepCtx.Done():
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(s.sweepCtx, 30*time.Second)
			_, _ = s.Sweep(ctx) // best effort: reads filter expired items anyway
			cancel()
		}
	}
}

// Sweep deletes the expired items and reports how many, in batches of 1,000
// so that writers wait at most one batch.
func (s *Store) Sweep(ctx context.Context) (int64, error) {
	var total int64
	for {
		res, err := s.sweep.ExecContext(ctx, s.now())
		if err != nil {
			return total, fmt.Errorf("sqlite: sweep: %w", err)
		}
		n, _ := res.RowsAffected()
		total += n
		if n < 1000 {
			return total, nil
		}
	}
}
