package runner

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	netmail "net/mail"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/lantau-hq/lantau/shared/mail"
)

// sesOutboundPath is SES v2 SendEmail's route (REST-JSON).
const sesOutboundPath = "/v2/email/outbound-emails"

// sesMaxRecipients is SES's limit of To, Cc and Bcc addresses together.
const sesMaxRecipients = 50

// mailbox answers Amazon SES v2 SendEmail, so that functions send mail
// through aws-sdk-go-v2 on a laptop as on AWS. Each accepted message is
// written under <data>/outbox as .eml files in shared/mail's Outbox format
// (one file per recipient, as each mailbox would receive it; a raw message
// is written once, as given) and echoed to Config.MailEcho.
type mailbox struct {
	r      *Runner
	outbox *mail.Outbox
	echo   io.Writer
}

func newMailbox(r *Runner) *mailbox {
	m := &mailbox{r: r, outbox: mail.NewOutbox(r.dataPath("outbox"))}
	m.outbox.Now = r.cfg.Now
	switch {
	case r.cfg.Env["LANTAU_ECHO_MAIL"] == "off", r.cfg.MailEcho == io.Discard:
	case r.cfg.MailEcho != nil:
		m.echo = r.cfg.MailEcho
	default:
		m.echo = os.Stderr
	}
	m.outbox.Echo = m.echo
	return m
}

// sesRequest is the part of SendEmailInput the runner reads.
type sesRequest struct {
	FromEmailAddress string `json:"FromEmailAddress"`
	Destination      *struct {
		ToAddresses  []string `json:"ToAddresses"`
		CcAddresses  []string `json:"CcAddresses"`
		BccAddresses []string `json:"BccAddresses"`
	} `json:"Destination"`
	ReplyToAddresses []string `json:"ReplyToAddresses"`
	Content          *struct {
		Simple *struct {
			Subject *sesContent `json:"Subject"`
			Body    *struct {
				Text *sesContent `json:"Text"`
				Html *sesContent `json:"Html"`
			} `json:"Body"`
			Headers []struct {
				Name  string `json:"Name"`
				Value string `json:"Value"`
			} `json:"Headers"`
		} `json:"Simple"`
		Raw *struct {
			Data []byte `json:"Data"` // base64 in the JSON, as the SDK sends a blob
		} `json:"Raw"`
		Template json.RawMessage `json:"Template"`
	} `json:"Content"`
}

type sesContent struct {
	Data    string `json:"Data"`
	Charset string `json:"Charset"`
}

// sesFault is an SES error answer: its type and message.
type sesFault struct {
	status  int
	typ     string
	message string
}

func badRequest(format string, args ...any) *sesFault {
	return &sesFault{http.StatusBadRequest, "BadRequestException", fmt.Sprintf(format, args...)}
}

func (m *mailbox) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost || req.URL.Path != sesOutboundPath {
		sesError(w, &sesFault{http.StatusNotFound, "NotFoundException",
			"the local runner answers SES v2 SendEmail (POST " + sesOutboundPath + ") only, not " + req.Method + " " + req.URL.Path})
		return
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, 40<<20+1)) // SES: 40 MB a message
	if err != nil || len(body) > 40<<20 {
		sesError(w, badRequest("could not read the request, or it is larger than 40 MB"))
		return
	}
	var in sesRequest
	if err := json.Unmarshal(body, &in); err != nil {
		sesError(w, &sesFault{http.StatusBadRequest, "SerializationException", "request body is not valid JSON"})
		return
	}
	id := "0100" + strings.ReplaceAll(newID(), "-", "") + "-000000"
	if f := m.send(id, &in); f != nil {
		sesError(w, f)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"MessageId": id})
}

// send validates the request as SES does and writes the message.
func (m *mailbox) send(id string, in *sesRequest) *sesFault {
	c := in.Content
	if c == nil || (c.Simple == nil && c.Raw == nil && len(c.Template) == 0) {
		return badRequest("Content is required: Simple, Raw or Template")
	}
	if n := btoi(c.Simple != nil) + btoi(c.Raw != nil) + btoi(len(c.Template) > 0); n > 1 {
		return badRequest("Content must hold exactly one of Simple, Raw or Template")
	}
	if len(c.Template) > 0 {
		return badRequest("the local runner does not send templated mail (Content.Template)")
	}
	for _, a := range in.ReplyToAddresses {
		if _, err := netmail.ParseAddress(a); err != nil {
			return badRequest("Illegal address in ReplyToAddresses: %s", a)
		}
	}
	var to []string
	if d := in.Destination; d != nil {
		to = append(append(append(to, d.ToAddresses...), d.CcAddresses...), d.BccAddresses...)
	}
	if c.Raw != nil {
		return m.sendRaw(id, in.FromEmailAddress, to, c.Raw.Data)
	}
	s := c.Simple
	if in.FromEmailAddress == "" {
		return badRequest("Missing required field FromEmailAddress")
	}
	if _, err := netmail.ParseAddress(in.FromEmailAddress); err != nil {
		return badRequest("Illegal address in FromEmailAddress: %s", in.FromEmailAddress)
	}
	rcpts, f := recipients(to)
	if f != nil {
		return f
	}
	if s.Subject == nil || s.Subject.Data == "" {
		return badRequest("Missing required field Subject")
	}
	if s.Body == nil || (s.Body.Text == nil && s.Body.Html == nil) {
		return badRequest("Missing required field Body: Text or Html")
	}
	msg := mail.Message{From: in.FromEmailAddress, Subject: s.Subject.Data}
	if f := checkCharset("Subject", s.Subject); f != nil {
		return f
	}
	for _, part := range []struct {
		name string
		c    *sesContent
	}{{"Body.Text", s.Body.Text}, {"Body.Html", s.Body.Html}} {
		if part.c == nil {
			continue
		}
		if f := checkCharset(part.name, part.c); f != nil {
			return f
		}
	}
	// The outbox holds plain text: the text part, else the HTML source.
	if s.Body.Text != nil {
		msg.Text = s.Body.Text.Data
	} else {
		msg.Text = s.Body.Html.Data
	}
	for _, h := range s.Headers {
		if h.Name == "" || len(h.Name) > 126 || strings.ContainsAny(h.Name, ": \t\r\n") || strings.ContainsAny(h.Value, "\r\n") || len(h.Name)+len(h.Value) > 996 {
			return badRequest("Invalid header %q", h.Name)
		}
		switch strings.ToLower(h.Name) {
		case "x-lantau-kind":
			msg.Kind = h.Value
		case "x-lantau-tenant":
			msg.Tenant = h.Value
		}
	}
	for i, to := range rcpts {
		msg.To = to
		msg.ID = id + "@lantau.local"
		if len(rcpts) > 1 {
			msg.ID = id + "-" + strconv.Itoa(i+1) + "@lantau.local"
		}
		if err := m.outbox.Send(m.r.ctx, msg); err != nil {
			m.r.log.Error("SES SendEmail: the outbox refused a message", "error", err)
			return badRequest("the message cannot be written: %v", err)
		}
	}
	return nil
}

// sendRaw accepts a MIME message as given; recipients and sender default to
// its headers, as SES reads them.
func (m *mailbox) sendRaw(id, from string, to []string, raw []byte) *sesFault {
	if len(raw) == 0 {
		return badRequest("Missing required field Content.Raw.Data")
	}
	msg, err := netmail.ReadMessage(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		return &sesFault{http.StatusBadRequest, "MessageRejected", "the raw message is not an RFC 5322 message: " + err.Error()}
	}
	if from == "" {
		from = msg.Header.Get("From")
	}
	if from == "" {
		return badRequest("Missing required field FromEmailAddress, and the raw message has no From header")
	}
	if _, err := netmail.ParseAddress(from); err != nil {
		return badRequest("Illegal address in FromEmailAddress: %s", from)
	}
	if len(to) == 0 {
		for _, h := range []string{"To", "Cc", "Bcc"} {
			if v := msg.Header.Get(h); v != "" {
				list, err := netmail.ParseAddressList(v)
				if err != nil {
					return badRequest("Illegal address in the %s header", h)
				}
				for _, a := range list {
					to = append(to, a.Address)
				}
			}
		}
	}
	rcpts, f := recipients(to)
	if f != nil {
		return f
	}
	dir := m.outbox.Dir
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return badRequest("the message cannot be written: %v", err)
	}
	path := filepath.Join(dir, fmt.Sprintf("%019d-%s.eml", m.r.cfg.Now().UnixNano(), id))
	if err := writeFileSync(path, raw); err != nil {
		m.r.log.Error("SES SendEmail: the outbox refused a message", "error", err)
		return badRequest("the message cannot be written: %v", err)
	}
	if m.echo != nil {
		text := "(" + msg.Header.Get("Content-Type") + ")"
		subject := msg.Header.Get("Subject")
		if d, err := mail.Decode(raw); err == nil {
			text, subject = d.Text, d.Subject
		}
		fmt.Fprintf(m.echo, "\n--- mail to %s: %s (%s)\n%s\n---\n", strings.Join(rcpts, ", "), subject, path, strings.TrimSpace(text))
	}
	return nil
}

// recipients checks the addresses (1 to 50 of them) and returns them bare.
func recipients(addrs []string) ([]string, *sesFault) {
	if len(addrs) == 0 {
		return nil, badRequest("Missing required field Destination: at least one of ToAddresses, CcAddresses or BccAddresses")
	}
	if len(addrs) > sesMaxRecipients {
		return nil, badRequest("Recipient count exceeds %d.", sesMaxRecipients)
	}
	out := make([]string, len(addrs))
	for i, a := range addrs {
		p, err := netmail.ParseAddress(a)
		if err != nil {
			return nil, badRequest("Illegal address: %s", a)
		}
		out[i] = p.Address
	}
	return out, nil
}

// checkCharset accepts UTF-8 and US-ASCII. It is stricter than SES, which
// takes text with no Charset as 7-bit ASCII and garbles anything else: the
// runner refuses such text, so the mistake shows on a laptop.
func checkCharset(field string, c *sesContent) *sesFault {
	switch strings.ToUpper(c.Charset) {
	case "UTF-8", "UTF8":
		if !utf8.ValidString(c.Data) {
			return badRequest("%s is not valid UTF-8", field)
		}
	case "", "US-ASCII", "ASCII":
		for i := 0; i < len(c.Data); i++ {
			if c.Data[i] >= 0x80 {
				return badRequest("%s holds non-ASCII text but its Charset is %q: set Charset UTF-8", field, c.Charset)
			}
		}
	default:
		return badRequest("%s: the local runner accepts Charset UTF-8 or US-ASCII, not %q", field, c.Charset)
	}
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func sesError(w http.ResponseWriter, f *sesFault) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Errortype", f.typ)
	w.WriteHeader(f.status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": f.message})
}
