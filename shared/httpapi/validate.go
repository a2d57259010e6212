package httpapi

import (
	"net/mail"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/problem"
)

// Validator collects field errors; the zero value is ready to use:
//
//	var v httpapi.Validator
//	v.Required("name", in.Name)
//	v.MaxLen("name", in.Name, 200)
//	v.Check(in.Hours >= 0, "hours", "min", i18n.Text{EN: "must not be negative", ZH: "不可為負數"})
//	return v.Err()
//
// Each check returns whether it passed, so later checks can depend on it.
type Validator struct {
	fields []problem.FieldError
}

// Add records a field error.
func (v *Validator) Add(field, code string, msg i18n.Text) {
	v.fields = append(v.fields, problem.FieldError{Field: field, Code: code, Message: msg})
}

// Check records a field error unless ok.
func (v *Validator) Check(ok bool, field, code string, msg i18n.Text) bool {
	if !ok {
		v.Add(field, code, msg)
	}
	return ok
}

// Required checks that value is not blank.
func (v *Validator) Required(field, value string) bool {
	return v.Check(strings.TrimSpace(value) != "", field, "required",
		i18n.Text{EN: "is required", ZH: "必須填寫"})
}

// MaxLen checks that value has at most n characters (not bytes: 香港 is 2).
func (v *Validator) MaxLen(field, value string, n int) bool {
	return v.Check(utf8.RuneCountInString(value) <= n, field, "too-long",
		i18n.Text{EN: "must be at most %d characters", ZH: "不可超過 %d 個字"}.Format(n))
}

// MinLen checks that value has at least n characters.
func (v *Validator) MinLen(field, value string, n int) bool {
	return v.Check(utf8.RuneCountInString(value) >= n, field, "too-short",
		i18n.Text{EN: "must be at least %d characters", ZH: "最少須有 %d 個字"}.Format(n))
}

// Email checks that a non-empty value is a bare e-mail address
// ("a@example.com", not "A <a@example.com>"). Use Required for presence.
func (v *Validator) Email(field, value string) bool {
	if value == "" {
		return true
	}
	a, err := mail.ParseAddress(value)
	ok := err == nil && a.Address == value && a.Name == "" && strings.Contains(value[strings.LastIndexByte(value, '@')+1:], ".")
	return v.Check(ok, field, "email",
		i18n.Text{EN: "must be a valid e-mail address", ZH: "電郵地址格式無效"})
}

// OneOf checks that a non-empty value is one of allowed.
func (v *Validator) OneOf(field, value string, allowed ...string) bool {
	if value == "" {
		return true
	}
	return v.Check(slices.Contains(allowed, value), field, "one-of",
		i18n.Text{EN: "must be one of: %s", ZH: "必須為以下其中之一：%s"}.Format(strings.Join(allowed, ", ")))
}

// Valid reports whether no field error was recorded.
func (v *Validator) Valid() bool { return len(v.fields) == 0 }

// Fields returns the recorded field errors.
func (v *Validator) Fields() []problem.FieldError { return slices.Clone(v.fields) }

// Err returns nil if every check passed, else a *problem.Error of kind
// Invalid and code "validation-failed" holding all field errors. Its static
// type is error so that `return v.Err()` never yields a non-nil interface
// holding a nil pointer.
func (v *Validator) Err() error {
	if v.Valid() {
		return nil
	}
	return problem.E("httpapi.Validate", problem.Invalid, problem.Code("validation-failed"),
		i18n.Text{EN: "Some fields are not valid.", ZH: "部分欄位無效。"}, v.Fields())
}
