package s3server

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

func TestObjects_PutGetHeadDelete(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	_, err := h.client.CreateBucket(ctx, &s3.CreateBucketInput{
		Bucket:                    aws.String("docs"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraint(testRegion)},
	})
	require.NoError(t, err)

	body := "hello, Lantau"
	put, err := h.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:             aws.String("docs"),
		Key:                aws.String("receipts/2025/a b+c!(1).txt"),
		Body:               bytes.NewReader([]byte(body)),
		ContentType:        aws.String("text/plain; charset=utf-8"),
		ContentDisposition: aws.String(`attachment; filename="a.txt"`),
		CacheControl:       aws.String("max-age=60"),
		Metadata:           map[string]string{"tenant": "t1", "uploaded-by": "u9"},
	})
	require.NoError(t, err)
	sum := md5.Sum([]byte(body))
	wantETag := `"` + hex.EncodeToString(sum[:]) + `"`
	assert.Equal(t, wantETag, aws.ToString(put.ETag))
	assert.Nil(t, put.VersionId, "unversioned bucket reports no version")

	got, out := h.get("docs", "receipts/2025/a b+c!(1).txt", "")
	assert.Equal(t, body, got)
	assert.Equal(t, "text/plain; charset=utf-8", aws.ToString(out.ContentType))
	assert.Equal(t, `attachment; filename="a.txt"`, aws.ToString(out.ContentDisposition))
	assert.Equal(t, "max-age=60", aws.ToString(out.CacheControl))
	assert.Equal(t, map[string]string{"tenant": "t1", "uploaded-by": "u9"}, out.Metadata)
	assert.Equal(t, wantETag, aws.ToString(out.ETag))
	assert.Equal(t, int64(len(body)), aws.ToInt64(out.ContentLength))

	head, err := h.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("docs"), Key: aws.String("receipts/2025/a b+c!(1).txt")})
	require.NoError(t, err)
	assert.Equal(t, int64(len(body)), aws.ToInt64(head.ContentLength))
	assert.Equal(t, wantETag, aws.ToString(head.ETag))
	assert.Equal(t, "t1", head.Metadata["tenant"])

	// Ranges.
	for _, tc := range []struct{ rng, want string }{
		{"bytes=0-4", "hello"},
		{"bytes=7-", "Lantau"},
		{"bytes=-6", "Lantau"},
		{"bytes=7-100", "Lantau"},
	} {
		r, err := h.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("docs"), Key: aws.String("receipts/2025/a b+c!(1).txt"), Range: aws.String(tc.rng)})
		require.NoError(t, err, tc.rng)
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		assert.Equal(t, tc.want, string(b), tc.rng)
		assert.Contains(t, aws.ToString(r.ContentRange), fmt.Sprintf("/%d", len(body)), tc.rng)
	}
	_, err = h.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("docs"), Key: aws.String("receipts/2025/a b+c!(1).txt"), Range: aws.String("bytes=100-")})
	assert.Equal(t, "InvalidRange", apiCode(err))

	// Overwrite in an unversioned bucket replaces the object.
	h.put("docs", "receipts/2025/a b+c!(1).txt", "second")
	got, _ = h.get("docs", "receipts/2025/a b+c!(1).txt", "")
	assert.Equal(t, "second", got)

	// Empty object.
	h.put("docs", "empty", "")
	got, out = h.get("docs", "empty", "")
	assert.Equal(t, "", got)
	assert.Equal(t, int64(0), aws.ToInt64(out.ContentLength))

	_, err = h.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("docs"), Key: aws.String("receipts/2025/a b+c!(1).txt")})
	require.NoError(t, err)
	_, err = h.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("docs"), Key: aws.String("receipts/2025/a b+c!(1).txt")})
	var nsk *types.NoSuchKey
	assert.ErrorAs(t, err, &nsk)
	_, err = h.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("docs"), Key: aws.String("nope")})
	var nf *types.NotFound
	assert.ErrorAs(t, err, &nf)
	// Deleting a missing key is not an error.
	_, err = h.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("docs"), Key: aws.String("nope")})
	assert.NoError(t, err)
}

func TestObjects_ConditionalPut(t *testing.T) {
	h := newHarness(t, withBuckets(BucketConfig{Name: "docs"}))
	ctx := context.Background()
	_, err := h.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("docs"), Key: aws.String("k"), Body: bytes.NewReader([]byte("1")), IfNoneMatch: aws.String("*")})
	require.NoError(t, err)
	_, err = h.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("docs"), Key: aws.String("k"), Body: bytes.NewReader([]byte("2")), IfNoneMatch: aws.String("*")})
	assert.Equal(t, "PreconditionFailed", apiCode(err))
	got, _ := h.get("docs", "k", "")
	assert.Equal(t, "1", got)
}

func TestBuckets_CreateListHeadDelete(t *testing.T) {
	h := newHarness(t, withBuckets(BucketConfig{Name: "preset"}))
	ctx := context.Background()
	h.createBucket("extra")

	_, err := h.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("extra")})
	assert.Equal(t, "BucketAlreadyExists", apiCode(err))

	lb, err := h.client.ListBuckets(ctx, &s3.ListBucketsInput{})
	require.NoError(t, err)
	var names []string
	for _, b := range lb.Buckets {
		names = append(names, aws.ToString(b.Name))
		assert.False(t, aws.ToTime(b.CreationDate).IsZero())
	}
	assert.Equal(t, []string{"extra", "preset"}, names)

	_, err = h.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("preset")})
	assert.NoError(t, err)
	_, err = h.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("missing")})
	var nf *types.NotFound
	assert.ErrorAs(t, err, &nf)
	_, err = h.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("missing"), Key: aws.String("k"), Body: bytes.NewReader(nil)})
	assert.Equal(t, "NoSuchBucket", apiCode(err))

	h.put("extra", "k", "v")
	_, err = h.client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("extra")})
	assert.Equal(t, "BucketNotEmpty", apiCode(err))
	_, err = h.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("extra"), Key: aws.String("k")})
	require.NoError(t, err)
	_, err = h.client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("extra")})
	require.NoError(t, err)
	_, err = h.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("extra")})
	assert.ErrorAs(t, err, &nf)

	// Subresources gofakes3 would misroute are refused, not misapplied.
	h.put("preset", "k", "v")
	_, err = h.client.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{
		Bucket: aws.String("preset"), Key: aws.String("k"),
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}},
	})
	assert.Equal(t, "NotImplemented", apiCode(err))
	got, _ := h.get("preset", "k", "")
	assert.Equal(t, "v", got)
}

func TestList_PrefixDelimiterPagination(t *testing.T) {
	h := newHarness(t, withBuckets(BucketConfig{Name: "listing"}))
	ctx := context.Background()
	keys := []string{"a.txt", "docs/1.txt", "docs/2.txt", "docs/sub/3.txt", "img/x.png", "img/y.png", "z.txt"}
	for _, k := range keys {
		h.put("listing", k, k)
	}

	listV2 := func(prefix, delim string, max int32) (objs, prefixes []string, pages int) {
		p := s3.NewListObjectsV2Paginator(h.client, &s3.ListObjectsV2Input{
			Bucket: aws.String("listing"), Prefix: aws.String(prefix), Delimiter: aws.String(delim), MaxKeys: aws.Int32(max),
		})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			require.NoError(t, err)
			pages++
			require.LessOrEqual(t, len(out.Contents)+len(out.CommonPrefixes), int(max))
			for _, o := range out.Contents {
				objs = append(objs, aws.ToString(o.Key))
			}
			for _, cp := range out.CommonPrefixes {
				prefixes = append(prefixes, aws.ToString(cp.Prefix))
			}
		}
		return objs, prefixes, pages
	}

	tests := []struct {
		name         string
		prefix       string
		delim        string
		max          int32
		wantObjs     []string
		wantPrefixes []string
		wantPages    int
	}{
		{"all", "", "", 1000, keys, nil, 1},
		{"all paged by 2", "", "", 2, keys, nil, 4},
		{"root with delimiter", "", "/", 1000, []string{"a.txt", "z.txt"}, []string{"docs/", "img/"}, 1},
		{"root with delimiter paged by 1", "", "/", 1, []string{"a.txt", "z.txt"}, []string{"docs/", "img/"}, 4},
		{"folder", "docs/", "/", 1000, []string{"docs/1.txt", "docs/2.txt"}, []string{"docs/sub/"}, 1},
		{"folder paged by 1", "docs/", "/", 1, []string{"docs/1.txt", "docs/2.txt"}, []string{"docs/sub/"}, 3},
		{"partial prefix", "do", "/", 1000, nil, []string{"docs/"}, 1},
		{"prefix without delimiter", "img/", "", 1000, []string{"img/x.png", "img/y.png"}, nil, 1},
		{"no match", "q", "", 1000, nil, nil, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			objs, prefixes, pages := listV2(tc.prefix, tc.delim, tc.max)
			assert.Equal(t, tc.wantObjs, objs)
			assert.Equal(t, tc.wantPrefixes, prefixes)
			assert.Equal(t, tc.wantPages, pages)
		})
	}

	t.Run("v1 with marker", func(t *testing.T) {
		var got []string
		marker := ""
		for i := 0; i < 10; i++ {
			out, err := h.client.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("listing"), Marker: aws.String(marker), MaxKeys: aws.Int32(3)})
			require.NoError(t, err)
			for _, o := range out.Contents {
				got = append(got, aws.ToString(o.Key))
			}
			if !aws.ToBool(out.IsTruncated) {
				break
			}
			marker = aws.ToString(out.Contents[len(out.Contents)-1].Key)
		}
		assert.Equal(t, keys, got)
	})

	t.Run("start-after", func(t *testing.T) {
		out, err := h.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("listing"), StartAfter: aws.String("docs/2.txt")})
		require.NoError(t, err)
		var got []string
		for _, o := range out.Contents {
			got = append(got, aws.ToString(o.Key))
		}
		assert.Equal(t, []string{"docs/sub/3.txt", "img/x.png", "img/y.png", "z.txt"}, got)
	})

	t.Run("multi-delete", func(t *testing.T) {
		out, err := h.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("listing"), Delete: &types.Delete{Objects: []types.ObjectIdentifier{
			{Key: aws.String("img/x.png")}, {Key: aws.String("img/y.png")}, {Key: aws.String("never-existed")},
		}}})
		require.NoError(t, err)
		var deleted []string
		for _, d := range out.Deleted {
			deleted = append(deleted, aws.ToString(d.Key))
		}
		sort.Strings(deleted)
		assert.Equal(t, []string{"img/x.png", "img/y.png", "never-existed"}, deleted)
		assert.Empty(t, out.Errors)
		objs, _, _ := listV2("img/", "", 1000)
		assert.Empty(t, objs)
	})
}

func TestCopyObject(t *testing.T) {
	h := newHarness(t, withBuckets(BucketConfig{Name: "src", Versioning: true}, BucketConfig{Name: "dst"}))
	ctx := context.Background()
	_, err := h.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("src"), Key: aws.String("dir/a b.txt"), Body: bytes.NewReader([]byte("v1")),
		ContentType: aws.String("text/plain"), Metadata: map[string]string{"m": "1"},
	})
	require.NoError(t, err)
	v1 := h.put("src", "dir/a b.txt", "v2-longer")

	out, err := h.client.CopyObject(ctx, &s3.CopyObjectInput{
		Bucket: aws.String("dst"), Key: aws.String("copy.txt"), CopySource: aws.String("src/dir/a%20b.txt"),
	})
	require.NoError(t, err)
	assert.Equal(t, aws.ToString(v1.ETag), aws.ToString(out.CopyObjectResult.ETag))
	assert.Equal(t, aws.ToString(v1.VersionId), aws.ToString(out.CopySourceVersionId))
	assert.Nil(t, out.VersionId, "destination is unversioned")
	got, _ := h.get("dst", "copy.txt", "")
	assert.Equal(t, "v2-longer", got)

	// Copy an older version, replacing metadata, into a versioned bucket.
	vers, err := h.client.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("src")})
	require.NoError(t, err)
	require.Len(t, vers.Versions, 2)
	oldest := aws.ToString(vers.Versions[1].VersionId)
	out, err = h.client.CopyObject(ctx, &s3.CopyObjectInput{
		Bucket: aws.String("src"), Key: aws.String("restored.txt"),
		CopySource:        aws.String("src/dir/a%20b.txt?versionId=" + oldest),
		MetadataDirective: types.MetadataDirectiveReplace,
		ContentType:       aws.String("text/markdown"),
		Metadata:          map[string]string{"m": "2"},
	})
	require.NoError(t, err)
	assert.Equal(t, oldest, aws.ToString(out.CopySourceVersionId))
	require.NotEmpty(t, aws.ToString(out.VersionId))
	assert.NotEqual(t, oldest, aws.ToString(out.VersionId))
	got, gout := h.get("src", "restored.txt", aws.ToString(out.VersionId))
	assert.Equal(t, "v1", got)
	assert.Equal(t, "text/markdown", aws.ToString(gout.ContentType))
	assert.Equal(t, map[string]string{"m": "2"}, gout.Metadata)

	// Default directive copies metadata.
	_, err = h.client.CopyObject(ctx, &s3.CopyObjectInput{
		Bucket: aws.String("dst"), Key: aws.String("meta.txt"), CopySource: aws.String("src/dir/a%20b.txt?versionId=" + oldest),
	})
	require.NoError(t, err)
	_, gout = h.get("dst", "meta.txt", "")
	assert.Equal(t, "text/plain", aws.ToString(gout.ContentType))
	assert.Equal(t, map[string]string{"m": "1"}, gout.Metadata)

	_, err = h.client.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("x"), CopySource: aws.String("src/missing")})
	assert.Equal(t, "NoSuchKey", apiCode(err))
}

// Small objects live in the index, larger ones in blob files: both paths
// must behave the same, and leave nothing behind once deleted.
func TestObjects_InlineAndFileStorageBehaveAlike(t *testing.T) {
	h := newHarness(t, withBuckets(BucketConfig{Name: "sizes", Versioning: true}, BucketConfig{Name: "plain"}))
	ctx := context.Background()
	for _, size := range []int{0, 1, 1024, inlineMax, inlineMax + 1, 200 << 10} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			body := make([]byte, size)
			for i := range body {
				body[i] = byte('a' + i%26)
			}
			key := fmt.Sprintf("obj-%d", size)
			v1 := aws.ToString(h.put("sizes", key, string(body)).VersionId)
			v2 := aws.ToString(h.put("sizes", key, string(body)+"!").VersionId)
			got, _ := h.get("sizes", key, v1)
			require.Equal(t, string(body), got)
			got, _ = h.get("sizes", key, "")
			require.Equal(t, string(body)+"!", got)
			if size > 10 {
				r, err := h.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("sizes"), Key: aws.String(key), VersionId: aws.String(v1), Range: aws.String("bytes=3-9")})
				require.NoError(t, err)
				b, _ := io.ReadAll(r.Body)
				r.Body.Close()
				assert.Equal(t, string(body[3:10]), string(b))
			}
			_, err := h.client.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("plain"), Key: aws.String(key), CopySource: aws.String("sizes/" + key + "?versionId=" + v1)})
			require.NoError(t, err)
			got, _ = h.get("plain", key, "")
			require.Equal(t, string(body), got)
			h.put("plain", key, "replaced") // drops the copied content

			for _, v := range []string{v1, v2} {
				_, err := h.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("sizes"), Key: aws.String(key), VersionId: aws.String(v)})
				require.NoError(t, err)
			}
			_, err = h.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("plain"), Key: aws.String(key)})
			require.NoError(t, err)
		})
	}
	assert.Equal(t, 0, countBlobs(t, h.dir), "no blob file left")
	require.NoError(t, h.srv.store.db.View(func(tx *bolt.Tx) error {
		assert.Equal(t, 0, tx.Bucket(bktInline).Stats().KeyN, "no inline content left")
		return nil
	}))
}
