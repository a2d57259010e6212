package runner

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/lantau-hq/lantau/infra/template"
)

// Function is one template function, built by its constructor with its own
// environment, ready to be invoked as Lambda would.
type Function struct {
	Spec    *template.Function
	Name    string // the local function name (what AWS_LAMBDA_FUNCTION_NAME says)
	ARN     string
	Env     map[string]string
	handler lambda.Handler
	retries int // asynchronous retries after the first attempt (EventInvokeConfig.MaximumRetryAttempts)
	log     *slog.Logger
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
	ctx = context.WithValue(ctx, "x-amzn-trace-id", "Root=1-"+fmt.Sprintf("%08x", time.Now().Unix())+"-"+requestID[:24]) //nolint:staticcheck // the key aws-lambda-go uses
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			stack := string(debug.Stack())
			f.log.Error("handler panicked", "request_id", requestID, "panic", fmt.Sprint(p), "stack", stack)
			out, err = nil, &FunctionError{Message: fmt.Sprint(p), Type: "Runtime.ExitError", Panic: true, Stack: stack}
		}
		f.log.Debug("invoked", "request_id", requestID, "duration_ms", float64(time.Since(start).Microseconds())/1000, "error", err != nil)
	}()
	out, err = f.handler.Invoke(ctx, payload)
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
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only for values built by the runner itself
	}
	return b
}
