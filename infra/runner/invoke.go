package runner

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/lantau-hq/lantau/infra/template"
)

// Function is one template function, built by its constructor with its own
// environment, ready to be invoked as Lambda would.
//
// Like Lambda, an instance of the handler serves one invocation at a time
// (aws-lambda-go's handlers reuse their output buffers, so they are not
// safe for concurrent calls): concurrent invocations get more instances,
// each built by the function's constructor, up to a limit.
type Function struct {
	Spec    *template.Function
	Name    string // the local function name (what AWS_LAMBDA_FUNCTION_NAME says)
	ARN     string
	Env     map[string]string
	retries int // asynchronous retries after the first attempt (EventInvokeConfig.MaximumRetryAttempts)
	log     *slog.Logger

	build func(ctx context.Context) (lambda.Handler, error)
	idle  chan lambda.Handler // instances waiting for work
	slots chan struct{}       // one token per instance that may still be built
}

// maxInstances bounds a function's concurrency (Lambda's reserved concurrency).
const maxInstances = 64

func newInstancePool(f *Function, first lambda.Handler, limit int) {
	f.idle = make(chan lambda.Handler, limit)
	f.slots = make(chan struct{}, limit)
	for range limit - 1 {
		f.slots <- struct{}{}
	}
	f.idle <- first
}

// acquire returns an idle instance, builds a new one if the limit allows,
// or waits for one to be released.
func (f *Function) acquire(ctx context.Context) (lambda.Handler, error) {
	select {
	case h := <-f.idle:
		return h, nil
	default:
	}
	select {
	case h := <-f.idle:
		return h, nil
	case <-f.slots:
		h, err := f.build(ctx)
		if err != nil {
			f.slots <- struct{}{}
			return nil, &FunctionError{Message: err.Error(), Type: "Runtime.InitError"}
		}
		return h, nil
	case <-ctx.Done():
		return nil, &FunctionError{Message: "no instance became free: " + ctx.Err().Error(), Type: "TooManyRequestsException"}
	}
}

// release gives an instance back; a crashed one is dropped, freeing its slot.
func (f *Function) release(h lambda.Handler, crashed bool) {
	if crashed {
		f.slots <- struct{}{}
		return
	}
	f.idle <- h
}

// FunctionError is what Lambda reports when a handler returns an error or panics.
type FunctionError struct {
	Message string `json:"errorMessage"`
	Type    string `json:"errorType"`
	Panic   bool   `json:"-"`
	Stack   string `json:"-"`
}

func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// Invoke runs the handler once with a Lambda context: request ID, ARN and
// a deadline from the function's Timeout, as aws-lambda-go's invoke loop
// sets them. A panic is recovered and reported as a function error; the
// runner keeps serving.
func (f *Function) Invoke(ctx context.Context, requestID string, payload []byte) (out []byte, err error) {
	if requestID == "" {
		requestID = newID()
	}
	ctx, cancel := context.WithTimeout(ctx, f.Spec.Timeout)
	defer cancel()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{
		AwsRequestID:       requestID,
		InvokedFunctionArn: f.ARN,
	})
	ctx = context.WithValue(ctx, "x-amzn-trace-id", traceID(time.Now(), requestID)) //nolint:staticcheck // the key aws-lambda-go uses
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			stack := string(debug.Stack())
			f.log.Error("handler panicked", "request_id", requestID, "panic", fmt.Sprint(p), "stack", stack)
			out, err = nil, &FunctionError{Message: fmt.Sprint(p), Type: "Runtime.ExitError", Panic: true, Stack: stack}
		}
		f.log.Debug("invoked", "request_id", requestID, "duration_ms", float64(time.Since(start).Microseconds())/1000, "error", err != nil)
	}()
	h, err := f.acquire(ctx)
	if err != nil {
		return nil, err
	}
	crashed := true
	defer func() { f.release(h, crashed) }()
	out, err = h.Invoke(ctx, payload)
	crashed = false
	out = bytes.Clone(out) // the instance may reuse its buffer once released
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return nil, &FunctionError{Message: fmt.Sprintf("Task timed out after %.2f seconds", f.Spec.Timeout.Seconds()), Type: "Sandbox.Timedout"}
		}
		var fe *FunctionError
		if e, ok := err.(*FunctionError); ok {
			fe = e
		} else {
			fe = &FunctionError{Message: err.Error(), Type: errorType(err)}
		}
		return nil, fe
	}
	return out, nil
}

func errorType(err error) string {
	// aws-lambda-go reports the Go type name of the error, without the pointer star.
	t := fmt.Sprintf("%T", err)
	if len(t) > 0 && t[0] == '*' {
		t = t[1:]
	}
	return t
}

// newID returns a random UUID (version 4), as Lambda and EventBridge use for IDs.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:16])
	return string(out[:])
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only for values built by the runner itself
	}
	return b
}

// traceID is an X-Ray style trace header for a request: its 24 hex digits
// come from the request ID (any length: callers choose their IDs).
func traceID(at time.Time, requestID string) string {
	sum := sha256.Sum256([]byte(requestID))
	return "Root=1-" + strconv.FormatInt(at.Unix(), 16) + "-" + hex.EncodeToString(sum[:12])
}
