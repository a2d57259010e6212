package s3server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
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
// Its Notify is a slow consumer that spools each notification durably to
// S3SERVER_CRASH_NOTES (one JSON line, fsynced) and refuses every fourth
// call, so that the outbox holds a backlog when the process is killed.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv("S3SERVER_CRASH_DIR")
	if dir == "" {
		t.Skip("helper process for TestCrash_KillNineKeepsAcknowledgedWrites")
	}
	spool, err := os.OpenFile(os.Getenv("S3SERVER_CRASH_NOTES"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	require.NoError(t, err)
	calls := 0
	notify := func(n Notification) error {
		calls++
		time.Sleep(2 * time.Millisecond)
		if calls%4 == 0 {
			return errors.New("spool busy")
		}
		if _, err := spool.Write(append(mustJSON(n), '\n')); err != nil {
			return err
		}
		return spool.Sync()
	}
	srv, err := New(Options{Dir: dir, Region: testRegion, Credentials: map[string]string{testAccessKey: testSecret},
		Buckets: []BucketConfig{{Name: "crash", Versioning: true}}, Notify: notify})
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
	spool := filepath.Join(t.TempDir(), "notes.jsonl")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "S3SERVER_CRASH_DIR="+dir, "S3SERVER_CRASH_NOTES="+spool)
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

	spooled := readSpool(t, spool) // what the child's consumer accepted before the kill

	// Reopen the same directory in this process.
	h := &harness{t: t, dir: dir, clock: &clock{}, notes: &noteLog{}}
	h.opts = Options{Region: testRegion, Credentials: map[string]string{testAccessKey: testSecret}, Now: h.clock.Now, Notify: h.notes.add}
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

	// Every acknowledged write is notified: before the kill, or from the
	// outbox after reopening.
	notified := func() map[string]bool {
		m := map[string]bool{}
		for _, n := range append(append([]Notification(nil), spooled...), h.notes.snapshot()...) {
			m[n.Key+"@"+n.VersionID] = true
		}
		return m
	}
	require.Eventually(t, func() bool {
		m := notified()
		for _, a := range acks {
			if !m[a.key+"@"+a.version] {
				return false
			}
		}
		return true
	}, 10*time.Second, 10*time.Millisecond, "every acknowledged write gets its notification")
	time.Sleep(100 * time.Millisecond) // let the outbox drain
	redelivered := h.notes.snapshot()
	assert.NotEmpty(t, redelivered, "the kill left notifications in the outbox")
	listed := map[string]bool{}
	for _, v := range vs {
		listed[v.Key+"@"+v.VersionID] = true
	}
	for _, ns := range [][]Notification{spooled, redelivered} {
		for i, n := range ns {
			assert.Equal(t, "ObjectCreated:Put", n.EventName)
			assert.True(t, listed[n.Key+"@"+n.VersionID], "notification %s@%s is of a committed version", n.Key, n.VersionID)
			if i > 0 {
				assert.Greater(t, n.Sequencer, ns[i-1].Sequencer, "delivered in commit order")
			}
		}
	}
	dup := 0
	seen := map[string]bool{}
	for _, n := range spooled {
		seen[n.Sequencer] = true
	}
	for _, n := range redelivered {
		if seen[n.Sequencer] {
			dup++
		}
	}
	assert.LessOrEqual(t, dup, outboxBatch, "only a batch not yet removed from the outbox is delivered twice")
	t.Logf("%d acknowledged writes before kill -9, %d versions after restart; %d notifications before the kill, %d after (%d twice)",
		len(acks), len(vs), len(spooled), len(redelivered), dup)
}

// readSpool reads the child's notification spool; a line the kill cut short
// is ignored.
func readSpool(t *testing.T, path string) []Notification {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var out []Notification
	for _, line := range bytes.Split(b, []byte("\n")) {
		var n Notification
		if len(line) > 0 && json.Unmarshal(line, &n) == nil {
			out = append(out, n)
		}
	}
	return out
}
