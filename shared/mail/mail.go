// Package mail is Lantau's port for sending e-mail: a Message, the Sender
// interface that the domain calls, and Outbox, the local implementation that
// writes each message as an .eml file under the runner's data directory,
// where `make run` users and tests read it. On AWS an SES adapter implements
// the same Sender.
package mail

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
)

// Message is one plain-text e-mail to one recipient.
type Message struct {
	ID      string    // Message-ID without brackets; Send fills it when empty
	From    string    // "Lantau <no-reply@lantau.dev>"
	To      string    // a bare address
	Subject string    // may hold Chinese; encoded as RFC 2047 words
	Text    string    // the body, UTF-8
	Date    time.Time // Send fills it when zero
	// Kind names the message for tests and logs ("company-confirmation",
	// "invitation", "new-device"); sent as the X-Lantau-Kind header.
	Kind string
	// Tenant is the company the message is about; sent as X-Lantau-Tenant.
	Tenant string
}

// Sender sends messages. Send returns once the message is accepted for
// delivery (written to the outbox, accepted by SES).
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// ErrInvalid is returned for a message that must not be sent.
var ErrInvalid = errors.New("invalid mail message")

// Validate checks addresses and refuses header injection.
func (m Message) Validate() error {
	for name, v := range map[string]string{"From": m.From, "Subject": m.Subject, "Kind": m.Kind, "Tenant": m.Tenant, "ID": m.ID} {
		if strings.ContainsAny(v, "\r\n") {
			return fmt.Errorf("%w: %s holds a line break", ErrInvalid, name)
		}
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil || to.Address != m.To {
		return fmt.Errorf("%w: To must be a bare address", ErrInvalid)
	}
	if _, err := mail.ParseAddress(m.From); err != nil {
		return fmt.Errorf("%w: From: %v", ErrInvalid, err)
	}
	if m.Subject == "" {
		return fmt.Errorf("%w: no subject", ErrInvalid)
	}
	return nil
}
