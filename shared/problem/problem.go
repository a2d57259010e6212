// Package problem is Lantau's one error type. An *Error has an operation, a
// Kind that decides the HTTP status, a stable Code, a detail that is safe to
// show users (in English and zh-HK), optional field errors, and an internal
// cause that is logged but never shown. Write maps any error to an RFC 9457
// application/problem+json response; it is the only place that does so.
package problem

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lantau-hq/lantau/shared/i18n"
)

// Kind classifies an error; each Kind has one HTTP status.
type Kind uint8

// Kinds. Other (the zero value) means "not set here": the kind is taken from
// the wrapped error, and an error with no kind anywhere is Internal.
const (
	Other              Kind = iota
	Invalid                 // 400
	Unauthenticated         // 401
	Forbidden               // 403
	NotFound                // 404
	Conflict                // 409
	Gone                    // 410
	PreconditionFailed      // 412
	TooLarge                // 413
	UnsupportedMedia        // 415
	Unprocessable           // 422
	TooManyRequests         // 429
	Internal                // 500
	Unavailable             // 503
	Timeout                 // 504
)

type kindInfo struct {
	status int
	code   string
	title  i18n.Text
}

var kinds = [...]kindInfo{
	Other:              {500, "internal", i18n.Text{EN: "Internal server error", ZH: "伺服器內部錯誤"}},
	Invalid:            {400, "bad-request", i18n.Text{EN: "Bad request", ZH: "請求無效"}},
	Unauthenticated:    {401, "unauthenticated", i18n.Text{EN: "Authentication required", ZH: "需要登入"}},
	Forbidden:          {403, "forbidden", i18n.Text{EN: "Forbidden", ZH: "沒有權限"}},
	NotFound:           {404, "not-found", i18n.Text{EN: "Not found", ZH: "找不到資料"}},
	Conflict:           {409, "conflict", i18n.Text{EN: "Conflict", ZH: "資料衝突"}},
	Gone:               {410, "gone", i18n.Text{EN: "Gone", ZH: "資料已不存在"}},
	PreconditionFailed: {412, "precondition-failed", i18n.Text{EN: "Precondition failed", ZH: "前置條件不符"}},
	TooLarge:           {413, "too-large", i18n.Text{EN: "Content too large", ZH: "內容過大"}},
	UnsupportedMedia:   {415, "unsupported-media-type", i18n.Text{EN: "Unsupported media type", ZH: "不支援的內容類型"}},
	Unprocessable:      {422, "unprocessable", i18n.Text{EN: "Unprocessable content", ZH: "無法處理的內容"}},
	TooManyRequests:    {429, "too-many-requests", i18n.Text{EN: "Too many requests", ZH: "請求過於頻繁"}},
	Internal:           {500, "internal", i18n.Text{EN: "Internal server error", ZH: "伺服器內部錯誤"}},
	Unavailable:        {503, "unavailable", i18n.Text{EN: "Service unavailable", ZH: "服務暫時無法使用"}},
	Timeout:            {504, "timeout", i18n.Text{EN: "Request timed out", ZH: "請求逾時"}},
}

func (k Kind) info() kindInfo {
	if int(k) < len(kinds) {
		return kinds[k]
	}
	return kinds[Internal]
}

// Status is the HTTP status for k.
func (k Kind) Status() int { return k.info().status }

// Title is the short, localizable summary of k used as a problem's title.
func (k Kind) Title() i18n.Text { return k.info().title }

// String is the default code of k, e.g. "not-found".
func (k Kind) String() string {
	if k == Other {
		return "other"
	}
	return k.info().code
}

// Code is a stable, kebab-case identifier of a problem, e.g.
// "version-conflict". It ends the problem type URI; clients may rely on it.
type Code string

// FieldError says what is wrong with one field of the input.
type FieldError struct {
	Field   string    // JSON name, dotted for nested fields: "items.amount"
	Code    string    // stable slug: "required", "too-long", "email", ...
	Message i18n.Text // safe for users
}

// Error is the error type of the whole codebase.
type Error struct {
	Op         string        // operation, e.g. "attendance.ClockIn"
	Kind       Kind          // Other: inherit from Err
	Code       Code          // stable slug; "" inherits from Err, else the Kind's default
	Detail     i18n.Text     // shown to users; never put internal details here
	Fields     []FieldError  // per-field problems (Invalid, Unprocessable)
	Err        error         // cause: logged, never shown
	RetryAfter time.Duration // for TooManyRequests and Unavailable
}

// E builds an *Error for op of kind from args, each one of:
//
//	error               the cause (an *Error passes on its kind, code, detail...)
//	Code                the stable code
//	i18n.Text           the user-facing detail
//	FieldError          appended to Fields
//	[]FieldError        appended to Fields
//	time.Duration       RetryAfter
//	string              an internal message, kept as the cause (never shown)
//
// Use Other as kind to inherit the kind of the cause. An argument of any
// other type is a programming error; rather than panic on an error path, E
// records it in the cause, where logs show it.
func E(op string, kind Kind, args ...any) *Error {
	e := &Error{Op: op, Kind: kind}
	var extra []string
	for _, a := range args {
		switch a := a.(type) {
		case nil:
		case *Error:
			if a != nil {
				e.Err = a
			}
		case error:
			e.Err = a
		case Code:
			e.Code = a
		case i18n.Text:
			e.Detail = a
		case FieldError:
			e.Fields = append(e.Fields, a)
		case []FieldError:
			e.Fields = append(e.Fields, a...)
		case time.Duration:
			e.RetryAfter = a
		case string:
			e.Err = errors.New(a)
		default:
			extra = append(extra, fmt.Sprintf("%T=%v", a, a))
		}
	}
	if extra != nil {
		bad := fmt.Sprintf("problem.E: unexpected arguments %s", strings.Join(extra, ", "))
		if e.Err == nil {
			e.Err = errors.New(bad)
		} else {
			e.Err = fmt.Errorf("%w (%s)", e.Err, bad)
		}
	}
	return e
}

// Wrap returns err with op added to its trail, keeping its kind; nil stays nil.
func Wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Op: op, Err: err}
}

// Error renders the trail of operations, the kind, the code and the cause,
// for logs: "httpapi.Decode: bad-request: invalid-json: unexpected EOF".
func (e *Error) Error() string {
	var b strings.Builder
	add := func(s string) {
		if s == "" {
			return
		}
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		b.WriteString(s)
	}
	add(e.Op)
	if e.Kind != Other {
		add(e.Kind.String())
	}
	if e.Code != "" && string(e.Code) != e.Kind.String() {
		add(string(e.Code))
	}
	if e.Err != nil {
		add(e.Err.Error())
	} else if e.Detail.EN != "" {
		add(e.Detail.EN)
	}
	if b.Len() == 0 {
		return "problem: no details"
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the kind of err: the first kind set along its chain of
// *Error. When that is Internal or there is none, a context.DeadlineExceeded
// in the chain makes it Timeout, a context.Canceled Unavailable, and anything
// else is Internal. KindOf(nil) is Other.
func KindOf(err error) Kind {
	if err == nil {
		return Other
	}
	return resolve(err).kind
}

// CodeOf returns the stable code of err (the Kind's default if none was set).
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	return resolve(err).code
}

// view is the user-facing summary of an error chain.
type view struct {
	kind       Kind
	code       Code
	detail     i18n.Text
	fields     []FieldError
	retryAfter time.Duration
}

// resolve walks the *Error chain from the outside in. Kind: the first one set;
// code, detail, fields and retry-after: the first one set at or below the
// *Error that gave the kind (an outer wrapper may override them too).
func resolve(err error) view {
	var v view
	for e := range chain(err) {
		if v.code == "" {
			v.code = e.Code
		}
		if v.detail.IsZero() {
			v.detail = e.Detail
		}
		if v.fields == nil {
			v.fields = e.Fields
		}
		if v.retryAfter == 0 {
			v.retryAfter = e.RetryAfter
		}
		if e.Kind != Other {
			v.kind = e.Kind
			break
		}
	}
	if v.kind == Other || v.kind == Internal {
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			v = view{kind: Timeout}
		case errors.Is(err, context.Canceled):
			v = view{kind: Unavailable}
		default:
			v = view{kind: Internal}
		}
	}
	if v.code == "" {
		v.code = Code(v.kind.String())
	}
	return v
}

// chain yields the *Errors of err from the outside in.
func chain(err error) func(yield func(*Error) bool) {
	return func(yield func(*Error) bool) {
		var e *Error
		for err != nil && errors.As(err, &e) {
			if !yield(e) {
				return
			}
			err = e.Err
		}
	}
}
