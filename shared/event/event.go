// Package event is the envelope of every domain event Lantau publishes:
// what happened (source, type), to which company, caused by whom, when, and
// an ID that consumers use to make redelivery harmless.
package event

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"
)

// Envelope is the detail of an EventBridge event published by Lantau. The
// EventBridge source is "lantau.<domain>" and the detail-type is Type.
type Envelope struct {
	ID         string          `json:"id"`         // unique per occurrence; the idempotency key of consumers
	Source     string          `json:"-"`          // "lantau.directory"
	Type       string          `json:"-"`          // "EmployeeLeft"
	Tenant     string          `json:"tenant"`     // the company
	Actor      string          `json:"actor"`      // user ID, or "system:<job>"
	OccurredAt time.Time       `json:"occurredAt"` // when it happened
	Data       json.RawMessage `json:"data"`       // the event's own fields
}

// The lengths are checked apart from the patterns: a counted repetition
// such as {1,80} compiles to 80 copies, which cost every function's cold
// start a few hundred microseconds.
var (
	sourcePattern = regexp.MustCompile(`^lantau\.[a-z][a-z0-9-]+$`) // and at most 48 bytes
	typePattern   = regexp.MustCompile(`^[A-Z][A-Za-z0-9]+$`)       // and at most 81 bytes
)

// ErrInvalid is returned for an envelope that must not be published.
var ErrInvalid = errors.New("invalid event")

// New builds an envelope with a fresh ID; data is encoded as JSON.
func New(source, typ, tenant, actor string, at time.Time, data any) (Envelope, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return Envelope{}, fmt.Errorf("%w: data: %v", ErrInvalid, err)
	}
	e := Envelope{ID: NewID(at), Source: source, Type: typ, Tenant: tenant, Actor: actor, OccurredAt: at.UTC(), Data: raw}
	return e, e.Validate()
}

// Validate checks what every consumer relies on.
func (e Envelope) Validate() error {
	switch {
	case e.ID == "":
		return fmt.Errorf("%w: no id", ErrInvalid)
	case len(e.Source) > len("lantau.")+41 || !sourcePattern.MatchString(e.Source):
		return fmt.Errorf("%w: source %q must look like lantau.<domain>", ErrInvalid, e.Source)
	case len(e.Type) > 81 || !typePattern.MatchString(e.Type):
		return fmt.Errorf("%w: type %q must be PascalCase", ErrInvalid, e.Type)
	case e.Tenant == "":
		return fmt.Errorf("%w: no tenant", ErrInvalid)
	case e.Actor == "":
		return fmt.Errorf("%w: no actor", ErrInvalid)
	case e.OccurredAt.IsZero():
		return fmt.Errorf("%w: no time", ErrInvalid)
	case !json.Valid(e.Data):
		return fmt.Errorf("%w: data is not JSON", ErrInvalid)
	}
	return nil
}

// NewID returns a sortable unique ID: 12 hex digits of milliseconds, then 16 random hex digits.
func NewID(at time.Time) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%012x%s", at.UnixMilli(), hex.EncodeToString(b[:]))
}

// Publisher sends envelopes to the bus. Publish returns only when every
// envelope was accepted; a partial failure is an error naming the first.
type Publisher interface {
	Publish(ctx context.Context, events ...Envelope) error
}

// Received is an EventBridge event carrying an envelope, as a consumer gets it.
type Received struct {
	ID         string    `json:"id"`
	DetailType string    `json:"detail-type"`
	Source     string    `json:"source"`
	Time       time.Time `json:"time"`
	Detail     Envelope  `json:"detail"`
}

// Decode reads an EventBridge event whose detail is an envelope.
func Decode(raw []byte) (Envelope, error) {
	var r Received
	if err := json.Unmarshal(raw, &r); err != nil {
		return Envelope{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	e := r.Detail
	e.Source, e.Type = r.Source, r.DetailType
	return e, e.Validate()
}
