package notifyfn_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/attendance"
	"github.com/lantau-hq/lantau/shared/awsconfig"
	"github.com/lantau-hq/lantau/shared/event"
	"github.com/lantau-hq/lantau/shared/eventbridge"
	"github.com/lantau-hq/lantau/shared/identity/identitytest"
)

// busEvent is e as EventBridge delivers it.
func busEvent(t *testing.T, e event.Envelope) []byte {
	t.Helper()
	raw, err := json.Marshal(map[string]any{"version": "0", "id": "delivery-" + e.ID, "detail-type": e.Type, "source": e.Source,
		"account": "000000000000", "time": e.OccurredAt.Format(time.RFC3339), "region": "ap-east-1", "resources": []string{}, "detail": e})
	require.NoError(t, err)
	return raw
}

func fieldPending(t *testing.T, tenant, employee, approver string, seq int64, at time.Time) event.Envelope {
	t.Helper()
	e, err := event.New(attendance.EventSource, attendance.EventFieldPunchPending, tenant, employee, at, map[string]any{
		"employee": employee, "seq": seq, "hash": "h", "kind": "in", "outcome": "pending-field", "reasons": []string{"outside-sites"},
		"time": at, "approver": approver})
	require.NoError(t, err)
	return e
}

// A missing clock-in is mailed to the employee and a field punch to its
// approver, each in the reader's language, once however often the bus
// delivers the event; nobody who cannot be mailed is, and a retry cannot
// change that, so such an event is done rather than failed.
func TestNotify_MailsTheEmployeeAndTheApproverOncePerEvent(t *testing.T) {
	s := identitytest.Start(t)
	c := s.NewCompany(t, "acme-notify.hk")
	bob, bobEmail := s.Invite(t, c, "bob")
	// Mei reads Chinese.
	meiEmail := "mei@acme-notify.hk"
	mei := s.InviteAs(t, c, meiEmail, "陳美", "zh-HK")
	gone, goneEmail := s.Invite(t, c, "gone")
	require.Equal(t, http.StatusOK, s.Do(t, "POST", "/v1/users/"+gone+"/deactivate", c.Access, nil).Status)

	ctx := context.Background()
	fn := s.Runner.Function("AttendanceNotifyFunction")
	require.NotNil(t, fn)
	at := time.Date(2026, 11, 25, 9, 20, 0, 0, time.FixedZone("HKT", 8*3600))

	// Through the bus: the template's rule delivers Missing to the function.
	missing, err := attendance.MissingEvent(c.ID, attendance.EmployeeID(bob), at)
	require.NoError(t, err)
	env := s.Runner.Function("health").Env
	getenv := func(k string) string { return env[k] }
	cfg, err := awsconfig.Load(ctx, getenv)
	require.NoError(t, err)
	bus, err := eventbridge.NewFromEnv(cfg, getenv)
	require.NoError(t, err)
	require.NoError(t, bus.Publish(ctx, missing))
	identitytest.Eventually(t, func() bool { return len(s.Mails(t, bobEmail, "attendance-missing")) == 1 }, "the missing clock-in is mailed to bob")
	m := s.Mails(t, bobEmail, "attendance-missing")[0]
	assert.Equal(t, "Lantau: you have not clocked in today", m.Subject)
	assert.Contains(t, m.Text, "2026-11-25 09:20 (HKT)")
	assert.Contains(t, m.Text, "field punch")

	// The same event again (a redelivery) mails nobody.
	out, err := fn.Invoke(ctx, "", busEvent(t, missing))
	require.NoError(t, err)
	assert.JSONEq(t, `{"mailed":0,"duplicate":true}`, string(out))
	assert.Len(t, s.Mails(t, bobEmail, "attendance-missing"), 1, "one mail per event")

	// In the reader's language.
	meiMissing, err := attendance.MissingEvent(c.ID, attendance.EmployeeID(mei), at)
	require.NoError(t, err)
	_, err = fn.Invoke(ctx, "", busEvent(t, meiMissing))
	require.NoError(t, err)
	zh := s.Mails(t, meiEmail, "attendance-missing")
	require.Len(t, zh, 1)
	assert.Equal(t, "Lantau：你今天尚未打卡上班", zh[0].Subject)

	// A field punch of bob's goes to its approver, mei, who reads Chinese:
	// who, when, and the route that decides; nothing that decides by itself.
	_, err = fn.Invoke(ctx, "", busEvent(t, fieldPending(t, c.ID, bob, mei, 7, at)))
	require.NoError(t, err)
	asks := s.Mails(t, meiEmail, "attendance-field-punch")
	require.Len(t, asks, 1)
	assert.Equal(t, "Lantau：Wong bob 的外勤打卡待你批核", asks[0].Subject)
	assert.Contains(t, asks[0].Text, "/v1/attendance/field-punches/"+bob+"/7/decision")
	assert.Contains(t, asks[0].Text, "2026-11-25 09:20 (HKT)")
	assert.NotContains(t, asks[0].Text, "token")

	// The decision goes back to the employee, naming who decided.
	punch := attendance.Record{Tenant: c.ID, Employee: attendance.EmployeeID(bob), Seq: 7, Time: at.UTC(), Type: attendance.TypePunch,
		Request: &attendance.Request{Kind: attendance.In}}
	resolution := attendance.Record{Tenant: c.ID, Employee: attendance.EmployeeID(bob), Seq: 9, Time: at.Add(time.Hour).UTC(),
		Type: attendance.TypeResolution, Refers: &attendance.Ref{Seq: 7, Hash: "h"}, Resolution: &attendance.Resolution{Approved: false, By: mei, Note: "請下次先通知我"}}
	resolved, err := attendance.FieldResolvedEvent(punch, resolution)
	require.NoError(t, err)
	_, err = fn.Invoke(ctx, "", busEvent(t, resolved))
	require.NoError(t, err)
	decided := s.Mails(t, bobEmail, "attendance-field-decision")
	require.Len(t, decided, 1)
	assert.Equal(t, "Lantau: your field punch was rejected", decided[0].Subject)
	assert.Contains(t, decided[0].Text, "by 陳美")
	assert.Contains(t, decided[0].Text, "2026-11-25 09:20 (HKT)")
	assert.Contains(t, decided[0].Text, "請下次先通知我")

	// Nobody to mail: no approver, someone not of this company, someone
	// deactivated. Each is done (no error, so the bus does not retry).
	before := len(s.Outbox(t))
	noOne := []event.Envelope{fieldPending(t, c.ID, bob, "", 8, at)}
	for _, who := range []string{"u-nobodyhereatall", gone} {
		e, err := attendance.MissingEvent(c.ID, attendance.EmployeeID(who), at)
		require.NoError(t, err)
		noOne = append(noOne, e)
	}
	for _, e := range noOne {
		out, err := fn.Invoke(ctx, "", busEvent(t, e))
		require.NoError(t, err, "%s", e.Data)
		assert.JSONEq(t, `{"mailed":0}`, string(out), "%s", e.Data)
	}
	assert.Len(t, s.Outbox(t), before, "nobody was mailed")
	assert.Empty(t, s.Mails(t, goneEmail, "attendance-missing"))

	// Another company's tenant cannot reach this company's people: the
	// lookup is by the event's tenant.
	foreign, err := attendance.MissingEvent("c-someothercompany", attendance.EmployeeID(bob), at.Add(time.Minute))
	require.NoError(t, err)
	out, err = fn.Invoke(ctx, "", busEvent(t, foreign))
	require.NoError(t, err)
	assert.JSONEq(t, `{"mailed":0}`, string(out))
	assert.Len(t, s.Mails(t, bobEmail, "attendance-missing"), 1)

	// A company that mutes the mails gets none; the events still reach the
	// audit trail.
	res := s.Do(t, "PUT", "/v1/attendance/policy", c.Access, map[string]any{"muteMails": true})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	muted, err := attendance.MissingEvent(c.ID, attendance.EmployeeID(bob), at.Add(time.Hour))
	require.NoError(t, err)
	out, err = fn.Invoke(ctx, "", busEvent(t, muted))
	require.NoError(t, err)
	assert.JSONEq(t, `{"mailed":0,"muted":true}`, string(out))
	assert.Len(t, s.Mails(t, bobEmail, "attendance-missing"), 1)

	// Other events are not this function's; a malformed one is an error.
	other, err := event.New(attendance.EventSource, attendance.EventLate, c.ID, bob, at, map[string]any{"employee": bob})
	require.NoError(t, err)
	out, err = fn.Invoke(ctx, "", busEvent(t, other))
	require.NoError(t, err)
	assert.JSONEq(t, `{"mailed":0}`, string(out))
	for _, bad := range []string{`{`, `{"source":"lantau.attendance","detail-type":"Missing","detail":{}}`} {
		_, err = fn.Invoke(ctx, "", []byte(bad))
		require.Error(t, err, bad)
		assert.True(t, strings.Contains(err.Error(), "bad-event") || strings.Contains(err.Error(), "invalid"), "%v", err)
	}
}
