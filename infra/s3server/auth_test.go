package s3server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func presignPut(t *testing.T, h *harness, bucket, key string, expires time.Duration) string {
	t.Helper()
	req, err := s3.NewPresignClient(h.client).PresignPutObject(context.Background(),
		&s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)},
		s3.WithPresignExpires(expires))
	require.NoError(t, err)
	assert.Equal(t, http.MethodPut, req.Method)
	return req.URL
}

func httpPut(t *testing.T, rawURL, body string) (*http.Response, s3ErrorDoc) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, rawURL, strings.NewReader(body))
	require.NoError(t, err)
	resp, b := doRaw(t, req)
	var doc s3ErrorDoc
	if resp.StatusCode >= 300 {
		require.NoError(t, xml.Unmarshal(b, &doc), string(b))
		assert.Equal(t, "application/xml", resp.Header.Get("Content-Type"))
	}
	return resp, doc
}

func TestPresigned_PutAndGet(t *testing.T) {
	h := newHarness(t, withBuckets(BucketConfig{Name: "uploads", Versioning: true}))
	key := "tenant 1/receipts/2025-11/收據 #1.jpg"
	u := presignPut(t, h, "uploads", key, 15*time.Minute)
	resp, _ := httpPut(t, u, "jpeg bytes")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.NotEmpty(t, resp.Header.Get("x-amz-version-id"))
	assert.NotEmpty(t, resp.Header.Get("ETag"))

	got, _ := h.get("uploads", key, "")
	assert.Equal(t, "jpeg bytes", got)

	g, err := s3.NewPresignClient(h.client).PresignGetObject(context.Background(),
		&s3.GetObjectInput{Bucket: aws.String("uploads"), Key: aws.String(key), ResponseContentDisposition: aws.String("attachment")})
	require.NoError(t, err)
	resp2, err := http.Get(g.URL)
	require.NoError(t, err)
	defer resp2.Body.Close()
	b, _ := io.ReadAll(resp2.Body)
	assert.Equal(t, http.StatusOK, resp2.StatusCode)
	assert.Equal(t, "jpeg bytes", string(b))
	assert.Equal(t, "attachment", resp2.Header.Get("Content-Disposition"))

	h.notes.wait(t, 1)
	assert.Equal(t, "127.0.0.1", h.notes.snapshot()[0].SourceIP)
}

func TestPresigned_Rejections(t *testing.T) {
	h := newHarness(t, withBuckets(BucketConfig{Name: "uploads"}))
	good := presignPut(t, h, "uploads", "in/file.pdf", 10*time.Minute)

	mutate := func(f func(u *url.URL, q url.Values)) string {
		u, err := url.Parse(good)
		require.NoError(t, err)
		q := u.Query()
		f(u, q)
		u.RawQuery = q.Encode()
		return u.String()
	}
	tests := []struct {
		name       string
		url        string
		advance    time.Duration
		wantStatus int
		wantCode   string
		wantMsg    string
	}{
		{name: "changed key", url: strings.Replace(good, "in/file.pdf", "in/other.pdf", 1),
			wantStatus: 403, wantCode: "SignatureDoesNotMatch"},
		{name: "changed bucket", url: strings.Replace(good, "/uploads/", "/uploadz/", 1),
			wantStatus: 403, wantCode: "SignatureDoesNotMatch"},
		{name: "changed signature", url: mutate(func(_ *url.URL, q url.Values) {
			s := []byte(q.Get("X-Amz-Signature"))
			if s[0] == '0' {
				s[0] = '1'
			} else {
				s[0] = '0'
			}
			q.Set("X-Amz-Signature", string(s))
		}), wantStatus: 403, wantCode: "SignatureDoesNotMatch"},
		{name: "extended expiry", url: mutate(func(_ *url.URL, q url.Values) { q.Set("X-Amz-Expires", "604800") }),
			wantStatus: 403, wantCode: "SignatureDoesNotMatch"},
		{name: "added parameter", url: mutate(func(_ *url.URL, q url.Values) { q.Set("versionId", "x") }),
			wantStatus: 403, wantCode: "SignatureDoesNotMatch"},
		{name: "expired", url: good, advance: 11 * time.Minute,
			wantStatus: 403, wantCode: "AccessDenied", wantMsg: "Request has expired"},
		{name: "unknown access key", url: mutate(func(_ *url.URL, q url.Values) {
			q.Set("X-Amz-Credential", strings.Replace(q.Get("X-Amz-Credential"), testAccessKey, "AKIDUNKNOWN", 1))
		}), wantStatus: 403, wantCode: "InvalidAccessKeyId"},
		{name: "no signature at all", url: h.http.URL + "/uploads/in/file.pdf",
			wantStatus: 403, wantCode: "AccessDenied", wantMsg: "Access Denied"},
		{name: "expires over a week", url: mutate(func(_ *url.URL, q url.Values) { q.Set("X-Amz-Expires", "604801") }),
			wantStatus: 400, wantCode: "AuthorizationQueryParametersError"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h.clock.Advance(tc.advance)
			defer h.clock.Advance(-tc.advance)
			resp, doc := httpPut(t, tc.url, "forged")
			assert.Equal(t, tc.wantStatus, resp.StatusCode)
			assert.Equal(t, tc.wantCode, doc.Code)
			if tc.wantMsg != "" {
				assert.Equal(t, tc.wantMsg, doc.Message)
			}
		})
	}
	// Nothing was written by any of them.
	out, err := h.client.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String("uploads")})
	require.NoError(t, err)
	assert.Empty(t, out.Contents)

	// The untampered URL still works within its lifetime.
	resp, _ := httpPut(t, good, "real")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestHeaderAuth_Rejections(t *testing.T) {
	h := newHarness(t, withBuckets(BucketConfig{Name: "hdr"}))
	ctx := context.Background()

	_, err := h.newClient(testAccessKey, "wrong-secret").PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("hdr"), Key: aws.String("k"), Body: strings.NewReader("x")})
	assert.Equal(t, "SignatureDoesNotMatch", apiCode(err))
	_, err = h.newClient("AKIDNOBODY", testSecret).ListBuckets(ctx, &s3.ListBucketsInput{})
	assert.Equal(t, "InvalidAccessKeyId", apiCode(err))

	wrongRegion := s3.New(s3.Options{Region: "us-west-2", BaseEndpoint: aws.String(h.http.URL), UsePathStyle: true,
		Credentials: h.client.Options().Credentials, Retryer: aws.NopRetryer{}})
	_, err = wrongRegion.ListBuckets(ctx, &s3.ListBucketsInput{})
	assert.Equal(t, "AuthorizationHeaderMalformed", apiCode(err))

	// Hand-signed requests, altered after signing.
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	creds := aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecret}
	sign := func(method, path, body string, at time.Time) *http.Request {
		req, err := http.NewRequest(method, h.http.URL+path, strings.NewReader(body))
		require.NoError(t, err)
		sum := sha256.Sum256([]byte(body))
		req.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(sum[:]))
		req.Header.Set("X-Amz-Meta-Owner", "alice")
		require.NoError(t, signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "s3", testRegion, at))
		return req
	}
	tests := []struct {
		name       string
		req        func() *http.Request
		wantStatus int
		wantCode   string
	}{
		{"valid", func() *http.Request { return sign("PUT", "/hdr/ok", "body", time.Now()) }, 200, ""},
		{"signed header changed", func() *http.Request {
			r := sign("PUT", "/hdr/k", "body", time.Now())
			r.Header.Set("X-Amz-Meta-Owner", "mallory")
			return r
		}, 403, "SignatureDoesNotMatch"},
		{"path changed", func() *http.Request {
			r := sign("PUT", "/hdr/k", "body", time.Now())
			r.URL.Path = "/hdr/other"
			return r
		}, 403, "SignatureDoesNotMatch"},
		{"body does not match x-amz-content-sha256", func() *http.Request {
			r := sign("PUT", "/hdr/k", "body", time.Now())
			r.Body = io.NopCloser(strings.NewReader("BODY"))
			return r
		}, 400, "XAmzContentSHA256Mismatch"},
		{"clock skew", func() *http.Request { return sign("PUT", "/hdr/k", "body", time.Now().Add(-20*time.Minute)) }, 403, "RequestTimeTooSkewed"},
		{"unsupported signature version 2", func() *http.Request {
			r, _ := http.NewRequest("GET", h.http.URL+"/hdr", nil)
			r.Header.Set("Authorization", "AWS AKID:c2lnbmF0dXJl")
			return r
		}, 400, "InvalidRequest"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := doRaw(t, tc.req())
			assert.Equal(t, tc.wantStatus, resp.StatusCode, string(b))
			if tc.wantCode != "" {
				var doc s3ErrorDoc
				require.NoError(t, xml.Unmarshal(b, &doc), string(b))
				assert.Equal(t, tc.wantCode, doc.Code)
			}
		})
	}
	out, err := h.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("hdr")})
	require.NoError(t, err)
	require.Len(t, out.Contents, 1, "only the valid request wrote")
	assert.Equal(t, "ok", aws.ToString(out.Contents[0].Key))
}

// The SDK sends aws-chunked bodies with trailing checksums over TLS when a
// checksum algorithm is set, and without Content-Length for unseekable
// bodies.
func TestChunkedUploads_FromSDK(t *testing.T) {
	h := newHarness(t, withTLS(), withBuckets(BucketConfig{Name: "chunks"}))
	ctx := context.Background()
	big := bytes.Repeat([]byte("0123456789abcdef"), 20000) // 320 KB, several chunks
	tests := []struct {
		name string
		body func() io.Reader
		alg  types.ChecksumAlgorithm
	}{
		{"seekable, CRC32 trailer", func() io.Reader { return bytes.NewReader(big) }, types.ChecksumAlgorithmCrc32},
		{"seekable, CRC32C trailer", func() io.Reader { return bytes.NewReader(big) }, types.ChecksumAlgorithmCrc32c},
		{"seekable, SHA256 trailer", func() io.Reader { return bytes.NewReader(big) }, types.ChecksumAlgorithmSha256},
		{"seekable, CRC64NVME trailer", func() io.Reader { return bytes.NewReader(big) }, types.ChecksumAlgorithmCrc64nvme},
		{"unseekable, CRC32 trailer, no length", func() io.Reader { return io.NopCloser(bytes.NewReader(big)) }, types.ChecksumAlgorithmCrc32},
		{"unseekable, no checksum, no length", func() io.Reader { return io.NopCloser(bytes.NewReader(big)) }, ""},
		{"seekable, default", func() io.Reader { return bytes.NewReader(big) }, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := strings.ReplaceAll(tc.name, " ", "_")
			_, err := h.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("chunks"), Key: aws.String(key), Body: tc.body(), ChecksumAlgorithm: tc.alg})
			require.NoError(t, err)
			got, out := h.get("chunks", key, "")
			assert.Equal(t, string(big), got)
			assert.Empty(t, aws.ToString(out.ContentEncoding), "aws-chunked is not stored as a content encoding")
		})
	}
}

func TestChunkedUploads_BadTrailerChecksum(t *testing.T) {
	h := newHarness(t, withBuckets(BucketConfig{Name: "chunks"}))
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	body := "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n"
	req, err := http.NewRequest(http.MethodPut, h.http.URL+"/chunks/k", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Encoding", "aws-chunked")
	req.Header.Set("X-Amz-Content-Sha256", streamingUnsignedTrailer)
	req.Header.Set("X-Amz-Decoded-Content-Length", "5")
	req.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32")
	require.NoError(t, signer.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecret},
		req, streamingUnsignedTrailer, "s3", testRegion, time.Now()))
	resp, b := doRaw(t, req)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	var doc s3ErrorDoc
	require.NoError(t, xml.Unmarshal(b, &doc), string(b))
	assert.Equal(t, "BadDigest", doc.Code)
	_, err = h.client.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String("chunks"), Key: aws.String("k")})
	assert.Error(t, err, "nothing stored")
}

// The worked example of STREAMING-AWS4-HMAC-SHA256-PAYLOAD from the S3 API
// reference ("Signature calculations for the Authorization header:
// Transferring payload in multiple chunks").
func TestChunkedUploads_SignedChunksAWSExample(t *testing.T) {
	at := time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)
	srv, err := New(Options{
		Dir: t.TempDir(), Region: "us-east-1",
		Credentials: map[string]string{"AKIAIOSFODNN7EXAMPLE": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
		Buckets:     []BucketConfig{{Name: "examplebucket"}},
		Now:         func() time.Time { return at },
	})
	require.NoError(t, err)
	defer srv.Close()

	build := func(chunk2Sig string) *http.Request {
		var body bytes.Buffer
		body.WriteString("10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n")
		body.Write(bytes.Repeat([]byte("a"), 65536))
		body.WriteString("\r\n400;chunk-signature=" + chunk2Sig + "\r\n")
		body.Write(bytes.Repeat([]byte("a"), 1024))
		body.WriteString("\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n")
		require.Equal(t, 66824, body.Len())
		req := httptest.NewRequest(http.MethodPut, "http://s3.amazonaws.com/examplebucket/chunkObject.txt", &body)
		req.Header.Set("X-Amz-Date", "20130524T000000Z")
		req.Header.Set("X-Amz-Storage-Class", "REDUCED_REDUNDANCY")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9")
		req.Header.Set("X-Amz-Content-Sha256", streamingSigned)
		req.Header.Set("Content-Encoding", "aws-chunked")
		req.Header.Set("X-Amz-Decoded-Content-Length", "66560")
		req.Header.Set("Content-Length", "66824")
		return req
	}

	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, build("0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())

	obj, err := srv.store.getObject("examplebucket", "chunkObject.txt", "", nil, true)
	require.NoError(t, err)
	b, _ := io.ReadAll(obj.Contents)
	obj.Contents.Close()
	assert.Equal(t, bytes.Repeat([]byte("a"), 66560), b)

	// A chunk whose signature does not chain is refused, and not stored.
	rec = httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, build(strings.Repeat("0", 64)))
	assert.Equal(t, http.StatusForbidden, rec.Code)
	var doc s3ErrorDoc
	require.NoError(t, xml.Unmarshal(rec.Body.Bytes(), &doc))
	assert.Equal(t, "SignatureDoesNotMatch", doc.Code)
	vs, err := srv.store.listVersions("examplebucket", nil, nil)
	require.NoError(t, err)
	assert.Len(t, vs.Versions, 1)
}

func TestChecksums_KnownValues(t *testing.T) {
	// "123456789" check values of the CRC catalogue.
	tests := map[string]string{
		"crc32":     "cbf43926",
		"crc32c":    "e3069283",
		"crc64nvme": "ae8b14860a799888",
	}
	for alg, want := range tests {
		h := newChecksum(alg)
		h.Write([]byte("123456789"))
		assert.Equal(t, want, hex.EncodeToString(h.Sum(nil)), alg)
	}
}

// Over plain HTTP the SDK sends the checksum as a header next to a signed
// payload hash.
func TestChecksumHeaders(t *testing.T) {
	h := newHarness(t, withBuckets(BucketConfig{Name: "sums"}))
	ctx := context.Background()
	for _, alg := range []types.ChecksumAlgorithm{types.ChecksumAlgorithmCrc32, types.ChecksumAlgorithmCrc32c, types.ChecksumAlgorithmSha1, types.ChecksumAlgorithmSha256, types.ChecksumAlgorithmCrc64nvme} {
		_, err := h.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("sums"), Key: aws.String(string(alg)), Body: strings.NewReader("checked body"), ChecksumAlgorithm: alg})
		require.NoError(t, err, alg)
		got, _ := h.get("sums", string(alg), "")
		assert.Equal(t, "checked body", got)
	}

	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	req, err := http.NewRequest(http.MethodPut, h.http.URL+"/sums/bad", strings.NewReader("hello"))
	require.NoError(t, err)
	req.Header.Set("X-Amz-Checksum-Crc32", "AAAAAA==")
	req.Header.Set("X-Amz-Content-Sha256", unsignedPayload)
	req.Header.Set("Origin", "http://localhost:5173")
	require.NoError(t, signer.SignHTTP(ctx, aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecret}, req, unsignedPayload, "s3", testRegion, time.Now()))
	resp, b := doRaw(t, req)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, "*", resp.Header.Get("Access-Control-Allow-Origin"))
	var doc s3ErrorDoc
	require.NoError(t, xml.Unmarshal(b, &doc), string(b))
	assert.Equal(t, "BadDigest", doc.Code)
	_, err = h.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("sums"), Key: aws.String("bad")})
	assert.Error(t, err, "nothing stored")
}
