package s3server

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"sort"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type listedVersion struct {
	Key, VersionID string
	IsLatest       bool
	DeleteMarker   bool
	Size           int64
}

// versions lists every version and delete marker, newest first per key,
// following pagination.
func (h *harness) versions(bucket, prefix string, pageSize int32) []listedVersion {
	h.t.Helper()
	var out []listedVersion
	in := &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), Prefix: aws.String(prefix), MaxKeys: aws.Int32(pageSize)}
	for i := 0; ; i++ {
		require.Less(h.t, i, 1000, "pagination does not end")
		page, err := h.client.ListObjectVersions(context.Background(), in)
		require.NoError(h.t, err)
		require.LessOrEqual(h.t, len(page.Versions)+len(page.DeleteMarkers), int(pageSize))
		// The SDK splits versions and markers; merge back into S3's order
		// (key ascending, newest first): markers carry LastModified only,
		// so order within a key by the per-key order S3 returns, which for
		// this server is by version ID (commit order) descending.
		var items []listedVersion
		for _, v := range page.Versions {
			items = append(items, listedVersion{aws.ToString(v.Key), aws.ToString(v.VersionId), aws.ToBool(v.IsLatest), false, aws.ToInt64(v.Size)})
		}
		for _, m := range page.DeleteMarkers {
			items = append(items, listedVersion{aws.ToString(m.Key), aws.ToString(m.VersionId), aws.ToBool(m.IsLatest), true, 0})
		}
		sort.SliceStable(items, func(i, j int) bool {
			if items[i].Key != items[j].Key {
				return items[i].Key < items[j].Key
			}
			return items[i].IsLatest && !items[j].IsLatest || items[i].IsLatest == items[j].IsLatest && items[i].VersionID > items[j].VersionID
		})
		out = append(out, items...)
		if !aws.ToBool(page.IsTruncated) {
			return out
		}
		in.KeyMarker, in.VersionIdMarker = page.NextKeyMarker, page.NextVersionIdMarker
	}
}

func TestVersioning_ThreePutsGetByVersionDeleteMarker(t *testing.T) {
	h := newHarness(t, withBuckets(BucketConfig{Name: "vers", Versioning: true}))
	ctx := context.Background()

	vc, err := h.client.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String("vers")})
	require.NoError(t, err)
	assert.Equal(t, types.BucketVersioningStatusEnabled, vc.Status)

	bodies := []string{"one", "two!", "three"}
	var ids []string
	for _, b := range bodies {
		out := h.put("vers", "doc.txt", b)
		require.NotEmpty(t, aws.ToString(out.VersionId))
		ids = append(ids, aws.ToString(out.VersionId))
	}
	assert.Len(t, map[string]bool{ids[0]: true, ids[1]: true, ids[2]: true}, 3, "version IDs are distinct")

	vs := h.versions("vers", "", 1000)
	require.Len(t, vs, 3)
	for i, v := range vs {
		want := len(bodies) - 1 - i // newest first
		assert.Equal(t, ids[want], v.VersionID)
		assert.Equal(t, int64(len(bodies[want])), v.Size)
		assert.Equal(t, i == 0, v.IsLatest)
	}

	for i, id := range ids {
		got, out := h.get("vers", "doc.txt", id)
		assert.Equal(t, bodies[i], got)
		assert.Equal(t, id, aws.ToString(out.VersionId))
		head, err := h.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("vers"), Key: aws.String("doc.txt"), VersionId: aws.String(id)})
		require.NoError(t, err)
		assert.Equal(t, int64(len(bodies[i])), aws.ToInt64(head.ContentLength), "HEAD honours versionId")
		assert.Equal(t, id, aws.ToString(head.VersionId))
	}
	got, out := h.get("vers", "doc.txt", "")
	assert.Equal(t, "three", got)
	assert.Equal(t, ids[2], aws.ToString(out.VersionId))

	// Delete without a version: a delete marker becomes the latest version.
	del, err := h.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("vers"), Key: aws.String("doc.txt")})
	require.NoError(t, err)
	assert.True(t, aws.ToBool(del.DeleteMarker))
	marker := aws.ToString(del.VersionId)
	require.NotEmpty(t, marker)

	_, err = h.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("vers"), Key: aws.String("doc.txt")})
	var nsk *types.NoSuchKey
	assert.ErrorAs(t, err, &nsk)
	lo, err := h.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("vers")})
	require.NoError(t, err)
	assert.Empty(t, lo.Contents, "a key whose latest version is a delete marker is not listed")

	vs = h.versions("vers", "", 1000)
	require.Len(t, vs, 4)
	assert.Equal(t, listedVersion{"doc.txt", marker, true, true, 0}, vs[0])
	got, _ = h.get("vers", "doc.txt", ids[0])
	assert.Equal(t, "one", got, "old versions survive a delete marker")

	// Removing the delete marker brings the object back.
	del, err = h.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("vers"), Key: aws.String("doc.txt"), VersionId: aws.String(marker)})
	require.NoError(t, err)
	assert.True(t, aws.ToBool(del.DeleteMarker))
	assert.Equal(t, marker, aws.ToString(del.VersionId))
	got, _ = h.get("vers", "doc.txt", "")
	assert.Equal(t, "three", got)

	// Deleting a specific version removes it for good.
	_, err = h.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("vers"), Key: aws.String("doc.txt"), VersionId: aws.String(ids[1])})
	require.NoError(t, err)
	_, err = h.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("vers"), Key: aws.String("doc.txt"), VersionId: aws.String(ids[1])})
	assert.Equal(t, "NoSuchVersion", apiCode(err))
	assert.Len(t, h.versions("vers", "", 1000), 2)

	// Bucket with versions left is not empty.
	_, err = h.client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("vers")})
	assert.Equal(t, "BucketNotEmpty", apiCode(err))
}

func TestVersioning_NullVersionAndSuspension(t *testing.T) {
	h := newHarness(t, withBuckets(BucketConfig{Name: "later"}))
	ctx := context.Background()
	setStatus := func(s types.BucketVersioningStatus) {
		_, err := h.client.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
			Bucket: aws.String("later"), VersioningConfiguration: &types.VersioningConfiguration{Status: s},
		})
		require.NoError(t, err)
	}
	vc, err := h.client.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String("later")})
	require.NoError(t, err)
	assert.Empty(t, vc.Status, "never-versioned bucket reports no status")

	h.put("later", "k", "null-before") // null version
	setStatus(types.BucketVersioningStatusEnabled)
	v1 := aws.ToString(h.put("later", "k", "enabled-1").VersionId)
	require.NotEmpty(t, v1)
	setStatus(types.BucketVersioningStatusSuspended)
	vc, err = h.client.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String("later")})
	require.NoError(t, err)
	assert.Equal(t, types.BucketVersioningStatusSuspended, vc.Status)

	out := h.put("later", "k", "null-after") // replaces the old null version
	assert.Empty(t, aws.ToString(out.VersionId))

	vs := h.versions("later", "", 1000)
	require.Len(t, vs, 2)
	assert.Equal(t, listedVersion{"k", "null", true, false, int64(len("null-after"))}, vs[0])
	assert.Equal(t, listedVersion{"k", v1, false, false, int64(len("enabled-1"))}, vs[1])
	got, _ := h.get("later", "k", "null")
	assert.Equal(t, "null-after", got)

	// Delete while suspended: the null version goes, a null marker comes.
	del, err := h.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("later"), Key: aws.String("k")})
	require.NoError(t, err)
	assert.True(t, aws.ToBool(del.DeleteMarker))
	vs = h.versions("later", "", 1000)
	require.Len(t, vs, 2)
	assert.Equal(t, listedVersion{"k", "null", true, true, 0}, vs[0])

	// DELETE ?versionId=null removes the null marker, not adds another.
	_, err = h.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("later"), Key: aws.String("k"), VersionId: aws.String("null")})
	require.NoError(t, err)
	vs = h.versions("later", "", 1000)
	require.Len(t, vs, 1)
	got, _ = h.get("later", "k", "")
	assert.Equal(t, "enabled-1", got)

	// Emptying a bucket by deleting every listed version ends.
	_, err = h.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("later"), Key: aws.String("k"), VersionId: aws.String(v1)})
	require.NoError(t, err)
	_, err = h.client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("later")})
	require.NoError(t, err)
}

func TestVersioning_ListPagination(t *testing.T) {
	h := newHarness(t, withBuckets(BucketConfig{Name: "pages", Versioning: true}))
	ctx := context.Background()
	for _, k := range []string{"a", "b/1", "b/2", "c"} {
		for i := 0; i < 3; i++ {
			h.put("pages", k, fmt.Sprintf("%s-%d", k, i))
		}
	}
	_, err := h.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("pages"), Key: aws.String("c")})
	require.NoError(t, err)

	all := h.versions("pages", "", 1000)
	require.Len(t, all, 13)
	for _, size := range []int32{1, 2, 3, 5} {
		assert.Equal(t, all, h.versions("pages", "", size), "page size %d", size)
	}
	assert.Len(t, h.versions("pages", "b/", 2), 6)

	out, err := h.client.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("pages"), Delimiter: aws.String("/")})
	require.NoError(t, err)
	require.Len(t, out.CommonPrefixes, 1)
	assert.Equal(t, "b/", aws.ToString(out.CommonPrefixes[0].Prefix))
	assert.Len(t, out.Versions, 6)
	assert.Len(t, out.DeleteMarkers, 1)
}

func TestRestart_KeepsObjectsAndVersions(t *testing.T) {
	h := newHarness(t, withBuckets(BucketConfig{Name: "keep", Versioning: true}))
	ctx := context.Background()
	h.createBucket("plain")
	h.put("plain", "a/b.txt", "plain body")
	var ids []string
	for i := 0; i < 3; i++ {
		ids = append(ids, aws.ToString(h.put("keep", "doc", fmt.Sprintf("version %d", i)).VersionId))
	}
	del, err := h.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("keep"), Key: aws.String("doc")})
	require.NoError(t, err)
	before := h.versions("keep", "", 1000)

	h.restart()

	got, _ := h.get("plain", "a/b.txt", "")
	assert.Equal(t, "plain body", got)
	assert.Equal(t, before, h.versions("keep", "", 1000))
	assert.Equal(t, aws.ToString(del.VersionId), before[0].VersionID)
	for i, id := range ids {
		got, _ := h.get("keep", "doc", id)
		assert.Equal(t, fmt.Sprintf("version %d", i), got)
	}
	vc, err := h.client.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String("keep")})
	require.NoError(t, err)
	assert.Equal(t, types.BucketVersioningStatusEnabled, vc.Status)

	// New versions after a restart sort after the old ones.
	id := aws.ToString(h.put("keep", "doc", "after restart").VersionId)
	vs := h.versions("keep", "", 1000)
	require.Len(t, vs, 5)
	assert.Equal(t, id, vs[0].VersionID)
	assert.True(t, vs[0].IsLatest)
}

func TestConcurrentPuts_SameKeyMakesOneVersionEach(t *testing.T) {
	h := newHarness(t, withBuckets(BucketConfig{Name: "race", Versioning: true}))
	ctx := context.Background()
	const n = 20
	bodies := make([][]byte, n)
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		bodies[i] = bytes.Repeat([]byte(fmt.Sprintf("writer %02d;", i)), 1000+i*37)
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			out, err := h.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("race"), Key: aws.String("same"), Body: bytes.NewReader(bodies[i])})
			if assert.NoError(t, err) {
				ids[i] = aws.ToString(out.VersionId)
			}
		}(i)
	}
	wg.Wait()

	vs := h.versions("race", "", 1000)
	require.Len(t, vs, n)
	seen := map[string]bool{}
	for _, v := range vs {
		seen[v.VersionID] = true
	}
	for i, id := range ids {
		require.True(t, seen[id], "writer %d's version is listed", i)
		got, out := h.get("race", "same", id)
		require.Equal(t, string(bodies[i]), got, "writer %d's content is intact", i)
		sum := md5.Sum(bodies[i])
		assert.Equal(t, `"`+hex.EncodeToString(sum[:])+`"`, aws.ToString(out.ETag))
	}
	latest, _ := h.get("race", "same", "")
	assert.Equal(t, vs[0].Size, int64(len(latest)))
	h.notes.wait(t, n)
}
