package attendancefn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/lantau-hq/lantau/shared/attendance"
	"github.com/lantau-hq/lantau/shared/event"
	"github.com/lantau-hq/lantau/shared/problem"
)

// MissingWindow is the period of the missing-punch schedule (template.yaml:
// every 15 minutes): each run checks the shifts whose start plus grace fell
// in the window ending at its scheduled time.
const MissingWindow = 15 * time.Minute

// MissingJob raises attendance.Missing for the people with no clock-in
// for a shift whose start plus flexible and late grace minutes fell in the
// last window. The events' IDs come from the company, the employee and
// that moment, so a re-run (or a retried delivery) adds nothing to the
// audit trail.
type MissingJob struct {
	*Service
	Window time.Duration
}

// Invoke handles a scheduled event (its time ends the window) or
// {"time":"..."} by hand.
func (j *MissingJob) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	const op = "attendance.MissingCheck"
	var in struct {
		Time time.Time `json:"time"`
	}
	if err := json.Unmarshal(payload, &in); err != nil {
		return nil, problem.E(op, problem.Invalid, problem.Code("bad-event"), err)
	}
	at := in.Time
	if at.IsZero() {
		at = j.Now()
	}
	tenants, err := j.Companies(ctx)
	if err != nil {
		return nil, problem.E(op, problem.Internal, err)
	}
	found := map[string][]attendance.EmployeeID{}
	var errs []error
	for _, t := range tenants {
		evs, missing, err := j.Check(ctx, t, at)
		if err == nil && len(evs) > 0 {
			err = j.Events.Publish(ctx, evs...)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", t, err))
			continue
		}
		if len(missing) > 0 {
			found[t] = missing
		}
	}
	if err := errors.Join(errs...); err != nil {
		j.Log.ErrorContext(ctx, "missing-punch check failed for some companies", "error", err.Error())
		return nil, err
	}
	return json.Marshal(map[string]any{"at": at.UTC(), "missing": found})
}

// Check lists the company's people missing a clock-in for a shift whose
// late-after moment fell in (at - Window, at], with their events.
func (j *MissingJob) Check(ctx context.Context, tenant string, at time.Time) ([]event.Envelope, []attendance.EmployeeID, error) {
	window := j.Window
	if window <= 0 {
		window = MissingWindow
	}
	rules, err := j.Rules(ctx, tenant)
	if err != nil {
		return nil, nil, err
	}
	roster, _, err := j.Roster(ctx, tenant, rules)
	if err != nil {
		return nil, nil, err
	}
	heads, err := j.Store.Heads(ctx, tenant)
	if err != nil {
		return nil, nil, err
	}
	headSeq := map[attendance.EmployeeID]int64{}
	for _, h := range heads {
		headSeq[h.Employee] = h.Seq
	}
	var evs []event.Envelope
	var out []attendance.EmployeeID
	for _, e := range roster {
		// The occurrence due in this window, if any.
		var due *attendance.Occurrence
		var shifts []attendance.Shift
		for _, s := range e.Shifts {
			for _, o := range s.Around(at, rules.Calendar) {
				if o.LateAfter.After(at.Add(-window)) && !o.LateAfter.After(at) && at.Before(o.End) {
					o := o
					due = &o
					shifts = append(shifts, s)
				}
			}
		}
		if due == nil {
			continue
		}
		punches, err := j.recentPunches(ctx, tenant, e.ID, headSeq[e.ID], due.Start.Add(-3*time.Hour))
		if err != nil {
			return nil, nil, err
		}
		miss := attendance.Missing(at, []attendance.Rostered{{Employee: e.ID, Shifts: shifts}}, rules.Calendar,
			map[attendance.EmployeeID][]attendance.Punch{e.ID: punches})
		if len(miss) == 0 {
			continue
		}
		ev, err := attendance.MissingEvent(tenant, e.ID, due.LateAfter)
		if err != nil {
			return nil, nil, err
		}
		evs = append(evs, ev)
		out = append(out, e.ID)
	}
	return evs, out, nil
}

// recentPunches reads the employee's chain backwards from its head to the
// first record before since (a few reads: the punches of one day), and
// returns their effective punches.
func (j *MissingJob) recentPunches(ctx context.Context, tenant string, emp attendance.EmployeeID, head int64, since time.Time) ([]attendance.Punch, error) {
	var recs []attendance.Record
	for seq := head; seq >= 1; seq-- {
		r, err := j.Store.Record(ctx, tenant, emp, seq)
		if err != nil {
			return nil, err
		}
		if r.Time.Before(since) {
			break
		}
		recs = append([]attendance.Record{r}, recs...)
	}
	return attendance.Effective(recs), nil
}
