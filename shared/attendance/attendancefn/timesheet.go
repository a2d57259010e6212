package attendancefn

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/lantau-hq/lantau/shared/attendance"
	"github.com/lantau-hq/lantau/shared/httpapi"
	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/identity"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/sheet"
)

// Roster is who a company's timesheet or missing check covers: every
// directory record, and everyone with a punch chain but no record yet (in
// no department), with the shifts that apply to them.
func (s *Service) Roster(ctx context.Context, tenant string, rules attendance.Rules) ([]attendance.Employee, map[attendance.EmployeeID]Person, error) {
	people, err := s.People.Everyone(ctx, tenant)
	if err != nil {
		return nil, nil, err
	}
	heads, err := s.Store.Heads(ctx, tenant)
	if err != nil {
		return nil, nil, err
	}
	byID := make(map[attendance.EmployeeID]Person, len(people)+len(heads))
	for _, p := range people {
		byID[attendance.EmployeeID(p.ID)] = p
	}
	for _, h := range heads {
		if _, ok := byID[h.Employee]; !ok {
			byID[h.Employee] = Person{ID: string(h.Employee), Active: true}
		}
	}
	out := make([]attendance.Employee, 0, len(byID))
	for id, p := range byID {
		out = append(out, attendance.Employee{ID: id, Department: p.Department, Shifts: rules.For(id, p.Department).Shifts})
	}
	slices.SortFunc(out, func(a, b attendance.Employee) int {
		if a.ID < b.ID {
			return -1
		} else if a.ID > b.ID {
			return 1
		}
		return 0
	})
	return out, byID, nil
}

// MonthSheet computes a month's timesheet for the employees keep accepts.
func (s *Service) MonthSheet(ctx context.Context, tenant string, year int, month time.Month, keep func(attendance.Employee) (bool, error)) (attendance.Sheet, map[attendance.EmployeeID]Person, error) {
	rules, err := s.Rules(ctx, tenant)
	if err != nil {
		return attendance.Sheet{}, nil, err
	}
	roster, people, err := s.Roster(ctx, tenant, rules)
	if err != nil {
		return attendance.Sheet{}, nil, err
	}
	var emps []attendance.Employee
	punches := map[attendance.EmployeeID][]attendance.Punch{}
	for _, e := range roster {
		ok, err := keep(e)
		if err != nil {
			return attendance.Sheet{}, nil, err
		}
		if !ok {
			continue
		}
		emps = append(emps, e)
		recs, err := s.Store.Records(ctx, tenant, e.ID)
		if err != nil {
			return attendance.Sheet{}, nil, err
		}
		punches[e.ID] = attendance.Effective(recs)
	}
	return attendance.Timesheet(year, month, emps, rules.Calendar, punches), people, nil
}

// timesheet serves a month's timesheet as JSON, CSV or XLSX:
// ?month=2026-10, optionally &department= (with its sub-departments) or
// &employee=. Employees may read their own; attendance admins those in
// their scope (a department-scoped admin's defaults to their department).
func (a *API) timesheet(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	const op = "attendance.Timesheet"
	if err := signedIn(op, actor); err != nil {
		return err
	}
	q := r.URL.Query()
	m, err := time.Parse("2006-01", q.Get("month"))
	if err != nil {
		return problem.E(op, problem.Invalid, problem.Code("bad-month"), problem.FieldError{Field: "month", Code: "month",
			Message: i18n.Text{EN: "Name the month as YYYY-MM, e.g. 2026-10.", ZH: "請以 YYYY-MM 格式指明月份，例如 2026-10。"}})
	}
	format, err := sheet.FormatOf(r, sheet.JSON)
	if err != nil {
		return err
	}
	ctx := r.Context()
	within := a.People.Within(ctx, actor.Tenant)
	var keep func(attendance.Employee) (bool, error)
	switch emp, dept := q.Get("employee"), q.Get("department"); {
	case emp != "":
		if _, err := employeeParam(op, emp); err != nil {
			return err
		}
		if err := a.selfOrAdmin(ctx, op, actor, emp); err != nil {
			return err
		}
		keep = func(e attendance.Employee) (bool, error) { return string(e.ID) == emp, nil }
	default:
		if dept == "" && actor.Role == identity.RoleAdmin {
			dept = actor.Department
		}
		if dept == "" {
			if !actor.Administers(identity.AreaAttendance) {
				return forbidden(op, textNotAllowed, "not an attendance admin")
			}
			keep = func(attendance.Employee) (bool, error) { return true, nil }
			break
		}
		ok, err := actor.AdministersIn(identity.AreaAttendance, dept, within)
		if err != nil {
			return problem.E(op, problem.Internal, err)
		}
		if !ok {
			return forbidden(op, textOutOfScope, "department "+dept+" outside the admin's")
		}
		keep = func(e attendance.Employee) (bool, error) {
			if e.Department == "" {
				return false, nil
			}
			return within(dept, e.Department)
		}
	}
	sh, people, err := a.MonthSheet(ctx, actor.Tenant, m.Year(), m.Month(), keep)
	if err != nil {
		return err
	}
	if sh.Employees == nil {
		sh.Employees = []attendance.Figures{}
	}
	if sh.Departments == nil {
		sh.Departments = []attendance.Figures{}
	}
	if format == sheet.JSON {
		return httpapi.JSON(w, http.StatusOK, sh)
	}
	return sheet.Serve(w, r, format, "attendance-"+m.Format("2006-01")+" 考勤", TimesheetTable(sh, people), a.XLSX)
}

// TimesheetColumns are the timesheet export's columns.
var TimesheetColumns = []sheet.Column{
	{Header: i18n.Text{EN: "Employee ID", ZH: "員工編號"}},
	{Header: i18n.Text{EN: "Name", ZH: "姓名"}},
	{Header: i18n.Text{EN: "Department", ZH: "部門"}},
	{Header: i18n.Text{EN: "Scheduled shifts", ZH: "排班次數"}, Kind: sheet.Number},
	{Header: i18n.Text{EN: "Scheduled minutes", ZH: "排班分鐘"}, Kind: sheet.Number},
	{Header: i18n.Text{EN: "Present shifts", ZH: "出勤班次"}, Kind: sheet.Number},
	{Header: i18n.Text{EN: "Absences", ZH: "缺勤次數"}, Kind: sheet.Number},
	{Header: i18n.Text{EN: "Worked minutes", ZH: "工作分鐘"}, Kind: sheet.Number},
	{Header: i18n.Text{EN: "Late arrivals", ZH: "遲到次數"}, Kind: sheet.Number},
	{Header: i18n.Text{EN: "Late minutes", ZH: "遲到分鐘"}, Kind: sheet.Number},
	{Header: i18n.Text{EN: "Early leaves", ZH: "早退次數"}, Kind: sheet.Number},
	{Header: i18n.Text{EN: "Early minutes", ZH: "早退分鐘"}, Kind: sheet.Number},
	{Header: i18n.Text{EN: "Overtime minutes", ZH: "加班分鐘"}, Kind: sheet.Number},
	{Header: i18n.Text{EN: "Incomplete shifts", ZH: "打卡不完整班次"}, Kind: sheet.Number},
	{Header: i18n.Text{EN: "Field punches", ZH: "外勤打卡"}, Kind: sheet.Number},
	{Header: i18n.Text{EN: "Flagged punches", ZH: "須覆核打卡"}, Kind: sheet.Number},
}

// TimesheetTable is a sheet as rows: one per employee, then one per
// department (its employee ID empty).
func TimesheetTable(sh attendance.Sheet, people map[attendance.EmployeeID]Person) sheet.Table {
	t := sheet.Table{Name: i18n.Text{EN: "Timesheet", ZH: "考勤表"}, Columns: TimesheetColumns}
	row := func(f attendance.Figures, name string) []any {
		return []any{string(f.Employee), name, f.Department, f.ScheduledShifts, f.ScheduledMinutes, f.PresentShifts, f.Absences,
			f.WorkedMinutes, f.LateArrivals, f.LateMinutes, f.EarlyLeaves, f.EarlyMinutes, f.OvertimeMinutes, f.Incomplete,
			f.FieldPunches, f.FlaggedPunches}
	}
	for _, f := range sh.Employees {
		t.Rows = append(t.Rows, row(f, people[f.Employee].Name))
	}
	for _, f := range sh.Departments {
		t.Rows = append(t.Rows, row(f, ""))
	}
	return t
}
