package schedule

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// walk returns the next n firings after from, formatted as RFC 3339 in the
// schedule's zone ("" for the zero time).
func walk(t *testing.T, s *Schedule, from string, n int) []string {
	t.Helper()
	at, err := time.Parse(time.RFC3339, from)
	require.NoError(t, err)
	var got []string
	for range n {
		at = s.Next(at)
		if at.IsZero() {
			got = append(got, "")
			break
		}
		got = append(got, at.Format(time.RFC3339))
	}
	return got
}

func mustParse(t *testing.T, expr, tz string) *Schedule {
	t.Helper()
	s, err := Parse(expr, tz)
	require.NoError(t, err, expr)
	return s
}

func TestNext_WeekdaysAtNineInHongKong(t *testing.T) {
	s := mustParse(t, "cron(0 9 ? * 2-6 *)", "Asia/Hong_Kong")
	hk, err := time.LoadLocation("Asia/Hong_Kong")
	require.NoError(t, err)

	at := time.Date(2026, 3, 1, 0, 0, 0, 0, hk) // a Sunday
	var got []string
	for at.Before(time.Date(2026, 3, 15, 0, 0, 0, 0, hk)) {
		at = s.Next(at)
		require.False(t, at.IsZero())
		if !at.Before(time.Date(2026, 3, 15, 0, 0, 0, 0, hk)) {
			break
		}
		local := at.In(hk)
		assert.NotEqual(t, time.Saturday, local.Weekday(), local)
		assert.NotEqual(t, time.Sunday, local.Weekday(), local)
		assert.Equal(t, 9, local.Hour(), local)
		assert.Equal(t, 0, local.Minute(), local)
		assert.Equal(t, 1, at.UTC().Hour(), "09:00 HKT is 01:00 UTC")
		got = append(got, local.Format("Mon 01-02 15:04"))
	}
	assert.Equal(t, []string{
		"Mon 03-02 09:00", "Tue 03-03 09:00", "Wed 03-04 09:00", "Thu 03-05 09:00", "Fri 03-06 09:00",
		"Mon 03-09 09:00", "Tue 03-10 09:00", "Wed 03-11 09:00", "Thu 03-12 09:00", "Fri 03-13 09:00",
	}, got)
}

func TestNext_LastDayOfMonth(t *testing.T) {
	s := mustParse(t, "cron(0 18 L * ? *)", "")
	assert.Equal(t, []string{
		"2026-01-31T18:00:00Z", "2026-02-28T18:00:00Z", "2026-03-31T18:00:00Z", "2026-04-30T18:00:00Z",
		"2026-05-31T18:00:00Z", "2026-06-30T18:00:00Z", "2026-07-31T18:00:00Z", "2026-08-31T18:00:00Z",
		"2026-09-30T18:00:00Z", "2026-10-31T18:00:00Z", "2026-11-30T18:00:00Z", "2026-12-31T18:00:00Z",
	}, walk(t, s, "2026-01-01T00:00:00Z", 12))
	assert.Equal(t, []string{"2028-02-29T18:00:00Z", "2028-03-31T18:00:00Z"},
		walk(t, s, "2028-02-01T00:00:00Z", 2), "leap year")
}

func TestNext_Cron(t *testing.T) {
	tests := []struct {
		name, expr, tz, from string
		want                 []string
	}{
		{"last Friday", "cron(0 10 ? * 6L *)", "", "2026-01-01T00:00:00Z",
			[]string{"2026-01-30T10:00:00Z", "2026-02-27T10:00:00Z", "2026-03-27T10:00:00Z", "2026-04-24T10:00:00Z", "2026-05-29T10:00:00Z"}},
		{"last Friday by name", "cron(0 10 ? * FRIL *)", "", "2026-06-01T00:00:00Z",
			[]string{"2026-06-26T10:00:00Z", "2026-07-31T10:00:00Z"}},
		{"second Tuesday", "cron(0 10 ? * 3#2 *)", "", "2026-01-01T00:00:00Z",
			[]string{"2026-01-13T10:00:00Z", "2026-02-10T10:00:00Z", "2026-03-10T10:00:00Z", "2026-04-14T10:00:00Z"}},
		{"second Tuesday by name", "cron(0 10 ? * TUE#2 *)", "", "2026-01-13T10:00:00Z",
			[]string{"2026-02-10T10:00:00Z"}},
		{"fifth Sunday of February", "cron(0 0 ? 2 1#5 *)", "", "2026-01-01T00:00:00Z",
			[]string{"2032-02-29T00:00:00Z"}},
		{"weekday nearest the 15th", "cron(0 9 15W * ? *)", "", "2026-01-01T00:00:00Z",
			[]string{"2026-01-15T09:00:00Z", "2026-02-16T09:00:00Z", "2026-03-16T09:00:00Z", "2026-04-15T09:00:00Z", "2026-05-15T09:00:00Z", "2026-06-15T09:00:00Z", "2026-07-15T09:00:00Z", "2026-08-14T09:00:00Z"}},
		{"1W on a Saturday stays in the month", "cron(0 9 1W 8 ? *)", "", "2026-01-01T00:00:00Z",
			[]string{"2026-08-03T09:00:00Z"}},
		{"31W on a Sunday stays in the month", "cron(0 9 31W 5 ? *)", "", "2026-01-01T00:00:00Z",
			[]string{"2026-05-29T09:00:00Z"}},
		{"31W skips short months", "cron(0 9 31W * ? *)", "", "2026-03-31T10:00:00Z",
			[]string{"2026-05-29T09:00:00Z"}},
		{"last weekday", "cron(0 9 LW * ? *)", "", "2026-01-01T00:00:00Z",
			[]string{"2026-01-30T09:00:00Z", "2026-02-27T09:00:00Z", "2026-03-31T09:00:00Z", "2026-04-30T09:00:00Z", "2026-05-29T09:00:00Z"}},
		{"weekday names", "cron(0 8 ? * MON-FRI *)", "", "2026-03-06T08:00:00Z",
			[]string{"2026-03-09T08:00:00Z", "2026-03-10T08:00:00Z"}},
		{"lower-case names", "cron(0 8 ? * mon,wed *)", "", "2026-03-02T08:00:00Z",
			[]string{"2026-03-04T08:00:00Z", "2026-03-09T08:00:00Z"}},
		{"Sunday is 1", "cron(0 8 ? * 1 *)", "", "2026-03-02T00:00:00Z",
			[]string{"2026-03-08T08:00:00Z"}},
		{"Saturday is 7", "cron(0 8 ? * 7 *)", "", "2026-03-02T00:00:00Z",
			[]string{"2026-03-07T08:00:00Z"}},
		{"plain L in day-of-week is Saturday", "cron(0 12 ? * L *)", "", "2026-03-04T00:00:00Z",
			[]string{"2026-03-07T12:00:00Z", "2026-03-14T12:00:00Z"}},
		{"wrapping weekday range", "cron(0 12 ? * FRI-MON *)", "", "2026-03-04T00:00:00Z",
			[]string{"2026-03-06T12:00:00Z", "2026-03-07T12:00:00Z", "2026-03-08T12:00:00Z", "2026-03-09T12:00:00Z", "2026-03-13T12:00:00Z"}},
		{"wrapping hour range", "cron(0 22-1 * * ? *)", "", "2026-03-04T12:00:00Z",
			[]string{"2026-03-04T22:00:00Z", "2026-03-04T23:00:00Z", "2026-03-05T00:00:00Z", "2026-03-05T01:00:00Z", "2026-03-05T22:00:00Z"}},
		{"month names", "cron(0 0 1 JAN,JUL ? *)", "", "2026-02-01T00:00:00Z",
			[]string{"2026-07-01T00:00:00Z", "2027-01-01T00:00:00Z", "2027-07-01T00:00:00Z"}},
		{"month step", "cron(0 0 1 1/3 ? *)", "", "2026-02-01T00:00:00Z",
			[]string{"2026-04-01T00:00:00Z", "2026-07-01T00:00:00Z", "2026-10-01T00:00:00Z", "2027-01-01T00:00:00Z"}},
		{"every 15 minutes", "cron(0/15 * * * ? *)", "", "2026-03-04T10:07:30Z",
			[]string{"2026-03-04T10:15:00Z", "2026-03-04T10:30:00Z", "2026-03-04T10:45:00Z", "2026-03-04T11:00:00Z"}},
		{"star step", "cron(*/20 * * * ? *)", "", "2026-03-04T10:00:00Z",
			[]string{"2026-03-04T10:20:00Z", "2026-03-04T10:40:00Z", "2026-03-04T11:00:00Z"}},
		{"offset step", "cron(5/20 * * * ? *)", "", "2026-03-04T10:00:00Z",
			[]string{"2026-03-04T10:05:00Z", "2026-03-04T10:25:00Z", "2026-03-04T10:45:00Z", "2026-03-04T11:05:00Z"}},
		{"range step", "cron(0 8-18/4 * * ? *)", "", "2026-03-04T00:00:00Z",
			[]string{"2026-03-04T08:00:00Z", "2026-03-04T12:00:00Z", "2026-03-04T16:00:00Z", "2026-03-05T08:00:00Z"}},
		{"list of days", "cron(0 0 10,20 * ? *)", "", "2026-03-04T00:00:00Z",
			[]string{"2026-03-10T00:00:00Z", "2026-03-20T00:00:00Z", "2026-04-10T00:00:00Z"}},
		{"every minute", "cron(* * * * ? *)", "", "2026-03-04T10:00:00Z",
			[]string{"2026-03-04T10:01:00Z", "2026-03-04T10:02:00Z"}},
		{"strictly after", "cron(0 9 * * ? *)", "", "2026-03-04T09:00:00Z",
			[]string{"2026-03-05T09:00:00Z"}},
		{"same minute, later second", "cron(0 9 * * ? *)", "", "2026-03-04T08:59:59Z",
			[]string{"2026-03-04T09:00:00Z"}},
		{"last year AWS allows", "cron(0 0 1 1 ? 2199)", "", "2026-03-04T00:00:00Z",
			[]string{"2199-01-01T00:00:00Z", ""}},
		{"first year AWS allows", "cron(0 0 1 1 ? 1970)", "", "1969-06-01T00:00:00Z",
			[]string{"1970-01-01T00:00:00Z", ""}},
		{"year range", "cron(0 0 1 1 ? 2027-2028)", "", "2026-03-04T00:00:00Z",
			[]string{"2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z", ""}},
		{"year step", "cron(0 0 1 1 ? 2030/10)", "", "2026-03-04T00:00:00Z",
			[]string{"2030-01-01T00:00:00Z", "2040-01-01T00:00:00Z"}},
		{"years over", "cron(0 0 1 1 ? 2020)", "", "2026-03-04T00:00:00Z", []string{""}},
		{"after 2199", "cron(0 0 * * ? *)", "", "2200-01-01T00:00:00Z", []string{""}},
		{"never: 30 February", "cron(0 0 30 2 ? *)", "", "2026-03-04T00:00:00Z", []string{""}},
		{"evaluated in the zone", "cron(0 9 1 * ? *)", "Asia/Hong_Kong", "2026-03-01T01:00:00Z", // 09:00 HKT
			[]string{"2026-04-01T09:00:00+08:00"}},
		{"day boundary in the zone", "cron(0 0 ? * 2 *)", "Asia/Hong_Kong", "2026-03-01T16:30:00Z", // Mon 00:30 HKT
			[]string{"2026-03-09T00:00:00+08:00"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := mustParse(t, tc.expr, tc.tz)
			assert.Equal(t, tc.want, walk(t, s, tc.from, len(tc.want)))
		})
	}
}

// EventBridge Scheduler: a time skipped when clocks spring forward does not
// fire that day; a time repeated when clocks fall back fires once.
func TestNext_DaylightSaving(t *testing.T) {
	tests := []struct {
		name, expr, tz, from string
		want                 []string
	}{
		{"New York 09:00 stays 09:00 local", "cron(0 9 * * ? *)", "America/New_York", "2026-03-06T12:00:00-05:00",
			[]string{"2026-03-07T09:00:00-05:00", "2026-03-08T09:00:00-04:00", "2026-03-09T09:00:00-04:00"}},
		{"New York 02:30 skipped in spring", "cron(30 2 * * ? *)", "America/New_York", "2026-03-07T02:30:00-05:00",
			[]string{"2026-03-09T02:30:00-04:00"}},
		{"New York 01:30 once in autumn", "cron(30 1 * * ? *)", "America/New_York", "2026-10-31T12:00:00-04:00",
			[]string{"2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"}},
		{"New York hourly in autumn", "cron(0 * * * ? *)", "America/New_York", "2026-11-01T00:00:00-04:00",
			[]string{"2026-11-01T01:00:00-04:00", "2026-11-01T02:00:00-05:00", "2026-11-01T03:00:00-05:00"}},
		{"New York from inside the repeated hour", "cron(30 1 * * ? *)", "America/New_York", "2026-11-01T01:10:00-05:00",
			[]string{"2026-11-02T01:30:00-05:00"}},
		{"New York every 20 minutes in spring", "cron(0/20 * * * ? *)", "America/New_York", "2026-03-08T01:30:00-05:00",
			[]string{"2026-03-08T01:40:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T03:20:00-04:00"}},
		{"London 01:30 once in autumn", "cron(30 1 * * ? *)", "Europe/London", "2026-10-24T12:00:00+01:00",
			[]string{"2026-10-25T01:30:00+01:00", "2026-10-26T01:30:00Z"}},
		{"London 01:30 skipped in spring", "cron(30 1 * * ? *)", "Europe/London", "2026-03-28T12:00:00Z",
			[]string{"2026-03-30T01:30:00+01:00"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := mustParse(t, tc.expr, tc.tz)
			assert.Equal(t, tc.want, walk(t, s, tc.from, len(tc.want)))
		})
	}
}

func TestParse_RefusesBothDaysSpecified(t *testing.T) {
	_, err := Parse("cron(0 9 1 * 2 *)", "")
	require.Error(t, err)
	assert.EqualError(t, err, "cron(0 9 1 * 2 *): day-of-month and day-of-week cannot both be specified; use ? in one of them")

	var perr *Error
	require.True(t, errors.As(err, &perr))
	assert.Equal(t, "cron(0 9 1 * 2 *)", perr.Expr)
}

func TestNext_Rate(t *testing.T) {
	tests := []struct {
		expr string
		want time.Duration
	}{
		{"rate(1 minute)", time.Minute},
		{"rate(5 minutes)", 5 * time.Minute},
		{"rate(1 hour)", time.Hour},
		{"rate(2 hours)", 2 * time.Hour},
		{"rate(1 day)", 24 * time.Hour},
		{"rate(7 days)", 7 * 24 * time.Hour},
		{" rate( 10  minutes ) ", 10 * time.Minute},
	}
	from := time.Date(2026, 3, 4, 10, 7, 30, 0, time.UTC)
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			s := mustParse(t, tc.expr, "")
			assert.Equal(t, from.Add(tc.want), s.Next(from), "anchored at the time given")
			assert.Equal(t, from.Add(2*tc.want), s.Next(s.Next(from)))
		})
	}
}

func TestNext_RateDayIs24HoursAcrossDaylightSaving(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	s := mustParse(t, "rate(1 day)", "America/New_York")
	from := time.Date(2026, 3, 7, 9, 0, 0, 0, ny)
	assert.Equal(t, "2026-03-08T10:00:00-04:00", s.Next(from).In(ny).Format(time.RFC3339))
}

func TestNext_At(t *testing.T) {
	s := mustParse(t, "at(2026-12-01T09:00:00)", "Asia/Hong_Kong")
	assert.Equal(t, []string{"2026-12-01T09:00:00+08:00", ""}, walk(t, s, "2026-06-01T00:00:00Z", 2), "future, then never again")
	assert.Equal(t, []string{""}, walk(t, s, "2027-01-01T00:00:00Z", 1), "past")
	assert.Equal(t, []string{""}, walk(t, s, "2026-12-01T09:00:00+08:00", 1), "strictly after")

	utc := mustParse(t, "at(2026-12-01T09:00:00)", "")
	assert.Equal(t, []string{"2026-12-01T09:00:00Z"}, walk(t, utc, "2026-06-01T00:00:00Z", 1))

	twice := mustParse(t, "at(2026-11-01T01:30:00)", "America/New_York")
	assert.Equal(t, []string{"2026-11-01T01:30:00-04:00"}, walk(t, twice, "2026-06-01T00:00:00Z", 1), "first of two occurrences")
}

func TestParse_RefusesMalformed(t *testing.T) {
	tests := []struct {
		expr, tz, want string
	}{
		// shape
		{"", "", "want rate(value unit), cron(fields) or at(yyyy-mm-ddThh:mm:ss)"},
		{"garbage", "", "want rate(value unit)"},
		{"cron 0 9 * * ? *", "", "want rate(value unit)"},
		{"cron(0 9 * * ? *", "", "want rate(value unit)"},
		{"cron(0 9 * * ? *))", "", "want rate(value unit)"},
		{"cron(0 9 * * ? *)x", "", "want rate(value unit)"},
		{"CRON(0 9 * * ? *)", "", `unknown schedule type "CRON"`},
		{"every(5 minutes)", "", `unknown schedule type "every"`},
		// rate
		{"rate(1 minutes)", "", "rate of 1 takes a singular unit: rate(1 minute)"},
		{"rate(1 hours)", "", "rate of 1 takes a singular unit: rate(1 hour)"},
		{"rate(5 hour)", "", "rate of 5 takes a plural unit: rate(5 hours)"},
		{"rate(0 hours)", "", `rate value "0" is not a positive whole number`},
		{"rate(-1 hours)", "", `rate value "-1" is not a positive whole number`},
		{"rate(+2 hours)", "", `rate value "+2" is not a positive whole number`},
		{"rate(1.5 hours)", "", `rate value "1.5" is not a positive whole number`},
		{"rate(99999999999999999999 days)", "", "not a positive whole number"},
		{"rate(200000 days)", "", "rate of 200000 days is too long"},
		{"rate(5 weeks)", "", `rate unit "weeks" is not one of minute, minutes, hour, hours, day, days`},
		{"rate(5 Minutes)", "", `rate unit "Minutes"`},
		{"rate(5)", "", "want rate(value unit)"},
		{"rate()", "", "want rate(value unit)"},
		{"rate(5 minutes now)", "", "want rate(value unit)"},
		// at
		{"at(2026-13-01T09:00:00)", "", `at time "2026-13-01T09:00:00" is not yyyy-mm-ddThh:mm:ss`},
		{"at(2026-12-01 09:00:00)", "", "is not yyyy-mm-ddThh:mm:ss"},
		{"at(2026-12-01T9:00:00)", "", "is not yyyy-mm-ddThh:mm:ss"},
		{"at(2026-12-01T09:00:00Z)", "", "is not yyyy-mm-ddThh:mm:ss"},
		{"at(2026-12-01T09:00:00.5)", "", "is not yyyy-mm-ddThh:mm:ss"},
		{"at(2026-02-30T09:00:00)", "", "is not yyyy-mm-ddThh:mm:ss"},
		{"at()", "", "is not yyyy-mm-ddThh:mm:ss"},
		// cron shape
		{"cron(0 9 * *)", "", "want 6 fields (minutes hours day-of-month month day-of-week year), got 4"},
		{"cron(0 9 * * ?)", "", "got 5"},
		{"cron(0 0 9 * * ? *)", "", "got 7"},
		{"cron()", "", "got 0"},
		{"cron(a b c d e f)", "", `minutes field "a": character 'a' is not allowed here`},
		// ranges
		{"cron(60 9 * * ? *)", "", `minutes field "60": 60 is out of range 0-59`},
		{"cron(0 24 * * ? *)", "", `hours field "24": 24 is out of range 0-23`},
		{"cron(0 9 32 * ? *)", "", `day-of-month field "32": 32 is out of range 1-31`},
		{"cron(0 9 0 * ? *)", "", `day-of-month field "0": 0 is out of range 1-31`},
		{"cron(0 9 * 13 ? *)", "", `month field "13": 13 is out of range 1-12`},
		{"cron(0 9 * 0 ? *)", "", `month field "0": 0 is out of range 1-12`},
		{"cron(0 9 ? * 8 *)", "", `day-of-week field "8": 8 is out of range 1-7`},
		{"cron(0 9 ? * 0 *)", "", `day-of-week field "0": 0 is out of range 1-7`},
		{"cron(0 9 ? * 1-8 *)", "", `day-of-week field "1-8": 8 is out of range 1-7`},
		{"cron(0 9 * * ? 1969)", "", `year field "1969": 1969 is out of range 1970-2199`},
		{"cron(0 9 * * ? 2200)", "", `year field "2200": 2200 is out of range 1970-2199`},
		{"cron(0 9 * * ? 99999)", "", `year field "99999": 99999 is out of range 1970-2199`},
		{"cron(0 9 * * ? 2030-2020)", "", `year field "2030-2020": range 2030-2020 runs backwards`},
		// names
		{"cron(0 9 ? * FOO *)", "", `day-of-week field "FOO": "FOO" is neither a number 1-7 nor a name`},
		{"cron(0 9 * JANUARY ? *)", "", `month field "JANUARY": "JANUARY" is neither a number 1-12 nor a name`},
		{"cron(0 9 * MON ? *)", "", `month field "MON"`},
		{"cron(0 JAN * * ? *)", "", `hours field "JAN": character 'J' is not allowed here`},
		// day rules
		{"cron(0 9 ? * ? *)", "", "day-of-month and day-of-week cannot both be ?; specify one of them"},
		{"cron(0 9 * * * *)", "", "day-of-month and day-of-week cannot both be specified; use ? in one of them"},
		{"cron(0 9 L * L *)", "", "cannot both be specified"},
		{"cron(0 9 ? * 3#6 *)", "", `day-of-week field "3#6": "6" after # is not a week of the month 1-5`},
		{"cron(0 9 ? * 3#0 *)", "", `"0" after # is not a week of the month 1-5`},
		{"cron(0 9 ? * 9#1 *)", "", `day-of-week field "9#1": 9 is out of range 1-7`},
		{"cron(0 9 ? * 3#1,6#3 *)", "", "# and L cannot be combined with other values"},
		{"cron(0 9 ? * 6L,2 *)", "", "# and L cannot be combined with other values"},
		{"cron(0 9 ? * 8L *)", "", `day-of-week field "8L": 8 is out of range 1-7`},
		{"cron(0 9 ? * 1/2 *)", "", `day-of-week field "1/2": character '/' is not allowed here`},
		{"cron(0 9 L,15 * ? *)", "", `day-of-month field "L,15": L and W are used alone: L, LW or nW (e.g. 15W)`},
		{"cron(0 9 15W,20 * ? *)", "", "L and W are used alone"},
		{"cron(0 9 32W * ? *)", "", `day-of-month field "32W": 32 is out of range 1-31`},
		{"cron(0 9 W * ? *)", "", "L and W are used alone"},
		{"cron(0 9 L-2 * ? *)", "", "L and W are used alone"},
		{"cron(0 9 ?,1 * ? *)", "", `day-of-month field "?,1": ? must be used alone`},
		{"cron(0 9 # * ? *)", "", `day-of-month field "#": character '#' is not allowed here`},
		{"cron(? 9 * * ? *)", "", `minutes field "?": character '?' is not allowed here`},
		{"cron(0 9 * L ? *)", "", `month field "L"`},
		// steps and lists
		{"cron(0/0 9 * * ? *)", "", `minutes field "0/0": step 0 is out of range 1-59`},
		{"cron(0/60 9 * * ? *)", "", "step 60 is out of range 1-59"},
		{"cron(0/ 9 * * ? *)", "", `step "" is not a whole number`},
		{"cron(/5 9 * * ? *)", "", "missing value"},
		{"cron(0 9 -5 * ? *)", "", `day-of-month field "-5": missing value`},
		{"cron(0,,5 9 * * ? *)", "", "empty entry in list"},
		{"cron(0, 9 * * ? *)", "", "empty entry in list"},
		{"cron(*,5 9 * * ? *)", "", "* must be used alone"},
		{"cron(1-2-3 9 * * ? *)", "", "1-2-3"},
		{"cron(0 9 * * ? 2026/0)", "", "step 0 is out of range"},
		{"cron(0 9 * * ? ü)", "", `character 'ü' is not allowed here`},
		// zone
		{"cron(0 9 * * ? *)", "Mars/Olympus_Mons", `unknown time zone "Mars/Olympus_Mons"`},
		{"cron(0 9 * * ? *)", "Local", `time zone "Local" is not an IANA zone name`},
	}
	for _, tc := range tests {
		t.Run(tc.expr+" "+tc.tz, func(t *testing.T) {
			s, err := Parse(tc.expr, tc.tz)
			require.Error(t, err, "parsed as %v", s)
			assert.Contains(t, err.Error(), tc.want)
			assert.True(t, len(err.Error()) > len(tc.expr), "message starts with the expression")
			var perr *Error
			assert.True(t, errors.As(err, &perr))
		})
	}
}

func TestParse_AcceptsValid(t *testing.T) {
	for _, expr := range []string{
		"cron(0 10 * * ? *)",
		"cron(15 12 * * ? *)",
		"cron(0 18 ? * MON-FRI *)",
		"cron(0 8 1 * ? *)",
		"cron(0/10 * ? * MON-FRI *)",
		"cron(0/5 8-17 ? * MON-FRI *)",
		"cron(0 9 ? * 2#1 *)",
		"cron(0 0 ? * 6L 2026-2030)",
		"cron(30 14 10,20 * ? 2026-2030)",
		"cron(0 0 1 JAN-MAR,OCT ? *)",
		"cron(00 09 01 01 ? 2026)",
		"cron(0 0 LW * ? *)",
		"cron(0 0 ? * SAT-SUN *)",
		"cron(0 0 25-5 * ? *)",
		"cron(0 0 ? * 7#5 *)",
		"cron(59 23 31 12 ? 2199)",
		"cron(0\t9  *  * ?\t*)",
		"rate(1 minute)",
		"at(2099-12-31T23:59:59)",
	} {
		_, err := Parse(expr, "")
		assert.NoError(t, err, expr)
	}
}

func TestString(t *testing.T) {
	assert.Equal(t, "cron(0 9 ? * 2-6 *) (Asia/Hong_Kong)", mustParse(t, "  cron(0 9 ? * 2-6 *) ", "Asia/Hong_Kong").String())
	assert.Equal(t, "rate(5 minutes)", mustParse(t, "rate(5 minutes)", "").String())
	assert.Equal(t, "at(2026-12-01T09:00:00)", mustParse(t, "at(2026-12-01T09:00:00)", "UTC").String())
}

func TestNext_SafeForConcurrentUse(t *testing.T) {
	s := mustParse(t, "cron(0 9 LW * ? *)", "Asia/Hong_Kong")
	want := s.Next(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				assert.True(t, want.Equal(s.Next(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))))
			}
		})
	}
	wg.Wait()
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"cron(0 9 ? * 2-6 *)", "cron(0 18 L * ? *)", "cron(0 10 ? * 6L *)", "cron(0 10 ? * 3#2 *)",
		"cron(0 9 15W * ? *)", "cron(0 9 LW * ? *)", "cron(0/15 * * * ? *)", "cron(0 0 1 JAN,JUL ? 2026-2199)",
		"cron(0 12 ? * FRI-MON *)", "cron(0 22-1/2 25-5 * ? *)", "cron(0 9 1 * 2 *)", "rate(5 minutes)",
		"rate(1 day)", "rate(1 minutes)", "at(2026-12-01T09:00:00)", "cron(0 0 30 2 ? *)", "garbage", "",
	} {
		f.Add(seed, uint8(0))
	}
	zones := []string{"", "Asia/Hong_Kong", "America/New_York", "Europe/London", "Australia/Lord_Howe"}
	from := time.Date(2026, 3, 7, 23, 59, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, expr string, zone uint8) {
		s, err := Parse(expr, zones[int(zone)%len(zones)])
		if err != nil {
			var perr *Error
			require.True(t, errors.As(err, &perr))
			return
		}
		require.NotEmpty(t, s.String())
		at := from
		for range 5 {
			next := s.Next(at)
			if next.IsZero() {
				return
			}
			require.True(t, next.After(at), "%s: Next(%v) = %v", expr, at, next)
			if s.kind == kindCron {
				require.Zero(t, next.Second())
			}
			at = next
		}
	})
}
