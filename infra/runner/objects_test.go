package runner

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/infra/s3server"
)

func presignPut(t *testing.T, f *fixture, bucket, key string, expires time.Duration) string {
	t.Helper()
	req, err := s3.NewPresignClient(f.s3).PresignPutObject(context.Background(),
		&s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}, s3.WithPresignExpires(expires))
	require.NoError(t, err)
	return req.URL
}

func upload(t *testing.T, url, body string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, url, strings.NewReader(body))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

func TestS3_PresignedUploadNotifiesOnlyTheMatchingFunction(t *testing.T) {
	f := start(t, "")
	bucket := f.r.functions["HealthFunction"].Env["BUCKET_NAME"]
	require.Equal(t, "lantau-files-000000000000-ap-east-1", bucket, "the bucket name comes from the template's !Sub")

	cases := []struct {
		key  string
		want []string
	}{
		{"uploads/t-acme/receipt 1.jpg", []string{"probeuploads"}},
		{"uploads/t-acme/receipt.png", nil},
		{"docs/t-acme/handbook.pdf", []string{"probedocs"}},
		{"other/uploads/x.jpg", nil},
	}
	for _, tc := range cases {
		t.Run(tc.key, func(t *testing.T) {
			f.rec.reset()
			before := f.r.objects.notified.Load()
			require.Equal(t, http.StatusOK, upload(t, presignPut(t, f, bucket, tc.key, time.Minute), "photo bytes"))
			require.Eventually(t, func() bool { return f.r.objects.notified.Load() > before }, 5*time.Second, time.Millisecond)
			f.settle(t)
			assert.Equal(t, tc.want, f.rec.reached())
			for _, fn := range tc.want {
				var ev events.S3Event
				require.NoError(t, json.Unmarshal(f.rec.got(fn)[0], &ev))
				require.Len(t, ev.Records, 1)
				rec := ev.Records[0]
				assert.Equal(t, "ObjectCreated:Put", rec.EventName)
				assert.Equal(t, bucket, rec.S3.Bucket.Name)
				assert.Equal(t, strings.ReplaceAll(tc.key, " ", "+"), rec.S3.Object.Key, "keys arrive URL-encoded as S3 sends them")
				assert.Equal(t, int64(len("photo bytes")), rec.S3.Object.Size)
				assert.NotEmpty(t, rec.S3.Object.VersionID)
			}
		})
	}

	t.Run("deleting a document notifies its subscriber", func(t *testing.T) {
		f.rec.reset()
		_, err := f.s3.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("docs/t-acme/handbook.pdf")})
		require.NoError(t, err)
		require.Eventually(t, func() bool { return len(f.rec.got("probedocs")) == 1 }, 5*time.Second, 5*time.Millisecond)
		var ev events.S3Event
		require.NoError(t, json.Unmarshal(f.rec.got("probedocs")[0], &ev))
		assert.Equal(t, "ObjectRemoved:DeleteMarkerCreated", ev.Records[0].EventName)
	})
}

func TestS3_RefusesExpiredAndTamperedPresignedURLs(t *testing.T) {
	f := start(t, "")
	bucket := f.r.functions["HealthFunction"].Env["BUCKET_NAME"]
	good := presignPut(t, f, bucket, "uploads/a.jpg", time.Minute)

	tampered := strings.Replace(good, "uploads/a.jpg", "uploads/b.jpg", 1)
	assert.Equal(t, http.StatusForbidden, upload(t, tampered, "x"))
	badSig := good[:len(good)-3] + "abc"
	assert.Equal(t, http.StatusForbidden, upload(t, badSig, "x"))

	f.clock.Store(int64(2 * time.Minute)) // the runner's clock moves past the expiry
	assert.Equal(t, http.StatusForbidden, upload(t, good, "x"))
	f.clock.Store(0)
	assert.Equal(t, http.StatusOK, upload(t, good, "x"))
	require.Eventually(t, func() bool { return f.r.objects.notified.Load() == 1 }, 5*time.Second, time.Millisecond)
	f.settle(t)
	assert.Len(t, f.rec.got("probeuploads"), 1, "refused uploads notify nobody")
}

func TestS3_ObjectsAndVersionsSurviveARestart(t *testing.T) {
	dir := t.TempDir()
	f := start(t, dir)
	ctx := context.Background()
	bucket := f.r.functions["HealthFunction"].Env["BUCKET_NAME"]
	for _, body := range []string{"v1", "v2", "v3"} {
		_, err := f.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("docs/policy.txt"), Body: strings.NewReader(body)})
		require.NoError(t, err)
	}
	f.settle(t)
	require.NoError(t, f.r.Close())

	f.restart(t)
	out, err := f.s3.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), Prefix: aws.String("docs/")})
	require.NoError(t, err)
	require.Len(t, out.Versions, 3)
	got, err := f.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("docs/policy.txt")})
	require.NoError(t, err)
	defer got.Body.Close()
	buf := make([]byte, 8)
	n, _ := got.Body.Read(buf)
	assert.Equal(t, "v3", string(buf[:n]))
}

func TestS3_NotifyFailsUntilTheEventsAreSpooled(t *testing.T) {
	f := start(t, "")
	bucket := f.r.functions["HealthFunction"].Env["BUCKET_NAME"]
	f.settle(t)
	n := s3server.Notification{EventName: "ObjectCreated:Put", Bucket: bucket, Key: "uploads/t-acme/r.jpg", Size: 1, Sequencer: "00000000000000FF"}

	pending := f.r.async.pending
	f.r.async.pending = filepath.Join(t.TempDir(), "missing") // the spool cannot be written
	err := f.r.objects.notify(n)
	f.r.async.pending = pending
	require.Error(t, err, "s3server keeps the notification in its outbox and calls again")
	assert.Zero(t, f.r.objects.notified.Load())

	require.NoError(t, f.r.objects.notify(n), "the retry spools it")
	f.settle(t)
	assert.Len(t, f.rec.got("probeuploads"), 1)

	require.NoError(t, f.r.Close())
	assert.ErrorIs(t, f.r.objects.notify(n), errStopping, "a stopping runner leaves notifications in the outbox for the next start")
}
