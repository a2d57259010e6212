package s3server

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"strconv"
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
	h.opts.Notify = func(n Notification) { <-release; log.add(n) }
	h.open()

	start := time.Now()
	for i := 0; i < 5; i++ {
		h.put("slow", "k"+strconv.Itoa(i), "v")
	}
	assert.Less(t, time.Since(start), 2*time.Second)
	close(release)
	require.NoError(t, h.srv.Close()) // delivers what is queued
	h.srv = nil
	notes := log.snapshot()
	require.Len(t, notes, 5)
	for i, n := range notes {
		assert.Equal(t, "k"+strconv.Itoa(i), n.Key, "delivered in commit order")
	}
}
