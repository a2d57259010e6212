package problem

import (
	"encoding/json"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/logging"
)

// TypeBase prefixes a Code to form a problem's type URI.
const TypeBase = "https://lantau.dev/problems/"

// ContentType is the media type of problem responses.
const ContentType = "application/problem+json"

var internalDetail = i18n.Text{
	EN: "Something went wrong on our side. Please try again later; if it keeps happening, contact support and quote the instance ID.",
	ZH: "系統發生錯誤，請稍後再試；如問題持續，請聯絡支援並提供 instance 編號。",
}

// Body is the JSON document Write sends (RFC 9457), exported for clients
// and tests.
type Body struct {
	Type     string      `json:"type"`
	Title    string      `json:"title"`
	Status   int         `json:"status"`
	Detail   string      `json:"detail,omitempty"`
	Instance string      `json:"instance,omitempty"`
	Errors   []FieldBody `json:"errors,omitempty"`
}

// FieldBody is one entry of Body.Errors.
type FieldBody struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message,omitempty"`
}

// RequestID identifies the request for clients and logs: the API Gateway
// request ID when the request came through the Lambda adapter, else the
// X-Request-Id header, else "". It is a problem's instance.
func RequestID(r *http.Request) string {
	if rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context()); ok && rc.RequestID != "" {
		return rc.RequestID
	}
	return r.Header.Get("X-Request-Id")
}

// Write answers err as application/problem+json in the language negotiated
// from r. Server-side failures (5xx) show only a generic detail; their cause
// is logged at error level with the logger from the request context. Client
// errors are logged at debug level. A nil err writes nothing.
func Write(w http.ResponseWriter, r *http.Request, err error) {
	if err == nil {
		return
	}
	v := resolve(err)
	lang := i18n.FromRequest(r)
	status := v.kind.Status()

	b := Body{
		Type:     TypeBase + string(v.code),
		Title:    v.kind.Title().T(lang),
		Status:   status,
		Instance: RequestID(r),
	}
	if status >= 500 && (v.kind == Internal || v.detail.IsZero()) {
		b.Detail = internalDetail.T(lang)
	} else {
		b.Detail = v.detail.T(lang)
		for _, f := range v.fields {
			b.Errors = append(b.Errors, FieldBody{Field: f.Field, Code: f.Code, Message: f.Message.T(lang)})
		}
	}

	ctx := r.Context()
	log := logging.FromContext(ctx)
	attrs := []slog.Attr{
		slog.Int("status", status),
		slog.String("code", string(v.code)),
		slog.String("error", err.Error()),
	}
	if b.Instance != "" && b.Instance != logging.RequestID(ctx) {
		attrs = append(attrs, slog.String("instance", b.Instance)) // no Logging middleware
	}
	if status >= 500 {
		log.LogAttrs(ctx, slog.LevelError, "request failed", attrs...)
	} else {
		log.LogAttrs(ctx, slog.LevelDebug, "request refused", attrs...)
	}

	body, mErr := json.Marshal(b)
	if mErr != nil { // cannot happen with these field types; stay safe anyway
		body = []byte(`{"type":"` + TypeBase + `internal","title":"Internal server error","status":500}`)
		status = http.StatusInternalServerError
	}

	h := w.Header()
	h.Set("Content-Type", ContentType)
	h.Set("Content-Language", lang.String())
	h.Add("Vary", "Accept-Language")
	h.Set("Cache-Control", "no-store")
	h.Del("Content-Length")
	if v.kind == TooManyRequests || v.kind == Unavailable {
		h.Set("Retry-After", strconv.Itoa(retrySeconds(v.retryAfter)))
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// retrySeconds rounds d up to whole seconds, at least 1.
func retrySeconds(d time.Duration) int {
	s := int(math.Ceil(d.Seconds()))
	return max(s, 1)
}
