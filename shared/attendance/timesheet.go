package attendance

import (
	"slices"
	"sort"
	"time"
)

// Punch is a punch as it counts for timesheets, corrections and
// resolutions applied (see Effective).
type Punch struct {
	Employee EmployeeID `json:"employee"`
	Seq      int64      `json:"seq"` // the record it comes from
	Kind     Kind       `json:"kind"`
	Time     time.Time  `json:"time"`
	Counts   bool       `json:"counts"`  // accepted, flagged, approved field, or corrected in
	Field    bool       `json:"field"`   // made outside every site
	Flagged  bool       `json:"flagged"` // flagged or refused when made
	Pending  bool       `json:"pending"` // a field punch not yet resolved
}

// Effective reads an employee's chain records (in order) into the punches
// as they count: a refused punch never counts; a field punch counts once
// approved; an approved correction replaces, voids or adds a punch. The
// result is in time order.
func Effective(records []Record) []Punch {
	var out []Punch
	at := map[int64]int{} // seq -> index in out
	for _, r := range records {
		switch r.Type {
		case TypePunch:
			if r.Request == nil || r.Decision == nil {
				continue
			}
			d := r.Decision
			at[r.Seq] = len(out)
			out = append(out, Punch{
				Employee: r.Employee, Seq: r.Seq, Kind: r.Request.Kind, Time: r.Time,
				Counts: d.Outcome.Counts(), Field: d.Field, Flagged: d.Flagged() || d.Outcome == Refused,
				Pending: d.Outcome == PendingField,
			})
		case TypeResolution:
			if r.Refers == nil || r.Resolution == nil {
				continue
			}
			if i, ok := at[r.Refers.Seq]; ok && out[i].Pending {
				out[i].Pending = false
				out[i].Counts = r.Resolution.Approved
			}
		case TypeCorrection:
			c := r.Correction
			if c == nil {
				continue
			}
			if c.Action == Add {
				out = append(out, Punch{Employee: r.Employee, Seq: r.Seq, Kind: c.Kind, Time: c.At.UTC(), Counts: true})
				continue
			}
			if r.Refers == nil {
				continue
			}
			i, ok := at[r.Refers.Seq]
			if !ok {
				continue
			}
			switch c.Action {
			case Replace:
				out[i].Kind, out[i].Time, out[i].Counts, out[i].Pending = c.Kind, c.At.UTC(), true, false
			case Void:
				out[i].Counts, out[i].Pending = false, false
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out
}

// Employee is one person on a timesheet with the shifts that apply to them
// (Rules.For).
type Employee struct {
	ID         EmployeeID `json:"id"`
	Department string     `json:"department"`
	Shifts     []Shift    `json:"shifts"`
}

// Figures are one employee's (or, with Employee empty, one department's)
// month. Minutes are whole minutes, rounded down per shift.
type Figures struct {
	Employee         EmployeeID `json:"employee,omitempty"`
	Department       string     `json:"department"`
	ScheduledShifts  int        `json:"scheduledShifts"`
	ScheduledMinutes int        `json:"scheduledMinutes"`
	PresentShifts    int        `json:"presentShifts"`
	Absences         int        `json:"absences"`
	WorkedMinutes    int        `json:"workedMinutes"`
	LateArrivals     int        `json:"lateArrivals"`
	LateMinutes      int        `json:"lateMinutes"`
	EarlyLeaves      int        `json:"earlyLeaves"`
	EarlyMinutes     int        `json:"earlyMinutes"`
	OvertimeMinutes  int        `json:"overtimeMinutes"`
	Incomplete       int        `json:"incomplete"` // a shift with a clock-in but no clock-out, or the reverse
	FieldPunches     int        `json:"fieldPunches"`
	FlaggedPunches   int        `json:"flaggedPunches"`
}

func (f *Figures) add(g Figures) {
	f.ScheduledShifts += g.ScheduledShifts
	f.ScheduledMinutes += g.ScheduledMinutes
	f.PresentShifts += g.PresentShifts
	f.Absences += g.Absences
	f.WorkedMinutes += g.WorkedMinutes
	f.LateArrivals += g.LateArrivals
	f.LateMinutes += g.LateMinutes
	f.EarlyLeaves += g.EarlyLeaves
	f.EarlyMinutes += g.EarlyMinutes
	f.OvertimeMinutes += g.OvertimeMinutes
	f.Incomplete += g.Incomplete
	f.FieldPunches += g.FieldPunches
	f.FlaggedPunches += g.FlaggedPunches
}

// Sheet is a month's timesheet.
type Sheet struct {
	Year        int        `json:"year"`
	Month       time.Month `json:"month"`
	Employees   []Figures  `json:"employees"`   // in the order given
	Departments []Figures  `json:"departments"` // by department name
}

// Windows within which a punch belongs to a shift occurrence (the
// defaults of Policy.EarlyWindowMin and LateWindowMin).
const (
	sheetEarly = 180 * time.Minute
	sheetLate  = 360 * time.Minute
)

// Timesheet computes the month's figures. For each shift occurrence
// starting in the month (a shift occurs on its weekdays that are not
// public holidays; an overnight shift belongs to the day it starts), the
// counting punches within [start - 3 h, end + 6 h] are assigned to it
// (each to the nearest occurrence):
//
//   - no punch: an absence;
//   - a clock-in but no clock-out (or the reverse): present, incomplete,
//     no hours;
//   - otherwise worked = last clock-out - first clock-in; late when the
//     clock-in is after the latest start (start + flex) plus the late
//     grace, by the minutes after the latest start; the end moves by how
//     far into the flexible window the clock-in was; an early leave when
//     the clock-out is before that end less the early grace, by the
//     minutes before the end; overtime is the time after that end.
//
// Counting punches outside every occurrence (work on a rest day or a
// public holiday) are paired in order, clock-in then the next clock-out
// within 16 hours, and count as worked and as overtime. Field and flagged
// punches are counted by the month of their time in Hong Kong. punches are
// each employee's Effective punches; pass the first days of the next
// month too so that a night shift on the last day is complete.
func Timesheet(year int, month time.Month, employees []Employee, cal Calendar, punches map[EmployeeID][]Punch) Sheet {
	sheet := Sheet{Year: year, Month: month, Employees: make([]Figures, 0, len(employees))}
	depts := map[string]*Figures{}
	hk, _ := loadZone(DefaultTimeZone)
	for _, e := range employees {
		f := employeeMonth(year, month, e, cal, punches[e.ID], hk)
		sheet.Employees = append(sheet.Employees, f)
		d := depts[e.Department]
		if d == nil {
			d = &Figures{Department: e.Department}
			depts[e.Department] = d
		}
		d.add(f)
	}
	for _, d := range depts {
		sheet.Departments = append(sheet.Departments, *d)
	}
	sort.Slice(sheet.Departments, func(i, j int) bool { return sheet.Departments[i].Department < sheet.Departments[j].Department })
	return sheet
}

type shiftOcc struct {
	Occurrence
	shift   Shift
	inMonth bool // false: the previous month's last day, there to claim its punches
}

func employeeMonth(year int, month time.Month, e Employee, cal Calendar, ps []Punch, hk *time.Location) Figures {
	f := Figures{Employee: e.ID, Department: e.Department}
	var occs []shiftOcc
	for _, s := range e.Shifts {
		days := time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC).Day()
		for d := 0; d <= days; d++ {
			if o, ok := s.On(year, month, d, cal); ok {
				occs = append(occs, shiftOcc{o, s, d > 0})
			}
		}
	}
	sort.Slice(occs, func(i, j int) bool { return occs[i].Start.Before(occs[j].Start) })

	monthStart := time.Date(year, month, 1, 0, 0, 0, 0, hk)
	monthEnd := monthStart.AddDate(0, 1, 0)
	assigned := make([][]Punch, len(occs))
	var loose []Punch
	for _, p := range ps {
		inMonth := !p.Time.Before(monthStart) && p.Time.Before(monthEnd)
		if inMonth && p.Field {
			f.FieldPunches++
		}
		if inMonth && p.Flagged {
			f.FlaggedPunches++
		}
		if !p.Counts {
			continue
		}
		best, bestGap := -1, time.Duration(1<<62)
		for i, o := range occs {
			if p.Time.Before(o.Start.Add(-sheetEarly)) || p.Time.After(o.End.Add(sheetLate)) {
				continue
			}
			anchor := o.Start
			if p.Kind == Out {
				anchor = o.End
			}
			if gap := absDur(p.Time.Sub(anchor)); gap < bestGap {
				best, bestGap = i, gap
			}
		}
		if best >= 0 {
			assigned[best] = append(assigned[best], p)
		} else if inMonth {
			loose = append(loose, p)
		}
	}

	for i, o := range occs {
		if !o.inMonth {
			continue
		}
		f.ScheduledShifts++
		f.ScheduledMinutes += int(o.Duration().Minutes())
		var in, out *Punch
		for j := range assigned[i] {
			p := &assigned[i][j]
			if p.Kind == In && (in == nil || p.Time.Before(in.Time)) {
				in = p
			}
		}
		for j := range assigned[i] {
			p := &assigned[i][j]
			if p.Kind == Out && (in == nil || p.Time.After(in.Time)) && (out == nil || p.Time.After(out.Time)) {
				out = p
			}
		}
		switch {
		case len(assigned[i]) == 0:
			f.Absences++
			continue
		case in == nil || out == nil:
			f.PresentShifts++
			f.Incomplete++
			continue
		}
		f.PresentShifts++
		f.WorkedMinutes += int(out.Time.Sub(in.Time).Minutes())
		if in.Time.After(o.LateAfter) {
			f.LateArrivals++
			f.LateMinutes += int(in.Time.Sub(o.LatestStart).Minutes())
		}
		end := o.End.Add(flexShift(o.Occurrence, o.shift, in.Time))
		if out.Time.Before(end.Add(-time.Duration(o.shift.EarlyGraceMin) * time.Minute)) {
			f.EarlyLeaves++
			f.EarlyMinutes += int(end.Sub(out.Time).Minutes())
		}
		if out.Time.After(end) {
			f.OvertimeMinutes += int(out.Time.Sub(end).Minutes())
		}
	}

	slices.SortFunc(loose, func(a, b Punch) int { return a.Time.Compare(b.Time) })
	for i := 0; i+1 < len(loose); i++ {
		a, b := loose[i], loose[i+1]
		if a.Kind == In && b.Kind == Out && b.Time.Sub(a.Time) <= 16*time.Hour {
			m := int(b.Time.Sub(a.Time).Minutes())
			f.WorkedMinutes += m
			f.OvertimeMinutes += m
			i++
		}
	}
	return f
}

// Rostered is an employee expected at work, with their shifts.
type Rostered struct {
	Employee EmployeeID `json:"employee"`
	Shifts   []Shift    `json:"shifts"`
}

// Missing lists, in ID order, the employees with a shift whose start plus
// flexible and late grace minutes has passed at `at` (and which has not
// ended) and who have made no clock-in for it since 3 hours before its
// start. A refused clock-in does not count; a pending field punch does
// (the employee is working, somewhere). The daily schedule calls it after
// each shift's start plus grace and raises attendance.Missing.
func Missing(at time.Time, roster []Rostered, cal Calendar, punches map[EmployeeID][]Punch) []EmployeeID {
	var out []EmployeeID
	for _, r := range roster {
		missing := false
		for _, s := range r.Shifts {
			for _, o := range s.Around(at, cal) {
				if at.Before(o.LateAfter) || !at.Before(o.End) {
					continue
				}
				if !slices.ContainsFunc(punches[r.Employee], func(p Punch) bool {
					return p.Kind == In && (p.Counts || p.Pending) && !p.Time.Before(o.Start.Add(-sheetEarly)) && !p.Time.After(at)
				}) {
					missing = true
				}
			}
		}
		if missing {
			out = append(out, r.Employee)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
