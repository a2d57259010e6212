package attendancefn

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/lantau-hq/lantau/shared/attendance"
	"github.com/lantau-hq/lantau/shared/event"
	"github.com/lantau-hq/lantau/shared/httpapi"
	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/identity"
	"github.com/lantau-hq/lantau/shared/problem"
)

// getRules shows the company's set-up to attendance admins.
func (a *API) getRules(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	const op = "attendance.Rules"
	if err := signedIn(op, actor); err != nil {
		return err
	}
	if !actor.Administers(identity.AreaAttendance) {
		return forbidden(op, textNotAllowed, "not an attendance admin")
	}
	rules, err := a.Store.Rules(r.Context(), actor.Tenant)
	if err != nil {
		return err
	}
	return httpapi.JSON(w, http.StatusOK, map[string]any{"policy": rules.Policy, "effectivePolicy": rules.Policy.WithDefaults(),
		"sites": nonNil(rules.Sites), "shifts": nonNil(rules.Shifts), "assignments": nonNil(rules.Assignments)})
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// changed forgets this instance's cached rules and indexes the company.
func (a *API) changed(r *http.Request, tenant string) {
	a.forget(tenant)
	if err := a.markCompany(r.Context(), tenant); err != nil {
		a.Log.ErrorContext(r.Context(), "company not indexed", "tenant", tenant, "error", err.Error())
	}
}

// saveRule serves PUT of a company-wide setting kept by save (sites,
// shifts): the path's {id} names it.
func saveRule[T any](a *API, op string, setID func(*T, string), save func(context.Context, string, T) (T, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
		if err := ruleAdmin(op, actor); err != nil {
			return err
		}
		var in T
		if err := httpapi.Decode(w, r, &in); err != nil {
			return err
		}
		setID(&in, r.PathValue("id"))
		saved, err := save(r.Context(), actor.Tenant, in)
		if err != nil {
			return err
		}
		a.changed(r, actor.Tenant)
		return httpapi.JSON(w, http.StatusOK, saved)
	}
}

// deleteRule serves DELETE of a company-wide setting (site, shift, holiday
// override) named by the path value param.
func (a *API) deleteRule(op, param string, del func(context.Context, string, string) error) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
		if err := ruleAdmin(op, actor); err != nil {
			return err
		}
		if err := del(r.Context(), actor.Tenant, r.PathValue(param)); err != nil {
			return err
		}
		a.changed(r, actor.Tenant)
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// assignmentAdmin allows company-wide admins any assignment, and a
// department-scoped admin assignments of departments (or employees) in
// their subtree.
func (a *API) assignmentAdmin(r *http.Request, op string, actor identity.Actor, as attendance.Assignment) error {
	if err := signedIn(op, actor); err != nil {
		return err
	}
	if !actor.Administers(identity.AreaAttendance) {
		return forbidden(op, textNotAllowed, "not an attendance admin")
	}
	if as.Employee != "" {
		return a.adminOf(r.Context(), op, actor, string(as.Employee))
	}
	ok, err := actor.AdministersIn(identity.AreaAttendance, as.Department, a.People.Within(r.Context(), actor.Tenant))
	if err != nil {
		return problem.E(op, problem.Internal, err)
	}
	if !ok {
		return forbidden(op, textOutOfScope, "department "+as.Department+" outside the admin's")
	}
	return nil
}

func (a *API) saveAssignment(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	const op = "attendance.SaveAssignment"
	var in attendance.Assignment
	if err := httpapi.Decode(w, r, &in); err != nil {
		return err
	}
	in.ID = r.PathValue("id")
	if err := a.assignmentAdmin(r, op, actor, in); err != nil {
		return err
	}
	if err := a.Store.SaveAssignment(r.Context(), actor.Tenant, in); err != nil {
		return err
	}
	a.changed(r, actor.Tenant)
	return httpapi.JSON(w, http.StatusOK, in)
}

func (a *API) deleteAssignment(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	const op = "attendance.DeleteAssignment"
	rules, err := a.Store.Rules(r.Context(), actor.Tenant)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	var found *attendance.Assignment
	for i := range rules.Assignments {
		if rules.Assignments[i].ID == id {
			found = &rules.Assignments[i]
		}
	}
	if found == nil {
		if err := ruleAdmin(op, actor); err != nil {
			return err
		}
	} else if err := a.assignmentAdmin(r, op, actor, *found); err != nil {
		return err
	}
	if err := a.Store.DeleteAssignment(r.Context(), actor.Tenant, id); err != nil {
		return err
	}
	a.changed(r, actor.Tenant)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// holidays lists the company's calendar (shipped Hong Kong holidays with
// its overrides) to anyone of the company.
func (a *API) holidays(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	if err := signedIn("attendance.Holidays", actor); err != nil {
		return err
	}
	rules, err := a.Store.Rules(r.Context(), actor.Tenant)
	if err != nil {
		return err
	}
	return httpapi.JSON(w, http.StatusOK, map[string]any{"holidays": nonNil(rules.Calendar.Holidays())})
}

func (a *API) saveHoliday(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	if err := ruleAdmin("attendance.SaveHoliday", actor); err != nil {
		return err
	}
	var in attendance.Holiday
	if err := httpapi.Decode(w, r, &in); err != nil {
		return err
	}
	in.Date = r.PathValue("date")
	if err := a.Store.SaveHoliday(r.Context(), actor.Tenant, in); err != nil {
		return err
	}
	a.changed(r, actor.Tenant)
	return httpapi.JSON(w, http.StatusOK, in)
}

func (a *API) savePolicy(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	if err := ruleAdmin("attendance.SavePolicy", actor); err != nil {
		return err
	}
	var in attendance.Policy
	if err := httpapi.Decode(w, r, &in); err != nil {
		return err
	}
	if err := a.Store.SavePolicy(r.Context(), actor.Tenant, in); err != nil {
		return err
	}
	a.changed(r, actor.Tenant)
	return httpapi.JSON(w, http.StatusOK, map[string]any{"policy": in, "effectivePolicy": in.WithDefaults()})
}

// rebind binds another device (or, with "", none: the next punch's device
// binds) to an employee in the admin's scope.
func (a *API) rebind(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	const op = "attendance.RebindDevice"
	emp, err := employeeParam(op, r.PathValue("employee"))
	if err != nil {
		return err
	}
	if err := a.adminOf(r.Context(), op, actor, string(emp)); err != nil {
		return err
	}
	var in struct {
		DeviceID string `json:"deviceId"`
	}
	if err := httpapi.Decode(w, r, &in); err != nil {
		return err
	}
	if len(in.DeviceID) > 200 {
		return problem.E(op, problem.Invalid, problem.Code("bad-device"), msg("A device ID has at most 200 characters.", "裝置編號最多 200 字元。"))
	}
	if err := a.Store.RebindDevice(r.Context(), actor.Tenant, emp, in.DeviceID); err != nil {
		return err
	}
	return httpapi.JSON(w, http.StatusOK, map[string]any{"employee": emp, "deviceId": in.DeviceID})
}

func newID(prefix string) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// requestCorrection files a correction request: an employee for
// themself, or an admin for an employee in scope.
func (a *API) requestCorrection(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	const op = "attendance.RequestCorrection"
	var in struct {
		Employee string                      `json:"employee"`
		Action   attendance.CorrectionAction `json:"action"`
		Original int64                       `json:"original"`
		Kind     attendance.Kind             `json:"kind"`
		At       time.Time                   `json:"at"`
		Reason   string                      `json:"reason"`
	}
	if err := httpapi.Decode(w, r, &in); err != nil {
		return err
	}
	if in.Employee == "" {
		in.Employee = actor.User
	}
	emp, err := employeeParam(op, in.Employee)
	if err != nil {
		return err
	}
	if err := a.selfOrAdmin(r.Context(), op, actor, string(emp)); err != nil {
		return err
	}
	if len(in.Reason) > 500 {
		return problem.E(op, problem.Invalid, problem.Code("reason-too-long"), msg("A reason has at most 500 bytes.", "原因最多 500 位元組。"))
	}
	req, err := a.Store.RequestCorrection(r.Context(), actor.Tenant, attendance.CorrectionRequest{
		ID: newID("cr-"), Employee: emp, Original: in.Original,
		Correction: attendance.Correction{Action: in.Action, Kind: in.Kind, At: in.At.UTC(), Reason: in.Reason, RequestedBy: actor.User},
	})
	if err != nil {
		return err
	}
	return httpapi.JSON(w, http.StatusCreated, req)
}

func (a *API) corrections(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	const op = "attendance.Corrections"
	who := r.URL.Query().Get("employee")
	if who == "" {
		who = actor.User
	}
	emp, err := employeeParam(op, who)
	if err != nil {
		return err
	}
	if err := a.selfOrAdmin(r.Context(), op, actor, string(emp)); err != nil {
		return err
	}
	list, err := a.Store.CorrectionRequests(r.Context(), actor.Tenant, emp)
	if err != nil {
		return err
	}
	return httpapi.JSON(w, http.StatusOK, map[string]any{"corrections": nonNil(list)})
}

type decisionIn struct {
	Approve *bool  `json:"approve"`
	Note    string `json:"note"`
}

func decodeDecision(w http.ResponseWriter, r *http.Request, op string) (decisionIn, error) {
	var in decisionIn
	if err := httpapi.Decode(w, r, &in); err != nil {
		return in, err
	}
	if in.Approve == nil {
		return in, problem.E(op, problem.Invalid, problem.Code("decision-missing"), problem.FieldError{Field: "approve", Code: "required",
			Message: i18n.Text{EN: "Say true to approve or false to reject.", ZH: "請以 true 表示批准，false 表示拒絕。"}})
	}
	if len(in.Note) > 500 {
		return in, problem.E(op, problem.Invalid, problem.Code("note-too-long"), msg("A note has at most 500 bytes.", "備註最多 500 位元組。"))
	}
	return in, nil
}

// managerOrAdmin allows the employee's nearest manager and admins in
// scope; never the employee themself.
func (a *API) managerOrAdmin(r *http.Request, op string, actor identity.Actor, emp string) error {
	if err := signedIn(op, actor); err != nil {
		return err
	}
	if actor.User == emp && actor.Role != identity.RoleSuperAdmin {
		return forbidden(op, msg("You cannot decide on your own attendance.", "你不可審批自己的考勤。"), "own record")
	}
	ms, err := a.People.Managers(r.Context(), actor.Tenant, emp)
	if err == nil && len(ms) > 0 && ms[0] == actor.User {
		return nil
	}
	return a.adminOf(r.Context(), op, actor, emp)
}

func (a *API) decideCorrection(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	const op = "attendance.DecideCorrection"
	emp, err := employeeParam(op, r.PathValue("employee"))
	if err != nil {
		return err
	}
	if err := a.managerOrAdmin(r, op, actor, string(emp)); err != nil {
		return err
	}
	in, err := decodeDecision(w, r, op)
	if err != nil {
		return err
	}
	req, err := a.Store.DecideCorrection(r.Context(), actor.Tenant, emp, r.PathValue("id"), actor.User, *in.Approve)
	if err != nil {
		return err
	}
	return httpapi.JSON(w, http.StatusOK, req)
}

// resolveField approves or rejects a pending field punch: the employee's
// manager or an attendance admin in scope.
func (a *API) resolveField(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	const op = "attendance.ResolveField"
	emp, err := employeeParam(op, r.PathValue("employee"))
	if err != nil {
		return err
	}
	seq, err := seqParam(op, r.PathValue("seq"))
	if err != nil {
		return err
	}
	if err := a.managerOrAdmin(r, op, actor, string(emp)); err != nil {
		return err
	}
	in, err := decodeDecision(w, r, op)
	if err != nil {
		return err
	}
	rec, punch, err := a.Store.ResolveField(r.Context(), actor.Tenant, emp, seq, actor.User, *in.Approve, in.Note)
	if err != nil {
		return err
	}
	// The employee hears of it (attendancenotify) and the audit trail keeps it.
	if e, err := attendance.FieldResolvedEvent(punch, rec); err != nil {
		a.Log.ErrorContext(r.Context(), "field punch resolution not published", "error", err.Error())
	} else {
		a.publish(r.Context(), []event.Envelope{e})
	}
	return httpapi.JSON(w, http.StatusOK, viewRecord(rec, i18n.FromRequest(r)))
}
