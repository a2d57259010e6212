package attendance

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/table"
)

// A company's set-up lives in one small partition, read whole with one
// query (the clock-in function may cache it for a minute):
//
//	ATT#CONFIG / POLICY, SITE#<id>, SHIFT#<id>, ASSIGN#<id>, HOLIDAY#<date>
const (
	pkConfig    = "ATT#CONFIG"
	skPolicy    = "POLICY"
	skSite      = "SITE#"
	skShift     = "SHIFT#"
	skAssign    = "ASSIGN#"
	skHolidayOv = "HOLIDAY#"
)

func configKey(tenant, sk string) table.Key { return table.Key{Tenant: tenant, PK: pkConfig, SK: sk} }

func (s *Store) putConfig(ctx context.Context, op, tenant, sk string, v any) error {
	if tenant == "" {
		return problem.E(op, problem.Invalid, problem.Code("tenant-missing"), i18n.Text{EN: "A company is required.", ZH: "必須提供公司。"})
	}
	if err := s.t.Put(ctx, table.Item{Key: configKey(tenant, sk), Version: 1, Data: mustJSON(v)}, table.Always); err != nil {
		return problem.E(op, problem.Internal, err)
	}
	return nil
}

func (s *Store) deleteConfig(ctx context.Context, op, tenant, sk string) error {
	err := s.t.Delete(ctx, configKey(tenant, sk), table.IfExists)
	if errors.Is(err, table.ErrConditionFailed) {
		return problem.E(op, problem.NotFound, problem.Code("attendance-setting-not-found"), i18n.Text{
			EN: "There is no such attendance setting in your company.", ZH: "你的公司沒有此考勤設定。",
		}, "nothing at "+sk)
	}
	if err != nil {
		return problem.E(op, problem.Internal, err)
	}
	return nil
}

// SavePolicy sets the company's clock-in policy.
func (s *Store) SavePolicy(ctx context.Context, tenant string, p Policy) error {
	return s.putConfig(ctx, "attendance.SavePolicy", tenant, skPolicy, p)
}

// Policy reads the company's policy alone (one read; the defaults are
// not filled in).
func (s *Store) Policy(ctx context.Context, tenant string) (Policy, error) {
	var p Policy
	it, err := s.t.Get(ctx, configKey(tenant, skPolicy))
	if errors.Is(err, table.ErrNotFound) {
		return p, nil
	} else if err != nil {
		return p, problem.E("attendance.Policy", problem.Internal, err)
	}
	if err := json.Unmarshal(it.Data, &p); err != nil {
		return p, problem.E("attendance.Policy", problem.Internal, err)
	}
	return p, nil
}

// SaveSite validates, normalises and saves a site.
func (s *Store) SaveSite(ctx context.Context, tenant string, site Site) (Site, error) {
	site, err := site.Normalize()
	if err != nil {
		return site, err
	}
	return site, s.putConfig(ctx, "attendance.SaveSite", tenant, skSite+site.ID, site)
}

// DeleteSite removes a site.
func (s *Store) DeleteSite(ctx context.Context, tenant, id string) error {
	return s.deleteConfig(ctx, "attendance.DeleteSite", tenant, skSite+id)
}

// SaveShift validates and saves a shift.
func (s *Store) SaveShift(ctx context.Context, tenant string, sh Shift) (Shift, error) {
	sh, err := sh.Normalize()
	if err != nil {
		return sh, err
	}
	return sh, s.putConfig(ctx, "attendance.SaveShift", tenant, skShift+sh.ID, sh)
}

// DeleteShift removes a shift.
func (s *Store) DeleteShift(ctx context.Context, tenant, id string) error {
	return s.deleteConfig(ctx, "attendance.DeleteShift", tenant, skShift+id)
}

// SaveAssignment saves which sites and shifts apply to a department or
// an employee.
func (s *Store) SaveAssignment(ctx context.Context, tenant string, a Assignment) error {
	const op = "attendance.SaveAssignment"
	if a.ID == "" || (a.Department == "") == (a.Employee == "") {
		return problem.E(op, problem.Invalid, problem.Code("bad-assignment"), i18n.Text{EN: "An assignment needs an ID and either a department or an employee.", ZH: "指派需要編號，並須指明部門或員工其中之一。"})
	}
	return s.putConfig(ctx, op, tenant, skAssign+a.ID, a)
}

// DeleteAssignment removes an assignment.
func (s *Store) DeleteAssignment(ctx context.Context, tenant, id string) error {
	return s.deleteConfig(ctx, "attendance.DeleteAssignment", tenant, skAssign+id)
}

// SaveHoliday records a company's holiday override: a holiday added or
// renamed, or (Removed) a shipped one taken away.
func (s *Store) SaveHoliday(ctx context.Context, tenant string, h Holiday) error {
	if err := ValidateHoliday(h); err != nil {
		return err
	}
	return s.putConfig(ctx, "attendance.SaveHoliday", tenant, skHolidayOv+h.Date, h)
}

// DeleteHoliday drops the company's override for the date (the shipped
// calendar applies again).
func (s *Store) DeleteHoliday(ctx context.Context, tenant, date string) error {
	return s.deleteConfig(ctx, "attendance.DeleteHoliday", tenant, skHolidayOv+date)
}

// Rules reads the company's set-up; the calendar is the shipped Hong Kong
// holidays with the company's overrides.
func (s *Store) Rules(ctx context.Context, tenant string) (Rules, error) {
	const op = "attendance.Rules"
	var r Rules
	var overrides []Holiday
	cursor := ""
	for {
		p, err := s.t.Query(ctx, table.Query{Tenant: tenant, PK: pkConfig, Limit: table.MaxQueryLimit, Cursor: cursor})
		if err != nil {
			return Rules{}, problem.E(op, problem.Internal, err)
		}
		for _, it := range p.Items {
			var err error
			switch {
			case it.SK == skPolicy:
				err = json.Unmarshal(it.Data, &r.Policy)
			case strings.HasPrefix(it.SK, skSite):
				var v Site
				err = json.Unmarshal(it.Data, &v)
				r.Sites = append(r.Sites, v)
			case strings.HasPrefix(it.SK, skShift):
				var v Shift
				err = json.Unmarshal(it.Data, &v)
				r.Shifts = append(r.Shifts, v)
			case strings.HasPrefix(it.SK, skAssign):
				var v Assignment
				err = json.Unmarshal(it.Data, &v)
				r.Assignments = append(r.Assignments, v)
			case strings.HasPrefix(it.SK, skHolidayOv):
				var v Holiday
				err = json.Unmarshal(it.Data, &v)
				overrides = append(overrides, v)
			}
			if err != nil {
				return Rules{}, problem.E(op, problem.Internal, err)
			}
		}
		if p.Cursor == "" {
			break
		}
		cursor = p.Cursor
	}
	r.Calendar = NewCalendar(HongKongHolidays(), overrides...)
	return r, nil
}
