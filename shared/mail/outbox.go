package mail

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Outbox is the local Sender: each message becomes one RFC 5322 file,
// <Dir>/<unix-nanoseconds>-<id>.eml, written whole (temporary file, then
// rename) with mode 0600, since messages carry one-time links. A mail client
// opens the files as they are. It is safe for concurrent use, also by
// several processes sharing Dir.
type Outbox struct {
	Dir string
	Now func() time.Time
	// Echo, when set, also gets each message as plain text (the local
	// runner prints the outbox this way, so a link can be copied at once).
	Echo io.Writer
}

var _ Sender = (*Outbox)(nil)

// NewOutbox returns an outbox writing to dir.
func NewOutbox(dir string) *Outbox { return &Outbox{Dir: dir, Now: time.Now} }

// Send writes m to the outbox.
func (o *Outbox) Send(ctx context.Context, m Message) error {
	if m.ID == "" {
		m.ID = newID() + "@lantau.local"
	}
	if m.Date.IsZero() {
		m.Date = o.now()
	}
	if err := m.Validate(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	raw, err := Encode(m)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	name := fmt.Sprintf("%019d-%s.eml", m.Date.UnixNano(), strings.TrimSuffix(m.ID, "@lantau.local"))
	tmp, err := os.CreateTemp(o.Dir, ".mail-*.tmp")
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(raw); err != nil {
		tmp.Close()
		return fmt.Errorf("outbox: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("outbox: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(o.Dir, name)); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	if o.Echo != nil {
		fmt.Fprintf(o.Echo, "\n--- mail to %s: %s (%s)\n%s\n---\n", m.To, m.Subject, filepath.Join(o.Dir, name), strings.TrimSpace(m.Text))
	}
	return nil
}

func (o *Outbox) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// List reads every message in the outbox, oldest first. A missing outbox is empty.
func (o *Outbox) List() ([]Message, error) {
	entries, err := os.ReadDir(o.Dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".eml") && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	out := make([]Message, 0, len(names))
	for _, n := range names {
		raw, err := os.ReadFile(filepath.Join(o.Dir, n))
		if err != nil {
			return nil, fmt.Errorf("outbox: %w", err)
		}
		m, err := Decode(raw)
		if err != nil {
			return nil, fmt.Errorf("outbox %s: %w", n, err)
		}
		out = append(out, m)
	}
	return out, nil
}

// Encode writes m as an RFC 5322 message: UTF-8 text sent 8bit (or
// quoted-printable when a line is too long for 8bit), the subject as RFC
// 2047 encoded words when it is not ASCII.
func Encode(m Message) ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	from, _ := mail.ParseAddress(m.From)
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	header("From", from.String())
	header("To", "<"+m.To+">")
	header("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	header("Date", m.Date.Format(time.RFC1123Z))
	if m.ID != "" {
		header("Message-ID", "<"+m.ID+">")
	}
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	text := strings.ReplaceAll(strings.ReplaceAll(m.Text, "\r\n", "\n"), "\n", "\r\n")
	// 8bit keeps links readable and copyable in the file; lines longer than
	// RFC 5322 allows need quoted-printable.
	long := slices.ContainsFunc(strings.Split(text, "\r\n"), func(l string) bool { return len(l) > 998 })
	if long {
		header("Content-Transfer-Encoding", "quoted-printable")
	} else {
		header("Content-Transfer-Encoding", "8bit")
	}
	if m.Kind != "" {
		header("X-Lantau-Kind", m.Kind)
	}
	if m.Tenant != "" {
		header("X-Lantau-Tenant", m.Tenant)
	}
	b.WriteString("\r\n")
	if !long {
		b.WriteString(text)
		return b.Bytes(), nil
	}
	qp := quotedprintable.NewWriter(&b)
	if _, err := io.WriteString(qp, text); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Decode reads a message written by Encode.
func Decode(raw []byte) (Message, error) {
	msg, err := mail.ReadMessage(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		return Message{}, err
	}
	h := msg.Header
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(h.Get("Subject"))
	if err != nil {
		return Message{}, fmt.Errorf("subject: %w", err)
	}
	to, err := mail.ParseAddress(h.Get("To"))
	if err != nil {
		return Message{}, fmt.Errorf("to: %w", err)
	}
	date, _ := h.Date()
	var body io.Reader = msg.Body
	if strings.EqualFold(h.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body = quotedprintable.NewReader(msg.Body)
	}
	text, err := io.ReadAll(body)
	if err != nil {
		return Message{}, fmt.Errorf("body: %w", err)
	}
	from, err := dec.DecodeHeader(h.Get("From"))
	if err != nil {
		return Message{}, fmt.Errorf("from: %w", err)
	}
	return Message{
		ID: strings.Trim(h.Get("Message-ID"), "<>"), From: from, To: to.Address, Subject: subject,
		Text: strings.ReplaceAll(string(text), "\r\n", "\n"), Date: date,
		Kind: h.Get("X-Lantau-Kind"), Tenant: h.Get("X-Lantau-Tenant"),
	}, nil
}

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
