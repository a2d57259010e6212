package attendance_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/attendance"
	"github.com/lantau-hq/lantau/shared/problem"
)

var hkt = func() *time.Location {
	l, err := time.LoadLocation("Asia/Hong_Kong")
	if err != nil {
		panic(err)
	}
	return l
}()

func hk(y int, m time.Month, d, hh, mm int) time.Time { return time.Date(y, m, d, hh, mm, 0, 0, hkt) }

func TestHongKongHolidays_ShipsThe2025And2026GeneralHolidays(t *testing.T) {
	hs := attendance.HongKongHolidays()
	require.Len(t, hs, 34, "17 a year")
	cal := attendance.NewCalendar(hs)
	for _, c := range []struct{ date, en, zh string }{
		{"2025-01-29", "Lunar New Year's Day", "農曆年初一"},
		{"2025-10-07", "The day following the Chinese Mid-Autumn Festival", "中秋節翌日"},
		{"2026-02-17", "Lunar New Year's Day", "農曆年初一"},
		{"2026-04-07", "The day following Easter Monday", "復活節星期一翌日"},
		{"2026-12-26", "The first weekday after Christmas Day", "聖誕節後第一個周日"},
	} {
		h, ok := cal.Holiday(c.date)
		require.True(t, ok, c.date)
		assert.Equal(t, c.en, h.EN)
		assert.Equal(t, c.zh, h.ZH)
	}
	_, ok := cal.Holiday("2026-04-05")
	assert.False(t, ok, "Ching Ming 2026 falls on a Sunday; the 6th is the holiday")
	for i := 1; i < len(hs); i++ {
		assert.Less(t, hs[i-1].Date, hs[i].Date, "in date order")
	}
}

func TestNewCalendar_AppliesCompanyOverrides(t *testing.T) {
	cal := attendance.NewCalendar(attendance.HongKongHolidays(),
		attendance.Holiday{Date: "2026-12-24", EN: "Christmas Eve (company)", ZH: "平安夜（公司假期）"},
		attendance.Holiday{Date: "2026-10-19", Removed: true},
	)
	_, ok := cal.Holiday("2026-12-24")
	assert.True(t, ok, "added")
	_, ok = cal.Holiday("2026-10-19")
	assert.False(t, ok, "removed")
	assert.Len(t, cal.Holidays(), 34)
	assert.Equal(t, problem.Code("holiday-name-missing"), problem.CodeOf(attendance.ValidateHoliday(attendance.Holiday{Date: "2026-12-24"})))
	assert.Equal(t, problem.Code("bad-holiday-date"), problem.CodeOf(attendance.ValidateHoliday(attendance.Holiday{Date: "2026-13-01", EN: "x", ZH: "x"})))
}

func TestShift_OvernightEndsTheNextDayAndSkipsHolidays(t *testing.T) {
	cal := attendance.NewCalendar(attendance.HongKongHolidays())
	night, err := attendance.Shift{ID: "night", Start: "22:00", End: "06:00", Weekdays: []time.Weekday{0, 1, 2, 3, 4, 5, 6}}.Normalize()
	require.NoError(t, err)
	assert.Equal(t, "Asia/Hong_Kong", night.TimeZone)

	// 2026-09-25 (Fri) starts the night into the Mid-Autumn holiday (26th):
	// the shift belongs to the day it starts on, so it occurs.
	o, ok := night.On(2026, 9, 25, cal)
	require.True(t, ok)
	assert.Equal(t, hk(2026, 9, 25, 22, 0), o.Start)
	assert.Equal(t, hk(2026, 9, 26, 6, 0), o.End)
	assert.Equal(t, 8*time.Hour, o.Duration())
	// The night starting on the holiday does not.
	_, ok = night.On(2026, 9, 26, cal)
	assert.False(t, ok)
	// Unless the shift works holidays.
	night.WorksHolidays = true
	_, ok = night.On(2026, 9, 26, cal)
	assert.True(t, ok)

	office, err := attendance.Shift{ID: "office", Start: "09:00", End: "18:00", FlexMin: 30, LateGraceMin: 10}.Normalize()
	require.NoError(t, err)
	_, ok = office.On(2026, 11, 28, cal)
	assert.False(t, ok, "Saturday is not a working day by default")
	o, ok = office.On(2026, 11, 27, cal)
	require.True(t, ok)
	assert.Equal(t, hk(2026, 11, 27, 9, 30), o.LatestStart)
	assert.Equal(t, hk(2026, 11, 27, 9, 40), o.LateAfter)
}

func TestShiftNormalize_RefusesBadShifts(t *testing.T) {
	tests := []struct {
		name  string
		shift attendance.Shift
		code  problem.Code
	}{
		{"no ID", attendance.Shift{Start: "09:00", End: "18:00"}, "shift-id-missing"},
		{"bad start", attendance.Shift{ID: "s", Start: "9am", End: "18:00"}, "bad-shift-time"},
		{"bad end", attendance.Shift{ID: "s", Start: "09:00", End: "25:00"}, "bad-shift-time"},
		{"negative grace", attendance.Shift{ID: "s", Start: "09:00", End: "18:00", LateGraceMin: -1}, "bad-shift-minutes"},
		{"unknown zone", attendance.Shift{ID: "s", Start: "09:00", End: "18:00", TimeZone: "Asia/Kowloon"}, "bad-time-zone"},
		{"bad weekday", attendance.Shift{ID: "s", Start: "09:00", End: "18:00", Weekdays: []time.Weekday{7}}, "bad-weekday"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.shift.Normalize()
			assert.Equal(t, tt.code, problem.CodeOf(err))
		})
	}
}

func TestRulesFor_EmployeeAssignmentsReplaceTheDepartments(t *testing.T) {
	r := attendance.Rules{
		Sites:  []attendance.Site{{ID: "kb"}, {ID: "central"}},
		Shifts: []attendance.Shift{{ID: "office"}, {ID: "night"}},
		Assignments: []attendance.Assignment{
			{ID: "a1", Department: "sales", Sites: []string{"kb", "central"}, Shifts: []string{"office"}, AllowField: true},
			{ID: "a2", Employee: "e-night", Sites: []string{"kb"}, Shifts: []string{"night"}},
		},
	}
	sales := r.For("e-1", "sales")
	assert.Len(t, sales.Sites, 2)
	assert.Equal(t, "office", sales.Shifts[0].ID)
	assert.True(t, sales.AllowField)

	own := r.For("e-night", "sales")
	require.Len(t, own.Sites, 1)
	assert.Equal(t, "kb", own.Sites[0].ID)
	assert.Equal(t, "night", own.Shifts[0].ID)
	assert.False(t, own.AllowField)

	assert.Empty(t, r.For("e-2", "finance").Sites)
}

func TestSiteNormalize_NormalisesBSSIDsAndRefusesMalformed(t *testing.T) {
	s, err := attendance.Site{ID: "kb", Fence: attendance.Geofence{Center: kowloonBay, RadiusM: 150},
		AccessPoints: []attendance.AccessPoint{{SSID: "Acme", BSSID: "A4-2B-B0-12-34-56"}}}.Normalize()
	require.NoError(t, err)
	assert.Equal(t, "a4:2b:b0:12:34:56", s.AccessPoints[0].BSSID)
	_, err = attendance.Site{ID: "kb", Fence: attendance.Geofence{Center: kowloonBay, RadiusM: 150},
		AccessPoints: []attendance.AccessPoint{{SSID: "Acme", BSSID: "nope"}}}.Normalize()
	assert.Equal(t, problem.Code("bad-bssid"), problem.CodeOf(err))
}
