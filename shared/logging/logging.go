// Package logging builds the structured JSON loggers every Lantau function
// uses, carries a request-scoped logger in the context, and writes CloudWatch
// Embedded Metric Format lines.
package logging

import (
	"context"
	"io"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Attribute keys added to every record by the handler of New.
const (
	KeyFunction     = "function"
	KeyRequestID    = "request_id"
	KeyAWSRequestID = "aws_request_id"
	KeyTenant       = "tenant"
)

// New returns a JSON logger writing to w at level and above. Records carry
// function, and request_id, aws_request_id and tenant when the context of the
// call holds them (see NewHandler). Keys follow Lambda's JSON log format
// (timestamp, level, message).
func New(w io.Writer, function string, level slog.Leveler) *slog.Logger {
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: lambdacontext.ReplaceAttr})
	return slog.New(NewHandler(h)).With(KeyFunction, function)
}

// NewHandler wraps h so that each record logged with a context gains:
//   - request_id: the ID set by WithRequestID (the one clients see, e.g. the
//     API Gateway request ID), else the Lambda AwsRequestID;
//   - aws_request_id: the Lambda AwsRequestID when it differs from request_id;
//   - tenant: the tenant set by WithTenant.
//
// Wrapping a handler that NewHandler returned gives it back unchanged.
func NewHandler(h slog.Handler) slog.Handler {
	if c, ok := h.(*contextHandler); ok {
		return c
	}
	return &contextHandler{next: h}
}

type contextHandler struct{ next slog.Handler }

func (h *contextHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *contextHandler) Handle(ctx context.Context, r slog.Record) error {
	if ctx != nil {
		id, _ := ctx.Value(requestIDKey{}).(string)
		if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
			if id == "" {
				id = lc.AwsRequestID
			} else if id != lc.AwsRequestID {
				r.AddAttrs(slog.String(KeyAWSRequestID, lc.AwsRequestID))
			}
		}
		if id != "" {
			r.AddAttrs(slog.String(KeyRequestID, id))
		}
		if t := Tenant(ctx); t != "" {
			r.AddAttrs(slog.String(KeyTenant, t))
		}
	}
	return h.next.Handle(ctx, r)
}

func (h *contextHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &contextHandler{next: h.next.WithAttrs(as)}
}

func (h *contextHandler) WithGroup(name string) slog.Handler {
	return &contextHandler{next: h.next.WithGroup(name)}
}

type (
	loggerKey    struct{}
	requestIDKey struct{}
	tenantKey    struct{}
)

// WithContext returns a copy of ctx carrying l.
func WithContext(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, l)
}

// FromContext returns the logger carried by ctx, or slog.Default().
func FromContext(ctx context.Context) *slog.Logger {
	if ctx != nil {
		if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok && l != nil {
			return l
		}
	}
	return slog.Default()
}

// WithRequestID returns a copy of ctx whose log records carry request_id id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the ID set by WithRequestID, else the Lambda AwsRequestID,
// else "".
func RequestID(ctx context.Context) string {
	if id, _ := ctx.Value(requestIDKey{}).(string); id != "" {
		return id
	}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		return lc.AwsRequestID
	}
	return ""
}

// WithTenant returns a copy of ctx whose log records carry tenant.
func WithTenant(ctx context.Context, tenant string) context.Context {
	return context.WithValue(ctx, tenantKey{}, tenant)
}

// Tenant returns the tenant set by WithTenant, or "".
func Tenant(ctx context.Context) string {
	t, _ := ctx.Value(tenantKey{}).(string)
	return t
}
