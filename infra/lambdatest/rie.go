package lambdatest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lantau-hq/lantau/infra/toolbox"
)

// ErrNoRIE says the emulator is not installed.
var ErrNoRIE = errors.New("aws-lambda-rie is in neither .tools/bin nor PATH: run make tools")

const (
	invokePath    = "/2015-03-31/functions/function/invocations"
	maxResponse   = 16 << 20 // Lambda's own limit is 6 MB
	startTimeout  = 10 * time.Second
	stopGrace     = 3 * time.Second
	pollInterval  = time.Millisecond
	dialTimeout   = 100 * time.Millisecond
	invokeTimeout = 30 * time.Second
)

// RIEPath is the emulator installed by `make tools` (.tools/bin under the
// repository root), or else one on PATH.
func RIEPath() (string, error) {
	if bin, err := toolbox.Dir("bin"); err == nil {
		p := filepath.Join(bin, "aws-lambda-rie")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return p, nil
	}
	return "", ErrNoRIE
}

// Options says how to launch the emulator.
type Options struct {
	// Env is the function's environment. Nothing else from this process
	// leaks in (no credentials, no LOG_LEVEL) except PATH.
	Env map[string]string
	// Output receives the emulator's and the function's stdout and stderr;
	// nil discards them.
	Output io.Writer
}

// RIE is one running emulator serving one bootstrap. It starts the
// bootstrap lazily, on the first invocation, as Lambda does on a cold start.
type RIE struct {
	proc   *toolbox.Process // in a group of its own, which the bootstrap joins
	url    string
	client *http.Client
	stop   sync.Once
}

// Launch starts the emulator for bootstrap on free 127.0.0.1 ports and
// returns once it accepts connections (or ctx ends, or it exits).
func Launch(ctx context.Context, bootstrap string, opts Options) (*RIE, error) {
	path, err := RIEPath()
	if err != nil {
		return nil, err
	}
	addrs, err := freeAddrs(2)
	if err != nil {
		return nil, err
	}
	invokeAddr, runtimeAddr := addrs[0], addrs[1]
	cmd := exec.Command(path, "--log-level", "error",
		"--runtime-interface-emulator-address", invokeAddr,
		"--runtime-api-address", runtimeAddr, // not the default :9001, so emulators can run side by side
		bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	cmd.Env = environ(opts.Env)
	cmd.Stdout, cmd.Stderr = opts.Output, opts.Output
	proc, err := toolbox.Start(cmd)
	if err != nil {
		return nil, fmt.Errorf("start aws-lambda-rie: %w", err)
	}
	r := &RIE{
		proc:   proc,
		url:    "http://" + invokeAddr + invokePath,
		client: &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 4, IdleConnTimeout: 30 * time.Second}},
	}
	if err := r.waitReady(ctx, invokeAddr); err != nil {
		_ = r.Close()
		return nil, err
	}
	return r, nil
}

// StartRIE launches the emulator for bootstrap with env as the function's
// environment and stops it when the test ends. Without the emulator the test
// is skipped under -short and fails otherwise.
func StartRIE(t testing.TB, bootstrap string, env map[string]string) *RIE {
	t.Helper()
	if _, err := RIEPath(); err != nil {
		if testing.Short() {
			t.Skipf("skipping under -short: %v", err)
		}
		t.Fatal(err)
	}
	var out toolbox.Output
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	r, err := Launch(ctx, bootstrap, Options{Env: env, Output: &out})
	if err != nil {
		t.Fatalf("%v\naws-lambda-rie output:\n%s", err, out.String())
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("aws-lambda-rie output:\n%s", out.String())
		}
	})
	return r
}

// URL is the emulator's invocation endpoint.
func (r *RIE) URL() string { return r.url }

// Invoke sends payload as a synchronous invocation and returns the
// function's response. When the response is a Lambda error document
// ({"errorMessage":..., "errorType":...}, which the emulator returns with
// status 200) the error is a *FunctionError and the document is returned too.
func (r *RIE) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, invokeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url, bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("invoke: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, fmt.Errorf("invoke: read response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return body, fmt.Errorf("invoke: emulator answered %s: %s", resp.Status, body)
	}
	if fe := asFunctionError(body); fe != nil {
		return body, fe
	}
	return body, nil
}

// Close stops the emulator and the function it started. Its error says the
// emulator had already ended on its own before Close.
func (r *RIE) Close() error {
	var early error
	r.stop.Do(func() {
		select {
		case <-r.proc.Exited():
			early = fmt.Errorf("aws-lambda-rie exited early: %v", r.proc.Err())
		default:
		}
		r.client.CloseIdleConnections()
		// The emulator stops its runtime on SIGTERM; then whatever outlived
		// it, bootstrap included, is killed.
		r.proc.Stop(stopGrace)
	})
	return early
}

func (r *RIE) waitReady(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	for {
		if conn, err := net.DialTimeout("tcp", addr, dialTimeout); err == nil {
			return conn.Close()
		}
		select {
		case <-r.proc.Exited():
			return fmt.Errorf("aws-lambda-rie exited before serving: %v", r.proc.Err())
		case <-ctx.Done():
			return fmt.Errorf("aws-lambda-rie not serving on %s: %w", addr, ctx.Err())
		case <-time.After(pollInterval):
		}
	}
}

// FunctionError is a function's error response: its handler returned an
// error or panicked, or its init failed.
type FunctionError struct {
	Message string `json:"errorMessage"`
	Type    string `json:"errorType"`
}

func (e *FunctionError) Error() string { return "function error: " + e.Type + ": " + e.Message }

func asFunctionError(body []byte) *FunctionError {
	var doc struct {
		Message *string `json:"errorMessage"`
		Type    *string `json:"errorType"`
	}
	if json.Unmarshal(body, &doc) != nil || doc.Message == nil || doc.Type == nil {
		return nil
	}
	return &FunctionError{Message: *doc.Message, Type: *doc.Type}
}

// environ is the emulator's environment, which it passes on to the function.
func environ(env map[string]string) []string {
	out := []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	slices.Sort(out[1:])
	return out
}

// freeAddrs returns n distinct free 127.0.0.1 addresses. They are free when
// returned; another process could take one before the emulator binds it.
func freeAddrs(n int) ([]string, error) {
	addrs := make([]string, 0, n)
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		defer ln.Close()
		addrs = append(addrs, ln.Addr().String())
	}
	return addrs, nil
}
