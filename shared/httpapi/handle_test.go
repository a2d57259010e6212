package httpapi_test

import (
	"bytes"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/lantau-hq/lantau/shared/httpapi"
	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/logging"
	"github.com/lantau-hq/lantau/shared/problem"
)

func run(fn func(w http.ResponseWriter, r *http.Request) error) (*httptest.ResponseRecorder, string) {
	var logs bytes.Buffer
	h := httpapi.Logging(logging.New(&logs, "test", slog.LevelDebug))(httpapi.Handle("things.Do", fn))
	r := httptest.NewRequest("POST", "/things", nil)
	r.Header.Set("X-Request-Id", "req-7")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w, logs.String()
}

func TestHandle(t *testing.T) {
	tests := []struct {
		name     string
		fn       func(w http.ResponseWriter, r *http.Request) error
		status   int
		body     string
		logsHave []string
	}{
		{"success", func(w http.ResponseWriter, r *http.Request) error {
			return httpapi.JSON(w, http.StatusCreated, map[string]string{"名稱": "<港>"})
		}, 201, `{"名稱":"<港>"}`, nil},
		{"no content", func(w http.ResponseWriter, r *http.Request) error {
			return httpapi.JSON(w, http.StatusNoContent, nil)
		}, 204, ``, nil},
		{"writes nothing", func(w http.ResponseWriter, r *http.Request) error { return nil }, 200, ``, nil},
		{"problem error", func(w http.ResponseWriter, r *http.Request) error {
			return problem.E("things.Find", problem.NotFound, i18n.Text{EN: "No such thing."})
		}, 404, `{"type":"https://lantau.dev/problems/not-found","title":"Not found","status":404,"detail":"No such thing.","instance":"req-7"}`,
			[]string{`"error":"things.Do: things.Find: not-found: No such thing."`}},
		{"internal error", func(w http.ResponseWriter, r *http.Request) error {
			return errors.New("db password wrong")
		}, 500, "", []string{`"level":"ERROR"`, "db password wrong"}},
		{"unencodable value", func(w http.ResponseWriter, r *http.Request) error {
			return httpapi.JSON(w, 200, math.Inf(1))
		}, 500, "", []string{"unsupported value"}},
		{"panic", func(w http.ResponseWriter, r *http.Request) error {
			panic("boom")
		}, 500, "", []string{"panic: boom", "goroutine"}},
		{"error after response started", func(w http.ResponseWriter, r *http.Request) error {
			w.WriteHeader(http.StatusAccepted)
			return errors.New("late failure")
		}, 202, ``, []string{"late failure", "response already started"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, logs := run(tt.fn)
			assert.Equal(t, tt.status, w.Code)
			switch {
			case tt.status == 500:
				assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
				assert.Contains(t, w.Body.String(), `"https://lantau.dev/problems/internal"`)
				assert.NotContains(t, w.Body.String(), "boom")
				assert.NotContains(t, w.Body.String(), "password")
			case tt.body == "":
				assert.Empty(t, w.Body.String())
			default:
				assert.JSONEq(t, tt.body, w.Body.String())
			}
			for _, s := range tt.logsHave {
				assert.Contains(t, logs, s)
			}
			assert.Contains(t, logs, `"message":"request"`)
			assert.Contains(t, logs, `"request_id":"req-7"`)
		})
	}
}

func TestValidator(t *testing.T) {
	var v httpapi.Validator
	assert.NoError(t, v.Err())
	assert.True(t, v.Required("a", "x"))
	assert.False(t, v.Required("b", " \t"))
	assert.True(t, v.MaxLen("c", "香港", 2))
	assert.False(t, v.MinLen("d", "港", 2))
	assert.True(t, v.Email("e", ""))
	assert.True(t, v.Email("e", "chan.tai.man@example.com.hk"))
	assert.False(t, v.Email("f", "not-an-email"))
	assert.False(t, v.Email("f", "a@localhost"))
	assert.True(t, v.OneOf("g", "", "x"))
	assert.False(t, v.OneOf("h", "z", "x", "y"))
	assert.False(t, v.Valid())

	err := v.Err()
	assert.Equal(t, problem.Invalid, problem.KindOf(err))
	assert.Equal(t, problem.Code("validation-failed"), problem.CodeOf(err))
	fields := v.Fields()
	codes := make([]string, 0, len(fields))
	for _, f := range fields {
		codes = append(codes, f.Field+":"+f.Code)
	}
	assert.Equal(t, []string{"b:required", "d:too-short", "f:email", "f:email", "h:one-of"}, codes)
	assert.Equal(t, "必須為以下其中之一：x, y", fields[4].Message.T(i18n.ZHHK))
}
