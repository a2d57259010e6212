package s3server

import (
	"bytes"
	"encoding/xml"
	"errors"
	"net/http"

	"github.com/johannesboyne/gofakes3"
)

// s3Error is an error answered with S3's XML error document. It is used by the
// layers in front of gofakes3 (authentication, body decoding, copy), which
// need codes and statuses that gofakes3's ErrorCode table does not know.
type s3Error struct {
	status  int
	code    string
	message string
	fields  []xmlField // extra elements, in order, as S3 sends them
}

type xmlField struct{ name, value string }

func (e *s3Error) Error() string { return e.code + ": " + e.message }

func newS3Error(status int, code, message string, fields ...xmlField) *s3Error {
	return &s3Error{status: status, code: code, message: message, fields: fields}
}

func errAccessDenied(msg string, fields ...xmlField) *s3Error {
	return newS3Error(http.StatusForbidden, "AccessDenied", msg, fields...)
}

func errNotImplemented(msg string) *s3Error {
	return newS3Error(http.StatusNotImplemented, "NotImplemented", msg)
}

func errInternal() *s3Error {
	return newS3Error(http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.")
}

// asS3Error converts an error from the store or from gofakes3 into the S3
// error that describes it. Errors without an S3 code are internal: their text
// is never sent to the client.
func asS3Error(err error) *s3Error {
	var se *s3Error
	if errors.As(err, &se) {
		return se
	}
	var coded interface{ ErrorCode() gofakes3.ErrorCode }
	if errors.As(err, &coded) {
		code := coded.ErrorCode()
		msg := code.Message()
		var er *gofakes3.ErrorResponse
		if errors.As(err, &er) && er.Message != "" {
			msg = er.Message
		}
		return newS3Error(code.Status(), string(code), msg)
	}
	return errInternal()
}

// writeS3Error answers the request with e as an S3 XML error document.
func writeS3Error(w http.ResponseWriter, r *http.Request, e *s3Error, requestID string) {
	h := w.Header()
	h.Del("Content-Length")
	h.Del("ETag")
	h.Set("Content-Type", "application/xml")
	h.Set("x-amz-request-id", requestID)
	w.WriteHeader(e.status)
	if r.Method == http.MethodHead {
		return
	}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString("<Error>")
	writeElem(&b, "Code", e.code)
	writeElem(&b, "Message", e.message)
	for _, f := range e.fields {
		writeElem(&b, f.name, f.value)
	}
	writeElem(&b, "RequestId", requestID)
	writeElem(&b, "HostId", requestID)
	b.WriteString("</Error>")
	_, _ = w.Write(b.Bytes())
}

func writeElem(b *bytes.Buffer, name, value string) {
	b.WriteString("<" + name + ">")
	_ = xml.EscapeText(b, []byte(value))
	b.WriteString("</" + name + ">")
}
