package s3server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/require"
)

const (
	testAccessKey = "AKIDLANTAULOCAL"
	testSecret    = "lantau-local-secret"
	testRegion    = "ap-east-1"
)

// clock is a settable time source for Options.Now.
type clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

// noteLog collects notifications.
type noteLog struct {
	mu    sync.Mutex
	notes []Notification
}

// add records n; it is an Options.Notify that always succeeds.
func (l *noteLog) add(n Notification) error {
	l.mu.Lock()
	l.notes = append(l.notes, n)
	l.mu.Unlock()
	return nil
}

func (l *noteLog) snapshot() []Notification {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Notification(nil), l.notes...)
}

func (l *noteLog) reset() {
	l.mu.Lock()
	l.notes = nil
	l.mu.Unlock()
}

// wait returns the notifications once there are n of them.
func (l *noteLog) wait(t *testing.T, n int) []Notification {
	t.Helper()
	require.Eventually(t, func() bool { return len(l.snapshot()) >= n }, 5*time.Second, 5*time.Millisecond)
	time.Sleep(20 * time.Millisecond) // let any unexpected extra arrive
	return l.snapshot()
}

type harness struct {
	t      testing.TB
	dir    string
	opts   Options
	srv    *Server
	http   *httptest.Server
	client *s3.Client
	clock  *clock
	notes  *noteLog
	tls    bool
}

type harnessOption func(*harness)

func withBuckets(b ...BucketConfig) harnessOption { return func(h *harness) { h.opts.Buckets = b } }
func withTLS() harnessOption                      { return func(h *harness) { h.tls = true } }

func newHarness(t testing.TB, opts ...harnessOption) *harness {
	t.Helper()
	h := &harness{t: t, dir: t.TempDir(), clock: &clock{}, notes: &noteLog{}}
	h.opts = Options{
		Region:      testRegion,
		Credentials: map[string]string{testAccessKey: testSecret},
		Notify:      h.notes.add,
		Now:         h.clock.Now,
	}
	for _, o := range opts {
		o(h)
	}
	h.open()
	t.Cleanup(h.close)
	return h
}

func (h *harness) open() {
	h.t.Helper()
	h.opts.Dir = h.dir
	srv, err := New(h.opts)
	require.NoError(h.t, err)
	h.srv = srv
	if h.tls {
		h.http = httptest.NewTLSServer(srv.Handler())
	} else {
		h.http = httptest.NewServer(srv.Handler())
	}
	h.client = h.newClient(testAccessKey, testSecret)
}

func (h *harness) newClient(ak, secret string) *s3.Client {
	return s3.New(s3.Options{
		Region:       testRegion,
		BaseEndpoint: aws.String(h.http.URL),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(ak, secret, ""),
		HTTPClient:   h.http.Client(),
		Retryer:      aws.NopRetryer{},
	})
}

func (h *harness) close() {
	if h.http != nil {
		h.http.Close()
		h.http = nil
	}
	if h.srv != nil {
		require.NoError(h.t, h.srv.Close())
		h.srv = nil
	}
}

// restart closes the server and opens a new one on the same directory.
func (h *harness) restart() {
	h.close()
	h.open()
}

func (h *harness) createBucket(name string) {
	h.t.Helper()
	_, err := h.client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)})
	require.NoError(h.t, err)
}

func (h *harness) put(bucket, key, body string) *s3.PutObjectOutput {
	h.t.Helper()
	out, err := h.client.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader([]byte(body)),
	})
	require.NoError(h.t, err)
	return out
}

func (h *harness) get(bucket, key, versionID string) (string, *s3.GetObjectOutput) {
	h.t.Helper()
	in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if versionID != "" {
		in.VersionId = aws.String(versionID)
	}
	out, err := h.client.GetObject(context.Background(), in)
	require.NoError(h.t, err)
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	require.NoError(h.t, err)
	return string(b), out
}

// apiCode returns the S3 error code of an SDK error.
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// s3ErrorDoc is the XML error document, for raw HTTP tests.
type s3ErrorDoc struct {
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

func doRaw(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, b
}
