package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"

	"github.com/lantau-hq/lantau/shared/problem"
)

// JSON writes v as a JSON response with status. A 204 or 304 status writes
// no body. It encodes before writing anything, so an encoding failure is
// returned (to become a 500 through Handle) instead of a half-written body.
func JSON(w http.ResponseWriter, status int, v any) error {
	if status == http.StatusNoContent || status == http.StatusNotModified {
		w.WriteHeader(status)
		return nil
	}
	body, err := json.Marshal(v)
	if err != nil {
		return problem.E("httpapi.JSON", problem.Internal, err)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, err = w.Write(append(body, '\n'))
	return err
}

// Handle adapts a handler that returns an error: a non-nil error is written
// with problem.Write (wrapped with op for the logs), and a panic becomes a
// 500 with the panic value and stack logged. If the handler has already
// started its response, the error is only logged. A handler that writes
// nothing and returns nil answers 200 with no body, as net/http does.
func Handle(op string, fn func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tw := &trackingWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				fail(tw, r, problem.E(op, problem.Internal, fmt.Errorf("panic: %v\n%s", p, debug.Stack())))
			}
		}()
		if rec := recorderFrom(r.Context()); rec != nil && rec.route == "" {
			rec.route = r.Pattern
		}
		if err := fn(tw, r); err != nil {
			fail(tw, r, problem.Wrap(op, err))
			return
		}
		if !tw.wrote {
			// net/http would send 200 with no body; the Lambda adapter
			// would fail on an unset status. Be explicit.
			tw.WriteHeader(http.StatusOK)
		}
	})
}

func fail(tw *trackingWriter, r *http.Request, err error) {
	if tw.wrote {
		problem.Write(discard{}, r, errors.Join(err, errors.New("response already started; error not sent")))
		return
	}
	problem.Write(tw, r, err)
}

// trackingWriter notes whether the response has started.
type trackingWriter struct {
	http.ResponseWriter
	wrote bool
}

func (t *trackingWriter) WriteHeader(code int) {
	if code >= 200 || code == http.StatusSwitchingProtocols {
		t.wrote = true
	}
	t.ResponseWriter.WriteHeader(code)
}

func (t *trackingWriter) Write(b []byte) (int, error) {
	t.wrote = true
	return t.ResponseWriter.Write(b)
}

func (t *trackingWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }

// discard is a ResponseWriter that throws everything away; problem.Write
// into it just logs.
type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}
