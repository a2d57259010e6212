package directory

// Off-boarding: on an employee's last day nobody has to remember to lock
// their account. When the leave date has passed, or an admin deactivates
// them, Offboard stops the account (its refresh tokens revoked, its access
// tokens refused by the session check), marks the record, and announces
// EmployeeLeft with the manager who takes over their things, so that the
// capabilities that own share links and files can act on it. Everything
// it does is idempotent: running it again for the same person changes
// nothing and publishes an event with the same ID, which the audit trail
// keeps once.
//
// The leave dates are found without scanning every company: a platform
// index keeps one item per (leave date, company, employee), maintained
// from the directory's own events by IndexLeaveDate (so every writer of
// employee records, the API and the bulk import alike, is covered
// without knowing of it):
//
//	tenant   PK                     SK                  what
//	_lantau  LEAVING#<date>         <company>#<emp>     an active employee leaving on date
//	_lantau  LEAVER#<company>#<emp> P                   the date the index holds for them

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lantau-hq/lantau/shared/event"
	"github.com/lantau-hq/lantau/shared/identity"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/table"
)

// EventEmployeeLeft announces that an employee has left: data.employee,
// data.leaveDate, data.manager (who takes over their files; "" when no
// one is above them), data.reason (a Reason constant).
const EventEmployeeLeft = "EmployeeLeft"

// EventOffboardingBlocked reports an employee who could not be
// off-boarded (a company's last super admins stay): data.employee,
// data.reason.
const EventOffboardingBlocked = "OffboardingBlocked"

// Reasons an employee is off-boarded.
const (
	ReasonLeaveDate          = "leave-date"           // the leave date passed
	ReasonDeactivatedByAdmin = "deactivated-by-admin" // an admin deactivated the record
	ReasonAccountDeactivated = "account-deactivated"  // an admin deactivated the account (identity's route)
)

// OffboardingActor is the actor of the off-boarding job in events.
const OffboardingActor = "system:offboarding"

// systemActor acts for the off-boarding job: it may stop any account
// (super-admin rights), and is named as the job in events.
func systemActor(tenant string) identity.Actor {
	return identity.Actor{Tenant: tenant, User: OffboardingActor, Role: identity.RoleSuperAdmin,
		Scopes: []string{identity.ScopeAPI}}
}

func leavingKey(date, tenant, emp string) table.Key {
	return table.Key{Tenant: identity.PlatformTenant, PK: "LEAVING#" + date, SK: tenant + "#" + emp}
}

func leaverKey(tenant, emp string) table.Key {
	return table.Key{Tenant: identity.PlatformTenant, PK: "LEAVER#" + tenant + "#" + emp, SK: "P"}
}

type leaver struct {
	Date string `json:"date"`
}

// IndexLeaveDate brings the leave-date index in line with tenant's record
// of emp as it is now: an active employee with a leave date is listed
// under that date, anyone else under none. It reads the record rather
// than trusting an event's copy, so events that come twice or out of
// order leave the index right.
func (d *Directory) IndexLeaveDate(ctx context.Context, tenant, emp string) error {
	const op = "directory.IndexLeaveDate"
	for attempt := 1; ; attempt++ {
		e, ok, err := d.Record(ctx, tenant, emp)
		if err != nil {
			return storeErr(op, err)
		}
		want := ""
		if ok && e.Status != StatusDeactivated && e.LeaveDate != "" {
			want = e.LeaveDate
		}
		var cur leaver
		var version int64
		if it, err := d.Store.Get(ctx, leaverKey(tenant, emp)); err == nil {
			if err := json.Unmarshal(it.Data, &cur); err != nil {
				return problem.E(op, problem.Internal, err)
			}
			version = it.Version
		} else if !errors.Is(err, table.ErrNotFound) {
			return storeErr(op, err)
		}
		if cur.Date == want {
			return nil
		}
		var ops []table.Op
		if cur.Date != "" {
			k := leavingKey(cur.Date, tenant, emp)
			ops = append(ops, table.Op{Delete: &k, Condition: table.Always})
		}
		if want != "" {
			idx, err := put(leavingKey(want, tenant, emp), struct{}{}, 1, table.Always)
			if err != nil {
				return problem.E(op, problem.Internal, err)
			}
			ops = append(ops, idx)
		}
		ptr, err := put(leaverKey(tenant, emp), leaver{Date: want}, version+1, ifVersion(version))
		if err != nil {
			return problem.E(op, problem.Internal, err)
		}
		ops = append(ops, ptr)
		err = d.Store.Transact(ctx, ops)
		switch {
		case err == nil:
			return nil
		case isConditionFailed(err) && attempt < maxAttempts:
			continue
		default:
			return storeErr(op, err)
		}
	}
}

// Leaver is an employee of a company listed under a leave date.
type Leaver struct {
	Tenant, Employee, LeaveDate string
}

// Leaving lists the employees whose leave date is date, in every company.
func (d *Directory) Leaving(ctx context.Context, date string) ([]Leaver, error) {
	const op = "directory.Leaving"
	if _, err := time.Parse(DateLayout, date); err != nil {
		return nil, problem.E(op, problem.Invalid, problem.Code("bad-date"), err)
	}
	var out []Leaver
	cursor := ""
	for {
		p, err := d.Store.Query(ctx, table.Query{Tenant: identity.PlatformTenant, PK: "LEAVING#" + date,
			Limit: table.MaxQueryLimit, Cursor: cursor})
		if err != nil {
			return nil, storeErr(op, err)
		}
		for _, it := range p.Items {
			tenant, emp, ok := strings.Cut(it.Key.SK, "#")
			if ok {
				out = append(out, Leaver{Tenant: tenant, Employee: emp, LeaveDate: date})
			}
		}
		if p.Cursor == "" {
			return out, nil
		}
		cursor = p.Cursor
	}
}

// Offboarded is what Offboard did.
type Offboarded struct {
	Employee  string `json:"employee"`
	LeaveDate string `json:"leaveDate"`
	Manager   string `json:"manager"`
	Reason    string `json:"reason"`
	// Changed is false when everything had been done before.
	Changed bool `json:"changed"`
}

// Offboard stops tenant's employee emp for reason (see the file comment).
// An employee whose account is one of the super admins the company must
// keep is not off-boarded: the error says so and OffboardingBlocked is
// published for the audit trail.
func (d *Directory) Offboard(ctx context.Context, tenant, emp, reason string) (Offboarded, error) {
	const op = "directory.Offboard"
	sys := systemActor(tenant)
	out := Offboarded{Employee: emp, Reason: reason}
	account, err := d.Accounts.Account(ctx, tenant, emp)
	if err != nil {
		return out, problem.Wrap(op, err)
	}
	if account.Status != identity.UserDeactivated {
		if _, err := d.Accounts.DeactivateUser(ctx, sys, emp); err != nil {
			if problem.KindOf(err) == problem.Conflict {
				d.publishOnce(ctx, tenant, fmt.Sprintf("offboarding-blocked-%s-%s", emp, d.Now().UTC().Format(DateLayout)),
					EventOffboardingBlocked, map[string]any{"employee": emp, "reason": string(problem.CodeOf(err))})
			}
			return out, problem.Wrap(op, err)
		}
		out.Changed = true
	}
	for attempt := 1; ; attempt++ {
		p, err := d.loadPeople(ctx, tenant)
		if err != nil {
			return out, storeErr(op, err)
		}
		cur := p.byID[emp]
		if cur == nil { // an account without a directory record
			break
		}
		out.LeaveDate = cur.LeaveDate
		if ms := p.managers(cur); len(ms) > 0 {
			out.Manager = ms[0].ID
		}
		if cur.Status == StatusDeactivated {
			break
		}
		e := *cur
		now := d.Now()
		e.Status, e.DeactivatedAt = StatusDeactivated, now.UTC()
		if e.LeaveDate == "" {
			e.LeaveDate = now.In(hongKong).Format(DateLayout)
		}
		empOp, err := put(employeeKey(tenant, emp), e.stored(), cur.Version+1, table.IfVersion(cur.Version))
		if err == nil {
			err = d.Store.Put(ctx, *empOp.Put, empOp.Condition)
		}
		if isConditionFailed(err) && attempt < maxAttempts {
			continue
		} else if err != nil {
			return out, storeErr(op, err)
		}
		out.LeaveDate, out.Changed = e.LeaveDate, true
		d.publish(ctx, tenant, OffboardingActor, EventEmployeeDeactivated, map[string]any{"employee": emp, "leaveDate": e.LeaveDate})
		break
	}
	if out.LeaveDate == "" {
		out.LeaveDate = d.Now().In(hongKong).Format(DateLayout)
	}
	// One EmployeeLeft per person, whatever ran it and however often.
	d.publishOnce(ctx, tenant, "employee-left-"+emp, EventEmployeeLeft, map[string]any{"employee": emp,
		"leaveDate": out.LeaveDate, "manager": out.Manager, "reason": reason})
	if err := d.IndexLeaveDate(ctx, tenant, emp); err != nil {
		return out, problem.Wrap(op, err)
	}
	return out, nil
}

// publishOnce publishes an event with the given ID, so that publishing it
// again is recognised by every consumer (the audit trail keeps it once).
func (d *Directory) publishOnce(ctx context.Context, tenant, id, typ string, data any) {
	e, err := event.New(EventSource, typ, tenant, OffboardingActor, d.Now(), data)
	if err == nil && d.Events != nil {
		e.ID = id
		err = d.Events.Publish(ctx, e)
	}
	if err != nil || d.Events == nil {
		d.Log.ErrorContext(ctx, "directory event not published", "type", typ, "tenant", tenant, "error", fmt.Sprint(err))
	}
}

// OffboardDue off-boards everyone whose leave date is before today (in
// Hong Kong) and within the last days days: a missed run is made up by the
// next. Failures for some employees do not stop the others; they are
// joined in the error.
func (d *Directory) OffboardDue(ctx context.Context, today time.Time, days int) ([]Offboarded, error) {
	var done []Offboarded
	var errs []error
	local := today.In(hongKong)
	for back := days; back >= 1; back-- {
		date := local.AddDate(0, 0, -back).Format(DateLayout)
		leavers, err := d.Leaving(ctx, date)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, l := range leavers {
			// The index may lag a change of the leave date: go by the record.
			e, ok, err := d.Record(ctx, l.Tenant, l.Employee)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if !ok || e.LeaveDate == "" || e.LeaveDate >= local.Format(DateLayout) {
				if err := d.IndexLeaveDate(ctx, l.Tenant, l.Employee); err != nil {
					errs = append(errs, err)
				}
				continue
			}
			o, err := d.Offboard(ctx, l.Tenant, l.Employee, ReasonLeaveDate)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s/%s: %w", l.Tenant, l.Employee, err))
				continue
			}
			done = append(done, o)
		}
	}
	return done, errors.Join(errs...)
}
