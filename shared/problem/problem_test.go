package problem_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/logging"
	"github.com/lantau-hq/lantau/shared/problem"
)

// write runs problem.Write for err with Accept-Language lang and returns the
// response and what was logged.
func write(t *testing.T, err error, lang string) (*httptest.ResponseRecorder, string) {
	t.Helper()
	var logs bytes.Buffer
	r := httptest.NewRequest(http.MethodPost, "/things", nil)
	r.Header.Set("Accept-Language", lang)
	r.Header.Set("X-Request-Id", "req-1")
	r = r.WithContext(logging.WithContext(r.Context(), logging.New(&logs, "test", slog.LevelDebug)))
	w := httptest.NewRecorder()
	problem.Write(w, r, err)
	return w, logs.String()
}

func TestWrite_EachKindInBothLanguages(t *testing.T) {
	detail := i18n.Text{EN: "Detail for users.", ZH: "給用戶的說明。"}
	tests := []struct {
		kind   problem.Kind
		status int
		en, zh string
	}{
		{problem.Invalid, 400, "Bad request", "請求無效"},
		{problem.Unauthenticated, 401, "Authentication required", "需要登入"},
		{problem.Forbidden, 403, "Forbidden", "沒有權限"},
		{problem.NotFound, 404, "Not found", "找不到資料"},
		{problem.Conflict, 409, "Conflict", "資料衝突"},
		{problem.Gone, 410, "Gone", "資料已不存在"},
		{problem.PreconditionFailed, 412, "Precondition failed", "前置條件不符"},
		{problem.TooLarge, 413, "Content too large", "內容過大"},
		{problem.UnsupportedMedia, 415, "Unsupported media type", "不支援的內容類型"},
		{problem.Unprocessable, 422, "Unprocessable content", "無法處理的內容"},
		{problem.TooManyRequests, 429, "Too many requests", "請求過於頻繁"},
		{problem.Unavailable, 503, "Service unavailable", "服務暫時無法使用"},
		{problem.Timeout, 504, "Request timed out", "請求逾時"},
	}
	for _, tt := range tests {
		for _, lang := range []struct {
			header, contentLanguage, title, detail string
		}{
			{"en-GB,en;q=0.9", "en", tt.en, detail.EN},
			{"zh-HK,zh;q=0.9", "zh-HK", tt.zh, detail.ZH},
		} {
			t.Run(fmt.Sprintf("%s/%s", tt.kind, lang.contentLanguage), func(t *testing.T) {
				err := problem.E("things.Create", tt.kind, problem.Code("some-code"), detail, errors.New("secret cause"))
				w, _ := write(t, err, lang.header)

				assert.Equal(t, tt.status, w.Code)
				assert.Equal(t, tt.status, tt.kind.Status())
				assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
				assert.Equal(t, lang.contentLanguage, w.Header().Get("Content-Language"))
				assert.JSONEq(t, fmt.Sprintf(`{
					"type": "https://lantau.dev/problems/some-code",
					"title": %q, "status": %d, "detail": %q, "instance": "req-1"}`,
					lang.title, tt.status, lang.detail), w.Body.String())
				assert.NotContains(t, w.Body.String(), "secret")
			})
		}
	}
}

func TestWrite_FieldErrorsAreLocalized(t *testing.T) {
	err := problem.E("staff.Create", problem.Invalid, problem.Code("validation-failed"),
		i18n.Text{EN: "Some fields are not valid.", ZH: "部分欄位無效。"},
		problem.FieldError{Field: "name", Code: "required", Message: i18n.Text{EN: "is required", ZH: "必須填寫"}},
		[]problem.FieldError{{Field: "email", Code: "email", Message: i18n.Text{EN: "must be a valid e-mail address", ZH: "電郵地址格式無效"}}})
	w, _ := write(t, err, "zh-HK")
	assert.JSONEq(t, `{
		"type": "https://lantau.dev/problems/validation-failed",
		"title": "請求無效", "status": 400, "detail": "部分欄位無效。", "instance": "req-1",
		"errors": [
			{"field": "name", "code": "required", "message": "必須填寫"},
			{"field": "email", "code": "email", "message": "電郵地址格式無效"}]}`, w.Body.String())
}

func TestWrite_NeverLeaksInternalErrors(t *testing.T) {
	secret := errors.New("dynamodb: AccessDenied for arn:aws:iam::123456789012:role/secret")
	tests := []struct {
		name string
		err  error
	}{
		{"plain error", secret},
		{"wrapped plain error", fmt.Errorf("load: %w", secret)},
		{"Internal with detail", problem.E("op", problem.Internal, secret, problem.Code("db-down"),
			i18n.Text{EN: "secret detail", ZH: "secret detail"},
			problem.FieldError{Field: "secret", Code: "secret"})},
		{"Other kind", problem.E("op", problem.Other, secret)},
		{"string cause", problem.E("op", problem.Internal, "secret string")},
	}
	for _, tt := range tests {
		for _, lang := range []string{"en", "zh-HK"} {
			t.Run(tt.name+"/"+lang, func(t *testing.T) {
				w, logs := write(t, tt.err, lang)
				assert.Equal(t, 500, w.Code)
				assert.NotContains(t, w.Body.String(), "secret")
				assert.NotContains(t, w.Body.String(), "arn:aws")
				want := `{"type":"https://lantau.dev/problems/internal","title":"Internal server error","status":500,"instance":"req-1",
					"detail":"Something went wrong on our side. Please try again later; if it keeps happening, contact support and quote the instance ID."}`
				if lang == "zh-HK" {
					want = `{"type":"https://lantau.dev/problems/internal","title":"伺服器內部錯誤","status":500,"instance":"req-1",
						"detail":"系統發生錯誤，請稍後再試；如問題持續，請聯絡支援並提供 instance 編號。"}`
				}
				assert.JSONEq(t, want, w.Body.String())
				assert.Contains(t, logs, "secret", "the cause is logged")
				assert.Contains(t, logs, `"level":"ERROR"`)
				assert.Contains(t, logs, `"instance":"req-1"`)
			})
		}
	}
}

func TestWrite_ClientErrorsLogAtDebug(t *testing.T) {
	_, logs := write(t, problem.E("op", problem.NotFound, "no row"), "en")
	assert.Contains(t, logs, `"level":"DEBUG"`)
	assert.Contains(t, logs, "no row")
}

func TestWrite_WrappingKeepsKindCodeAndDetail(t *testing.T) {
	inner := problem.E("attendance.ClockIn", problem.Conflict, problem.Code("already-clocked-in"),
		i18n.Text{EN: "You have already clocked in.", ZH: "你已打卡。"})
	tests := []struct {
		name string
		err  error
	}{
		{"Wrap", problem.Wrap("handler.ClockIn", inner)},
		{"E with Other", problem.E("handler.ClockIn", problem.Other, inner)},
		{"fmt %w", fmt.Errorf("clock in: %w", inner)},
		{"errors.Join", errors.Join(errors.New("x"), inner)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, problem.Conflict, problem.KindOf(tt.err))
			assert.Equal(t, problem.Code("already-clocked-in"), problem.CodeOf(tt.err))
			w, _ := write(t, tt.err, "zh-HK")
			assert.JSONEq(t, `{"type":"https://lantau.dev/problems/already-clocked-in","title":"資料衝突",
				"status":409,"detail":"你已打卡。","instance":"req-1"}`, w.Body.String())
		})
	}
}

func TestKindOf(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want problem.Kind
	}{
		{"nil", nil, problem.Other},
		{"plain", errors.New("x"), problem.Internal},
		{"kind", problem.E("op", problem.Gone), problem.Gone},
		{"outer kind wins", problem.E("op", problem.Forbidden, problem.E("op2", problem.NotFound)), problem.Forbidden},
		{"deadline", context.DeadlineExceeded, problem.Timeout},
		{"wrapped deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), problem.Timeout},
		{"internal deadline", problem.E("dynamo.Get", problem.Internal, context.DeadlineExceeded), problem.Timeout},
		{"canceled", context.Canceled, problem.Unavailable},
		{"explicit kind beats deadline", problem.E("op", problem.Conflict, context.DeadlineExceeded), problem.Conflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, problem.KindOf(tt.err))
		})
	}
}

func TestWrite_ContextErrors(t *testing.T) {
	w, _ := write(t, fmt.Errorf("scan: %w", context.DeadlineExceeded), "en")
	assert.Equal(t, 504, w.Code)
	assert.NotContains(t, w.Body.String(), "scan")
	w, _ = write(t, context.Canceled, "en")
	assert.Equal(t, 503, w.Code)
	assert.Equal(t, "1", w.Header().Get("Retry-After"))
}

func TestWrite_RetryAfter(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"429 with duration", problem.E("op", problem.TooManyRequests, 1500*time.Millisecond), "2"},
		{"429 without duration", problem.E("op", problem.TooManyRequests), "1"},
		{"503 with duration", problem.E("op", problem.Unavailable, 30*time.Second), "30"},
		{"409 never", problem.E("op", problem.Conflict, 30*time.Second), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, _ := write(t, tt.err, "en")
			assert.Equal(t, tt.want, w.Header().Get("Retry-After"))
		})
	}
}

func TestWrite_InstanceFromAPIGateway(t *testing.T) {
	ev := events.APIGatewayV2HTTPRequest{
		RawPath:        "/things",
		Headers:        map[string]string{"x-request-id": "from-header", "accept-language": "en"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "gw-42", HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: "/things"}},
	}
	var acc core.RequestAccessorV2
	r, err := acc.EventToRequestWithContext(context.Background(), ev)
	require.NoError(t, err)
	assert.Equal(t, "gw-42", problem.RequestID(r))

	w := httptest.NewRecorder()
	problem.Write(w, r, problem.E("op", problem.NotFound))
	assert.JSONEq(t, `{"type":"https://lantau.dev/problems/not-found","title":"Not found","status":404,"instance":"gw-42"}`, w.Body.String())

	assert.Equal(t, "", problem.RequestID(httptest.NewRequest("GET", "/", nil)))
}

func TestWrite_NilWritesNothing(t *testing.T) {
	w := httptest.NewRecorder()
	problem.Write(w, httptest.NewRequest("GET", "/", nil), nil)
	assert.Equal(t, 0, w.Body.Len())
	assert.Empty(t, w.Header())
}

func TestError_String(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{problem.E("httpapi.Decode", problem.Invalid, problem.Code("invalid-json"), errors.New("unexpected EOF")),
			"httpapi.Decode: bad-request: invalid-json: unexpected EOF"},
		{problem.Wrap("h.Create", problem.E("store.Put", problem.Conflict, "version 3")),
			"h.Create: store.Put: conflict: version 3"},
		{problem.E("op", problem.NotFound, i18n.Text{EN: "No such staff."}), "op: not-found: No such staff."},
		{problem.E("op", problem.Invalid, 42), "op: bad-request: problem.E: unexpected arguments int=42"},
		{&problem.Error{}, "problem: no details"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.err.Error())
	}
	assert.Nil(t, problem.Wrap("op", nil))
	cause := errors.New("c")
	assert.ErrorIs(t, problem.E("op", problem.Internal, cause), cause)
}
