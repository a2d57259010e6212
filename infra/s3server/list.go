package s3server

import (
	"bytes"
	"strings"

	"github.com/johannesboyne/gofakes3"
	bolt "go.etcd.io/bbolt"
)

// keyWalker walks the keys of a bbolt bucket whose keys are S3 keys, in
// order, applying S3's prefix and delimiter rules: a key either matches as
// itself or rolls up into a common prefix (prefix + text up to and including
// the first delimiter after it). Keys under a common prefix are skipped with
// one seek.
type keyWalker struct {
	c      *bolt.Cursor
	prefix string
	delim  string
	k      []byte
}

func newKeyWalker(b *bolt.Bucket, p *gofakes3.Prefix) *keyWalker {
	w := &keyWalker{c: b.Cursor()}
	if p != nil {
		if p.HasPrefix {
			w.prefix = p.Prefix
		}
		if p.HasDelimiter {
			w.delim = p.Delimiter
		}
	}
	return w
}

// start positions the walker at the first key after marker (or at marker
// itself when inclusive).
func (w *keyWalker) start(marker string, inclusive bool) {
	if marker == "" || marker < w.prefix {
		w.k, _ = w.c.Seek([]byte(w.prefix))
		return
	}
	w.k, _ = w.c.Seek([]byte(marker))
	if !inclusive && w.k != nil && string(w.k) == marker {
		w.k, _ = w.c.Next()
	}
}

// current returns the key under the cursor, or the common prefix it rolls
// up into (commonPrefix true; skipPrefix then moves past all of it). ok is
// false past the last key with the prefix.
func (w *keyWalker) current() (key string, commonPrefix bool, ok bool) {
	if w.k == nil || !bytes.HasPrefix(w.k, []byte(w.prefix)) {
		return "", false, false
	}
	key = string(w.k)
	if w.delim != "" {
		if i := strings.Index(key[len(w.prefix):], w.delim); i >= 0 {
			return key[:len(w.prefix)+i+len(w.delim)], true, true
		}
	}
	return key, false, true
}

func (w *keyWalker) advance() { w.k, _ = w.c.Next() }

// skipPrefix moves past every key starting with cp.
func (w *keyWalker) skipPrefix(cp string) {
	succ := prefixSuccessor([]byte(cp))
	if succ == nil {
		w.k = nil
		return
	}
	w.k, _ = w.c.Seek(succ)
}

// prefixSuccessor returns the smallest byte string greater than every
// string starting with p, or nil if there is none.
func prefixSuccessor(p []byte) []byte {
	s := bytes.Clone(p)
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] < 0xff {
			s[i]++
			return s[:i+1]
		}
	}
	return nil
}

func (s *store) listBucket(bucket string, prefix *gofakes3.Prefix, page gofakes3.ListBucketPage) (*gofakes3.ObjectList, error) {
	out := gofakes3.NewObjectList()
	err := s.db.View(func(tx *bolt.Tx) error {
		_, ob, err := getBucketRecord(tx, bucket)
		if err != nil {
			return err
		}
		ver := ob.Bucket(bktVer)
		w := newKeyWalker(ver, prefix)
		w.start(page.Marker, false)
		var count int64
		last := ""
		for {
			key, isCP, ok := w.current()
			if !ok {
				return nil
			}
			if isCP {
				if page.Marker != "" && key <= page.Marker {
					w.skipPrefix(key) // already returned on an earlier page
					continue
				}
				if page.MaxKeys > 0 && count >= page.MaxKeys {
					out.IsTruncated, out.NextMarker = true, last
					return nil
				}
				out.AddPrefix(key)
				count, last = count+1, key
				w.skipPrefix(key)
				continue
			}
			rec, err := latest(ver.Bucket([]byte(key)))
			if err != nil {
				return err
			}
			if rec == nil || rec.DeleteMarker {
				w.advance()
				continue
			}
			if page.MaxKeys > 0 && count >= page.MaxKeys {
				out.IsTruncated, out.NextMarker = true, last
				return nil
			}
			out.Add(&gofakes3.Content{
				Key:          key,
				LastModified: gofakes3.NewContentTime(rec.Modified),
				ETag:         gofakes3.FormatETag(rec.MD5),
				Size:         rec.Size,
				StorageClass: gofakes3.StorageStandard,
			})
			count, last = count+1, key
			w.advance()
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *store) listVersions(bucket string, prefix *gofakes3.Prefix, page *gofakes3.ListBucketVersionsPage) (*gofakes3.ListBucketVersionsResult, error) {
	if page == nil {
		page = &gofakes3.ListBucketVersionsPage{}
	}
	out := gofakes3.NewListBucketVersionsResult(bucket, prefix, page)
	keyMarker, vidMarker := page.KeyMarker, string(page.VersionIDMarker)
	err := s.db.View(func(tx *bolt.Tx) error {
		_, ob, err := getBucketRecord(tx, bucket)
		if err != nil {
			return err
		}
		ver := ob.Bucket(bktVer)
		w := newKeyWalker(ver, prefix)
		w.start(keyMarker, vidMarker != "")
		var count int64
		var lastKey, lastVID string
		full := func() bool { return page.MaxKeys > 0 && count >= page.MaxKeys }
		truncate := func() {
			out.IsTruncated = true
			out.NextKeyMarker = lastKey
			out.NextVersionIDMarker = gofakes3.VersionID(lastVID)
		}
		for {
			key, isCP, ok := w.current()
			if !ok {
				return nil
			}
			if isCP {
				if keyMarker != "" && key <= keyMarker {
					w.skipPrefix(key)
					continue
				}
				if full() {
					truncate()
					return nil
				}
				out.AddPrefix(key)
				count, lastKey, lastVID = count+1, key, ""
				w.skipPrefix(key)
				continue
			}
			c := ver.Bucket([]byte(key)).Cursor()
			k, v := c.First()
			isLatest := true
			if vidMarker != "" && key == keyMarker {
				// Resume after the marker version of the marker key.
				for ; k != nil; k, v = c.Next() {
					rec, err := decodeVersion(v)
					if err != nil {
						return err
					}
					isLatest = false
					if rec.VersionID == vidMarker || rec.VersionID == "" && vidMarker == "null" {
						k, v = c.Next()
						break
					}
				}
			}
			for ; k != nil; k, v = c.Next() {
				rec, err := decodeVersion(v)
				if err != nil {
					return err
				}
				if full() {
					truncate()
					return nil
				}
				if rec.DeleteMarker {
					out.Versions = append(out.Versions, &gofakes3.DeleteMarker{
						Key: key, VersionID: gofakes3.VersionID(rec.VersionID), IsLatest: isLatest,
						LastModified: gofakes3.NewContentTime(rec.Modified),
					})
				} else {
					out.Versions = append(out.Versions, &gofakes3.Version{
						Key: key, VersionID: gofakes3.VersionID(rec.VersionID), IsLatest: isLatest,
						LastModified: gofakes3.NewContentTime(rec.Modified),
						Size:         rec.Size, ETag: gofakes3.FormatETag(rec.MD5),
						StorageClass: gofakes3.StorageStandard,
					})
				}
				isLatest = false
				count, lastKey, lastVID = count+1, key, rec.VersionID
				if lastVID == "" {
					lastVID = "null"
				}
			}
			w.advance()
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
