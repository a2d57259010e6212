package s3server

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The outbox makes notifications as durable as the changes they describe.
// A write or delete puts its Notification into the bbolt bucket "outbox",
// keyed by the change's store-wide sequence number (big-endian, so key order
// is commit order), in the same transaction that commits the change: an
// acknowledged change always has its notification, a change that did not
// commit never has one. The notifier hands the records to Options.Notify in
// key order and deletes them once Notify has returned nil.

var bktOutbox = []byte("outbox")

func outboxKey(seq uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], seq)
	return b[:]
}

// record puts note into the outbox of tx, under the change's sequence
// number, when notifications are on.
func (s *store) record(tx *bolt.Tx, seq uint64, note Notification) error {
	if !s.notify {
		return nil
	}
	return tx.Bucket(bktOutbox).Put(outboxKey(seq), mustJSON(note))
}

// recorded wakes the notifier after a transaction that called record has
// committed.
func (s *store) recorded() {
	if !s.notify {
		return
	}
	select {
	case s.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
}

const (
	outboxBatch       = 64
	notifyBackoffMin  = 10 * time.Millisecond
	notifyBackoffMax  = time.Second
	notifyLogInterval = 10 // after the first, log every n-th failed attempt
)

type outboxEntry struct {
	seq  uint64
	note Notification
}

// notifier delivers the outbox in order on its own goroutine.
type notifier struct {
	st   *store
	fn   func(Notification) error
	log  *slog.Logger
	stop chan struct{}
	done chan struct{}

	next      uint64   // lowest sequence number not delivered yet
	delivered [][]byte // keys delivered but not yet deleted from the outbox
}

// startNotifier starts delivering st's outbox, beginning with whatever an
// earlier run left in it. fn nil delivers nothing.
func startNotifier(st *store, fn func(Notification) error, log *slog.Logger) *notifier {
	n := &notifier{st: st, fn: fn, log: log, stop: make(chan struct{}), done: make(chan struct{})}
	if fn == nil {
		close(n.done)
		return n
	}
	go n.run()
	return n
}

// close waits for a Notify call in progress to return, stops delivery and
// removes from the outbox what was delivered. What was not stays there for
// the next Server on the directory.
func (n *notifier) close() {
	select {
	case <-n.stop:
	default:
		close(n.stop)
	}
	<-n.done
}

func (n *notifier) stopped() bool {
	select {
	case <-n.stop:
		return true
	default:
		return false
	}
}

func (n *notifier) run() {
	defer close(n.done)
	defer n.flush()
	backoff := notifyBackoffMin
	for !n.stopped() {
		batch, err := n.read()
		if err != nil {
			n.log.Error("s3server: read notification outbox", "err", err)
			if !n.sleep(notifyBackoffMax) {
				return
			}
			continue
		}
		if len(batch) == 0 {
			select {
			case <-n.st.wake:
			case <-n.stop:
				return
			}
			continue
		}
		for _, e := range batch {
			for attempt := 1; ; attempt++ {
				err := n.call(e.note)
				if err == nil {
					break
				}
				if attempt == 1 || attempt%notifyLogInterval == 0 {
					n.log.Warn("s3server: Notify failed; retrying", "event", e.note.EventName, "bucket", e.note.Bucket,
						"key", e.note.Key, "sequencer", e.note.Sequencer, "attempt", attempt, "err", err)
				}
				n.flush() // before waiting: what was delivered should not be delivered again
				if !n.sleep(backoff) {
					return
				}
				backoff = min(2*backoff, notifyBackoffMax)
			}
			backoff = notifyBackoffMin
			n.next = e.seq + 1
			n.delivered = append(n.delivered, outboxKey(e.seq))
			if n.stopped() {
				return
			}
		}
		n.flush()
	}
}

// read returns the oldest undelivered outbox records.
func (n *notifier) read() ([]outboxEntry, error) {
	var out []outboxEntry
	err := n.st.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bktOutbox).Cursor()
		for k, v := c.Seek(outboxKey(n.next)); k != nil && len(out) < outboxBatch; k, v = c.Next() {
			var note Notification
			if err := json.Unmarshal(v, &note); err != nil {
				return fmt.Errorf("s3server: corrupt outbox record %x: %w", k, err)
			}
			out = append(out, outboxEntry{seq: binary.BigEndian.Uint64(k), note: note})
		}
		return nil
	})
	return out, err
}

// call runs Notify; a panic counts as a failure.
func (n *notifier) call(note Notification) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("s3server: Notify panicked: %v", p)
		}
	}()
	return n.fn(note)
}

// flush removes delivered records from the outbox, in one transaction for
// a batch. If that fails they stay, and are delivered again by the next
// Server on the directory (not by this one: next has moved past them).
func (n *notifier) flush() {
	if len(n.delivered) == 0 {
		return
	}
	err := n.st.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktOutbox)
		for _, k := range n.delivered {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		n.log.Error("s3server: remove delivered notifications from the outbox", "count", len(n.delivered), "err", err)
		return
	}
	n.delivered = n.delivered[:0]
}

// sleep waits d, or returns false at once when the notifier is stopped.
func (n *notifier) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-n.stop:
		return false
	}
}
