// Package httpapi holds what every Lantau HTTP handler uses at the edge:
// strict JSON decoding, field validation, JSON responses, the error-returning
// handler adapter, the caller's Actor and request logging.
package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"

	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/problem"
)

// DefaultMaxBytes is the body limit of Decode: 1 MiB.
const DefaultMaxBytes = 1 << 20

// validatable is implemented by request types that check themselves after
// decoding. They should return a *problem.Error (Validator.Err builds one);
// any other error becomes a generic "validation-failed" problem.
type validatable interface{ Validate() error }

// Decoder decodes JSON request bodies. The zero value limits bodies to
// DefaultMaxBytes.
type Decoder struct {
	MaxBytes int64 // body limit; <= 0 means DefaultMaxBytes
}

// Decode decodes r's body into dst with a zero Decoder.
func Decode(w http.ResponseWriter, r *http.Request, dst any) error {
	return Decoder{}.Decode(w, r, dst)
}

// Decode reads exactly one JSON value from r's body into dst (a pointer) and
// then calls dst.Validate() if dst has that method. It requires a JSON
// Content-Type (415), a body within the limit (413), and refuses malformed
// JSON, unknown fields, values of the wrong type, trailing data and empty
// bodies (400). Every error it returns is a *problem.Error.
func (d Decoder) Decode(w http.ResponseWriter, r *http.Request, dst any) error {
	const op = "httpapi.Decode"
	if err := checkContentType(r.Header.Get("Content-Type")); err != nil {
		return problem.E(op, problem.UnsupportedMedia, problem.Code("unsupported-media-type"), err,
			i18n.Text{EN: "body: Content-Type must be application/json", ZH: "body：Content-Type 必須為 application/json"})
	}
	limit := d.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxBytes
	}
	if r.ContentLength > limit {
		return tooLarge(op, limit, nil)
	}
	if r.Body == nil {
		return emptyBody(op)
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(op, limit, err)
	}
	// Exactly one value: only whitespace may follow.
	var extra json.RawMessage
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err == nil:
		return trailing(op, dec.InputOffset()-int64(len(extra)), nil)
	default:
		var (
			mbe *http.MaxBytesError
			syn *json.SyntaxError
		)
		if errors.As(err, &mbe) {
			return tooLarge(op, limit, err)
		}
		offset := dec.InputOffset()
		if errors.As(err, &syn) {
			offset = badByte(syn)
		}
		return trailing(op, offset, err)
	}
	if v, ok := dst.(validatable); ok {
		if err := v.Validate(); err != nil {
			var pe *problem.Error
			if errors.As(err, &pe) {
				return err
			}
			return problem.E(op, problem.Invalid, problem.Code("validation-failed"), err,
				i18n.Text{EN: "The request is not valid.", ZH: "請求內容無效。"})
		}
	}
	return nil
}

func checkContentType(ct string) error {
	if ct == "" {
		return errors.New("no Content-Type")
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return err
	}
	if mt != "application/json" {
		return fmt.Errorf("Content-Type %q", mt)
	}
	for k, v := range params {
		if k != "charset" || !strings.EqualFold(v, "utf-8") {
			return fmt.Errorf("Content-Type parameter %s=%s", k, v)
		}
	}
	return nil
}

func decodeError(op string, limit int64, err error) error {
	var (
		syn  *json.SyntaxError
		typ  *json.UnmarshalTypeError
		mbe  *http.MaxBytesError
		inv  *json.InvalidUnmarshalError
		perr *problem.Error
	)
	switch {
	case errors.As(err, &mbe):
		return tooLarge(op, limit, err)
	case errors.Is(err, io.EOF):
		return emptyBody(op)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return problem.E(op, problem.Invalid, problem.Code("invalid-json"), err,
			i18n.Text{EN: "body: invalid JSON: unexpected end of input", ZH: "body：JSON 格式無效：內容意外結束"})
	case errors.As(err, &syn):
		return problem.E(op, problem.Invalid, problem.Code("invalid-json"), err,
			i18n.Text{EN: "body: invalid JSON at offset %d", ZH: "body：JSON 格式無效（位置 %d）"}.Format(badByte(syn)))
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		want := jsonType(typ.Type)
		msg := i18n.Text{EN: "expected " + want.EN, ZH: "應為" + want.ZH}
		detail := i18n.Text{EN: fmt.Sprintf("field %q: %s", field, msg.EN), ZH: fmt.Sprintf("欄位 %q：%s", field, msg.ZH)}
		return problem.E(op, problem.Invalid, problem.Code("invalid-type"), err, detail,
			problem.FieldError{Field: field, Code: "type", Message: msg})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return problem.E(op, problem.Invalid, problem.Code("unknown-field"), err,
			i18n.Text{EN: "field %q: unknown field", ZH: "欄位 %q：不明欄位"}.Format(field),
			problem.FieldError{Field: field, Code: "unknown", Message: i18n.Text{EN: "unknown field", ZH: "不明欄位"}})
	case errors.As(err, &inv):
		return problem.E(op, problem.Internal, err) // programming error: dst not a pointer
	case errors.As(err, &perr):
		return err // from a custom UnmarshalJSON that knows what to say
	default: // from a custom UnmarshalJSON (time.Time, ...): its text may not be safe or localized
		return problem.E(op, problem.Invalid, problem.Code("invalid-value"), err,
			i18n.Text{EN: "body: a value has an invalid format", ZH: "body：有數值格式無效"})
	}
}

// badByte is the 0-based offset of the byte a syntax error is about
// (json.SyntaxError.Offset counts the bytes read, that one included).
func badByte(e *json.SyntaxError) int64 { return max(e.Offset-1, 0) }

func tooLarge(op string, limit int64, err error) error {
	return problem.E(op, problem.TooLarge, problem.Code("body-too-large"), err,
		i18n.Text{EN: "body: larger than %d bytes", ZH: "body：超過 %d 位元組"}.Format(limit))
}

func emptyBody(op string) error {
	return problem.E(op, problem.Invalid, problem.Code("empty-body"), "empty body",
		i18n.Text{EN: "body: a JSON value is required", ZH: "body：必須提供 JSON 內容"})
}

func trailing(op string, offset int64, err error) error {
	return problem.E(op, problem.Invalid, problem.Code("trailing-data"), err,
		i18n.Text{EN: "body: unexpected data after the JSON value at offset %d", ZH: "body：JSON 內容後有多餘資料（位置 %d）"}.Format(offset))
}

// jsonType names the JSON type that decodes into t.
func jsonType(t reflect.Type) i18n.Text {
	if t == nil {
		return i18n.Text{EN: "a different type", ZH: "其他類型"}
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool:
		return i18n.Text{EN: "boolean", ZH: "布林值"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return i18n.Text{EN: "integer", ZH: "整數"}
	case reflect.Float32, reflect.Float64:
		return i18n.Text{EN: "number", ZH: "數字"}
	case reflect.String:
		return i18n.Text{EN: "string", ZH: "字串"}
	case reflect.Slice, reflect.Array:
		return i18n.Text{EN: "array", ZH: "陣列"}
	case reflect.Map, reflect.Struct:
		return i18n.Text{EN: "object", ZH: "物件"}
	}
	return i18n.Text{EN: "a different type", ZH: "其他類型"}
}
