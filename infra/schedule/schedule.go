// Package schedule parses and evaluates AWS schedule expressions, as written
// in SAM `Schedule` events (EventBridge rules) and `ScheduleV2` events
// (EventBridge Scheduler), so that the local runner can fire them on time.
//
// Three forms are accepted (ScheduleV2's `at` is accepted for both kinds of
// event):
//
//	rate(5 minutes)          a fixed period: minute(s), hour(s) or day(s)
//	cron(0 9 ? * 2-6 *)      AWS cron: minutes hours day-of-month month day-of-week year
//	at(2026-12-01T09:00:00)  once, at a wall-clock time
//
// Cron and at expressions are evaluated in the schedule's time zone
// (ScheduleExpressionTimezone; UTC when empty) the way EventBridge Scheduler
// documents it: a wall-clock time that does not exist because clocks
// spring forward is skipped, and a wall-clock time that happens twice because
// clocks fall back fires once, at its first occurrence.
//
// Cron semantics follow the EventBridge cron reference: day-of-week runs
// 1-7 with 1 = Sunday (or SUN-SAT), exactly one of day-of-month and
// day-of-week must be `?`, `L`, `LW` and `nW` may be used (alone) in
// day-of-month, `L`, `nL` and `n#k` (alone) in day-of-week, and years run
// 1970-2199. A plain `L` in day-of-week means Saturday, the last day of the
// week. Ranges of the cyclic fields may wrap (`FRI-MON`, `22-2`), as in
// Quartz, which AWS cron derives from.
package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // zone data for Lambda and other minimal machines
)

// Error reports a schedule expression (or its time zone) that cannot be
// parsed. Its message starts with the expression and names what is wrong.
type Error struct {
	Expr string // the expression as given
	Msg  string // what is wrong with it
}

func (e *Error) Error() string { return e.Expr + ": " + e.Msg }

type kind int

const (
	kindRate kind = iota + 1
	kindCron
	kindAt
)

// Schedule is a parsed schedule expression bound to a time zone. It is
// immutable and safe for concurrent use.
type Schedule struct {
	expr   string
	loc    *time.Location
	kind   kind
	period time.Duration // rate
	at     time.Time     // at
	cron   *cronSpec     // cron
}

// Parse reads "rate(5 minutes)", "cron(0 9 ? * 2-6 *)" or
// "at(2026-12-01T09:00:00)". tz is an IANA zone name ("" means UTC), as in
// ScheduleV2's ScheduleExpressionTimezone; it applies to cron and at
// expressions. Errors are of type *Error.
func Parse(expr, tz string) (*Schedule, error) {
	s := strings.TrimSpace(expr)
	fail := func(format string, args ...any) (*Schedule, error) {
		return nil, &Error{Expr: expr, Msg: fmt.Sprintf(format, args...)}
	}

	loc := time.UTC
	if tz != "" && tz != "UTC" {
		if tz == "Local" {
			return fail("time zone %q is not an IANA zone name", tz)
		}
		l, err := time.LoadLocation(tz)
		if err != nil {
			return fail("unknown time zone %q", tz)
		}
		loc = l
	}

	name, body, ok := splitCall(s)
	if !ok {
		return fail("want rate(value unit), cron(fields) or at(yyyy-mm-ddThh:mm:ss)")
	}
	sched := &Schedule{expr: s, loc: loc}
	var msg string
	switch name {
	case "rate":
		sched.kind = kindRate
		sched.period, msg = parseRate(body)
	case "cron":
		sched.kind = kindCron
		sched.cron, msg = parseCron(body)
	case "at":
		sched.kind = kindAt
		sched.at, msg = parseAt(body, loc)
	default:
		return fail("unknown schedule type %q; want rate, cron or at", name)
	}
	if msg != "" {
		return fail("%s", msg)
	}
	return sched, nil
}

// splitCall splits "name(body)" into name and body.
func splitCall(s string) (name, body string, ok bool) {
	open := strings.IndexByte(s, '(')
	if open <= 0 || !strings.HasSuffix(s, ")") {
		return "", "", false
	}
	name, body = s[:open], s[open+1:len(s)-1]
	if strings.ContainsAny(body, "()") {
		return "", "", false
	}
	return name, body, true
}

// Next returns the first firing time strictly after t, or the zero time if
// there is none (an at in the past, or a cron whose years are over).
//
// For a rate schedule Next(t) is simply t plus the period: a rate has no
// phase of its own, so the caller anchors it (the runner at its start time)
// and passes the previous firing time back in. A day is 24 hours, as in
// EventBridge Scheduler, whatever daylight saving does to the clock.
//
// Cron and at times are returned in the schedule's time zone.
func (s *Schedule) Next(t time.Time) time.Time {
	switch s.kind {
	case kindRate:
		return t.Add(s.period)
	case kindAt:
		if s.at.After(t) {
			return s.at
		}
		return time.Time{}
	case kindCron:
		return s.cron.next(t, s.loc)
	}
	return time.Time{}
}

// String returns the expression, followed by its time zone in parentheses
// when that is not UTC, e.g. "cron(0 9 ? * 2-6 *) (Asia/Hong_Kong)".
func (s *Schedule) String() string {
	if s.loc == time.UTC {
		return s.expr
	}
	return s.expr + " (" + s.loc.String() + ")"
}

// rateUnits maps each rate unit to its length; singular units go with the
// value 1 only, plural ones with any other value.
var rateUnits = map[string]struct {
	d        time.Duration
	singular bool
}{
	"minute": {time.Minute, true}, "minutes": {time.Minute, false},
	"hour": {time.Hour, true}, "hours": {time.Hour, false},
	"day": {24 * time.Hour, true}, "days": {24 * time.Hour, false},
}

func parseRate(body string) (time.Duration, string) {
	f := strings.Fields(body)
	if len(f) != 2 {
		return 0, "want rate(value unit), e.g. rate(5 minutes)"
	}
	if !isDigits(f[0]) {
		return 0, fmt.Sprintf("rate value %q is not a positive whole number", f[0])
	}
	n, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Sprintf("rate value %q is not a positive whole number", f[0])
	}
	u, ok := rateUnits[f[1]]
	if !ok {
		return 0, fmt.Sprintf("rate unit %q is not one of minute, minutes, hour, hours, day, days", f[1])
	}
	if n == 1 && !u.singular {
		return 0, fmt.Sprintf("rate of 1 takes a singular unit: rate(1 %s)", strings.TrimSuffix(f[1], "s"))
	}
	if n != 1 && u.singular {
		return 0, fmt.Sprintf("rate of %d takes a plural unit: rate(%d %ss)", n, n, f[1])
	}
	if n > int64(maxDuration/u.d) {
		return 0, fmt.Sprintf("rate of %d %s is too long", n, f[1])
	}
	return time.Duration(n) * u.d, ""
}

const maxDuration = time.Duration(1<<63 - 1)

const atLayout = "2006-01-02T15:04:05"

func parseAt(body string, loc *time.Location) (time.Time, string) {
	b := strings.TrimSpace(body)
	wall, err := time.Parse(atLayout, b)
	if err != nil || len(b) != len(atLayout) {
		return time.Time{}, fmt.Sprintf("at time %q is not yyyy-mm-ddThh:mm:ss", b)
	}
	y, mo, d := wall.Date()
	if at, ok := firstInstant(y, mo, d, wall.Hour(), wall.Minute(), wall.Second(), loc); ok {
		return at, ""
	}
	// The wall time falls in a gap where clocks spring forward; take the
	// instant Go's time.Date maps it to (just after the gap).
	return time.Date(y, mo, d, wall.Hour(), wall.Minute(), wall.Second(), 0, loc), ""
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
