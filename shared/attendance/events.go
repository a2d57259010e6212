package attendance

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/lantau-hq/lantau/shared/event"
)

// Events this package raises; the EventBridge source is EventSource and the
// detail-type the constant.
const (
	EventSource = "lantau.attendance"

	EventLate               = "Late"               // attendance.Late: a late clock-in
	EventEarlyLeave         = "EarlyLeave"         // an early clock-out
	EventPunchFlagged       = "PunchFlagged"       // a flagged or refused punch, for admins
	EventFieldPunchPending  = "FieldPunchPending"  // for the employee's manager to approve
	EventMissing            = "Missing"            // attendance.Missing: no clock-in after start + grace
	EventFieldPunchResolved = "FieldPunchResolved" // a field punch approved or rejected, for the employee
)

// PunchEventData is the data of the punch events.
type PunchEventData struct {
	Employee EmployeeID `json:"employee"`
	Seq      int64      `json:"seq"`
	Hash     string     `json:"hash"`
	Kind     Kind       `json:"kind"`
	Outcome  Outcome    `json:"outcome"`
	Site     string     `json:"site,omitempty"`
	Shift    string     `json:"shift,omitempty"`
	Date     string     `json:"date,omitempty"`
	LateMin  int        `json:"lateMin,omitempty"`
	EarlyMin int        `json:"earlyMin,omitempty"`
	Reasons  []string   `json:"reasons"` // codes
	Time     time.Time  `json:"time"`
}

// eventID is deterministic, so that publishing again after a replayed
// punch (the first attempt may have died before publishing) gives the
// same IDs, which consumers deduplicate.
func eventID(at time.Time, parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s|", len(p), p)
	}
	return fmt.Sprintf("%012x%s", at.UnixMilli(), hex.EncodeToString(h.Sum(nil))[:16])
}

// PunchEvents are the events a recorded punch raises (none for a plain
// accepted punch). The caller publishes them after Store.Punch, also when
// the punch was replayed.
func PunchEvents(rec Record, actor string) ([]event.Envelope, error) {
	if rec.Type != TypePunch || rec.Decision == nil || rec.Request == nil {
		return nil, nil
	}
	d := rec.Decision
	data := PunchEventData{Employee: rec.Employee, Seq: rec.Seq, Hash: rec.Hash, Kind: rec.Request.Kind, Outcome: d.Outcome,
		Site: d.Site, LateMin: d.LateMin, EarlyMin: d.EarlyMin, Reasons: []string{}, Time: rec.Time}
	if d.Shift != nil {
		data.Shift, data.Date = d.Shift.Shift, d.Shift.Date
	}
	for _, r := range d.Reasons {
		data.Reasons = append(data.Reasons, r.Code)
	}
	var types []string
	if d.Late && d.Outcome.Counts() {
		types = append(types, EventLate)
	}
	if d.EarlyLeave && d.Outcome.Counts() {
		types = append(types, EventEarlyLeave)
	}
	if d.Outcome == Flagged || d.Outcome == Refused || d.Flagged() {
		types = append(types, EventPunchFlagged)
	}
	if d.Outcome == PendingField {
		types = append(types, EventFieldPunchPending)
	}
	out := make([]event.Envelope, 0, len(types))
	for _, typ := range types {
		e, err := envelope(typ, rec.Tenant, actor, rec.Time, data, string(rec.Employee), fmt.Sprint(rec.Seq))
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// FieldResolvedEventData is the data of FieldPunchResolved.
type FieldResolvedEventData struct {
	Employee   EmployeeID `json:"employee"`
	Seq        int64      `json:"seq"`        // the field punch's
	Kind       Kind       `json:"kind"`       // the field punch's direction
	PunchTime  time.Time  `json:"punchTime"`  // when the field punch was made
	Resolution int64      `json:"resolution"` // the resolution record's seq
	Approved   bool       `json:"approved"`
	By         string     `json:"by"`
	Note       string     `json:"note,omitempty"`
}

// FieldResolvedEvent is the event of punch (a field punch) resolved by res
// (its resolution record). Its ID follows the punch, so a replayed
// publication is one event.
func FieldResolvedEvent(punch, res Record) (event.Envelope, error) {
	if res.Resolution == nil || res.Refers == nil || punch.Request == nil {
		return event.Envelope{}, fmt.Errorf("field resolved event: %d is not a resolution of a punch", res.Seq)
	}
	data := FieldResolvedEventData{Employee: punch.Employee, Seq: punch.Seq, Kind: punch.Request.Kind, PunchTime: punch.Time.UTC(),
		Resolution: res.Seq, Approved: res.Resolution.Approved, By: res.Resolution.By, Note: res.Resolution.Note}
	return envelope(EventFieldPunchResolved, res.Tenant, res.Resolution.By, res.Time, data, string(punch.Employee), fmt.Sprint(punch.Seq))
}

// MissingEventData is the data of attendance.Missing.
type MissingEventData struct {
	Employee EmployeeID `json:"employee"`
	At       time.Time  `json:"at"`
}

// MissingEvent is the event for an employee Missing found at `at`.
func MissingEvent(tenant string, emp EmployeeID, at time.Time) (event.Envelope, error) {
	return envelope(EventMissing, tenant, "system:attendance-missing", at, MissingEventData{Employee: emp, At: at.UTC()}, string(emp), at.UTC().Format(time.RFC3339))
}

func envelope(typ, tenant, actor string, at time.Time, data any, parts ...string) (event.Envelope, error) {
	e, err := event.New(EventSource, typ, tenant, actor, at, data)
	if err != nil {
		return e, err
	}
	e.ID = eventID(at, append([]string{tenant, typ}, parts...)...)
	return e, nil
}
