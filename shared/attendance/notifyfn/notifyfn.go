// Package notifyfn builds the attendance notification function: it mails
// the people an attendance event concerns, in their language. A Missing
// clock-in goes to the employee; a field punch waiting for approval goes
// to the approver the event names (the employee's nearest manager), and
// the decision back to the employee.
package notifyfn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lantau-hq/lantau/shared/attendance"
	"github.com/lantau-hq/lantau/shared/event"
	"github.com/lantau-hq/lantau/shared/function"
	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/identity"
	"github.com/lantau-hq/lantau/shared/mail"
	"github.com/lantau-hq/lantau/shared/platform"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/ses"
	"github.com/lantau-hq/lantau/shared/table"
)

// Accounts reads a person's account: address, name, status and language
// (identity.Service).
type Accounts interface {
	Account(ctx context.Context, tenant, id string) (identity.UserView, error)
}

// Policies reads a company's attendance policy (attendance.Store).
type Policies interface {
	Policy(ctx context.Context, tenant string) (attendance.Policy, error)
}

// Notifier mails the people attendance events concern, once per event,
// unless the company's policy mutes the mails.
type Notifier struct {
	Table     table.Store
	Accounts  Accounts
	Policies  Policies
	Mail      mail.Sender
	From      string // the sender, MAIL_FROM
	PublicURL string // the API's base URL, PUBLIC_API_URL, named in the mails
	Now       func() time.Time
	Log       *slog.Logger
}

// New is the constructor of functions/attendancenotify.
func New(ctx context.Context, env function.Env) (lambda.Handler, error) {
	req, err := function.Require(env, "MAIL_FROM", "PUBLIC_API_URL")
	if err != nil {
		return nil, err
	}
	pf, err := platform.Open(ctx, env)
	if err != nil {
		return nil, err
	}
	return &Notifier{
		Table:     pf.Store,
		Accounts:  identity.New(identity.Deps{Store: pf.Store, Log: pf.Log}),
		Policies:  attendance.NewStore(pf.Store, time.Now),
		Mail:      ses.NewFromEnv(pf.AWS, env),
		From:      req["MAIL_FROM"],
		PublicURL: strings.TrimSuffix(req["PUBLIC_API_URL"], "/"),
		Now:       time.Now,
		Log:       pf.Log,
	}, nil
}

// sentTTL is how long an event's mail is remembered: longer than the bus
// retries a delivery (a day), so that a redelivery mails nobody twice.
const sentTTL = 7 * 24 * time.Hour

// Invoke handles one EventBridge event. Events of other sources and types
// are ignored. An event that cannot be read is an error (the bus retries
// it, then dead-letters it where it can be looked at); an event naming
// nobody who can be mailed (no account in its company, deactivated, not
// yet signed up, no approver) is logged and done, since retrying cannot
// change that.
func (n *Notifier) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	const op = "attendance.Notify"
	e, err := event.Decode(payload)
	if err != nil {
		return nil, problem.E(op, problem.Invalid, problem.Code("bad-event"), err)
	}
	if e.Source != attendance.EventSource {
		return []byte(`{"mailed":0}`), nil
	}
	switch e.Type {
	case attendance.EventMissing, attendance.EventFieldPunchPending, attendance.EventFieldPunchResolved:
	default:
		return []byte(`{"mailed":0}`), nil
	}
	if p, err := n.Policies.Policy(ctx, e.Tenant); err != nil {
		return nil, err
	} else if p.MuteMails {
		return []byte(`{"mailed":0,"muted":true}`), nil
	}
	var m *mail.Message
	switch e.Type {
	case attendance.EventMissing:
		m, err = n.missing(ctx, e)
	case attendance.EventFieldPunchPending:
		m, err = n.fieldPending(ctx, e)
	case attendance.EventFieldPunchResolved:
		m, err = n.fieldResolved(ctx, e)
	}
	if err != nil || m == nil {
		return []byte(`{"mailed":0}`), err
	}
	sent, err := n.sendOnce(ctx, e, *m)
	if err != nil {
		return nil, err
	}
	if !sent {
		return []byte(`{"mailed":0,"duplicate":true}`), nil
	}
	return []byte(`{"mailed":1}`), nil
}

// sendOnce sends m for e unless a delivery of e already did: the event's
// ID is claimed first, and the claim is let go when the mail fails, so
// that the bus's retry sends it.
func (n *Notifier) sendOnce(ctx context.Context, e event.Envelope, m mail.Message) (bool, error) {
	const op = "attendance.Notify"
	key := table.Key{Tenant: e.Tenant, PK: "NOTIFIED#" + e.ID, SK: "NOTIFIED"}
	err := n.Table.Put(ctx, table.Item{Key: key, Version: 1, ExpiresAt: n.Now().Add(sentTTL).Unix(),
		Data: []byte(`{"type":"` + e.Type + `"}`)}, table.IfNotExists)
	if errors.Is(err, table.ErrConditionFailed) {
		return false, nil
	} else if err != nil {
		return false, problem.E(op, problem.Internal, err)
	}
	if err := n.Mail.Send(ctx, m); err != nil {
		if derr := n.Table.Delete(ctx, key, table.Always); derr != nil {
			n.Log.ErrorContext(ctx, "notification claim not released", "event", e.ID, "error", derr.Error())
		}
		return false, problem.E(op, problem.Unavailable, err)
	}
	return true, nil
}

// recipient is the account to mail, or false (logged) when there is none
// to mail.
func (n *Notifier) recipient(ctx context.Context, e event.Envelope, id, role string) (identity.UserView, bool, error) {
	if id == "" {
		n.Log.InfoContext(ctx, "no one to notify", "event", e.ID, "type", e.Type, "role", role)
		return identity.UserView{}, false, nil
	}
	u, err := n.Accounts.Account(ctx, e.Tenant, id)
	switch {
	case problem.KindOf(err) == problem.NotFound:
		n.Log.WarnContext(ctx, "notification for someone without an account in the company", "event", e.ID, "type", e.Type, "role", role, "user", id)
		return u, false, nil
	case err != nil:
		return u, false, err
	case u.Status != identity.UserActive:
		n.Log.InfoContext(ctx, "not notified: account not active", "event", e.ID, "type", e.Type, "role", role, "status", u.Status)
		return u, false, nil
	}
	return u, true, nil
}

func (n *Notifier) missing(ctx context.Context, e event.Envelope) (*mail.Message, error) {
	var d attendance.MissingEventData
	if err := json.Unmarshal(e.Data, &d); err != nil {
		return nil, problem.E("attendance.Notify", problem.Invalid, problem.Code("bad-event"), err)
	}
	u, ok, err := n.recipient(ctx, e, string(d.Employee), "employee")
	if !ok || err != nil {
		return nil, err
	}
	lang := langOf(u.Lang)
	m := missingMail(lang, u.Name, d.At)
	m.To, m.From, m.Tenant, m.Kind = u.Email, n.From, e.Tenant, "attendance-missing"
	return &m, nil
}

// fieldPendingData is FieldPunchPending's data: the punch, and who is to
// approve it.
type fieldPendingData struct {
	attendance.PunchEventData
	Approver string `json:"approver"`
}

func (n *Notifier) fieldPending(ctx context.Context, e event.Envelope) (*mail.Message, error) {
	var d fieldPendingData
	if err := json.Unmarshal(e.Data, &d); err != nil {
		return nil, problem.E("attendance.Notify", problem.Invalid, problem.Code("bad-event"), err)
	}
	approver, ok, err := n.recipient(ctx, e, d.Approver, "approver")
	if !ok || err != nil {
		return nil, err
	}
	who := n.nameOf(ctx, e.Tenant, string(d.Employee))
	route := fmt.Sprintf("%s/v1/attendance/field-punches/%s/%d/decision", n.PublicURL, d.Employee, d.Seq)
	m := fieldPendingMail(langOf(approver.Lang), approver.Name, who, d.Kind, d.Time, route)
	m.To, m.From, m.Tenant, m.Kind = approver.Email, n.From, e.Tenant, "attendance-field-punch"
	return &m, nil
}

func (n *Notifier) fieldResolved(ctx context.Context, e event.Envelope) (*mail.Message, error) {
	var d attendance.FieldResolvedEventData
	if err := json.Unmarshal(e.Data, &d); err != nil {
		return nil, problem.E("attendance.Notify", problem.Invalid, problem.Code("bad-event"), err)
	}
	u, ok, err := n.recipient(ctx, e, string(d.Employee), "employee")
	if !ok || err != nil {
		return nil, err
	}
	by := n.nameOf(ctx, e.Tenant, d.By)
	m := fieldResolvedMail(langOf(u.Lang), u.Name, by, d)
	m.To, m.From, m.Tenant, m.Kind = u.Email, n.From, e.Tenant, "attendance-field-decision"
	return &m, nil
}

// nameOf is a person's name, or their ID when they have no account here.
func (n *Notifier) nameOf(ctx context.Context, tenant, id string) string {
	if u, err := n.Accounts.Account(ctx, tenant, id); err == nil && u.Name != "" {
		return u.Name
	}
	return id
}

func langOf(tag string) i18n.Lang {
	if tag == string(i18n.ZHHK) {
		return i18n.ZHHK
	}
	return i18n.EN
}
