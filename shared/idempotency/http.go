package idempotency

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/lantau-hq/lantau/shared/httpapi"
	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/problem"
)

// Header is the request header clients send the key in.
const Header = "Idempotency-Key"

// ReplayedHeader marks an answer that was stored by an earlier call.
const ReplayedHeader = "Idempotent-Replayed"

// stored is a captured HTTP answer.
type stored struct {
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    []byte            `json:"body,omitempty"`
}

// replayedHeaders are the response headers kept with the answer.
var replayedHeaders = []string{"Content-Type", "Content-Language", "Location", "ETag"}

// errServer marks a 4xx or 5xx answer: the key is released so a retry runs again.
type errServer struct{ answer stored }

func (e *errServer) Error() string { return http.StatusText(e.answer.Status) }

// Middleware makes an HTTP handler idempotent per tenant and Idempotency-Key:
// a retry with the same key, method, path and body gets the first answer
// (with Idempotent-Replayed: true); the same key with another body gets 409.
// Only successful answers are kept: after a 4xx or 5xx the key is free again.
// The caller's Actor must be in the context (httpapi.RequireActor runs first).
// With required set, a request without a key gets 400.
func Middleware(g *Guard, operation string, required bool) func(http.Handler) http.Handler {
	const op = "idempotency.Middleware"
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			key := r.Header.Get(Header)
			if key == "" {
				if required {
					problem.Write(w, r, problem.E(op, problem.Invalid, problem.Code("idempotency-key-missing"),
						i18n.Text{EN: "Send an Idempotency-Key header so that a retry cannot record this twice.", ZH: "請提供 Idempotency-Key 標頭，以免重試時重複記錄。"}))
					return
				}
				next.ServeHTTP(w, r)
				return
			}
			actor, ok := httpapi.ActorFrom(r.Context())
			if !ok || actor.Tenant == "" {
				problem.Write(w, r, problem.E(op, problem.Unauthenticated, problem.Code("unauthenticated"), i18n.Text{EN: "Please sign in.", ZH: "請先登入。"}))
				return
			}
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, httpapi.DefaultMaxBytes))
			if err != nil {
				problem.Write(w, r, problem.E(op, problem.TooLarge, problem.Code("body-too-large"), err))
				return
			}
			hash := Hash([]byte(r.Method), []byte(r.URL.Path), []byte(actor.User), body)
			out, replayed, err := g.Run(r.Context(), actor.Tenant, operation, key, hash, func(ctx context.Context) ([]byte, error) {
				rec := &recorder{header: http.Header{}}
				req := r.Clone(ctx)
				req.Body = io.NopCloser(bytes.NewReader(body))
				next.ServeHTTP(rec, req)
				ans := rec.answer()
				if ans.Status >= 400 {
					// Not kept: a refused request changed nothing, so the
					// client may fix it and retry with the same key.
					return nil, &errServer{answer: ans}
				}
				return json.Marshal(ans)
			})
			var se *errServer
			switch {
			case errors.As(err, &se):
				write(w, se.answer, false)
			case err != nil:
				problem.Write(w, r, err)
			default:
				var ans stored
				if err := json.Unmarshal(out, &ans); err != nil {
					problem.Write(w, r, problem.E(op, problem.Internal, err))
					return
				}
				// The first caller's answer goes through the same path, so
				// every caller with this key gets identical bytes.
				write(w, ans, replayed)
			}
		})
	}
}

func write(w http.ResponseWriter, ans stored, replayed bool) {
	for k, v := range ans.Headers {
		w.Header().Set(k, v)
	}
	if replayed {
		w.Header().Set(ReplayedHeader, "true")
	}
	w.WriteHeader(ans.Status)
	_, _ = w.Write(ans.Body)
}

// recorder captures a handler's answer.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

func (r *recorder) answer() stored {
	a := stored{Status: r.status, Body: r.body.Bytes(), Headers: map[string]string{}}
	if a.Status == 0 {
		a.Status = http.StatusOK
	}
	for _, h := range replayedHeaders {
		if v := r.header.Get(h); v != "" {
			a.Headers[h] = v
		}
	}
	return a
}
