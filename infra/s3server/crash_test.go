package s3server

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func countBlobs(t *testing.T, dir string) int {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, "blobs"))
	require.NoError(t, err)
	return len(entries)
}

func TestOpen_RemovesLeftoversOfInterruptedWrites(t *testing.T) {
	h := newHarness(t, withBuckets(BucketConfig{Name: "left"}))
	h.put("left", "k", "kept")
	large := strings.Repeat("L", inlineMax+1)
	h.put("left", "large", large) // the only blob file: small objects live in the index
	h.close()
	require.NoError(t, os.WriteFile(filepath.Join(h.dir, "blobs", "00000000000000000000000000000000"), []byte("orphan"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(h.dir, "tmp", "blob-123"), []byte("half"), 0o644))
	h.open()
	got, _ := h.get("left", "k", "")
	assert.Equal(t, "kept", got)
	got, _ = h.get("left", "large", "")
	assert.Equal(t, large, got)
	assert.Equal(t, 1, countBlobs(t, h.dir))
	entries, err := os.ReadDir(filepath.Join(h.dir, "tmp"))
	require.NoError(t, err)
	assert.Empty(t, entries)
}

func TestOpen_DirectoryIsExclusive(t *testing.T) {
	h := newHarness(t)
	_, err := New(Options{Dir: h.dir, Credentials: map[string]string{"a": "b"}})
	assert.Error(t, err, "a second server on a directory in use fails instead of sharing it")
}

// TestCrashChild is the server process killed by
// TestCrash_KillNineKeepsAcknowledgedWrites; it does nothing on its own.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv("S3SERVER_CRASH_DIR")
	if dir == "" {
		t.Skip("helper process for TestCrash_KillNineKeepsAcknowledgedWrites")
	}
	srv, err := New(Options{Dir: dir, Region: testRegion, Credentials: map[string]string{testAccessKey: testSecret},
		Buckets: []BucketConfig{{Name: "crash", Versioning: true}}})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	fmt.Printf("ADDR %s\n", ln.Addr())
	_ = http.Serve(ln, srv.Handler()) // until killed
}

func TestCrash_KillNineKeepsAcknowledgedWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "S3SERVER_CRASH_DIR="+dir)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	var addr string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if a, ok := strings.CutPrefix(sc.Text(), "ADDR "); ok {
			addr = a
			break
		}
	}
	require.NotEmpty(t, addr, "child did not start")
	go func() {
		for sc.Scan() {
		}
	}()

	client := s3.New(s3.Options{Region: testRegion, BaseEndpoint: aws.String("http://" + addr), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(testAccessKey, testSecret, ""), Retryer: aws.NopRetryer{}})
	type ack struct{ key, version, body string }
	var (
		mu   sync.Mutex
		acks []ack
		wg   sync.WaitGroup
	)
	stop := make(chan struct{})
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("k%d", i%3) // several versions per key
				n := 50 + i%200                // inline in the index
				if i%2 == 1 {
					n = 3000 // a blob file
				}
				body := strings.Repeat(fmt.Sprintf("w%d-i%d;", w, i), n)
				out, err := client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("crash"), Key: aws.String(key), Body: bytes.NewReader([]byte(body))})
				if err != nil {
					continue // the kill landed mid-request: not acknowledged
				}
				mu.Lock()
				acks = append(acks, ack{key, aws.ToString(out.VersionId), body})
				mu.Unlock()
			}
		}(w)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		n := len(acks)
		mu.Unlock()
		if n >= 60 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	require.NoError(t, cmd.Process.Kill()) // SIGKILL, mid-write
	_ = cmd.Wait()
	close(stop)
	wg.Wait()
	require.NotEmpty(t, acks)

	// Reopen the same directory in this process.
	h := &harness{t: t, dir: dir, clock: &clock{}, notes: &noteLog{}}
	h.opts = Options{Region: testRegion, Credentials: map[string]string{testAccessKey: testSecret}, Now: h.clock.Now}
	h.open()
	t.Cleanup(h.close)

	for _, a := range acks {
		got, _ := h.get("crash", a.key, a.version)
		require.Equal(t, a.body, got, "acknowledged %s@%s", a.key, a.version)
	}
	vs := h.versions("crash", "", 1000)
	assert.GreaterOrEqual(t, len(vs), len(acks), "every acknowledged write is listed (unacknowledged ones may be too)")
	for _, v := range vs {
		_, err := h.client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("crash"), Key: aws.String(v.Key), VersionId: aws.String(v.VersionID)})
		require.NoError(t, err, "listed version %s@%s is readable", v.Key, v.VersionID)
	}
	files := 0
	for _, v := range vs {
		if v.Size > inlineMax {
			files++
		}
	}
	assert.Equal(t, files, countBlobs(t, dir), "no orphan blob files after reopening")
	t.Logf("%d acknowledged writes before kill -9, %d versions after restart", len(acks), len(vs))
}
