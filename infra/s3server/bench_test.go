package s3server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// BenchmarkPutGet puts and gets 1 KiB objects through the SDK over
// loopback, with every put durable (fsync of blob, directory and index).
func BenchmarkPutGet(b *testing.B) {
	for _, versioned := range []bool{false, true} {
		b.Run(fmt.Sprintf("versioned=%v", versioned), func(b *testing.B) {
			h := &harness{t: b, dir: b.TempDir(), clock: &clock{}, notes: &noteLog{}}
			h.opts = Options{Region: testRegion, Credentials: map[string]string{testAccessKey: testSecret},
				Buckets: []BucketConfig{{Name: "bench", Versioning: versioned}}, Notify: func(Notification) error { return nil }}
			h.open()
			defer h.close()
			ctx := context.Background()
			body := bytes.Repeat([]byte("x"), 1024)
			b.SetBytes(2 * int64(len(body)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				key := fmt.Sprintf("obj-%d", i%100)
				if _, err := h.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bench"), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
					b.Fatal(err)
				}
				out, err := h.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bench"), Key: aws.String(key)})
				if err != nil {
					b.Fatal(err)
				}
				n, _ := io.Copy(io.Discard, out.Body)
				out.Body.Close()
				if n != int64(len(body)) {
					b.Fatalf("got %d bytes", n)
				}
			}
		})
	}
}
