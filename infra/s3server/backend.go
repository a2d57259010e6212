package s3server

import (
	"io"
	"net/http"

	"github.com/johannesboyne/gofakes3"
)

// requestBackend is the store as gofakes3 sees it during one request. It is
// built per request so that writes know who made them (for notifications)
// and so that versionId=null, which gofakes3 routes as if no version were
// named, reaches the null version.
type requestBackend struct {
	s           *store
	r           *http.Request
	sourceIP    string
	nullVersion bool // the request named versionId=null
}

var (
	_ gofakes3.Backend          = (*requestBackend)(nil)
	_ gofakes3.VersionedBackend = (*requestBackend)(nil)
	_ gofakes3.MultipartBackend = (*requestBackend)(nil)
)

func (b *requestBackend) ev(name string) event { return event{name: name, sourceIP: b.sourceIP} }

// withRequestMeta adds the content headers gofakes3 does not collect.
func (b *requestBackend) withRequestMeta(meta map[string]string) map[string]string {
	if meta == nil {
		meta = map[string]string{}
	}
	for _, h := range []string{"Cache-Control", "Content-Language", "Expires"} {
		if v := b.r.Header.Get(h); v != "" {
			meta[h] = v
		}
	}
	return meta
}

func (b *requestBackend) ListBuckets() ([]gofakes3.BucketInfo, error) { return b.s.listBuckets() }

func (b *requestBackend) ListBucket(name string, prefix *gofakes3.Prefix, page gofakes3.ListBucketPage) (*gofakes3.ObjectList, error) {
	return b.s.listBucket(name, prefix, page)
}

func (b *requestBackend) CreateBucket(name string) error { return b.s.createBucket(name) }

func (b *requestBackend) BucketExists(name string) (bool, error) { return b.s.bucketExists(name) }

func (b *requestBackend) DeleteBucket(name string) error { return b.s.deleteBucket(name, false) }

func (b *requestBackend) ForceDeleteBucket(name string) error { return b.s.deleteBucket(name, true) }

func (b *requestBackend) version() string {
	if b.nullVersion {
		return "null"
	}
	return ""
}

func (b *requestBackend) GetObject(bucket, key string, rng *gofakes3.ObjectRangeRequest) (*gofakes3.Object, error) {
	return b.s.getObject(bucket, key, b.version(), rng, true)
}

func (b *requestBackend) HeadObject(bucket, key string) (*gofakes3.Object, error) {
	return b.s.getObject(bucket, key, b.version(), nil, false)
}

func (b *requestBackend) DeleteObject(bucket, key string) (gofakes3.ObjectDeleteResult, error) {
	if b.nullVersion {
		return b.s.deleteVersion(bucket, key, "null", b.ev(""))
	}
	return b.s.deleteObject(bucket, key, b.ev(""))
}

func (b *requestBackend) PutObject(bucket, key string, meta map[string]string, input io.Reader, size int64, cond *gofakes3.PutConditions) (gofakes3.PutObjectResult, error) {
	rec, err := b.s.putObject(bucket, key, b.withRequestMeta(meta), input, size, cond, b.ev("ObjectCreated:Put"))
	if err != nil {
		return gofakes3.PutObjectResult{}, err
	}
	return gofakes3.PutObjectResult{VersionID: gofakes3.VersionID(rec.VersionID)}, nil
}

func (b *requestBackend) DeleteMulti(bucket string, keys ...string) (gofakes3.MultiDeleteResult, error) {
	ids := make([]gofakes3.ObjectID, len(keys))
	for i, k := range keys {
		ids[i] = gofakes3.ObjectID{Key: k}
	}
	return b.DeleteMultiVersions(bucket, ids...)
}

func (b *requestBackend) CopyObject(srcBucket, srcKey, dstBucket, dstKey string, meta map[string]string) (gofakes3.CopyObjectResult, error) {
	// Copies are answered by Server.copyObject before gofakes3 sees them;
	// this path remains for completeness.
	rec, _, err := b.s.copyObject(srcBucket, srcKey, "", dstBucket, dstKey, meta, b.ev("ObjectCreated:Copy"))
	if err != nil {
		return gofakes3.CopyObjectResult{}, err
	}
	return gofakes3.CopyObjectResult{ETag: gofakes3.FormatETag(rec.MD5), LastModified: gofakes3.NewContentTime(rec.Modified)}, nil
}

func (b *requestBackend) VersioningConfiguration(bucket string) (gofakes3.VersioningConfiguration, error) {
	return b.s.versioning(bucket)
}

func (b *requestBackend) SetVersioningConfiguration(bucket string, v gofakes3.VersioningConfiguration) error {
	if v.MFADelete.Enabled() {
		return gofakes3.ErrNotImplemented
	}
	return b.s.setVersioning(bucket, v.Status)
}

func (b *requestBackend) GetObjectVersion(bucket, key string, id gofakes3.VersionID, rng *gofakes3.ObjectRangeRequest) (*gofakes3.Object, error) {
	return b.s.getObject(bucket, key, string(id), rng, true)
}

func (b *requestBackend) HeadObjectVersion(bucket, key string, id gofakes3.VersionID) (*gofakes3.Object, error) {
	return b.s.getObject(bucket, key, string(id), nil, false)
}

func (b *requestBackend) DeleteObjectVersion(bucket, key string, id gofakes3.VersionID) (gofakes3.ObjectDeleteResult, error) {
	if id == "" {
		return b.DeleteObject(bucket, key)
	}
	return b.s.deleteVersion(bucket, key, string(id), b.ev(""))
}

func (b *requestBackend) DeleteMultiVersions(bucket string, objects ...gofakes3.ObjectID) (gofakes3.MultiDeleteResult, error) {
	var out gofakes3.MultiDeleteResult
	for _, o := range objects {
		var err error
		if o.VersionID != "" {
			_, err = b.s.deleteVersion(bucket, o.Key, o.VersionID, b.ev(""))
		} else {
			_, err = b.s.deleteObject(bucket, o.Key, b.ev(""))
		}
		if err != nil {
			if gofakes3.HasErrorCode(err, gofakes3.ErrNoSuchBucket) {
				return gofakes3.MultiDeleteResult{}, err
			}
			res := gofakes3.ErrorResultFromError(err)
			if res.Code == "" || res.Code == gofakes3.ErrInternal {
				b.s.log.Error("s3server: multi-delete", "bucket", bucket, "key", o.Key, "err", err)
				res = gofakes3.ErrorResult{Code: gofakes3.ErrInternal, Message: "We encountered an internal error. Please try again."}
			}
			res.Key = o.Key
			out.Error = append(out.Error, res)
			continue
		}
		out.Deleted = append(out.Deleted, o)
	}
	return out, nil
}

func (b *requestBackend) ListBucketVersions(bucket string, prefix *gofakes3.Prefix, page *gofakes3.ListBucketVersionsPage) (*gofakes3.ListBucketVersionsResult, error) {
	return b.s.listVersions(bucket, prefix, page)
}

func (b *requestBackend) CreateMultipartUpload(bucket, key string, meta map[string]string) (gofakes3.UploadID, error) {
	return b.s.createUpload(bucket, key, b.withRequestMeta(meta))
}

func (b *requestBackend) UploadPart(bucket, key string, id gofakes3.UploadID, n int, size int64, input io.Reader) (string, error) {
	return b.s.uploadPart(bucket, key, id, n, size, input)
}

func (b *requestBackend) ListMultipartUploads(bucket string, marker *gofakes3.UploadListMarker, prefix gofakes3.Prefix, limit int64) (*gofakes3.ListMultipartUploadsResult, error) {
	return b.s.listUploads(bucket, marker, prefix, limit)
}

func (b *requestBackend) ListParts(bucket, key string, id gofakes3.UploadID, marker int, limit int64) (*gofakes3.ListMultipartUploadPartsResult, error) {
	return b.s.listParts(bucket, key, id, marker, limit)
}

func (b *requestBackend) AbortMultipartUpload(bucket, key string, id gofakes3.UploadID) error {
	return b.s.abortUpload(bucket, key, id)
}

func (b *requestBackend) CompleteMultipartUpload(bucket, key string, id gofakes3.UploadID, in *gofakes3.CompleteMultipartUploadRequest) (gofakes3.VersionID, string, error) {
	rec, err := b.s.completeUpload(bucket, key, id, in, b.ev("ObjectCreated:CompleteMultipartUpload"))
	if err != nil {
		return "", "", err
	}
	return gofakes3.VersionID(rec.VersionID), gofakes3.FormatETag(rec.MD5), nil
}
