package attendancefn

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/lantau-hq/lantau/shared/attendance"
	"github.com/lantau-hq/lantau/shared/audit"
	"github.com/lantau-hq/lantau/shared/audit/auditfn"
	"github.com/lantau-hq/lantau/shared/httpapi"
	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/idempotency"
	"github.com/lantau-hq/lantau/shared/identity"
	"github.com/lantau-hq/lantau/shared/identity/session"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/sheet"
	"github.com/lantau-hq/lantau/shared/table"
)

// Base is the prefix of every attendance route.
const Base = "/v1/attendance"

// API is the attendance HTTP API. Signer and Roots are needed only by the
// admin function (proofs, the public key, the signed roots).
type API struct {
	*Service
	Sessions *identity.Sessions
	Guard    *idempotency.Guard
	Access   *audit.AccessLog
	Signer   SignerSource
	Roots    RootStore
	// XLSX writes timesheets as XLSX (shared/sheet/xlsx.Write); only the
	// timesheet function sets it, so no other binary links the library.
	XLSX sheet.Writer
}

type handlerFunc func(http.ResponseWriter, *http.Request, identity.Actor) error

// route registers a signed-in route: a live session of a full sign-in
// (deactivated users' tokens are refused), the access log and, for POSTs
// with idem set, the Idempotency-Key middleware.
func (a *API) route(mux *http.ServeMux, pattern, op string, idem bool, fn handlerFunc) {
	var h http.Handler = httpapi.Handle(op, func(w http.ResponseWriter, r *http.Request) error {
		ha, _ := httpapi.ActorFrom(r.Context())
		return fn(w, r, identity.ActorFromClaims(ha.Tenant, ha.User, ha.SessionID, ha.Roles, ha.Scopes))
	})
	if idem {
		h = idempotency.Middleware(a.Guard, op, false)(h)
	}
	mux.Handle(pattern, httpapi.RequireActor(auditfn.RecordAccess(a.Access, a.Log)(session.Require(a.Sessions)(h))))
}

// ClockInHandler serves the clock-in function's routes. POST punches are
// idempotent through the domain's own marker in the employee's partition
// (no second write), so the generic middleware is not used there.
func (a *API) ClockInHandler() http.Handler {
	mux := http.NewServeMux()
	a.route(mux, "POST "+Base+"/punches", "attendance.Punch", false, a.punch)
	a.route(mux, "GET "+Base+"/punches", "attendance.Punches", false, a.punches)
	return httpapi.Logging(a.Log)(mux)
}

// AdminHandler serves every other attendance route.
func (a *API) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	a.route(mux, "GET "+Base+"/rules", "attendance.Rules", false, a.getRules)
	a.route(mux, "PUT "+Base+"/sites/{id}", "attendance.SaveSite", false,
		saveRule(a, "attendance.SaveSite", func(s *attendance.Site, id string) { s.ID = id }, a.Store.SaveSite))
	a.route(mux, "DELETE "+Base+"/sites/{id}", "attendance.DeleteSite", false, a.deleteRule("attendance.DeleteSite", "id", a.Store.DeleteSite))
	a.route(mux, "PUT "+Base+"/shifts/{id}", "attendance.SaveShift", false,
		saveRule(a, "attendance.SaveShift", func(s *attendance.Shift, id string) { s.ID = id }, a.Store.SaveShift))
	a.route(mux, "DELETE "+Base+"/shifts/{id}", "attendance.DeleteShift", false, a.deleteRule("attendance.DeleteShift", "id", a.Store.DeleteShift))
	a.route(mux, "PUT "+Base+"/assignments/{id}", "attendance.SaveAssignment", false, a.saveAssignment)
	a.route(mux, "DELETE "+Base+"/assignments/{id}", "attendance.DeleteAssignment", false, a.deleteAssignment)
	a.route(mux, "GET "+Base+"/holidays", "attendance.Holidays", false, a.holidays)
	a.route(mux, "PUT "+Base+"/holidays/{date}", "attendance.SaveHoliday", false, a.saveHoliday)
	a.route(mux, "DELETE "+Base+"/holidays/{date}", "attendance.DeleteHoliday", false, a.deleteRule("attendance.DeleteHoliday", "date", a.Store.DeleteHoliday))
	a.route(mux, "PUT "+Base+"/policy", "attendance.SavePolicy", false, a.savePolicy)
	a.route(mux, "POST "+Base+"/devices/{employee}/rebind", "attendance.RebindDevice", true, a.rebind)
	a.route(mux, "POST "+Base+"/corrections", "attendance.RequestCorrection", true, a.requestCorrection)
	a.route(mux, "GET "+Base+"/corrections", "attendance.Corrections", false, a.corrections)
	a.route(mux, "POST "+Base+"/corrections/{employee}/{id}/decision", "attendance.DecideCorrection", true, a.decideCorrection)
	a.route(mux, "POST "+Base+"/field-punches/{employee}/{seq}/decision", "attendance.ResolveField", true, a.resolveField)
	a.route(mux, "GET "+Base+"/verify", "attendance.Verify", false, a.verify)
	a.route(mux, "GET "+Base+"/proofs/{employee}/{seq}", "attendance.Prove", false, a.prove)
	a.route(mux, "GET "+Base+"/roots/key", "attendance.RootKey", false, a.rootKey)
	a.route(mux, "GET "+Base+"/roots/{date}", "attendance.Root", false, a.root)
	return httpapi.Logging(a.Log)(mux)
}

// SheetHandler serves the timesheets (a function of its own: the XLSX
// writer is most of its binary, which the other routes need not load).
func (a *API) SheetHandler() http.Handler {
	mux := http.NewServeMux()
	a.route(mux, "GET "+Base+"/timesheets", "attendance.Timesheet", false, a.timesheet)
	return httpapi.Logging(a.Log)(mux)
}

var (
	textNotAllowed   = i18n.Text{EN: "You do not have permission to do this.", ZH: "你沒有權限進行此操作。"}
	textOutOfScope   = i18n.Text{EN: "You can only manage attendance of the departments you administer.", ZH: "你只可管理你負責部門的考勤。"}
	textCompanyAdmin = i18n.Text{EN: "Only a company-wide attendance admin can change the company's attendance rules.",
		ZH: "只有全公司的考勤管理員可更改公司的考勤規則。"}
)

func forbidden(op string, msg i18n.Text, why string) error {
	return problem.E(op, problem.Forbidden, problem.Code("forbidden"), msg, why)
}

// signedIn refuses tokens without a tenant and user or of another scope.
func signedIn(op string, a identity.Actor) error {
	if a.Tenant == "" || a.User == "" || !a.HasScope(identity.ScopeAPI) {
		return forbidden(op, textNotAllowed, "no tenant, user or api scope")
	}
	return nil
}

// ruleAdmin allows super admins and company-wide attendance admins.
func ruleAdmin(op string, a identity.Actor) error {
	if err := signedIn(op, a); err != nil {
		return err
	}
	if !a.Administers(identity.AreaAttendance) {
		return forbidden(op, textNotAllowed, "not an attendance admin")
	}
	if a.Role != identity.RoleSuperAdmin && a.Department != "" {
		return forbidden(op, textCompanyAdmin, "department-scoped attendance admin")
	}
	return nil
}

// adminOf allows attendance admins whose scope holds the employee's
// department.
func (a *API) adminOf(ctx context.Context, op string, actor identity.Actor, emp string) error {
	if err := signedIn(op, actor); err != nil {
		return err
	}
	if !actor.Administers(identity.AreaAttendance) {
		return forbidden(op, textNotAllowed, "not an attendance admin")
	}
	p, err := a.People.Person(ctx, actor.Tenant, emp)
	if err != nil {
		return problem.E(op, problem.Internal, err)
	}
	ok, err := actor.AdministersIn(identity.AreaAttendance, p.Department, a.People.Within(ctx, actor.Tenant))
	if err != nil {
		return problem.E(op, problem.Internal, err)
	}
	if !ok {
		return forbidden(op, textOutOfScope, "employee "+emp+" outside the admin's departments")
	}
	return nil
}

// selfOrAdmin allows the employee themself and admins in scope.
func (a *API) selfOrAdmin(ctx context.Context, op string, actor identity.Actor, emp string) error {
	if err := signedIn(op, actor); err != nil {
		return err
	}
	if emp == actor.User {
		return nil
	}
	return a.adminOf(ctx, op, actor, emp)
}

func employeeParam(op, v string) (attendance.EmployeeID, error) {
	if v == "" || len(v) > 200 || strings.ContainsAny(v, "#/ \t\r\n") {
		return "", problem.E(op, problem.Invalid, problem.Code("bad-employee"),
			i18n.Text{EN: "Name a valid employee ID.", ZH: "請提供有效的員工編號。"})
	}
	return attendance.EmployeeID(v), nil
}

func seqParam(op, v string) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		return 0, problem.E(op, problem.Invalid, problem.Code("bad-seq"),
			i18n.Text{EN: "The record number must be a positive whole number.", ZH: "記錄編號必須為正整數。"})
	}
	return n, nil
}

var hongKong = mustZone(attendance.DefaultTimeZone)

func mustZone(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// dateParam reads a calendar date (Hong Kong), or def when empty.
func dateParam(op, field, v string, def time.Time) (time.Time, error) {
	if v == "" {
		return def, nil
	}
	d, err := time.ParseInLocation(time.DateOnly, v, hongKong)
	if err != nil {
		return time.Time{}, problem.E(op, problem.Invalid, problem.Code("bad-date"), problem.FieldError{Field: field, Code: "date",
			Message: i18n.Text{EN: "Write the date as YYYY-MM-DD.", ZH: "請以 YYYY-MM-DD 格式填寫日期。"}})
	}
	return d, nil
}

func isConditionFailed(err error) bool { return errors.Is(err, table.ErrConditionFailed) }
