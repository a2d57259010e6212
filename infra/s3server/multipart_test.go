package s3server

import (
	"bytes"
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMultipart_SurvivesRestartAndCompletes(t *testing.T) {
	h := newHarness(t, withBuckets(BucketConfig{Name: "mpu", Versioning: true}))
	ctx := context.Background()
	parts := [][]byte{bytes.Repeat([]byte("A"), 5<<20), bytes.Repeat([]byte("B"), 5<<20), []byte("tail")}

	mpu, err := h.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: aws.String("mpu"), Key: aws.String("video.bin"), ContentType: aws.String("video/mp4"),
		Metadata: map[string]string{"origin": "camera"},
	})
	require.NoError(t, err)
	upload := func(n int32, body []byte) types.CompletedPart {
		out, err := h.client.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("mpu"), Key: aws.String("video.bin"),
			UploadId: mpu.UploadId, PartNumber: aws.Int32(n), Body: bytes.NewReader(body)})
		require.NoError(t, err)
		return types.CompletedPart{PartNumber: aws.Int32(n), ETag: out.ETag}
	}
	p1 := upload(1, []byte("to be replaced"))
	p1 = upload(1, parts[0])
	p2 := upload(2, parts[1])

	h.restart() // uploads and parts are on disk

	p3 := upload(3, parts[2])
	lp, err := h.client.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("mpu"), Key: aws.String("video.bin"), UploadId: mpu.UploadId, MaxParts: aws.Int32(2)})
	require.NoError(t, err)
	require.Len(t, lp.Parts, 2)
	assert.True(t, aws.ToBool(lp.IsTruncated))
	assert.Equal(t, int64(5<<20), aws.ToInt64(lp.Parts[0].Size))
	lp, err = h.client.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("mpu"), Key: aws.String("video.bin"), UploadId: mpu.UploadId, PartNumberMarker: lp.NextPartNumberMarker})
	require.NoError(t, err)
	require.Len(t, lp.Parts, 1)
	assert.Equal(t, int32(3), aws.ToInt32(lp.Parts[0].PartNumber))

	lu, err := h.client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("mpu")})
	require.NoError(t, err)
	require.Len(t, lu.Uploads, 1)
	assert.Equal(t, aws.ToString(mpu.UploadId), aws.ToString(lu.Uploads[0].UploadId))

	_, err = h.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("video.bin"),
		UploadId: mpu.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{p2, p1}}})
	assert.Equal(t, "InvalidPartOrder", apiCode(err))

	done, err := h.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("video.bin"),
		UploadId: mpu.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{p1, p2, p3}}})
	require.NoError(t, err)
	require.NotEmpty(t, aws.ToString(done.VersionId))

	got, out := h.get("mpu", "video.bin", "")
	assert.Equal(t, string(bytes.Join(parts, nil)), got)
	assert.Equal(t, "video/mp4", aws.ToString(out.ContentType))
	assert.Equal(t, "camera", out.Metadata["origin"])
	assert.Equal(t, aws.ToString(done.ETag), aws.ToString(out.ETag), "completion and GET report the same ETag")

	lu, err = h.client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("mpu")})
	require.NoError(t, err)
	assert.Empty(t, lu.Uploads)

	// Abort discards an upload and its parts.
	mpu2, err := h.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("other")})
	require.NoError(t, err)
	_, err = h.client.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("mpu"), Key: aws.String("other"), UploadId: mpu2.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader([]byte("x"))})
	require.NoError(t, err)
	_, err = h.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("other"), UploadId: mpu2.UploadId})
	require.NoError(t, err)
	_, err = h.client.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("mpu"), Key: aws.String("other"), UploadId: mpu2.UploadId, PartNumber: aws.Int32(2), Body: bytes.NewReader([]byte("x"))})
	assert.Equal(t, "NoSuchUpload", apiCode(err))

	// Only the completed object's blob is left on disk.
	h.restart()
	blobs := countBlobs(t, h.dir)
	assert.Equal(t, 1, blobs)
}
