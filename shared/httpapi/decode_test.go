package httpapi_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/httpapi"
	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/problem"
)

type address struct {
	District string `json:"district"`
}

type createStaff struct {
	Name    string   `json:"name"`
	Email   string   `json:"email"`
	Amount  float64  `json:"amount"`
	Days    int      `json:"days"`
	Tags    []string `json:"tags"`
	Address address  `json:"address"`
}

func (c createStaff) Validate() error {
	var v httpapi.Validator
	v.Required("name", c.Name)
	v.MaxLen("name", c.Name, 5)
	v.Email("email", c.Email)
	v.Check(c.Amount >= 0, "amount", "min", i18n.Text{EN: "must not be negative", ZH: "不可為負數"})
	return v.Err()
}

// serve decodes the request body into createStaff through Handle, so failures
// come back as problem+json, and echoes the decoded value on success.
func serve(t *testing.T, contentType, lang, body string) *httptest.ResponseRecorder {
	t.Helper()
	h := httpapi.Handle("staff.Create", func(w http.ResponseWriter, r *http.Request) error {
		var in createStaff
		if err := httpapi.Decode(w, r, &in); err != nil {
			return err
		}
		return httpapi.JSON(w, http.StatusCreated, in)
	})
	r := httptest.NewRequest(http.MethodPost, "/staff", strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	r.Header.Set("Accept-Language", lang)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestDecode(t *testing.T) {
	const ct = "application/json"
	tests := []struct {
		name        string
		contentType string
		lang        string
		body        string
		status      int
		want        string // JSON body (problem or echoed value)
	}{
		{"valid", ct, "en", `{"name":"Ann","email":"ann@example.hk","amount":1.5,"days":2,"tags":["a"],"address":{"district":"Sha Tin"}}`, 201,
			`{"name":"Ann","email":"ann@example.hk","amount":1.5,"days":2,"tags":["a"],"address":{"district":"Sha Tin"}}`},
		{"charset parameter allowed", "application/json; charset=UTF-8", "en", `{"name":"Ann"}`, 201,
			`{"name":"Ann","email":"","amount":0,"days":0,"tags":null,"address":{"district":""}}`},
		{"trailing whitespace allowed", ct, "en", "{\"name\":\"Ann\"}\n\t ", 201,
			`{"name":"Ann","email":"","amount":0,"days":0,"tags":null,"address":{"district":""}}`},
		{"missing content type", "", "en", `{"name":"Ann"}`, 415,
			`{"type":"https://lantau.dev/problems/unsupported-media-type","title":"Unsupported media type","status":415,"detail":"body: Content-Type must be application/json"}`},
		{"wrong content type", "text/plain", "zh-HK", `{"name":"Ann"}`, 415,
			`{"type":"https://lantau.dev/problems/unsupported-media-type","title":"不支援的內容類型","status":415,"detail":"body：Content-Type 必須為 application/json"}`},
		{"other charset", "application/json; charset=big5", "en", `{"name":"Ann"}`, 415,
			`{"type":"https://lantau.dev/problems/unsupported-media-type","title":"Unsupported media type","status":415,"detail":"body: Content-Type must be application/json"}`},
		{"too big", ct, "en", `{"name":"` + strings.Repeat("a", httpapi.DefaultMaxBytes) + `"}`, 413,
			`{"type":"https://lantau.dev/problems/body-too-large","title":"Content too large","status":413,"detail":"body: larger than 1048576 bytes"}`},
		{"syntax error with offset", ct, "en", `{"name":"Ann", "amount": x}`, 400,
			`{"type":"https://lantau.dev/problems/invalid-json","title":"Bad request","status":400,"detail":"body: invalid JSON at offset 25"}`},
		{"syntax error in zh-HK", ct, "zh-HK", `{"name" "Ann"}`, 400,
			`{"type":"https://lantau.dev/problems/invalid-json","title":"請求無效","status":400,"detail":"body：JSON 格式無效（位置 8）"}`},
		{"truncated", ct, "en", `{"name":"Ann"`, 400,
			`{"type":"https://lantau.dev/problems/invalid-json","title":"Bad request","status":400,"detail":"body: invalid JSON: unexpected end of input"}`},
		{"unknown field", ct, "en", `{"name":"Ann","salary":1}`, 400,
			`{"type":"https://lantau.dev/problems/unknown-field","title":"Bad request","status":400,"detail":"field \"salary\": unknown field",
			  "errors":[{"field":"salary","code":"unknown","message":"unknown field"}]}`},
		{"type error names the field", ct, "en", `{"name":"Ann","amount":"12"}`, 400,
			`{"type":"https://lantau.dev/problems/invalid-type","title":"Bad request","status":400,"detail":"field \"amount\": expected number",
			  "errors":[{"field":"amount","code":"type","message":"expected number"}]}`},
		{"nested type error in zh-HK", ct, "zh-HK", `{"name":"Ann","address":{"district":7}}`, 400,
			`{"type":"https://lantau.dev/problems/invalid-type","title":"請求無效","status":400,"detail":"欄位 \"address.district\"：應為字串",
			  "errors":[{"field":"address.district","code":"type","message":"應為字串"}]}`},
		{"fraction for integer", ct, "en", `{"name":"Ann","days":1.5}`, 400,
			`{"type":"https://lantau.dev/problems/invalid-type","title":"Bad request","status":400,"detail":"field \"days\": expected integer",
			  "errors":[{"field":"days","code":"type","message":"expected integer"}]}`},
		{"whole body of wrong type", ct, "en", `[1,2]`, 400,
			`{"type":"https://lantau.dev/problems/invalid-type","title":"Bad request","status":400,"detail":"field \"body\": expected object",
			  "errors":[{"field":"body","code":"type","message":"expected object"}]}`},
		{"trailing value", ct, "en", `{"name":"Ann"} {"name":"Bob"}`, 400,
			`{"type":"https://lantau.dev/problems/trailing-data","title":"Bad request","status":400,"detail":"body: unexpected data after the JSON value at offset 15"}`},
		{"trailing garbage", ct, "en", `{"name":"Ann"}}`, 400,
			`{"type":"https://lantau.dev/problems/trailing-data","title":"Bad request","status":400,"detail":"body: unexpected data after the JSON value at offset 14"}`},
		{"empty body", ct, "en", ``, 400,
			`{"type":"https://lantau.dev/problems/empty-body","title":"Bad request","status":400,"detail":"body: a JSON value is required"}`},
		{"whitespace body", ct, "en", "  \n", 400,
			`{"type":"https://lantau.dev/problems/empty-body","title":"Bad request","status":400,"detail":"body: a JSON value is required"}`},
		{"Validate fails, zh-HK field errors", ct, "zh-HK", `{"name":"  ","email":"Ann <ann@example.hk>","amount":-1}`, 400,
			`{"type":"https://lantau.dev/problems/validation-failed","title":"請求無效","status":400,"detail":"部分欄位無效。",
			  "errors":[
			    {"field":"name","code":"required","message":"必須填寫"},
			    {"field":"email","code":"email","message":"電郵地址格式無效"},
			    {"field":"amount","code":"min","message":"不可為負數"}]}`},
		{"Validate fails, English, counts characters", ct, "en", `{"name":"香港島東區x"}`, 400,
			`{"type":"https://lantau.dev/problems/validation-failed","title":"Bad request","status":400,"detail":"Some fields are not valid.",
			  "errors":[{"field":"name","code":"too-long","message":"must be at most 5 characters"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := serve(t, tt.contentType, tt.lang, tt.body)
			assert.Equal(t, tt.status, w.Code)
			if tt.status >= 400 {
				assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
			}
			assert.JSONEq(t, tt.want, w.Body.String())
		})
	}
}

func TestDecode_ReturnsProblemErrors(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"name":1}`))
	r.Header.Set("Content-Type", "application/json")
	var in createStaff
	err := httpapi.Decode(httptest.NewRecorder(), r, &in)
	var pe *problem.Error
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, problem.Invalid, problem.KindOf(err))
	assert.Equal(t, problem.Code("invalid-type"), problem.CodeOf(err))
	var ute *json.UnmarshalTypeError
	assert.ErrorAs(t, err, &ute, "cause kept for logs")
}

func TestDecoder_CustomLimitAndContentLength(t *testing.T) {
	d := httpapi.Decoder{MaxBytes: 10}
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"name":"Annabelle"}`))
	r.Header.Set("Content-Type", "application/json")
	var in createStaff
	err := d.Decode(httptest.NewRecorder(), r, &in)
	assert.Equal(t, problem.TooLarge, problem.KindOf(err))

	// A body longer than its declared Content-Length is still cut at the limit.
	r = httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"name":"Annabelle"}`))
	r.Header.Set("Content-Type", "application/json")
	r.ContentLength = -1
	err = d.Decode(httptest.NewRecorder(), r, &in)
	assert.Equal(t, problem.TooLarge, problem.KindOf(err))
}

type plainValidate struct{ N int }

func (plainValidate) Validate() error { return errors.New("internal reason") }

func TestDecode_PlainValidateErrorIsGeneric(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"N":1}`))
	r.Header.Set("Content-Type", "application/json")
	var in plainValidate
	err := httpapi.Decode(httptest.NewRecorder(), r, &in)
	assert.Equal(t, problem.Code("validation-failed"), problem.CodeOf(err))
	w := httptest.NewRecorder()
	problem.Write(w, r, err)
	assert.NotContains(t, w.Body.String(), "internal reason")
}

func TestDecode_NonPointerIsInternal(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{}`))
	r.Header.Set("Content-Type", "application/json")
	err := httpapi.Decode(httptest.NewRecorder(), r, createStaff{})
	assert.Equal(t, problem.Internal, problem.KindOf(err))
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{``, `{}`, `{"name":"Ann"}`, `{"name":1}`, `{"x":1}`, `{"name":"Ann"} x`, `[`, `null`,
		`{"tags":["a",1]}`, `{"address":{"district":null}}`, `"\ud800"`, `{"amount":1e999}`, `{"name":"香港"}`} {
		f.Add(s, "application/json")
	}
	f.Add(`{}`, "text/plain")
	f.Add(`{}`, "application/json; charset=utf-8; x=y")
	f.Fuzz(func(t *testing.T, body, contentType string) {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		var in createStaff
		err := httpapi.Decoder{MaxBytes: 4096}.Decode(httptest.NewRecorder(), r, &in)
		if err == nil {
			return
		}
		var pe *problem.Error
		require.ErrorAs(t, err, &pe)
		status := problem.KindOf(err).Status()
		require.True(t, status >= 400 && status < 500, "status %d for %v", status, err)
	})
}
