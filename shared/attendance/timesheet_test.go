package attendance_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/attendance"
)

func p(emp attendance.EmployeeID, kind attendance.Kind, at time.Time) attendance.Punch {
	return attendance.Punch{Employee: emp, Kind: kind, Time: at.UTC(), Counts: true}
}

// A small company in October 2026. October 2026 starts on a Thursday:
// Mon-Fri are 22 days (Thu and Fri five times, the others four), less the
// public holidays on weekdays, 1 October (Thu, National Day) and
// 19 October (Mon, the day following Chung Yeung): 20 office days.
func fixtureCompany() ([]attendance.Employee, map[attendance.EmployeeID][]attendance.Punch) {
	office := officeShift() // 09:00-18:00, late grace 10, early grace 10
	flex := officeShift()
	flex.ID, flex.FlexMin = "flex", 30
	night := nightShift() // 22:00-06:00, grace 10/10
	night.Weekdays = []time.Weekday{time.Sunday, time.Monday, time.Thursday, time.Friday}

	emps := []attendance.Employee{
		{ID: "alice", Department: "ops", Shifts: []attendance.Shift{office}},
		{ID: "bob", Department: "ops", Shifts: []attendance.Shift{night}},
		{ID: "carol", Department: "sales", Shifts: []attendance.Shift{flex}},
	}
	pending := p("alice", attendance.In, hk(2026, 10, 8, 9, 0))
	pending.Counts, pending.Field, pending.Pending = false, true, true
	flagged := p("alice", attendance.In, hk(2026, 10, 9, 9, 0))
	flagged.Flagged = true
	alice := []attendance.Punch{
		p("alice", attendance.In, hk(2026, 10, 1, 10, 0)), // a holiday: unscheduled
		p("alice", attendance.Out, hk(2026, 10, 1, 14, 0)),
		p("alice", attendance.In, hk(2026, 10, 2, 8, 55)),
		p("alice", attendance.Out, hk(2026, 10, 2, 18, 0)),
		p("alice", attendance.In, hk(2026, 10, 5, 9, 12)),
		p("alice", attendance.Out, hk(2026, 10, 5, 18, 30)),
		p("alice", attendance.In, hk(2026, 10, 6, 9, 5)),
		p("alice", attendance.Out, hk(2026, 10, 6, 17, 45)),
		p("alice", attendance.In, hk(2026, 10, 7, 8, 50)), // never clocked out
		pending,
		flagged,
		p("alice", attendance.Out, hk(2026, 10, 9, 18, 0)),
		p("alice", attendance.In, hk(2026, 11, 2, 9, 0)), // next month: ignored
	}
	bob := []attendance.Punch{
		p("bob", attendance.Out, hk(2026, 10, 1, 6, 0)), // a stray clock-out on the holiday morning: no shift, no pair, ignored
		p("bob", attendance.In, hk(2026, 10, 18, 21, 55)),
		p("bob", attendance.Out, hk(2026, 10, 19, 6, 10)), // into the holiday
		p("bob", attendance.In, hk(2026, 10, 22, 22, 0)),
		p("bob", attendance.Out, hk(2026, 10, 23, 5, 30)),
		p("bob", attendance.In, hk(2026, 10, 30, 22, 20)),
		p("bob", attendance.Out, hk(2026, 10, 31, 6, 0)),
	}
	// Carol's chain, with a correction of her late clock-in on the 15th.
	rec := func(seq int64, kind attendance.Kind, at time.Time) attendance.Record {
		return attendance.Record{Employee: "carol", Seq: seq, Type: attendance.TypePunch, Time: at.UTC(),
			Request: &attendance.Request{Kind: kind}, Decision: &attendance.Decision{Outcome: attendance.Accepted}}
	}
	carolChain := []attendance.Record{
		rec(1, attendance.In, hk(2026, 10, 12, 9, 25)),
		rec(2, attendance.Out, hk(2026, 10, 12, 18, 25)),
		rec(3, attendance.In, hk(2026, 10, 13, 9, 45)),
		rec(4, attendance.Out, hk(2026, 10, 13, 18, 40)),
		rec(5, attendance.In, hk(2026, 10, 14, 9, 0)),
		rec(6, attendance.Out, hk(2026, 10, 14, 17, 30)),
		rec(7, attendance.In, hk(2026, 10, 15, 9, 50)),
		rec(8, attendance.Out, hk(2026, 10, 15, 18, 0)),
		{Employee: "carol", Seq: 9, Type: attendance.TypeCorrection, Time: hk(2026, 10, 16, 10, 0).UTC(), Refers: &attendance.Ref{Seq: 7},
			Correction: &attendance.Correction{Action: attendance.Replace, Kind: attendance.In, At: hk(2026, 10, 15, 9, 0)}},
	}
	return emps, map[attendance.EmployeeID][]attendance.Punch{"alice": alice, "bob": bob, "carol": attendance.Effective(carolChain)}
}

func TestTimesheet_MatchesAHandComputedMonth(t *testing.T) {
	emps, punches := fixtureCompany()
	sheet := attendance.Timesheet(2026, time.October, emps, attendance.NewCalendar(attendance.HongKongHolidays()), punches)
	require.Len(t, sheet.Employees, 3)

	alice := attendance.Figures{
		Employee: "alice", Department: "ops",
		ScheduledShifts:  20,       // 22 weekdays - 2 weekday holidays
		ScheduledMinutes: 20 * 540, // 9 h each
		// Present on 2, 5, 6, 7 and 9 October; the 8th's only punch is a
		// pending field punch, which does not count yet: 20 - 5 = 15 absences.
		PresentShifts: 5,
		Absences:      15,
		// 2 Oct 08:55-18:00 = 545; 5 Oct 09:12-18:30 = 558; 6 Oct 09:05-17:45
		// = 520; 9 Oct 09:00-18:00 = 540; 1 Oct (holiday) 10:00-14:00 = 240.
		// 545 + 558 + 520 + 540 + 240 = 2403.
		WorkedMinutes: 2403,
		LateArrivals:  1, LateMinutes: 12, // 5 Oct 09:12 > 09:10; 12 minutes after 09:00
		EarlyLeaves: 1, EarlyMinutes: 15, // 6 Oct 17:45 < 17:50; 15 minutes before 18:00
		OvertimeMinutes: 270, // 5 Oct 18:00-18:30 = 30, the holiday's 240: 30 + 240
		Incomplete:      1,   // 7 Oct, no clock-out
		FieldPunches:    1,   // 8 Oct
		FlaggedPunches:  1,   // 9 Oct
	}
	bob := attendance.Figures{
		Employee: "bob", Department: "ops",
		// Sundays 4, 11, 18, 25 (4); Mondays 5, 12, 26 (3: the 19th is a
		// holiday); Thursdays 8, 15, 22, 29 (4: the 1st is a holiday);
		// Fridays 2, 9, 16, 23, 30 (5): 16 nights of 480 minutes.
		ScheduledShifts: 16, ScheduledMinutes: 16 * 480,
		PresentShifts: 3, Absences: 13,
		// 18 Oct 21:55 - 19 Oct 06:10 = 495 (the night into the holiday
		// runs); 22 Oct 22:00 - 23 Oct 05:30 = 450; 30 Oct 22:20 - 31 Oct
		// 06:00 = 460. 495 + 450 + 460 = 1405.
		WorkedMinutes: 1405,
		LateArrivals:  1, LateMinutes: 20, // 30 Oct 22:20 > 22:10
		EarlyLeaves: 1, EarlyMinutes: 30, // 23 Oct 05:30 < 05:50
		OvertimeMinutes: 10, // 19 Oct 06:00-06:10
	}
	carol := attendance.Figures{
		Employee: "carol", Department: "sales",
		ScheduledShifts: 20, ScheduledMinutes: 20 * 540,
		PresentShifts: 4, Absences: 16,
		// 12 Oct 09:25-18:25 = 540 (on time within 30 flexible minutes; the
		// end moves to 18:25); 13 Oct 09:45-18:40 = 535; 14 Oct 09:00-17:30
		// = 510; 15 Oct corrected to 09:00-18:00 = 540. 540 + 535 + 510 + 540 = 2125.
		WorkedMinutes: 2125,
		// 13 Oct 09:45 > 09:40 (09:00 + 30 flex + 10 grace): 15 minutes
		// after the latest start 09:30. The 15th was corrected: not late.
		LateArrivals: 1, LateMinutes: 15,
		// 14 Oct 17:30 < 17:50: 30 minutes before 18:00.
		EarlyLeaves: 1, EarlyMinutes: 30,
		// 13 Oct: the end moves by the 30 flexible minutes to 18:30; out
		// at 18:40: 10.
		OvertimeMinutes: 10,
	}
	assert.Equal(t, alice, sheet.Employees[0])
	assert.Equal(t, bob, sheet.Employees[1])
	assert.Equal(t, carol, sheet.Employees[2])

	ops := attendance.Figures{
		Department: "ops", ScheduledShifts: 36, ScheduledMinutes: 10800 + 7680, PresentShifts: 8, Absences: 28,
		WorkedMinutes: 2403 + 1405, LateArrivals: 2, LateMinutes: 32, EarlyLeaves: 2, EarlyMinutes: 45,
		OvertimeMinutes: 280, Incomplete: 1, FieldPunches: 1, FlaggedPunches: 1,
	}
	sales := carol
	sales.Employee = ""
	assert.Equal(t, []attendance.Figures{ops, sales}, sheet.Departments)
}

func TestEffective_AppliesResolutionsAndCorrections(t *testing.T) {
	at := hk(2026, 11, 25, 9, 0).UTC()
	recs := []attendance.Record{
		{Seq: 1, Type: attendance.TypePunch, Time: at, Request: &attendance.Request{Kind: attendance.In}, Decision: &attendance.Decision{Outcome: attendance.Refused}},
		{Seq: 2, Type: attendance.TypePunch, Time: at, Request: &attendance.Request{Kind: attendance.In}, Decision: &attendance.Decision{Outcome: attendance.PendingField, Field: true}},
		{Seq: 3, Type: attendance.TypePunch, Time: at.Add(time.Hour), Request: &attendance.Request{Kind: attendance.In}, Decision: &attendance.Decision{Outcome: attendance.Accepted}},
		{Seq: 4, Type: attendance.TypeResolution, Refers: &attendance.Ref{Seq: 2}, Resolution: &attendance.Resolution{Approved: false}},
		{Seq: 5, Type: attendance.TypeCorrection, Refers: &attendance.Ref{Seq: 3}, Correction: &attendance.Correction{Action: attendance.Void}},
		{Seq: 6, Type: attendance.TypeCorrection, Correction: &attendance.Correction{Action: attendance.Add, Kind: attendance.Out, At: at.Add(9 * time.Hour)}},
	}
	eff := attendance.Effective(recs)
	require.Len(t, eff, 4)
	assert.False(t, eff[0].Counts, "refused")
	assert.True(t, eff[0].Flagged, "a refusal is a flag")
	assert.False(t, eff[1].Counts, "field punch rejected")
	assert.False(t, eff[1].Pending)
	assert.False(t, eff[2].Counts, "voided")
	assert.True(t, eff[3].Counts, "added")
	assert.Equal(t, attendance.Out, eff[3].Kind)
}

func TestMissing_ListsRosteredPeopleWithoutAClockInAfterStartPlusGrace(t *testing.T) {
	cal := attendance.NewCalendar(attendance.HongKongHolidays())
	flex := officeShift()
	flex.FlexMin = 30
	roster := []attendance.Rostered{
		{Employee: "alice", Shifts: []attendance.Shift{officeShift()}},
		{Employee: "bob", Shifts: []attendance.Shift{officeShift()}},
		{Employee: "carol", Shifts: []attendance.Shift{flex}},
		{Employee: "dave", Shifts: []attendance.Shift{nightShift()}},
		{Employee: "erin", Shifts: []attendance.Shift{officeShift()}},
		{Employee: "frank", Shifts: []attendance.Shift{officeShift()}},
		{Employee: "gina", Shifts: []attendance.Shift{officeShift()}},
	}
	refused := p("erin", attendance.In, hk(2026, 11, 25, 8, 58))
	refused.Counts = false
	field := p("frank", attendance.In, hk(2026, 11, 25, 8, 58))
	field.Counts, field.Pending = false, true
	punches := map[attendance.EmployeeID][]attendance.Punch{
		"alice": {p("alice", attendance.In, hk(2026, 11, 25, 8, 55))},
		"erin":  {refused},
		"frank": {field},
		"gina":  {p("gina", attendance.In, hk(2026, 11, 24, 8, 55)), p("gina", attendance.Out, hk(2026, 11, 24, 18, 0))}, // yesterday only
	}
	tests := []struct {
		name string
		at   time.Time
		want []attendance.EmployeeID
	}{
		{"09:05, within the grace", hk(2026, 11, 25, 9, 5), nil},
		// bob: no punch; erin: refused; gina: only yesterday's; carol's
		// flexible start runs to 09:40; dave's night starts at 22:00.
		{"09:15", hk(2026, 11, 25, 9, 15), []attendance.EmployeeID{"bob", "erin", "gina"}},
		{"09:45, flexible start passed", hk(2026, 11, 25, 9, 45), []attendance.EmployeeID{"bob", "carol", "erin", "gina"}},
		{"22:15, night shift started", hk(2026, 11, 25, 22, 15), []attendance.EmployeeID{"dave"}},
		{"Christmas Day 09:30: no shift", hk(2026, 12, 25, 9, 30), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := attendance.Missing(tt.at, roster, cal, punches)
			if len(tt.want) == 0 {
				assert.Empty(t, got)
				return
			}
			assert.Equal(t, tt.want, got)
		})
	}
}
