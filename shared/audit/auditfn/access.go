package auditfn

import (
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/lantau-hq/lantau/shared/audit"
	"github.com/lantau-hq/lantau/shared/httpapi"
)

// RecordAccess writes every API call of an identified caller to the access
// log: who, which company, route, status, source IP, user agent and
// latency. It runs inside httpapi.RequireActor. A failure to record is
// logged, not shown to the caller.
func RecordAccess(log *audit.AccessLog, logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
			next.ServeHTTP(sw, r)
			actor, ok := httpapi.ActorFrom(r.Context())
			if !ok || actor.Tenant == "" {
				return
			}
			a := audit.Access{
				Tenant: actor.Tenant, User: actor.User, Method: r.Method, Path: r.URL.Path, Status: sw.status,
				UserAgent: r.UserAgent(), Time: start.UTC(), LatencyMs: float64(time.Since(start).Microseconds()) / 1000,
			}
			if gw, ok := core.GetAPIGatewayV2ContextFromContext(r.Context()); ok {
				a.RequestID, a.Route, a.SourceIP = gw.RequestID, gw.RouteKey, gw.HTTP.SourceIP
			}
			if a.SourceIP == "" {
				a.SourceIP, _, _ = net.SplitHostPort(r.RemoteAddr)
			}
			if a.RequestID == "" {
				a.RequestID = r.Header.Get("X-Request-Id")
			}
			if a.RequestID == "" {
				return // nothing to key it by; API Gateway always sets one
			}
			if err := log.Record(r.Context(), a); err != nil {
				logger.ErrorContext(r.Context(), "access not recorded", "error", err.Error(), "route", a.Route)
			}
		})
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusWriter) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
