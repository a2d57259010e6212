package s3server

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/johannesboyne/gofakes3"
	bolt "go.etcd.io/bbolt"
)

// store keeps buckets, objects and every object version on disk.
//
// Layout under Dir:
//
//	index.db        bbolt: buckets, version records, multipart uploads, and
//	                the content of objects up to inlineMax bytes
//	blobs/<id>      one immutable file per larger object version or part
//	tmp/            files being written; emptied at start
//
// A small object is written with its version record in one bbolt
// transaction. A larger one is streamed into tmp, fsynced, renamed into
// blobs and the directory fsynced, before the transaction that commits its
// record (bbolt fsyncs on commit). Blob files a transaction makes
// unreachable are removed after it commits. A crash can therefore leave only
// unreferenced blob files behind, which New removes; an acknowledged write
// is never lost or half-visible.
//
// Inside index.db, each S3 bucket has a bbolt bucket "o:<name>" holding
//
//	ver/<key>/<^seq>              version records of key, newest first
//	mpu/<key>/<uploadID>/i        multipart upload record
//	mpu/<key>/<uploadID>/p<n>     part records
//
// seq is a store-wide counter, so version order is commit order. The
// bbolt bucket "outbox" holds the notifications not yet delivered, keyed by
// the seq of their change (see outbox.go).
type store struct {
	db      *bolt.DB
	blobDir string
	tmpDir  string
	now     func() time.Time
	log     *slog.Logger

	// notify says whether changes record notifications in the outbox; wake
	// tells the notifier that one was committed.
	notify bool
	wake   chan struct{}

	// blobMu orders blob removal after readers that looked a blob up in
	// the index have opened it: readers hold it shared from lookup to open,
	// removal holds it exclusively.
	blobMu sync.RWMutex
}

var (
	bktBuckets = []byte("buckets")
	bktMeta    = []byte("meta")
	bktInline  = []byte("inline")
	bktVer     = []byte("ver")
	bktMPU     = []byte("mpu")
	keyUpload  = []byte("i")
)

func objBucket(name string) []byte { return []byte("o:" + name) }

type bucketRecord struct {
	Created    time.Time                 `json:"created"`
	Versioning gofakes3.VersioningStatus `json:"versioning,omitempty"`
}

type versionRecord struct {
	VersionID    string            `json:"id,omitempty"` // "" is the null version
	Seq          uint64            `json:"seq"`
	DeleteMarker bool              `json:"dm,omitempty"`
	Blob         string            `json:"blob,omitempty"` // file name, or key in bktInline
	Inline       bool              `json:"inl,omitempty"`
	Size         int64             `json:"size"`
	MD5          []byte            `json:"md5,omitempty"`
	Meta         map[string]string `json:"meta,omitempty"`
	Modified     time.Time         `json:"mod"`

	data []byte // inline content to store with the record
}

// inlineMax is the largest object kept inside index.db: one fsynced bbolt
// commit is cheaper than creating, fsyncing and linking a file.
const inlineMax = 16 << 10

func (v *versionRecord) etag() string { return hex.EncodeToString(v.MD5) }

// event describes who asked for a write, for its notification.
type event struct {
	name     string // ObjectCreated:Put, ...
	sourceIP string
}

func openStore(dir string, now func() time.Time, notify bool, log *slog.Logger) (*store, error) {
	s := &store{
		blobDir: filepath.Join(dir, "blobs"),
		tmpDir:  filepath.Join(dir, "tmp"),
		now:     now,
		log:     log,
		notify:  notify,
		wake:    make(chan struct{}, 1),
	}
	for _, d := range []string{dir, s.blobDir, s.tmpDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("s3server: create %s: %w", d, err)
		}
	}
	if err := emptyDir(s.tmpDir); err != nil {
		return nil, fmt.Errorf("s3server: clean %s: %w", s.tmpDir, err)
	}
	db, err := bolt.Open(filepath.Join(dir, "index.db"), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("s3server: open index: %w", err)
	}
	s.db = db
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bktBuckets, bktMeta, bktInline, bktOutbox} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		err = s.removeOrphanBlobs()
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("s3server: init index: %w", err)
	}
	return s, nil
}

func (s *store) close() error { return s.db.Close() }

func emptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// removeOrphanBlobs deletes blobs no record refers to: leftovers of writes
// that crashed before their commit, or removals that crashed after it.
func (s *store) removeOrphanBlobs() error {
	used := map[string]bool{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			if !bytes.HasPrefix(name, []byte("o:")) {
				return nil
			}
			return walkBlobs(b, func(blob string, inline bool) {
				if !inline {
					used[blob] = true
				}
			})
		})
	})
	if err != nil {
		return err
	}
	entries, err := os.ReadDir(s.blobDir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !used[e.Name()] {
			s.log.Info("s3server: removing unreferenced blob", "blob", e.Name())
			if err := os.Remove(filepath.Join(s.blobDir, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

// walkBlobs calls fn for every blob referenced under an "o:" bucket.
func walkBlobs(ob *bolt.Bucket, fn func(name string, inline bool)) error {
	if ver := ob.Bucket(bktVer); ver != nil {
		err := ver.ForEachBucket(func(k []byte) error {
			return ver.Bucket(k).ForEach(func(_, v []byte) error {
				var rec versionRecord
				if err := json.Unmarshal(v, &rec); err != nil {
					return err
				}
				if rec.Blob != "" {
					fn(rec.Blob, rec.Inline)
				}
				return nil
			})
		})
		if err != nil {
			return err
		}
	}
	if mpu := ob.Bucket(bktMPU); mpu != nil {
		return mpu.ForEachBucket(func(k []byte) error {
			kb := mpu.Bucket(k)
			return kb.ForEachBucket(func(id []byte) error {
				return kb.Bucket(id).ForEach(func(pk, v []byte) error {
					if bytes.Equal(pk, keyUpload) {
						return nil
					}
					var p partRecord
					if err := json.Unmarshal(v, &p); err != nil {
						return err
					}
					fn(p.Blob, false)
					return nil
				})
			})
		})
	}
	return nil
}

// --- ids, keys and encoding ---

func seqKey(seq uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], ^seq) // newest first
	return b[:]
}

// newID returns a 32-character id that sorts by seq: version and upload IDs.
func newID(seq uint64) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], seq)
	if _, err := rand.Read(b[8:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b[:])
}

func seqFromID(id string) (uint64, bool) {
	if len(id) != 32 {
		return 0, false
	}
	b, err := hex.DecodeString(id)
	if err != nil {
		return 0, false
	}
	return binary.BigEndian.Uint64(b[:8]), true
}

func newBlobName() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b[:])
}

func sequencer(seq uint64) string { return fmt.Sprintf("%016X", seq) }

func decodeVersion(v []byte) (*versionRecord, error) {
	var rec versionRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return nil, fmt.Errorf("s3server: corrupt version record: %w", err)
	}
	return &rec, nil
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain structs are marshalled
	}
	return b
}

func getBucketRecord(tx *bolt.Tx, name string) (*bucketRecord, *bolt.Bucket, error) {
	v := tx.Bucket(bktBuckets).Get([]byte(name))
	if v == nil {
		return nil, nil, gofakes3.BucketNotFound(name)
	}
	var br bucketRecord
	if err := json.Unmarshal(v, &br); err != nil {
		return nil, nil, fmt.Errorf("s3server: corrupt bucket record %q: %w", name, err)
	}
	ob := tx.Bucket(objBucket(name))
	if ob == nil {
		return nil, nil, fmt.Errorf("s3server: bucket %q has no object index", name)
	}
	return &br, ob, nil
}

func nextSeq(tx *bolt.Tx) (uint64, error) { return tx.Bucket(bktMeta).NextSequence() }

// discard releases the content of a version that tx drops: inline content
// goes with the transaction; a blob file name is returned for removal once
// the transaction has committed.
func discard(tx *bolt.Tx, rec *versionRecord, garbage []string) ([]string, error) {
	switch {
	case rec.Blob == "":
		return garbage, nil
	case rec.Inline:
		return garbage, tx.Bucket(bktInline).Delete([]byte(rec.Blob))
	default:
		return append(garbage, rec.Blob), nil
	}
}

func inlineData(tx *bolt.Tx, rec *versionRecord) ([]byte, error) {
	v := tx.Bucket(bktInline).Get([]byte(rec.Blob))
	if v == nil {
		return nil, fmt.Errorf("s3server: inline content %s is missing", rec.Blob)
	}
	return bytes.Clone(v), nil
}

// latest returns the newest version of a key (possibly a delete marker).
func latest(vb *bolt.Bucket) (*versionRecord, error) {
	if vb == nil {
		return nil, nil
	}
	_, v := vb.Cursor().First()
	if v == nil {
		return nil, nil
	}
	return decodeVersion(v)
}

// findVersion looks a version up by ID; "" and "null" name the null version.
func findVersion(vb *bolt.Bucket, id string) ([]byte, *versionRecord, error) {
	if vb == nil {
		return nil, nil, nil
	}
	if id == "" || id == "null" {
		c := vb.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			rec, err := decodeVersion(v)
			if err != nil {
				return nil, nil, err
			}
			if rec.VersionID == "" {
				return bytes.Clone(k), rec, nil
			}
		}
		return nil, nil, nil
	}
	seq, ok := seqFromID(id)
	if !ok {
		return nil, nil, nil
	}
	k := seqKey(seq)
	v := vb.Get(k)
	if v == nil {
		return nil, nil, nil
	}
	rec, err := decodeVersion(v)
	if err != nil || rec.VersionID != id {
		return nil, nil, err
	}
	return k, rec, nil
}

// --- blobs ---

func (s *store) blobPath(name string) string { return filepath.Join(s.blobDir, name) }

// writeBlob streams r into a new durable blob and returns its name, size and
// MD5. Errors from reading r are returned as they are, so that S3 errors
// raised by verifying readers reach gofakes3 intact.
func (s *store) writeBlob(r io.Reader) (name string, n int64, sum []byte, err error) {
	f, err := os.CreateTemp(s.tmpDir, "blob-*")
	if err != nil {
		return "", 0, nil, fmt.Errorf("s3server: create temp blob: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	h := md5.New()
	src := &errReader{r: r}
	buf := make([]byte, 256<<10)
	n, err = io.CopyBuffer(io.MultiWriter(f, h), src, buf)
	if err != nil {
		if src.err != nil {
			return "", 0, nil, readError(src.err)
		}
		return "", 0, nil, fmt.Errorf("s3server: write blob: %w", err)
	}
	if err = f.Sync(); err != nil {
		return "", 0, nil, fmt.Errorf("s3server: sync blob: %w", err)
	}
	if err = f.Close(); err != nil {
		return "", 0, nil, fmt.Errorf("s3server: close blob: %w", err)
	}
	name = newBlobName()
	if err = os.Rename(tmp, s.blobPath(name)); err != nil {
		return "", 0, nil, fmt.Errorf("s3server: place blob: %w", err)
	}
	if err = syncDir(s.blobDir); err != nil {
		os.Remove(s.blobPath(name))
		return "", 0, nil, err
	}
	return name, n, h.Sum(nil), nil
}

// readSmall reads a body of known small size into memory.
func readSmall(r io.Reader, size int64) ([]byte, error) {
	src := &errReader{r: r}
	data, err := io.ReadAll(io.LimitReader(src, size+1))
	if err != nil {
		return nil, readError(err)
	}
	if int64(len(data)) != size {
		return nil, gofakes3.ErrIncompleteBody
	}
	return data, nil
}

// readError maps an error from reading a request body: S3 errors pass
// through, anything else (a dropped connection) is an incomplete body.
func readError(err error) error {
	var coded interface{ ErrorCode() gofakes3.ErrorCode }
	if errors.As(err, &coded) {
		return err
	}
	return gofakes3.ErrIncompleteBody
}

type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}

// linkBlob makes a new blob with the content of an existing one. Blobs are
// immutable, so a hard link is a copy.
func (s *store) linkBlob(src string) (string, error) {
	name := newBlobName()
	if err := os.Link(s.blobPath(src), s.blobPath(name)); err != nil {
		in, err := os.Open(s.blobPath(src))
		if err != nil {
			return "", fmt.Errorf("s3server: open blob: %w", err)
		}
		defer in.Close()
		name, _, _, err = s.writeBlob(in)
		return name, err
	}
	if err := syncDir(s.blobDir); err != nil {
		os.Remove(s.blobPath(name))
		return "", err
	}
	return name, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("s3server: open dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("s3server: sync dir: %w", err)
	}
	return nil
}

// removeBlobs deletes blobs that a committed transaction made unreachable.
func (s *store) removeBlobs(names []string) {
	if len(names) == 0 {
		return
	}
	s.blobMu.Lock()
	defer s.blobMu.Unlock()
	for _, n := range names {
		if err := os.Remove(s.blobPath(n)); err != nil && !os.IsNotExist(err) {
			s.log.Error("s3server: remove blob", "blob", n, "err", err)
		}
	}
}

// --- buckets ---

func (s *store) listBuckets() ([]gofakes3.BucketInfo, error) {
	var out []gofakes3.BucketInfo
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bktBuckets).ForEach(func(k, v []byte) error {
			var br bucketRecord
			if err := json.Unmarshal(v, &br); err != nil {
				return err
			}
			out = append(out, gofakes3.BucketInfo{Name: string(k), CreationDate: gofakes3.NewContentTime(br.Created)})
			return nil
		})
	})
	return out, err
}

func (s *store) createBucket(name string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		bb := tx.Bucket(bktBuckets)
		if bb.Get([]byte(name)) != nil {
			return gofakes3.ResourceError(gofakes3.ErrBucketAlreadyExists, name)
		}
		ob, err := tx.CreateBucketIfNotExists(objBucket(name))
		if err != nil {
			return err
		}
		for _, sub := range [][]byte{bktVer, bktMPU} {
			if _, err := ob.CreateBucketIfNotExists(sub); err != nil {
				return err
			}
		}
		return bb.Put([]byte(name), mustJSON(bucketRecord{Created: s.now().UTC()}))
	})
}

func (s *store) bucketExists(name string) (bool, error) {
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
		ok = tx.Bucket(bktBuckets).Get([]byte(name)) != nil
		return nil
	})
	return ok, err
}

// deleteBucket removes a bucket; unless force, only when it holds no
// version or delete marker. In-progress multipart uploads are discarded.
func (s *store) deleteBucket(name string, force bool) error {
	var garbage []string
	err := s.db.Update(func(tx *bolt.Tx) error {
		_, ob, err := getBucketRecord(tx, name)
		if err != nil {
			return err
		}
		if k, _ := ob.Bucket(bktVer).Cursor().First(); k != nil && !force {
			return gofakes3.ResourceError(gofakes3.ErrBucketNotEmpty, name)
		}
		var inline []string
		err = walkBlobs(ob, func(b string, isInline bool) {
			if isInline {
				inline = append(inline, b)
			} else {
				garbage = append(garbage, b)
			}
		})
		if err != nil {
			return err
		}
		for _, b := range inline {
			if err := tx.Bucket(bktInline).Delete([]byte(b)); err != nil {
				return err
			}
		}
		if err := tx.DeleteBucket(objBucket(name)); err != nil {
			return err
		}
		return tx.Bucket(bktBuckets).Delete([]byte(name))
	})
	if err == nil {
		s.removeBlobs(garbage)
	}
	return err
}

func (s *store) versioning(name string) (gofakes3.VersioningConfiguration, error) {
	var out gofakes3.VersioningConfiguration
	err := s.db.View(func(tx *bolt.Tx) error {
		br, _, err := getBucketRecord(tx, name)
		if err != nil {
			return err
		}
		out.Status = br.Versioning
		return nil
	})
	return out, err
}

func (s *store) setVersioning(name string, status gofakes3.VersioningStatus) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		br, _, err := getBucketRecord(tx, name)
		if err != nil {
			return err
		}
		if status == gofakes3.VersioningNone {
			return nil // an empty configuration changes nothing
		}
		br.Versioning = status
		return tx.Bucket(bktBuckets).Put([]byte(name), mustJSON(br))
	})
}

// --- objects ---

const maxUserMetadata = 2 << 10

// storedMeta keeps the request metadata an object carries back on GET:
// content headers and user metadata. gofakes3 passes every x-amz-* header,
// including signing and checksum headers, which must not be echoed.
func storedMeta(in map[string]string) (map[string]string, error) {
	out := map[string]string{}
	user := 0
	for k, v := range in {
		switch {
		case strings.HasPrefix(k, "X-Amz-Meta-"):
			out[k] = v
			user += len(k) - len("X-Amz-Meta-") + len(v)
		case k == "Content-Type", k == "Content-Disposition", k == "Content-Language",
			k == "Cache-Control", k == "Expires", k == "X-Amz-Website-Redirect-Location":
			out[k] = v
		case k == "Content-Encoding":
			var encs []string
			for _, e := range strings.Split(v, ",") {
				if e = strings.TrimSpace(e); e != "" && !strings.EqualFold(e, "aws-chunked") {
					encs = append(encs, e)
				}
			}
			if len(encs) > 0 {
				out[k] = strings.Join(encs, ",")
			}
		}
	}
	if user > maxUserMetadata {
		return nil, gofakes3.ErrMetadataTooLarge
	}
	if out["Content-Type"] == "" {
		out["Content-Type"] = "binary/octet-stream"
	}
	return out, nil
}

// putObject stores a new object version from r.
func (s *store) putObject(bucket, key string, meta map[string]string, r io.Reader, size int64, cond *gofakes3.PutConditions, ev event) (*versionRecord, error) {
	m, err := storedMeta(meta)
	if err != nil {
		return nil, err
	}
	if ok, err := s.bucketExists(bucket); err != nil {
		return nil, err
	} else if !ok {
		return nil, gofakes3.BucketNotFound(bucket)
	}
	if size >= 0 && size <= inlineMax {
		data, err := readSmall(r, size)
		if err != nil {
			return nil, err
		}
		sum := md5.Sum(data)
		rec := &versionRecord{Blob: newBlobName(), Inline: true, Size: size, MD5: sum[:], Meta: m, data: data}
		if err := s.commitVersion(bucket, key, rec, cond, ev, nil); err != nil {
			return nil, err
		}
		return rec, nil
	}
	blob, n, sum, err := s.writeBlob(r)
	if err != nil {
		return nil, err
	}
	if size >= 0 && n != size {
		s.removeBlobs([]string{blob})
		return nil, gofakes3.ErrIncompleteBody
	}
	rec := &versionRecord{Blob: blob, Size: n, MD5: sum, Meta: m}
	if err := s.commitVersion(bucket, key, rec, cond, ev, nil); err != nil {
		s.removeBlobs([]string{blob})
		return nil, err
	}
	return rec, nil
}

// commitVersion makes rec (whose blob is already durable) the newest
// version of key, following the bucket's versioning state: a new version
// when enabled; otherwise it replaces the null version. extra runs in the
// same transaction (multipart completion uses it to drop the upload) and
// returns blobs to remove after the commit.
func (s *store) commitVersion(bucket, key string, rec *versionRecord, cond *gofakes3.PutConditions, ev event, extra func(*bolt.Tx, *bolt.Bucket) ([]string, error)) error {
	var garbage []string
	err := s.db.Update(func(tx *bolt.Tx) error {
		garbage = nil
		br, ob, err := getBucketRecord(tx, bucket)
		if err != nil {
			return err
		}
		ver := ob.Bucket(bktVer)
		if cond != nil {
			cur, err := latest(ver.Bucket([]byte(key)))
			if err != nil {
				return err
			}
			info := &gofakes3.ConditionalObjectInfo{}
			if cur != nil && !cur.DeleteMarker {
				info.Exists, info.Hash = true, cur.MD5
			}
			if err := gofakes3.CheckPutConditions(cond, info); err != nil {
				return err
			}
		}
		if extra != nil {
			g, err := extra(tx, ob)
			if err != nil {
				return err
			}
			garbage = append(garbage, g...)
		}
		if rec.Inline {
			if err := tx.Bucket(bktInline).Put([]byte(rec.Blob), rec.data); err != nil {
				return err
			}
		}
		vb, err := ver.CreateBucketIfNotExists([]byte(key))
		if err != nil {
			return err
		}
		seq, err := nextSeq(tx)
		if err != nil {
			return err
		}
		rec.Seq, rec.Modified, rec.VersionID = seq, s.now().UTC(), ""
		if br.Versioning == gofakes3.VersioningEnabled {
			rec.VersionID = newID(seq)
		}
		err = s.record(tx, seq, Notification{
			EventName: ev.name, Bucket: bucket, Key: key,
			ETag: rec.etag(), VersionID: rec.VersionID, Sequencer: sequencer(seq),
			Size: rec.Size, Time: rec.Modified, SourceIP: ev.sourceIP,
		})
		if err != nil {
			return err
		}
		if br.Versioning != gofakes3.VersioningEnabled {
			k, old, err := findVersion(vb, "")
			if err != nil {
				return err
			}
			if old != nil {
				if err := vb.Delete(k); err != nil {
					return err
				}
				if garbage, err = discard(tx, old, garbage); err != nil {
					return err
				}
			}
		}
		return vb.Put(seqKey(seq), mustJSON(rec))
	})
	if err != nil {
		return err
	}
	s.recorded()
	s.removeBlobs(garbage)
	return nil
}

// getObject returns the newest version of key (versionID "") or the named
// version ("null" for the null version). A delete marker comes back as an
// Object with IsDeleteMarker set, which gofakes3 answers with 404 and
// x-amz-delete-marker: true.
func (s *store) getObject(bucket, key, versionID string, rng *gofakes3.ObjectRangeRequest, withBody bool) (*gofakes3.Object, error) {
	s.blobMu.RLock()
	defer s.blobMu.RUnlock()
	var rec *versionRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		_, ob, err := getBucketRecord(tx, bucket)
		if err != nil {
			return err
		}
		vb := ob.Bucket(bktVer).Bucket([]byte(key))
		if versionID == "" {
			rec, err = latest(vb)
			if err == nil && rec == nil {
				err = gofakes3.KeyNotFound(key)
			}
		} else {
			_, rec, err = findVersion(vb, versionID)
			if err == nil && rec == nil {
				if vb == nil && versionID == "null" {
					return gofakes3.KeyNotFound(key)
				}
				return gofakes3.ErrNoSuchVersion
			}
		}
		if err == nil && withBody && rec.Inline && !rec.DeleteMarker {
			rec.data, err = inlineData(tx, rec)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	obj := &gofakes3.Object{
		Name:           key,
		VersionID:      gofakes3.VersionID(rec.VersionID),
		IsDeleteMarker: rec.DeleteMarker,
		Contents:       noopCloser{bytes.NewReader(nil)},
	}
	if rec.DeleteMarker {
		return obj, nil
	}
	obj.Size, obj.Hash = rec.Size, rec.MD5
	obj.Metadata = make(map[string]string, len(rec.Meta)+1)
	for k, v := range rec.Meta {
		obj.Metadata[k] = v
	}
	obj.Metadata["Last-Modified"] = rec.Modified.Format(http.TimeFormat)
	if !withBody {
		return obj, nil
	}
	r, err := rng.Range(rec.Size)
	if err != nil {
		return nil, err
	}
	obj.Range = r
	if rec.Inline {
		data := rec.data
		if r != nil {
			data = data[r.Start : r.Start+r.Length]
		}
		obj.Contents = noopCloser{bytes.NewReader(data)}
		return obj, nil
	}
	f, err := os.Open(s.blobPath(rec.Blob))
	if err != nil {
		return nil, fmt.Errorf("s3server: open blob of %s/%s: %w", bucket, key, err)
	}
	start, length := int64(0), rec.Size
	if r != nil {
		start, length = r.Start, r.Length
	}
	obj.Contents = &blobReader{Reader: io.NewSectionReader(f, start, length), f: f}
	return obj, nil
}

type blobReader struct {
	io.Reader
	f *os.File
}

func (b *blobReader) Close() error { return b.f.Close() }

type noopCloser struct{ io.Reader }

func (noopCloser) Close() error { return nil }

// copyObject copies a version of src into a new version of dst. meta nil
// keeps the source's metadata.
func (s *store) copyObject(srcBucket, srcKey, srcVersion, dstBucket, dstKey string, meta map[string]string, ev event) (dst, src *versionRecord, err error) {
	if ok, err := s.bucketExists(dstBucket); err != nil {
		return nil, nil, err
	} else if !ok {
		return nil, nil, gofakes3.BucketNotFound(dstBucket)
	}
	var blob string
	err = func() error {
		s.blobMu.RLock()
		defer s.blobMu.RUnlock()
		err := s.db.View(func(tx *bolt.Tx) error {
			_, ob, err := getBucketRecord(tx, srcBucket)
			if err != nil {
				return err
			}
			vb := ob.Bucket(bktVer).Bucket([]byte(srcKey))
			if srcVersion == "" {
				src, err = latest(vb)
				if err == nil && (src == nil || src.DeleteMarker) {
					err = gofakes3.KeyNotFound(srcKey)
				}
				return err
			}
			_, src, err = findVersion(vb, srcVersion)
			switch {
			case err != nil:
				return err
			case src == nil:
				return gofakes3.ErrNoSuchVersion
			case src.DeleteMarker:
				return gofakes3.ErrorMessage(gofakes3.ErrInvalidArgument, "The source of a copy request may not specifically refer to a delete marker by version id.")
			}
			return nil
		})
		if err != nil {
			return err
		}
		if src.Inline {
			return s.db.View(func(tx *bolt.Tx) error {
				src.data, err = inlineData(tx, src)
				return err
			})
		}
		blob, err = s.linkBlob(src.Blob)
		return err
	}()
	if err != nil {
		return nil, nil, err
	}
	if meta == nil {
		meta = src.Meta
	} else if meta, err = storedMeta(meta); err != nil {
		if blob != "" {
			s.removeBlobs([]string{blob})
		}
		return nil, nil, err
	}
	dst = &versionRecord{Blob: blob, Size: src.Size, MD5: src.MD5, Meta: meta}
	if src.Inline {
		dst.Blob, dst.Inline, dst.data = newBlobName(), true, src.data
	}
	if err := s.commitVersion(dstBucket, dstKey, dst, nil, ev, nil); err != nil {
		if !dst.Inline {
			s.removeBlobs([]string{blob})
		}
		return nil, nil, err
	}
	return dst, src, nil
}

// deleteObject deletes key without naming a version: in an unversioned
// bucket the object goes; with versioning enabled a delete marker becomes
// the newest version; with versioning suspended the null version goes and
// a null delete marker takes its place.
func (s *store) deleteObject(bucket, key string, ev event) (gofakes3.ObjectDeleteResult, error) {
	var (
		res      gofakes3.ObjectDeleteResult
		garbage  []string
		recorded bool
	)
	err := s.db.Update(func(tx *bolt.Tx) error {
		res, garbage, recorded = gofakes3.ObjectDeleteResult{}, nil, false
		br, ob, err := getBucketRecord(tx, bucket)
		if err != nil {
			return err
		}
		ver := ob.Bucket(bktVer)
		if br.Versioning == gofakes3.VersioningNone {
			vb := ver.Bucket([]byte(key))
			k, old, err := findVersion(vb, "")
			if err != nil || old == nil {
				return err
			}
			seq, err := nextSeq(tx)
			if err != nil {
				return err
			}
			if err := vb.Delete(k); err != nil {
				return err
			}
			if err := dropIfEmpty(ver, key); err != nil {
				return err
			}
			if garbage, err = discard(tx, old, garbage); err != nil {
				return err
			}
			recorded = true
			return s.record(tx, seq, Notification{EventName: "ObjectRemoved:Delete", Bucket: bucket, Key: key,
				Sequencer: sequencer(seq), Time: s.now().UTC(), SourceIP: ev.sourceIP})
		}
		vb, err := ver.CreateBucketIfNotExists([]byte(key))
		if err != nil {
			return err
		}
		if br.Versioning == gofakes3.VersioningSuspended {
			k, old, err := findVersion(vb, "")
			if err != nil {
				return err
			}
			if old != nil {
				if err := vb.Delete(k); err != nil {
					return err
				}
				if garbage, err = discard(tx, old, garbage); err != nil {
					return err
				}
			}
		}
		seq, err := nextSeq(tx)
		if err != nil {
			return err
		}
		marker := versionRecord{Seq: seq, DeleteMarker: true, Modified: s.now().UTC()}
		if br.Versioning == gofakes3.VersioningEnabled {
			marker.VersionID = newID(seq)
		}
		res.IsDeleteMarker, res.VersionID = true, gofakes3.VersionID(marker.VersionID)
		recorded = true
		err = s.record(tx, seq, Notification{EventName: "ObjectRemoved:DeleteMarkerCreated", Bucket: bucket, Key: key,
			VersionID: marker.VersionID, Sequencer: sequencer(seq), Time: marker.Modified, SourceIP: ev.sourceIP})
		if err != nil {
			return err
		}
		return vb.Put(seqKey(seq), mustJSON(marker))
	})
	if err != nil {
		return gofakes3.ObjectDeleteResult{}, err
	}
	if recorded {
		s.recorded()
	}
	s.removeBlobs(garbage)
	return res, nil
}

// deleteVersion permanently removes one version (or delete marker). A
// missing key or version is not an error.
func (s *store) deleteVersion(bucket, key, versionID string, ev event) (gofakes3.ObjectDeleteResult, error) {
	var (
		res      gofakes3.ObjectDeleteResult
		garbage  []string
		recorded bool
	)
	err := s.db.Update(func(tx *bolt.Tx) error {
		res, garbage, recorded = gofakes3.ObjectDeleteResult{}, nil, false
		_, ob, err := getBucketRecord(tx, bucket)
		if err != nil {
			return err
		}
		ver := ob.Bucket(bktVer)
		vb := ver.Bucket([]byte(key))
		k, old, err := findVersion(vb, versionID)
		if err != nil || old == nil {
			return err
		}
		seq, err := nextSeq(tx)
		if err != nil {
			return err
		}
		if err := vb.Delete(k); err != nil {
			return err
		}
		if err := dropIfEmpty(ver, key); err != nil {
			return err
		}
		if garbage, err = discard(tx, old, garbage); err != nil {
			return err
		}
		res.VersionID, res.IsDeleteMarker = gofakes3.VersionID(versionID), old.DeleteMarker
		recorded = true
		return s.record(tx, seq, Notification{EventName: "ObjectRemoved:Delete", Bucket: bucket, Key: key,
			VersionID: old.VersionID, Sequencer: sequencer(seq), Time: s.now().UTC(), SourceIP: ev.sourceIP})
	})
	if err != nil {
		return gofakes3.ObjectDeleteResult{}, err
	}
	if recorded {
		s.recorded()
	}
	s.removeBlobs(garbage)
	return res, nil
}

func dropIfEmpty(ver *bolt.Bucket, key string) error {
	vb := ver.Bucket([]byte(key))
	if vb == nil {
		return nil
	}
	if k, _ := vb.Cursor().First(); k != nil {
		return nil
	}
	return ver.DeleteBucket([]byte(key))
}
