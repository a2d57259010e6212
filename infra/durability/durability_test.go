package durability_test

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdkeb "github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/infra/runner"
	"github.com/lantau-hq/lantau/shared/audit"
	"github.com/lantau-hq/lantau/shared/event"
	"github.com/lantau-hq/lantau/shared/eventbridge"
)

// What template.yaml wires for the stack "lantau" in ap-east-1.
const (
	region  = "ap-east-1"
	busName = "lantau-bus"
	bucket  = "lantau-files-000000000000-ap-east-1"
	tenant  = "t-durable"

	cycles        = 3 // kill -9 and restart this many times
	eventWriters  = 4
	objectWriters = 2
	drainTimeout  = 30 * time.Second
)

func TestRunnerSurvivesSIGKILL_AcknowledgedWritesAreKept(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the runner, kills it with SIGKILL and restarts it")
	}
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "lantau")
	build := exec.Command("go", "build", "-o", bin, "./infra/cmd/lantau")
	build.Dir = root
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	data := filepath.Join(tmp, "data")
	logFile, err := os.Create(filepath.Join(tmp, "runner.log"))
	require.NoError(t, err)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("runner log (tail):\n%s", tail(logFile.Name(), 6000))
		}
		logFile.Close()
	})

	led := &ledger{sent: map[string]bool{}, acked: map[string]int{}, objects: map[string][]byte{}}
	proc := startRunner(t, bin, root, data, logFile, nil)
	for c := 1; c <= cycles; c++ {
		st := writeUntilKilled(t, proc, c, led)
		pending := countJSON(t, filepath.Join(data, "deliveries", "pending"))
		t.Logf("cycle %d: SIGKILL %v into the writes; acknowledged %d events (%d PutEvents calls) and %d objects; "+
			"in flight at kill: %d PutEvents calls (%d events), %d PutObject calls; failed after the kill: %d PutEvents, %d PutObject; "+
			"%d audit deliveries left in the spool",
			c, st.killAfter.Round(time.Millisecond), st.eventsAcked, st.eventCallsAcked, st.objectsAcked,
			st.inflightEventCalls, st.inflightEvents, st.inflightObjects, st.eventCallsFailed, st.objectCallsFailed, pending)
		require.Positive(t, st.eventsAcked, "cycle %d: no event was acknowledged before the kill", c)
		require.Positive(t, st.objectsAcked, "cycle %d: no object was acknowledged before the kill", c)

		proc = startRunner(t, bin, root, data, logFile, proc)
		checkObjectsKept(t, proc, led)
		checkEventsAudited(t, proc, data, led, c)
	}
}

// ledger is what the clients sent and what the runner acknowledged, over all cycles.
type ledger struct {
	mu      sync.Mutex
	sent    map[string]bool   // every event ID ever sent, acknowledged or not
	acked   map[string]int    // acknowledged event ID -> cycle
	objects map[string][]byte // acknowledged key -> content
}

type cycleStats struct {
	killAfter                           time.Duration
	eventsAcked, eventCallsAcked        int64
	objectsAcked                        int64
	eventCallsFailed, objectCallsFailed int64
	inflightEventCalls, inflightEvents  int64
	inflightObjects                     int64
}

// proc is one `lantau run` process.
type proc struct {
	cmd              *exec.Cmd
	exited           chan struct{}
	apiAddr, awsAddr string
}

// startRunner starts `lantau run` on the data directory and waits for its
// health route. It reuses prev's addresses when it can (clients reconnect
// to the same place), and takes fresh free ports otherwise.
func startRunner(t *testing.T, bin, root, data string, log *os.File, prev *proc) *proc {
	t.Helper()
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		p := &proc{exited: make(chan struct{})}
		if prev != nil && attempt == 0 {
			p.apiAddr, p.awsAddr = prev.apiAddr, prev.awsAddr
		} else {
			p.apiAddr, p.awsAddr = freeAddr(t), freeAddr(t)
		}
		fmt.Fprintf(log, "\n=== test: starting lantau run (attempt %d) api=%s aws=%s\n", attempt+1, p.apiAddr, p.awsAddr)
		p.cmd = exec.Command(bin, "run", "-template", filepath.Join(root, "template.yaml"),
			"-addr", p.apiAddr, "-aws-addr", p.awsAddr, "-data", data, "-region", region)
		p.cmd.Dir = root
		p.cmd.Stdout, p.cmd.Stderr = log, log
		require.NoError(t, p.cmd.Start())
		go func() { _ = p.cmd.Wait(); close(p.exited) }()
		if lastErr = waitHealthy(p, 20*time.Second); lastErr == nil {
			t.Cleanup(func() { p.stop() })
			return p
		}
		p.kill()
	}
	require.NoError(t, lastErr, "the runner did not become healthy")
	return nil
}

func waitHealthy(p *proc, within time.Duration) error {
	client := &http.Client{Timeout: 500 * time.Millisecond}
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			return fmt.Errorf("lantau run exited: %v", p.cmd.ProcessState)
		default:
		}
		resp, err := client.Get("http://" + p.apiAddr + "/v1/health")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("GET /v1/health did not answer 200 within %v", within)
}

func (p *proc) kill() {
	_ = syscall.Kill(p.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
	}
}

// stop ends a runner still alive at the end of the test gracefully.
func (p *proc) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		p.kill()
	}
}

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func clients(p *proc) (*eventbridge.Publisher, *s3.Client) {
	creds := credentials.NewStaticCredentialsProvider(runner.AccessKeyID, runner.SecretAccessKey, "")
	httpClient := &http.Client{Timeout: 5 * time.Second}
	endpoint := aws.String("http://" + p.awsAddr)
	eb := sdkeb.New(sdkeb.Options{Region: region, BaseEndpoint: endpoint, Credentials: creds,
		Retryer: aws.NopRetryer{}, HTTPClient: httpClient})
	s3c := s3.New(s3.Options{Region: region, BaseEndpoint: endpoint, Credentials: creds, UsePathStyle: true,
		Retryer: aws.NopRetryer{}, HTTPClient: httpClient})
	return eventbridge.New(eb, busName), s3c
}

// writeUntilKilled streams PutEvents and PutObject calls from several
// goroutines, sends SIGKILL to the runner 300–800 ms in, and records what
// was acknowledged before the process died.
func writeUntilKilled(t *testing.T, p *proc, cycle int, led *ledger) cycleStats {
	t.Helper()
	pub, s3c := clients(p)
	var (
		eventsAcked, eventCallsAcked, eventCallsFailed atomic.Int64
		objectsAcked, objectCallsFailed                atomic.Int64
		inflightEventCalls, inflightEvents             atomic.Int64
		inflightObjects                                atomic.Int64
	)
	loop, stopLoops := context.WithCancel(context.Background())
	defer stopLoops()
	var wg sync.WaitGroup
	const maxCalls = 100000 // a bound; the kill ends the loops long before
	for w := range eventWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(cycle), uint64(w)))
			for i := 0; i < maxCalls && loop.Err() == nil; i++ {
				batch := make([]event.Envelope, 1+rng.IntN(5))
				ids := make([]string, len(batch))
				for k := range batch {
					e, err := event.New("lantau.durability", "WriteAcknowledged", tenant, "u-durability", time.Now(),
						map[string]any{"cycle": cycle, "writer": w, "call": i, "n": k})
					if err != nil {
						t.Errorf("event.New: %v", err)
						return
					}
					batch[k], ids[k] = e, e.ID
				}
				led.mu.Lock()
				for _, id := range ids {
					led.sent[id] = true
				}
				led.mu.Unlock()
				inflightEventCalls.Add(1)
				inflightEvents.Add(int64(len(batch)))
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				err := pub.Publish(ctx, batch...) // nil only when every entry was accepted
				cancel()
				inflightEventCalls.Add(-1)
				inflightEvents.Add(-int64(len(batch)))
				if err != nil {
					eventCallsFailed.Add(1)
					continue
				}
				led.mu.Lock()
				for _, id := range ids {
					led.acked[id] = cycle
				}
				led.mu.Unlock()
				eventCallsAcked.Add(1)
				eventsAcked.Add(int64(len(ids)))
			}
		}()
	}
	for w := range objectWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(cycle), uint64(100+w)))
			for i := 0; i < maxCalls && loop.Err() == nil; i++ {
				key := fmt.Sprintf("durability/c%d/w%d/%05d", cycle, w, i)
				size := 64 + rng.IntN(4000) // kept inside the index
				if i%3 == 2 {
					size = 17<<10 + rng.IntN(16<<10) // over the inline limit: a blob file
				}
				body := make([]byte, size)
				n := copy(body, key+"\n")
				_, _ = crand.Read(body[n:])
				inflightObjects.Add(1)
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				_, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
				cancel()
				inflightObjects.Add(-1)
				if err != nil {
					objectCallsFailed.Add(1)
					continue
				}
				led.mu.Lock()
				led.objects[key] = body
				led.mu.Unlock()
				objectsAcked.Add(1)
			}
		}()
	}

	st := cycleStats{killAfter: 300*time.Millisecond + rand.N(500*time.Millisecond)}
	time.Sleep(st.killAfter)
	st.inflightEventCalls, st.inflightEvents, st.inflightObjects = inflightEventCalls.Load(), inflightEvents.Load(), inflightObjects.Load()
	require.NoError(t, syscall.Kill(p.cmd.Process.Pid, syscall.SIGKILL))
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("the runner did not die after SIGKILL")
	}
	stopLoops()
	wg.Wait()
	st.eventsAcked, st.eventCallsAcked, st.eventCallsFailed = eventsAcked.Load(), eventCallsAcked.Load(), eventCallsFailed.Load()
	st.objectsAcked, st.objectCallsFailed = objectsAcked.Load(), objectCallsFailed.Load()
	return st
}

// checkObjectsKept reads back every object acknowledged so far, in every cycle.
func checkObjectsKept(t *testing.T, p *proc, led *ledger) {
	t.Helper()
	_, s3c := clients(p)
	led.mu.Lock()
	defer led.mu.Unlock()
	keys := make([]string, 0, len(led.objects))
	for k := range led.objects {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		got, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(k)})
		if !assert.NoError(t, err, "acknowledged object %s is gone", k) {
			cancel()
			continue
		}
		body, err := io.ReadAll(got.Body)
		got.Body.Close()
		cancel()
		require.NoError(t, err)
		assert.True(t, bytes.Equal(led.objects[k], body), "acknowledged object %s reads back different content (%d bytes, want %d)", k, len(body), len(led.objects[k]))
	}
	t.Logf("after restart: all %d acknowledged objects read back intact", len(keys))
}

// checkEventsAudited waits until every acknowledged event is in the tenant's
// audit chain and the delivery spool is drained, then verifies the chain.
func checkEventsAudited(t *testing.T, p *proc, data string, led *ledger, cycle int) {
	t.Helper()
	// The runner holds the embedded table: read the chain through its admin routes.
	admin := "http://" + p.awsAddr + "/_lantau/audit/" + tenant

	led.mu.Lock()
	acked := make(map[string]int, len(led.acked))
	for id, c := range led.acked {
		acked[id] = c
	}
	led.mu.Unlock()

	var (
		seen    map[string]int
		missing []string
		pending int
	)
	start := time.Now()
	for deadline := start.Add(drainTimeout); ; {
		seen = chainIDs(t, admin)
		missing = missing[:0]
		for id := range acked {
			if seen[id] == 0 {
				missing = append(missing, id)
			}
		}
		pending = countJSON(t, filepath.Join(data, "deliveries", "pending"))
		if len(missing) == 0 && pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			sort.Strings(missing)
			dead := countJSON(t, filepath.Join(data, "deliveries", "dead"))
			t.Fatalf("cycle %d: after %v, %d of %d acknowledged events are not in %s's audit chain (first: %v); "+
				"%d deliveries still pending, %d dead-lettered", cycle, drainTimeout, len(missing), len(acked), tenant,
				missing[:min(5, len(missing))], pending, dead)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Nothing is being appended any more: the chain must verify as a whole.
	var rep audit.Report
	getJSON(t, admin+"/verify", &rep)
	require.True(t, rep.Valid, "cycle %d: audit chain broken: %+v", cycle, rep.First)
	seen = chainIDs(t, admin)
	assert.EqualValues(t, len(seen), rep.Entries, "one chain entry per distinct event ID")
	var twice, unknown []string
	led.mu.Lock()
	unackedKept := 0
	for id, n := range seen {
		if n > 1 {
			twice = append(twice, id)
		}
		if !led.sent[id] {
			unknown = append(unknown, id)
		}
		if _, ok := acked[id]; !ok {
			unackedKept++
		}
	}
	led.mu.Unlock()
	assert.Empty(t, twice, "event IDs appended more than once")
	assert.Empty(t, unknown, "chain entries for events no client sent")
	assert.Zero(t, countJSON(t, filepath.Join(data, "deliveries", "dead")), "audit deliveries dead-lettered")
	t.Logf("after restart: all %d acknowledged events are in the audit chain within %v (chain of %d entries valid, head %d; "+
		"%d events whose call failed at the kill were kept anyway)",
		len(acked), time.Since(start).Round(time.Millisecond), rep.Entries, rep.Head, unackedKept)
}

// chainIDs counts the chain's entries by record ID.
func chainIDs(t *testing.T, admin string) map[string]int {
	t.Helper()
	ids := map[string]int{}
	cursor := ""
	for range 10000 { // pages of 500: far more than this test writes
		var page struct {
			Entries []audit.Entry `json:"entries"`
			Cursor  string        `json:"cursor"`
		}
		getJSON(t, admin+"/entries?cursor="+url.QueryEscape(cursor), &page)
		for _, e := range page.Entries {
			ids[e.ID]++
		}
		if page.Cursor == "" {
			return ids
		}
		cursor = page.Cursor
	}
	t.Fatal("audit chain paging did not end")
	return nil
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, u)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
}

func countJSON(t *testing.T, dir string) int {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	require.NoError(t, err)
	n := 0
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".json") {
			n++
		}
	}
	return n
}

func tail(path string, n int64) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if int64(len(b)) > n {
		b = b[int64(len(b))-n:]
	}
	return string(b)
}
