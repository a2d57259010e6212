// Package s3server is the local runner's S3-compatible endpoint: gofakes3
// in front of a versioned on-disk store, with AWS SigV4 verification (header
// and presigned URLs) and object-created/removed notifications.
//
// Addressing is path-style (http://host/bucket/key); mount Handler at the
// root of its own listener, since signatures cover the path as sent.
//
// Supported: buckets (create, list, head, delete), objects (put, get with
// ranges, head, delete, copy with source versionId and metadata directive,
// conditional put), ListObjects v1/v2 with prefix, delimiter and
// pagination, multi-delete, versioning (enabled, suspended, null versions,
// delete markers, ListObjectVersions, get/head/delete by version ID),
// multipart uploads (kept on disk), aws-chunked uploads (signed or not, with
// trailing checksums), x-amz-checksum-* and x-amz-content-sha256 checks.
//
// Not supported: virtual-hosted addressing, browser POST-policy uploads,
// UploadPartCopy, ACLs, tagging, policies, lifecycle, object lock and other
// bucket configuration (answered 501 NotImplemented), SigV2 and SigV4a.
// Stored checksums are not returned on GET. A multipart object's ETag is the
// MD5 of the whole object rather than S3's "<md5-of-md5s>-<n>", and part
// sizes are not checked against S3's 5 MiB minimum.
package s3server

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/johannesboyne/gofakes3"
)

// Notification describes one object-level change, in the spirit of S3 event
// notifications. EventName is one of "ObjectCreated:Put",
// "ObjectCreated:Copy", "ObjectCreated:CompleteMultipartUpload",
// "ObjectRemoved:Delete" and "ObjectRemoved:DeleteMarkerCreated".
// VersionID is empty for the null version (unversioned buckets). ETag (hex
// MD5, unquoted) and Size are set for ObjectCreated events. Sequencer is a
// hex string that orders the events of one key; it is unique in the data
// directory, so with Bucket and Key it identifies a change, for consumers
// that must discard a notification delivered twice.
type Notification struct {
	EventName string
	Bucket    string
	Key       string
	ETag      string
	VersionID string
	Sequencer string
	Size      int64
	Time      time.Time
	SourceIP  string
}

// BucketConfig names a bucket to create at start if it is missing.
type BucketConfig struct {
	Name       string
	Versioning bool // enable versioning (an existing bucket is switched on too)
}

// Options configures a Server.
type Options struct {
	Dir         string            // data directory (required)
	Region      string            // signing region, e.g. "ap-east-1"; default "us-east-1"
	Credentials map[string]string // access key ID -> secret access key (at least one)
	// Notify receives a notification of every committed change, in commit
	// order, on a goroutine of its own: a slow Notify delays later
	// notifications, never requests.
	//
	// Delivery is at least once. Each notification is stored in an outbox
	// in index.db in the transaction that commits its change, and removed
	// only after Notify has returned nil for it. An error (or a panic) is
	// retried after a backoff growing from 10 ms to 1 s, for as long as it
	// takes, and holds back later notifications so that order is kept: one
	// that can never be delivered stops the rest. New first delivers what
	// an earlier run left in the outbox. If the process dies after Notify
	// returned nil but before the record was removed (removals are batched),
	// the notification is delivered again at the next start, so consumers
	// must be idempotent, as for S3's own event notifications.
	//
	// With Notify nil no outbox is kept (records an earlier run left stay).
	Notify  func(Notification) error
	Buckets []BucketConfig
	Now     func() time.Time // default time.Now
	Logger  *slog.Logger     // default: discard
}

// Server is an S3-compatible HTTP endpoint. It is safe for concurrent use.
type Server struct {
	store    *store
	verifier *verifier
	now      func() time.Time
	log      *slog.Logger
	notes    *notifier
	reqID    atomic.Uint64
	closed   atomic.Bool
}

// New opens (or creates) the data directory and returns a Server. Only one
// Server may use a directory at a time.
func New(opts Options) (*Server, error) {
	if opts.Dir == "" {
		return nil, errors.New("s3server: Options.Dir is required")
	}
	if len(opts.Credentials) == 0 {
		return nil, errors.New("s3server: Options.Credentials needs at least one access key")
	}
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	creds := make(map[string]string, len(opts.Credentials))
	for k, v := range opts.Credentials {
		creds[k] = v
	}
	for _, b := range opts.Buckets {
		if err := gofakes3.ValidateBucketName(b.Name); err != nil {
			return nil, fmt.Errorf("s3server: bucket %q: %w", b.Name, err)
		}
	}

	st, err := openStore(opts.Dir, opts.Now, opts.Notify != nil, opts.Logger)
	if err != nil {
		return nil, err
	}
	notes := startNotifier(st, opts.Notify, opts.Logger)
	s := &Server{
		store:    st,
		verifier: &verifier{creds: creds, region: opts.Region, now: opts.Now},
		now:      opts.Now,
		log:      opts.Logger,
		notes:    notes,
	}
	for _, b := range opts.Buckets {
		err := st.createBucket(b.Name)
		if err != nil && !gofakes3.IsAlreadyExists(err) {
			s.Close()
			return nil, fmt.Errorf("s3server: create bucket %q: %w", b.Name, err)
		}
		if b.Versioning {
			if err := st.setVersioning(b.Name, gofakes3.VersioningEnabled); err != nil {
				s.Close()
				return nil, fmt.Errorf("s3server: enable versioning on %q: %w", b.Name, err)
			}
		}
	}
	return s, nil
}

// Handler returns the S3 endpoint (path-style addressing).
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serve) }

// Close stops notification delivery, after waiting for a Notify call in
// progress to return (but not for retries), and closes the store.
// Notifications not yet delivered stay in the outbox for the next Server on
// the directory. Call it after the HTTP server has stopped sending requests.
func (s *Server) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.notes.close()
	return s.store.close()
}

// Subresources gofakes3 would misroute (PUT ?tagging would overwrite the
// object, GET ?acl would list the bucket): refuse them.
var unsupportedSubresources = []string{
	"acl", "tagging", "policy", "policyStatus", "cors", "lifecycle", "website", "logging",
	"notification", "replication", "encryption", "object-lock", "legal-hold", "retention",
	"restore", "select", "torrent", "accelerate", "analytics", "inventory", "metrics",
	"ownershipControls", "publicAccessBlock", "requestPayment", "intelligent-tiering",
	"attributes", "renameObject",
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	num := s.reqID.Add(1)
	id := fmt.Sprintf("%016X", num)
	if s.closed.Load() {
		writeS3Error(w, r, newS3Error(http.StatusServiceUnavailable, "ServiceUnavailable", "The server is shutting down."), id)
		return
	}
	if r.Header.Get("Origin") != "" {
		// As gofakes3 does for its own answers, so browsers can read ours.
		w.Header().Set("Access-Control-Allow-Origin", "*")
	}
	isPreflight := r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != ""
	backend := &requestBackend{s: s.store, r: r, sourceIP: sourceIP(r), nullVersion: r.URL.Query().Get("versionId") == "null"}
	fake := gofakes3.New(backend,
		gofakes3.WithTimeSource(timeSource{s.now}),
		gofakes3.WithTimeSkewLimit(0),     // checked with the signature
		gofakes3.WithMetadataSizeLimit(0), // checked on user metadata only, by the store
		gofakes3.WithRequestID(num-1),     // gofakes3 adds one
		gofakes3.WithLogger(fakeLogger{s.log}),
	).Server()
	if isPreflight {
		fake.ServeHTTP(w, r)
		return
	}

	ac, aerr := s.verifier.authenticate(r)
	if aerr != nil {
		s.log.Debug("s3server: authentication failed", "method", r.Method, "path", r.URL.Path, "code", aerr.code, "msg", aerr.message)
		writeS3Error(w, r, aerr, id)
		return
	}
	q := r.URL.Query()
	for _, sub := range unsupportedSubresources {
		if q.Has(sub) {
			writeS3Error(w, r, errNotImplemented("The "+sub+" subresource is not implemented by this server."), id)
			return
		}
	}

	state := &bodyState{}
	cleanup, berr := prepareBody(r, ac, state, s.store.tmpDir)
	defer cleanup()
	if berr != nil {
		writeS3Error(w, r, berr, id)
		return
	}
	ww := &bodyErrorWriter{ResponseWriter: w, r: r, state: state, requestID: id}

	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	switch {
	case r.Method == http.MethodPut && r.Header.Get("X-Amz-Copy-Source") != "" && key != "":
		if q.Has("uploadId") || q.Has("partNumber") {
			writeS3Error(w, r, errNotImplemented("UploadPartCopy is not implemented by this server."), id)
			return
		}
		s.copyObject(ww, r, backend, bucket, key, id)
	case r.Method == http.MethodHead && q.Get("versionId") != "" && q.Get("versionId") != "null" && key != "":
		// gofakes3 ignores versionId on HEAD: answer it as a GET without body.
		get := r.Clone(r.Context())
		get.Method = http.MethodGet
		fake.ServeHTTP(headWriter{ww}, get)
	default:
		fake.ServeHTTP(ww, r)
	}
}

// copyObject answers CopyObject itself: gofakes3 ignores the source's
// versionId and reports the source's version as the new one.
func (s *Server) copyObject(w http.ResponseWriter, r *http.Request, b *requestBackend, bucket, key, id string) {
	srcBucket, srcKey, srcVersion, err := parseCopySource(r.Header.Get("X-Amz-Copy-Source"))
	if err != nil {
		writeS3Error(w, r, asS3Error(err), id)
		return
	}
	var meta map[string]string
	switch d := r.Header.Get("X-Amz-Metadata-Directive"); d {
	case "", "COPY":
	case "REPLACE":
		meta = map[string]string{}
		for k := range r.Header {
			if strings.HasPrefix(k, "X-Amz-Meta-") || k == "Content-Type" || k == "Content-Disposition" || k == "Content-Encoding" {
				meta[k] = r.Header.Get(k)
			}
		}
		meta = b.withRequestMeta(meta)
	default:
		writeS3Error(w, r, newS3Error(http.StatusBadRequest, "InvalidArgument", "Unknown metadata directive."), id)
		return
	}
	dst, src, err := s.store.copyObject(srcBucket, srcKey, srcVersion, bucket, key, meta, b.ev("ObjectCreated:Copy"))
	if err != nil {
		e := asS3Error(err)
		if e.status >= 500 {
			s.log.Error("s3server: copy object", "bucket", bucket, "key", key, "err", err)
		}
		writeS3Error(w, r, e, id)
		return
	}
	h := w.Header()
	h.Set("x-amz-request-id", id)
	if dst.VersionID != "" {
		h.Set("x-amz-version-id", dst.VersionID)
	}
	if src.VersionID != "" {
		h.Set("x-amz-copy-source-version-id", src.VersionID)
	}
	h.Set("Content-Type", "application/xml")
	body, _ := xml.Marshal(gofakes3.CopyObjectResult{
		ETag:         gofakes3.FormatETag(dst.MD5),
		LastModified: gofakes3.NewContentTime(dst.Modified),
	})
	_, _ = io.WriteString(w, xml.Header)
	_, _ = w.Write(body)
}

// parseCopySource reads x-amz-copy-source: "[/]bucket/key[?versionId=id]",
// URL-encoded.
func parseCopySource(v string) (bucket, key, version string, err error) {
	path, query, _ := strings.Cut(strings.TrimPrefix(v, "/"), "?")
	dec, err := url.PathUnescape(path)
	if err != nil {
		return "", "", "", gofakes3.ErrorMessage(gofakes3.ErrInvalidArgument, "Invalid copy source encoding")
	}
	bucket, key, ok := strings.Cut(dec, "/")
	if !ok || bucket == "" || key == "" {
		return "", "", "", gofakes3.ErrorMessage(gofakes3.ErrInvalidArgument, "Copy Source must mention the source bucket and key: sourcebucket/sourcekey")
	}
	if query != "" {
		qv, err := url.ParseQuery(query)
		if err != nil {
			return "", "", "", gofakes3.ErrorMessage(gofakes3.ErrInvalidArgument, "Invalid copy source query")
		}
		version = qv.Get("versionId")
	}
	return bucket, key, version, nil
}

func sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return ""
	}
	return host
}

type timeSource struct{ now func() time.Time }

func (t timeSource) Now() time.Time                  { return t.now() }
func (t timeSource) Since(v time.Time) time.Duration { return t.now().Sub(v) }

type fakeLogger struct{ log *slog.Logger }

func (l fakeLogger) Print(level gofakes3.LogLevel, v ...interface{}) {
	if level == gofakes3.LogErr {
		l.log.Error("s3server: gofakes3", "msg", fmt.Sprint(v...))
	}
}
