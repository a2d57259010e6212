// Package bolt is the embedded table.Store on go.etcd.io/bbolt: one file,
// pure Go, that `make run` and tests use in place of DynamoDB.
//
// Layout: bucket "items" maps (tenant, pk, sk) to the item; one bucket per
// GSI, "gsi/<name>", maps (tenant, index pk, index sk, pk, sk) to nothing,
// kept in step with items inside the same write transaction. Keys are
// order-preserving: every component but the last is escaped (0x00 as
// 0x00 0xFF) and terminated by 0x00 0x01, the last is stored raw, so that
// byte order is the tuple's order in UTF-8 byte order and a partition
// (tenant, pk) is exactly the keys with its prefix. Keys may hold 0x00
// (table validation allows any UTF-8), which the escaping keeps apart.
// The tenant leads every key, so no read can cross tenants.
//
// Durability: bbolt's default, an fsync per committed write transaction,
// so an acknowledged write survives kill -9 and power loss. bbolt runs one
// writer at a time and readers beside it on a snapshot.
package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	bbolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/lantau-hq/lantau/shared/table"
)

var _ table.Store = (*Store)(nil)

// sweepEvery is how often expired items are removed; reads never return
// them in the meantime.
const sweepEvery = time.Minute

// openTimeout is how long Open waits for the file lock another process holds.
const openTimeout = time.Second

var (
	itemsBucket = []byte("items")
	metaBucket  = []byte("meta") // index name -> its definition, to notice schema changes
)

// Store is a table.Store in one bbolt file. It is safe for concurrent use;
// one process at a time holds the file.
type Store struct {
	db     *bbolt.DB
	schema table.Schema
	index  map[string]gsi // by index name
	gsis   []gsi          // in schema order
	now    func() int64   // Unix seconds, for TTL

	endSweep context.CancelFunc
	swept    chan struct{}
	closeErr error
	once     sync.Once
}

// gsi is one secondary index as stored.
type gsi struct {
	name, pk, sk string // key attribute names; sk is "" for an index without a sort key
	bucket       []byte
}

// identRE with a length check (ident): {1,255} would compile to 255 copies
// and cost every function's cold start a millisecond or more.
var identRE = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

func ident(s string) bool { return len(s) <= 255 && identRE.MatchString(s) }

// batchDelay is how long a write waits for concurrent ones to share its
// commit: short against an fsync (about 0.15 ms to a few ms here), long
// enough to gather a burst.
const batchDelay = 500 * time.Microsecond

// Open opens (creating if needed) the store at path. Buckets of GSIs the
// schema adds or redefines are (re)built on open, those it drops removed.
// A file another process holds is refused after a second.
func Open(path string, schema table.Schema) (*Store, error) {
	s := &Store{schema: schema, index: map[string]gsi{}, now: func() int64 { return time.Now().Unix() }}
	if err := s.readSchema(); err != nil {
		return nil, err
	}
	if path == "" {
		return nil, fmt.Errorf("bolt: open: no path: %w", table.ErrInvalid)
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: openTimeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("bolt: open %s: the file is locked by another process (is another instance running?): %w", path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	s.db = db
	// A lone writer waits at most this long for others to share its commit.
	db.MaxBatchDelay = batchDelay
	if err := db.Update(s.migrate); err != nil {
		db.Close()
		return nil, fmt.Errorf("bolt: migrate %s: %w", path, err)
	}
	var ctx context.Context
	ctx, s.endSweep = context.WithCancel(context.Background())
	s.swept = make(chan struct{})
	go s.sweeper(ctx)
	return s, nil
}

// Close stops the sweeper and closes the file.
func (s *Store) Close() error {
	s.once.Do(func() {
		s.endSweep()
		<-s.swept
		if err := s.db.Close(); err != nil {
			s.closeErr = fmt.Errorf("bolt: close: %w", err)
		}
	})
	return s.closeErr
}

// readSchema checks the schema as the SQLite store does.
func (s *Store) readSchema() error {
	sc := s.schema
	if sc.PK == "" || sc.SK == "" {
		return fmt.Errorf("bolt: schema without PK or SK: %w", table.ErrInvalid)
	}
	attr := func(a string) error {
		if !ident(a) || a == sc.PK || a == sc.SK || a == sc.TTL {
			return fmt.Errorf("bolt: schema: index attribute %q: %w", a, table.ErrInvalid)
		}
		return nil
	}
	for _, ix := range sc.Indexes {
		if !ident(ix.Name) || ix.PK == "" {
			return fmt.Errorf("bolt: schema: index %q: %w", ix.Name, table.ErrInvalid)
		}
		if _, dup := s.index[ix.Name]; dup {
			return fmt.Errorf("bolt: schema: index %q twice: %w", ix.Name, table.ErrInvalid)
		}
		if err := attr(ix.PK); err != nil {
			return err
		}
		if ix.SK != "" {
			if err := attr(ix.SK); err != nil {
				return err
			}
		}
		g := gsi{name: ix.Name, pk: ix.PK, sk: ix.SK, bucket: []byte("gsi/" + ix.Name)}
		s.index[ix.Name] = g
		s.gsis = append(s.gsis, g)
	}
	return nil
}

// migrate creates the buckets and builds the index buckets the file lacks
// or defines otherwise.
func (s *Store) migrate(tx *bbolt.Tx) error {
	items, err := tx.CreateBucketIfNotExists(itemsBucket)
	if err != nil {
		return err
	}
	meta, err := tx.CreateBucketIfNotExists(metaBucket)
	if err != nil {
		return err
	}
	var stale [][]byte
	if err := meta.ForEach(func(name, _ []byte) error {
		if _, ok := s.index[string(name)]; !ok {
			stale = append(stale, bytes.Clone(name))
		}
		return nil
	}); err != nil {
		return err
	}
	for _, name := range stale {
		if err := tx.DeleteBucket([]byte("gsi/" + string(name))); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
			return err
		}
		if err := meta.Delete(name); err != nil {
			return err
		}
	}
	for _, g := range s.gsis {
		def := []byte(g.pk + "\x00" + g.sk)
		if bytes.Equal(meta.Get([]byte(g.name)), def) && tx.Bucket(g.bucket) != nil {
			continue
		}
		if err := tx.DeleteBucket(g.bucket); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
			return err
		}
		b, err := tx.CreateBucket(g.bucket)
		if err != nil {
			return err
		}
		if err := items.ForEach(func(k, v []byte) error {
			tenant, pk, sk, ok := splitItemKey(k)
			if !ok {
				return fmt.Errorf("corrupt item key %q", k)
			}
			rec, err := decodeValue(v)
			if err != nil {
				return err
			}
			if ik := g.key(tenant, pk, sk, rec.index); ik != nil {
				return b.Put(ik, nil)
			}
			return nil
		}); err != nil {
			return err
		}
		if err := meta.Put([]byte(g.name), def); err != nil {
			return err
		}
	}
	return nil
}

// sweeper removes expired items now and then until ctx ends.
func (s *Store) sweeper(ctx context.Context) {
	defer close(s.swept)
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_, _ = s.Sweep(ctx) // best effort: reads filter expired items anyway
		}
	}
}

// Sweep deletes the expired items and reports how many, in transactions of
// at most 1,000 deletions so that writers wait at most one batch.
func (s *Store) Sweep(ctx context.Context) (int64, error) {
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, fmt.Errorf("bolt: sweep: %w", err)
		}
		n := 0
		err := s.db.Update(func(tx *bbolt.Tx) error {
			now := s.now()
			var expired [][]byte
			c := tx.Bucket(itemsBucket).Cursor()
			for k, v := c.First(); k != nil && len(expired) < 1000; k, v = c.Next() {
				if exp, ok := peekExpiry(v); ok && exp > 0 && exp <= now {
					expired = append(expired, bytes.Clone(k))
				}
			}
			for _, k := range expired {
				tenant, pk, sk, ok := splitItemKey(k)
				if !ok {
					return fmt.Errorf("corrupt item key %q", k)
				}
				if _, err := s.remove(tx, table.Key{Tenant: tenant, PK: pk, SK: sk}); err != nil {
					return err
				}
			}
			n = len(expired)
			return nil
		})
		total += int64(n)
		if err != nil {
			return total, fmt.Errorf("bolt: sweep: %w", err)
		}
		if n < 1000 {
			return total, nil
		}
	}
}

// Key encoding.

// appendEsc appends s escaped and terminated: 0x00 becomes 0x00 0xFF and the
// end is 0x00 0x01, which keeps byte order and makes s's end unambiguous.
func appendEsc(b []byte, s string) []byte {
	b = appendEscBody(b, s)
	return append(b, 0, 1)
}

func appendEscBody(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			b = append(b, 0, 0xFF)
		} else {
			b = append(b, s[i])
		}
	}
	return b
}

// readEsc reads one escaped component from the start of b.
func readEsc(b []byte) (s string, rest []byte, ok bool) {
	var out []byte
	for i := 0; i < len(b); i++ {
		if b[i] != 0 {
			continue
		}
		if i+1 >= len(b) {
			return "", nil, false
		}
		switch b[i+1] {
		case 1:
			if out == nil {
				return string(b[:i]), b[i+2:], true
			}
			return string(append(out, b[:i]...)), b[i+2:], true
		case 0xFF:
			out = append(append(out, b[:i]...), 0)
			b = b[i+2:]
			i = -1
		default:
			return "", nil, false
		}
	}
	return "", nil, false
}

// partition is the prefix of every key of (tenant, pk) in items, or of
// (tenant, index pk) in an index bucket.
func partition(tenant, pk string) []byte {
	b := make([]byte, 0, len(tenant)+len(pk)+8)
	return appendEsc(appendEsc(b, tenant), pk)
}

func itemKey(k table.Key) []byte {
	return append(partition(k.Tenant, k.PK), k.SK...)
}

func splitItemKey(k []byte) (tenant, pk, sk string, ok bool) {
	if tenant, k, ok = readEsc(k); !ok {
		return
	}
	if pk, k, ok = readEsc(k); !ok {
		return
	}
	return tenant, pk, string(k), true
}

// position appends a sort position (see table.DecodeCursor) to a partition
// prefix: every component escaped but the last.
func position(prefix []byte, pos []string) []byte {
	b := bytes.Clone(prefix)
	for _, v := range pos[:len(pos)-1] {
		b = appendEsc(b, v)
	}
	return append(b, pos[len(pos)-1]...)
}

// key is the index entry of an item, nil if the item is not in the index.
func (g gsi) key(tenant, pk, sk string, index map[string]string) []byte {
	gpk, ok := index[g.pk]
	if !ok {
		return nil
	}
	pos := []string{pk, sk}
	if g.sk != "" {
		gsk, ok := index[g.sk]
		if !ok {
			return nil
		}
		pos = []string{gsk, pk, sk}
	}
	return position(partition(tenant, gpk), pos)
}

// Value encoding: uvarint version (zig-zag varint), varint expiresAt,
// uvarint attribute count, then per attribute uvarint-length name and
// value, then the data to the end.

type record struct {
	version, expiresAt int64
	index              map[string]string
	data               []byte // aliases the page until copied
}

func encodeValue(it table.Item) []byte {
	n := 3*binary.MaxVarintLen64 + len(it.Data)
	for a, v := range it.Index {
		n += 2*binary.MaxVarintLen64 + len(a) + len(v)
	}
	b := make([]byte, 0, n)
	b = binary.AppendVarint(b, it.Version)
	b = binary.AppendVarint(b, it.ExpiresAt)
	b = binary.AppendUvarint(b, uint64(len(it.Index)))
	for a, v := range it.Index {
		b = binary.AppendUvarint(b, uint64(len(a)))
		b = append(b, a...)
		b = binary.AppendUvarint(b, uint64(len(v)))
		b = append(b, v...)
	}
	return append(b, it.Data...)
}

var errCorrupt = errors.New("bolt: corrupt item value")

func decodeValue(b []byte) (record, error) {
	var r record
	var n int
	if r.version, n = binary.Varint(b); n <= 0 {
		return r, errCorrupt
	}
	b = b[n:]
	if r.expiresAt, n = binary.Varint(b); n <= 0 {
		return r, errCorrupt
	}
	b = b[n:]
	count, n := binary.Uvarint(b)
	if n <= 0 || count > uint64(len(b)) {
		return r, errCorrupt
	}
	b = b[n:]
	str := func() (string, bool) {
		l, n := binary.Uvarint(b)
		if n <= 0 || l > uint64(len(b)-n) {
			return "", false
		}
		s := string(b[n : n+int(l)])
		b = b[n+int(l):]
		return s, true
	}
	if count > 0 {
		r.index = make(map[string]string, count)
		for range count {
			a, ok1 := str()
			v, ok2 := str()
			if !ok1 || !ok2 {
				return r, errCorrupt
			}
			r.index[a] = v
		}
	}
	r.data = b
	return r, nil
}

// peekExpiry reads only the expiry of a value.
func peekExpiry(b []byte) (int64, bool) {
	_, n := binary.Varint(b)
	if n <= 0 {
		return 0, false
	}
	exp, m := binary.Varint(b[n:])
	return exp, m > 0
}

// alive tells whether an item expiring at exp is unexpired at now.
func alive(exp, now int64) bool { return exp == 0 || exp > now }

func (r record) item(k table.Key) table.Item {
	data := make([]byte, len(r.data))
	copy(data, r.data)
	return table.Item{Key: k, Index: r.index, Version: r.version, ExpiresAt: r.expiresAt, Data: data}
}
