package s3server

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/johannesboyne/gofakes3"
	bolt "go.etcd.io/bbolt"
)

// Multipart uploads live on disk like objects: each part is a blob, the
// upload and its parts are records under mpu/<key>/<uploadID>. Completion
// concatenates the parts into one new blob and commits it as a version in
// the same transaction that drops the upload.

type uploadRecord struct {
	Meta      map[string]string `json:"meta,omitempty"`
	Initiated time.Time         `json:"initiated"`
}

type partRecord struct {
	ETag     string    `json:"etag"` // hex MD5
	Size     int64     `json:"size"`
	Blob     string    `json:"blob"`
	Modified time.Time `json:"mod"`
}

func partKey(n int) []byte {
	k := make([]byte, 5)
	k[0] = 'p'
	binary.BigEndian.PutUint32(k[1:], uint32(n))
	return k
}

// uploadBucket finds the bbolt bucket of an upload.
func uploadBucket(tx *bolt.Tx, bucket, key string, id gofakes3.UploadID) (*bolt.Bucket, error) {
	_, ob, err := getBucketRecord(tx, bucket)
	if err != nil {
		return nil, err
	}
	kb := ob.Bucket(bktMPU).Bucket([]byte(key))
	if kb == nil {
		return nil, gofakes3.ErrNoSuchUpload
	}
	ub := kb.Bucket([]byte(id))
	if ub == nil {
		return nil, gofakes3.ErrNoSuchUpload
	}
	return ub, nil
}

func (s *store) createUpload(bucket, key string, meta map[string]string) (gofakes3.UploadID, error) {
	m, err := storedMeta(meta)
	if err != nil {
		return "", err
	}
	var id string
	err = s.db.Update(func(tx *bolt.Tx) error {
		_, ob, err := getBucketRecord(tx, bucket)
		if err != nil {
			return err
		}
		kb, err := ob.Bucket(bktMPU).CreateBucketIfNotExists([]byte(key))
		if err != nil {
			return err
		}
		seq, err := nextSeq(tx)
		if err != nil {
			return err
		}
		id = newID(seq)
		ub, err := kb.CreateBucket([]byte(id))
		if err != nil {
			return err
		}
		return ub.Put(keyUpload, mustJSON(uploadRecord{Meta: m, Initiated: s.now().UTC()}))
	})
	return gofakes3.UploadID(id), err
}

func (s *store) uploadPart(bucket, key string, id gofakes3.UploadID, n int, size int64, r io.Reader) (string, error) {
	if n < 1 || n > gofakes3.MaxUploadPartNumber {
		return "", gofakes3.ErrInvalidPart
	}
	if err := s.db.View(func(tx *bolt.Tx) error {
		_, err := uploadBucket(tx, bucket, key, id)
		return err
	}); err != nil {
		return "", err
	}
	blob, got, sum, err := s.writeBlob(r)
	if err != nil {
		return "", err
	}
	if size >= 0 && got != size {
		s.removeBlobs([]string{blob})
		return "", gofakes3.ErrIncompleteBody
	}
	part := partRecord{ETag: hex.EncodeToString(sum), Size: got, Blob: blob, Modified: s.now().UTC()}
	var garbage []string
	err = s.db.Update(func(tx *bolt.Tx) error {
		garbage = nil
		ub, err := uploadBucket(tx, bucket, key, id)
		if err != nil {
			return err
		}
		if v := ub.Get(partKey(n)); v != nil {
			var old partRecord
			if err := json.Unmarshal(v, &old); err != nil {
				return err
			}
			garbage = append(garbage, old.Blob)
		}
		return ub.Put(partKey(n), mustJSON(part))
	})
	if err != nil {
		s.removeBlobs([]string{blob})
		return "", err
	}
	s.removeBlobs(garbage)
	return `"` + part.ETag + `"`, nil
}

func (s *store) listParts(bucket, key string, id gofakes3.UploadID, marker int, limit int64) (*gofakes3.ListMultipartUploadPartsResult, error) {
	out := &gofakes3.ListMultipartUploadPartsResult{
		Bucket: bucket, Key: key, UploadID: id,
		PartNumberMarker: marker, MaxParts: limit, StorageClass: gofakes3.StorageStandard,
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		ub, err := uploadBucket(tx, bucket, key, id)
		if err != nil {
			return err
		}
		c := ub.Cursor()
		for k, v := c.Seek(partKey(marker + 1)); k != nil && k[0] == 'p'; k, v = c.Next() {
			if limit > 0 && int64(len(out.Parts)) >= limit {
				out.IsTruncated = true
				out.NextPartNumberMarker = out.Parts[len(out.Parts)-1].PartNumber
				return nil
			}
			var p partRecord
			if err := json.Unmarshal(v, &p); err != nil {
				return err
			}
			out.Parts = append(out.Parts, gofakes3.ListMultipartUploadPartItem{
				PartNumber:   int(binary.BigEndian.Uint32(k[1:])),
				LastModified: gofakes3.NewContentTime(p.Modified),
				ETag:         `"` + p.ETag + `"`,
				Size:         p.Size,
			})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *store) listUploads(bucket string, marker *gofakes3.UploadListMarker, prefix gofakes3.Prefix, limit int64) (*gofakes3.ListMultipartUploadsResult, error) {
	out := &gofakes3.ListMultipartUploadsResult{
		Bucket: bucket, MaxUploads: limit, Prefix: prefix.Prefix, Delimiter: prefix.Delimiter,
	}
	var keyMarker, idMarker string
	if marker != nil {
		keyMarker, idMarker = marker.Object, string(marker.UploadID)
		out.KeyMarker, out.UploadIDMarker = marker.Object, marker.UploadID
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		_, ob, err := getBucketRecord(tx, bucket)
		if err != nil {
			return err
		}
		mpu := ob.Bucket(bktMPU)
		w := newKeyWalker(mpu, &prefix)
		w.start(keyMarker, idMarker != "")
		var count int64
		var lastKey, lastID string
		full := func() bool {
			if limit > 0 && count >= limit {
				out.IsTruncated = true
				out.NextKeyMarker, out.NextUploadIDMarker = lastKey, gofakes3.UploadID(lastID)
				return true
			}
			return false
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
					return nil
				}
				out.CommonPrefixes = append(out.CommonPrefixes, gofakes3.CommonPrefix{Prefix: key})
				count, lastKey, lastID = count+1, key, ""
				w.skipPrefix(key)
				continue
			}
			c := mpu.Bucket([]byte(key)).Cursor()
			k, _ := c.First()
			if idMarker != "" && key == keyMarker {
				k, _ = c.Seek([]byte(idMarker))
				if k != nil && string(k) == idMarker {
					k, _ = c.Next()
				}
			}
			for ; k != nil; k, _ = c.Next() {
				var up uploadRecord
				if err := json.Unmarshal(mpu.Bucket([]byte(key)).Bucket(k).Get(keyUpload), &up); err != nil {
					return err
				}
				if full() {
					return nil
				}
				out.Uploads = append(out.Uploads, gofakes3.ListMultipartUploadItem{
					Key: key, UploadID: gofakes3.UploadID(k), StorageClass: gofakes3.StorageStandard,
					Initiated: gofakes3.NewContentTime(up.Initiated),
				})
				count, lastKey, lastID = count+1, key, string(k)
			}
			w.advance()
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// dropUpload deletes an upload's records and returns its part blobs.
func dropUpload(ob *bolt.Bucket, key string, id gofakes3.UploadID) ([]string, error) {
	kb := ob.Bucket(bktMPU).Bucket([]byte(key))
	if kb == nil || kb.Bucket([]byte(id)) == nil {
		return nil, gofakes3.ErrNoSuchUpload
	}
	var blobs []string
	err := kb.Bucket([]byte(id)).ForEach(func(k, v []byte) error {
		if bytes.Equal(k, keyUpload) {
			return nil
		}
		var p partRecord
		if err := json.Unmarshal(v, &p); err != nil {
			return err
		}
		blobs = append(blobs, p.Blob)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := kb.DeleteBucket([]byte(id)); err != nil {
		return nil, err
	}
	if k, _ := kb.Cursor().First(); k == nil {
		if err := ob.Bucket(bktMPU).DeleteBucket([]byte(key)); err != nil {
			return nil, err
		}
	}
	return blobs, nil
}

func (s *store) abortUpload(bucket, key string, id gofakes3.UploadID) error {
	var garbage []string
	err := s.db.Update(func(tx *bolt.Tx) error {
		_, ob, err := getBucketRecord(tx, bucket)
		if err != nil {
			return err
		}
		garbage, err = dropUpload(ob, key, id)
		return err
	})
	if err == nil {
		s.removeBlobs(garbage)
	}
	return err
}

// completeUpload assembles the listed parts into a new object version. The
// ETag is the MD5 of the whole object (not S3's "md5-of-md5s-N" form), so
// that it matches what GET and HEAD later report.
func (s *store) completeUpload(bucket, key string, id gofakes3.UploadID, in *gofakes3.CompleteMultipartUploadRequest, ev event) (*versionRecord, error) {
	if len(in.Parts) == 0 {
		return nil, gofakes3.ErrorMessage(gofakes3.ErrMalformedXML, "You must specify at least one part")
	}
	var up uploadRecord
	files := make([]*os.File, 0, len(in.Parts))
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	err := func() error {
		s.blobMu.RLock()
		defer s.blobMu.RUnlock()
		return s.db.View(func(tx *bolt.Tx) error {
			ub, err := uploadBucket(tx, bucket, key, id)
			if err != nil {
				return err
			}
			if err := json.Unmarshal(ub.Get(keyUpload), &up); err != nil {
				return err
			}
			prev := 0
			for _, p := range in.Parts {
				if p.PartNumber <= prev {
					return gofakes3.ErrInvalidPartOrder
				}
				prev = p.PartNumber
				v := ub.Get(partKey(p.PartNumber))
				if v == nil {
					return gofakes3.ErrorMessagef(gofakes3.ErrInvalidPart, "part %d was not uploaded", p.PartNumber)
				}
				var rec partRecord
				if err := json.Unmarshal(v, &rec); err != nil {
					return err
				}
				if strings.Trim(p.ETag, `"`) != rec.ETag {
					return gofakes3.ErrorMessagef(gofakes3.ErrInvalidPart, "part %d has a different ETag", p.PartNumber)
				}
				f, err := os.Open(s.blobPath(rec.Blob))
				if err != nil {
					return fmt.Errorf("s3server: open part blob: %w", err)
				}
				files = append(files, f)
			}
			return nil
		})
	}()
	if err != nil {
		return nil, err
	}
	readers := make([]io.Reader, len(files))
	for i, f := range files {
		readers[i] = f
	}
	blob, n, sum, err := s.writeBlob(io.MultiReader(readers...))
	if err != nil {
		return nil, err
	}
	rec := &versionRecord{Blob: blob, Size: n, MD5: sum, Meta: up.Meta}
	err = s.commitVersion(bucket, key, rec, nil, ev, func(_ *bolt.Tx, ob *bolt.Bucket) ([]string, error) {
		return dropUpload(ob, key, id)
	})
	if err != nil {
		s.removeBlobs([]string{blob})
		return nil, err
	}
	return rec, nil
}
