package s3server

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// withoutVolatile strips the fields a test cannot predict, after checking them.
func withoutVolatile(t *testing.T, notes []Notification) []Notification {
	t.Helper()
	var out []Notification
	for i, n := range notes {
		assert.Len(t, n.Sequencer, 16, "sequencer of %s", n.EventName)
		assert.WithinDuration(t, time.Now(), n.Time, time.Minute)
		assert.Equal(t, "127.0.0.1", n.SourceIP)
		if i > 0 {
			assert.Greater(t, n.Sequencer, notes[i-1].Sequencer, "sequencers increase")
		}
		n.Sequencer, n.Time, n.SourceIP = "", time.Time{}, ""
		out = append(out, n)
	}
	return out
}

func TestNotifications_ExactEvents(t *testing.T) {
	h := newHarness(t, withBuckets(BucketConfig{Name: "plain"}, BucketConfig{Name: "vers", Versioning: true}))
	ctx := context.Background()

	type step struct {
		name string
		do   func() []Notification // returns the expected notifications
	}
	var v1, v2 string
	steps := []step{
		{"put", func() []Notification {
			h.put("plain", "a.txt", "alpha")
			return []Notification{{EventName: "ObjectCreated:Put", Bucket: "plain", Key: "a.txt", ETag: md5hex("alpha"), Size: 5}}
		}},
		{"put versioned", func() []Notification {
			v1 = aws.ToString(h.put("vers", "doc", "version one").VersionId)
			return []Notification{{EventName: "ObjectCreated:Put", Bucket: "vers", Key: "doc", ETag: md5hex("version one"), Size: 11, VersionID: v1}}
		}},
		{"copy", func() []Notification {
			out, err := h.client.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("vers"), Key: aws.String("copy"), CopySource: aws.String("plain/a.txt")})
			require.NoError(t, err)
			v2 = aws.ToString(out.VersionId)
			return []Notification{{EventName: "ObjectCreated:Copy", Bucket: "vers", Key: "copy", ETag: md5hex("alpha"), Size: 5, VersionID: v2}}
		}},
		{"delete unversioned", func() []Notification {
			_, err := h.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("plain"), Key: aws.String("a.txt")})
			require.NoError(t, err)
			return []Notification{{EventName: "ObjectRemoved:Delete", Bucket: "plain", Key: "a.txt"}}
		}},
		{"delete missing key: no event", func() []Notification {
			_, err := h.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("plain"), Key: aws.String("a.txt")})
			require.NoError(t, err)
			return nil
		}},
		{"delete versioned makes a marker", func() []Notification {
			out, err := h.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("vers"), Key: aws.String("doc")})
			require.NoError(t, err)
			return []Notification{{EventName: "ObjectRemoved:DeleteMarkerCreated", Bucket: "vers", Key: "doc", VersionID: aws.ToString(out.VersionId)}}
		}},
		{"delete a version", func() []Notification {
			_, err := h.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("vers"), Key: aws.String("doc"), VersionId: aws.String(v1)})
			require.NoError(t, err)
			return []Notification{{EventName: "ObjectRemoved:Delete", Bucket: "vers", Key: "doc", VersionID: v1}}
		}},
		{"multi-delete", func() []Notification {
			h.put("plain", "m1", "1")
			h.put("plain", "m2", "22")
			_, err := h.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("plain"), Delete: &types.Delete{Objects: []types.ObjectIdentifier{
				{Key: aws.String("m1")}, {Key: aws.String("m2")},
			}}})
			require.NoError(t, err)
			return []Notification{
				{EventName: "ObjectCreated:Put", Bucket: "plain", Key: "m1", ETag: md5hex("1"), Size: 1},
				{EventName: "ObjectCreated:Put", Bucket: "plain", Key: "m2", ETag: md5hex("22"), Size: 2},
				{EventName: "ObjectRemoved:Delete", Bucket: "plain", Key: "m1"},
				{EventName: "ObjectRemoved:Delete", Bucket: "plain", Key: "m2"},
			}
		}},
		{"complete multipart upload", func() []Notification {
			mpu, err := h.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("plain"), Key: aws.String("big")})
			require.NoError(t, err)
			part, err := h.client.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("plain"), Key: aws.String("big"),
				UploadId: mpu.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader([]byte("only part"))})
			require.NoError(t, err)
			_, err = h.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("plain"), Key: aws.String("big"),
				UploadId: mpu.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: part.ETag}}}})
			require.NoError(t, err)
			return []Notification{{EventName: "ObjectCreated:CompleteMultipartUpload", Bucket: "plain", Key: "big", ETag: md5hex("only part"), Size: 9}}
		}},
		{"failed write: no event", func() []Notification {
			_, err := h.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("plain"), Key: aws.String("big"), Body: bytes.NewReader([]byte("x")), IfNoneMatch: aws.String("*")})
			require.Error(t, err)
			return nil
		}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			h.notes.reset()
			want := st.do()
			got := h.notes.wait(t, len(want))
			assert.Equal(t, want, withoutVolatile(t, got))
		})
	}
}

func TestNotifications_SlowConsumerDoesNotBlockRequests(t *testing.T) {
	release := make(chan struct{})
	var log noteLog
	h := newHarness(t, withBuckets(BucketConfig{Name: "slow"}))
	h.close()
	h.opts.Notify = func(n Notification) error { <-release; return log.add(n) }
	h.open()

	start := time.Now()
	for i := 0; i < 5; i++ {
		h.put("slow", "k"+strconv.Itoa(i), "v")
	}
	assert.Less(t, time.Since(start), 2*time.Second)
	close(release)
	notes := log.wait(t, 5)
	require.Len(t, notes, 5)
	for i, n := range notes {
		assert.Equal(t, "k"+strconv.Itoa(i), n.Key, "delivered in commit order")
	}
}

// flakyConsumer is a Notify that fails while failing says so, and records
// every call and every notification it accepts.
type flakyConsumer struct {
	mu       sync.Mutex
	calls    []string // key of each call, failed or not
	accepted noteLog
	failing  func(call int, n Notification) error
}

func (c *flakyConsumer) notify(n Notification) error {
	c.mu.Lock()
	c.calls = append(c.calls, n.Key)
	call := len(c.calls)
	c.mu.Unlock()
	if err := c.failing(call, n); err != nil {
		return err
	}
	return c.accepted.add(n)
}

func (c *flakyConsumer) callKeys() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.calls...)
}

func keysOf(notes []Notification) []string {
	var out []string
	for _, n := range notes {
		out = append(out, n.EventName+" "+n.Key)
	}
	return out
}

func TestNotifications_FailedNotifyIsRetriedInOrder(t *testing.T) {
	c := &flakyConsumer{failing: func(call int, n Notification) error {
		switch {
		case call == 1:
			panic("consumer bug") // a panic counts as a failure
		case call <= 4:
			return errors.New("spool unavailable")
		}
		return nil
	}}
	h := newHarness(t, withBuckets(BucketConfig{Name: "retry"}))
	h.close()
	h.opts.Notify = c.notify
	h.open()

	h.put("retry", "first", "1")
	h.put("retry", "second", "2")
	got := c.accepted.wait(t, 2)
	assert.Equal(t, []string{"ObjectCreated:Put first", "ObjectCreated:Put second"}, keysOf(got), "delivered once each, in order")
	assert.Equal(t, []string{"first", "first", "first", "first", "first", "second"}, c.callKeys(),
		"four failures of the first hold the second back")
}

func TestNotifications_OutboxSurvivesRestart(t *testing.T) {
	h := newHarness(t, withBuckets(BucketConfig{Name: "box", Versioning: true}))
	h.close()
	down := &flakyConsumer{failing: func(int, Notification) error { return errors.New("spool unavailable") }}
	h.opts.Notify = down.notify
	h.open()

	h.put("box", "a", "alpha")
	h.put("box", "b", "bravo")
	_, err := h.client.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String("box"), Key: aws.String("a")})
	require.NoError(t, err)
	h.put("box", "c", "charlie")
	require.Eventually(t, func() bool { return len(down.callKeys()) >= 3 }, 5*time.Second, time.Millisecond)

	start := time.Now()
	h.close()
	assert.Less(t, time.Since(start), 500*time.Millisecond, "Close does not wait out the retries")
	for _, k := range down.callKeys() {
		require.Equal(t, "a", k, "nothing after the failing notification was attempted")
	}
	require.Empty(t, down.accepted.snapshot())

	up := &noteLog{}
	h.opts.Notify = up.add
	h.open()
	got := up.wait(t, 4)
	assert.Equal(t, []string{"ObjectCreated:Put a", "ObjectCreated:Put b", "ObjectRemoved:DeleteMarkerCreated a", "ObjectCreated:Put c"},
		keysOf(got), "every acknowledged change, once, in commit order")
	withoutVolatile(t, got) // sequencers increase

	h.put("box", "d", "delta")
	got = up.wait(t, 5)
	assert.Equal(t, "d", got[len(got)-1].Key, "new changes come after the backlog")

	h.restart()
	time.Sleep(100 * time.Millisecond)
	assert.Len(t, up.snapshot(), 5, "delivered notifications left the outbox")
}

func TestNotifications_NoOutboxWithoutNotify(t *testing.T) {
	h := newHarness(t, withBuckets(BucketConfig{Name: "quiet"}))
	h.close()
	h.opts.Notify = nil
	h.open()
	h.put("quiet", "k", "v")
	h.close()

	log := &noteLog{}
	h.opts.Notify = log.add
	h.open()
	h.put("quiet", "k2", "v")
	got := log.wait(t, 1)
	assert.Equal(t, []string{"ObjectCreated:Put k2"}, keysOf(got))
}
