package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/lantau-hq/lantau/shared/logging"
	"github.com/lantau-hq/lantau/shared/problem"
)

// Logging returns middleware that puts a request-scoped logger in the
// context (logging.FromContext), echoes the request ID in X-Request-Id, and
// logs one line per request: method, route, path, status, duration_ms,
// request_id and tenant. Place it outermost, before RequireActor.
func Logging(logger *slog.Logger) func(http.Handler) http.Handler {
	base := slog.New(logging.NewHandler(logger.Handler()))
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rec := &recorder{}
			ctx := context.WithValue(r.Context(), recorderKey{}, rec)
			if id := problem.RequestID(r); id != "" {
				ctx = logging.WithRequestID(ctx, id)
				w.Header().Set("X-Request-Id", id)
			}
			ctx = logging.WithContext(ctx, base)
			r2 := r.WithContext(ctx)
			sw := &statusWriter{ResponseWriter: w}

			next.ServeHTTP(sw, r2)

			status := sw.status
			if status == 0 {
				status = http.StatusOK // net/http's answer when a handler writes nothing
			}
			attrs := []slog.Attr{
				slog.String("method", r.Method),
				slog.String("route", route(r2, rec)),
				slog.String("path", r.URL.Path),
				slog.Int("status", status),
				slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
			}
			if rec.tenant != "" && logging.Tenant(ctx) == "" {
				attrs = append(attrs, slog.String(logging.KeyTenant, rec.tenant))
			}
			level := slog.LevelInfo
			if status >= 500 {
				level = slog.LevelError
			}
			base.LogAttrs(ctx, level, "request", attrs...)
		})
	}
}

// route is the API Gateway route key ("POST /items/{id}"), else the
// ServeMux pattern that served the request (seen by Handle), else "".
func route(r *http.Request, rec *recorder) string {
	if rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context()); ok && rc.RouteKey != "" && rc.RouteKey != "$default" {
		return rc.RouteKey
	}
	if r.Pattern != "" {
		return r.Pattern
	}
	return rec.route
}

// recorder carries what inner middleware learns back to Logging.
type recorder struct{ tenant, route string }

type recorderKey struct{}

func recorderFrom(ctx context.Context) *recorder {
	rec, _ := ctx.Value(recorderKey{}).(*recorder)
	return rec
}

// statusWriter records the status of the response.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 && code >= 200 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
