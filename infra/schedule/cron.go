package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The year range AWS cron accepts.
const (
	minYear = 1970
	maxYear = 2199
)

// bitset holds the values of one cron field, indexed by value minus the
// field's minimum (at most 230 values, for years).
type bitset [4]uint64

func (b *bitset) set(i int)     { b[i>>6] |= 1 << (i & 63) }
func (b bitset) has(i int) bool { return b[i>>6]&(1<<(i&63)) != 0 }

// How a day-of-month or day-of-week field picks days.
type dayRule int

const (
	ruleAny         dayRule = iota // ? : the other field decides
	ruleSet                        // a list of values, ranges and steps (or *)
	ruleLast                       // L in day-of-month, nL in day-of-week
	ruleLastWeekday                // LW in day-of-month
	ruleNearest                    // nW in day-of-month
	ruleNth                        // n#k in day-of-week
)

// cronSpec is a validated AWS cron expression.
type cronSpec struct {
	minutes, hours, months, years bitset

	domRule dayRule
	dom     bitset // ruleSet: days 1-31 at index day-1
	domDay  int    // ruleNearest: the n of nW

	dowRule dayRule
	dow     bitset       // ruleSet: AWS weekdays 1-7 at index weekday-1
	dowDay  time.Weekday // ruleLast, ruleNth
	dowNth  int          // ruleNth: the k of n#k
}

// field describes one cron field.
type field struct {
	name     string
	min, max int
	maxStep  int
	names    map[string]int // three-letter names, upper case
	cyclic   bool           // ranges may wrap around (FRI-MON)
	extra    string         // characters allowed besides digits and A-Z
	letters  bool           // names, L or W may appear
	stepOK   bool           // the / wildcard is allowed
	question bool           // ? is allowed
}

var (
	monthNames = map[string]int{
		"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6,
		"JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12,
	}
	dayNames = map[string]int{
		"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7,
	}

	minuteField = field{name: "minutes", min: 0, max: 59, maxStep: 59, cyclic: true, extra: ",-*/", stepOK: true}
	hourField   = field{name: "hours", min: 0, max: 23, maxStep: 23, cyclic: true, extra: ",-*/", stepOK: true}
	domField    = field{name: "day-of-month", min: 1, max: 31, maxStep: 31, cyclic: true, extra: ",-*?/", letters: true, stepOK: true, question: true}
	monthField  = field{name: "month", min: 1, max: 12, maxStep: 12, names: monthNames, cyclic: true, extra: ",-*/", letters: true, stepOK: true}
	dowField    = field{name: "day-of-week", min: 1, max: 7, names: dayNames, cyclic: true, extra: ",-*?#", letters: true, question: true}
	yearField   = field{name: "year", min: minYear, max: maxYear, maxStep: maxYear - minYear, extra: ",-*/", stepOK: true}
)

// parseCron validates the six fields of an AWS cron expression. It returns
// a message naming the problem, or "" and the spec.
func parseCron(body string) (*cronSpec, string) {
	f := strings.Fields(body)
	if len(f) != 6 {
		return nil, fmt.Sprintf("want 6 fields (minutes hours day-of-month month day-of-week year), got %d", len(f))
	}
	c := &cronSpec{}
	for i, fd := range []field{minuteField, hourField, domField, monthField, dowField, yearField} {
		raw := f[i]
		tok := strings.ToUpper(raw)
		if msg := checkChars(raw, fd); msg != "" {
			return nil, fmt.Sprintf("%s field %q: %s", fd.name, raw, msg)
		}
		var msg string
		switch i {
		case 0:
			c.minutes, msg = parseList(tok, fd)
		case 1:
			c.hours, msg = parseList(tok, fd)
		case 2:
			msg = c.parseDOM(tok)
		case 3:
			c.months, msg = parseList(tok, fd)
		case 4:
			msg = c.parseDOW(tok)
		case 5:
			c.years, msg = parseList(tok, fd)
		}
		if msg != "" {
			return nil, fmt.Sprintf("%s field %q: %s", fd.name, raw, msg)
		}
	}
	switch {
	case c.domRule != ruleAny && c.dowRule != ruleAny:
		return nil, "day-of-month and day-of-week cannot both be specified; use ? in one of them"
	case c.domRule == ruleAny && c.dowRule == ruleAny:
		return nil, "day-of-month and day-of-week cannot both be ?; specify one of them"
	}
	return c, ""
}

func checkChars(tok string, fd field) string {
	for _, r := range tok {
		switch {
		case r >= '0' && r <= '9':
		case (r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z') && fd.letters:
		case r < 128 && strings.ContainsRune(fd.extra, r):
		default:
			return fmt.Sprintf("character %q is not allowed here", r)
		}
	}
	return ""
}

func (c *cronSpec) parseDOM(tok string) string {
	switch {
	case tok == "?":
		c.domRule = ruleAny
		return ""
	case tok == "L":
		c.domRule = ruleLast
		return ""
	case tok == "LW":
		c.domRule = ruleLastWeekday
		return ""
	case strings.HasSuffix(tok, "W") && isDigits(tok[:len(tok)-1]):
		n, msg := parseValue(tok[:len(tok)-1], domField)
		if msg != "" {
			return msg
		}
		c.domRule, c.domDay = ruleNearest, n
		return ""
	case strings.ContainsAny(tok, "LW"):
		return "L and W are used alone: L, LW or nW (e.g. 15W)"
	}
	c.domRule = ruleSet
	var msg string
	c.dom, msg = parseList(tok, domField)
	return msg
}

func (c *cronSpec) parseDOW(tok string) string {
	switch {
	case tok == "?":
		c.dowRule = ruleAny
		return ""
	case tok == "L": // the last day of the week: Saturday, every week
		c.dowRule = ruleSet
		c.dow.set(int(time.Saturday))
		return ""
	case strings.ContainsAny(tok, ",") && strings.ContainsAny(tok, "#L"):
		return "# and L cannot be combined with other values (e.g. 3#1,6#3 is two expressions)"
	case strings.Contains(tok, "#"):
		day, nth, _ := strings.Cut(tok, "#")
		d, msg := parseValue(day, dowField)
		if msg != "" {
			return msg
		}
		if len(nth) != 1 || nth[0] < '1' || nth[0] > '5' {
			return fmt.Sprintf("%q after # is not a week of the month 1-5", nth)
		}
		c.dowRule, c.dowDay, c.dowNth = ruleNth, time.Weekday(d-1), int(nth[0]-'0')
		return ""
	case strings.HasSuffix(tok, "L") && !strings.ContainsAny(tok, "-*"):
		d, msg := parseValue(tok[:len(tok)-1], dowField)
		if msg != "" {
			return msg
		}
		c.dowRule, c.dowDay = ruleLast, time.Weekday(d-1)
		return ""
	}
	c.dowRule = ruleSet
	var msg string
	c.dow, msg = parseList(tok, dowField)
	return msg
}

// parseList reads a comma-separated list of *, values, ranges and steps.
func parseList(tok string, fd field) (bitset, string) {
	var b bitset
	entries := strings.Split(tok, ",")
	for _, e := range entries {
		if e == "" {
			return b, "empty entry in list"
		}
		if e == "?" {
			if !fd.question {
				return b, "? is only allowed in day-of-month and day-of-week"
			}
			return b, "? must be used alone"
		}
		if msg := parseEntry(e, fd, &b, len(entries) > 1); msg != "" {
			return b, msg
		}
	}
	return b, ""
}

// parseEntry reads one of *, */s, a, a-b, a/s, a-b/s into b.
func parseEntry(e string, fd field, b *bitset, inList bool) string {
	base, stepText, hasStep := strings.Cut(e, "/")
	step := 1
	if hasStep {
		if !fd.stepOK {
			return "/ is not allowed in this field"
		}
		if !isDigits(stepText) || len(stepText) > 4 {
			return fmt.Sprintf("step %q is not a whole number", stepText)
		}
		step, _ = strconv.Atoi(stepText)
		if step < 1 || step > fd.maxStep {
			return fmt.Sprintf("step %d is out of range 1-%d", step, fd.maxStep)
		}
	}
	var lo, hi int
	switch {
	case base == "*":
		if inList {
			return "* must be used alone"
		}
		lo, hi = fd.min, fd.max
	case strings.Contains(base, "-"):
		a, z, _ := strings.Cut(base, "-")
		var msg string
		if lo, msg = parseValue(a, fd); msg != "" {
			return msg
		}
		if hi, msg = parseValue(z, fd); msg != "" {
			return msg
		}
		if hi < lo && !fd.cyclic {
			return fmt.Sprintf("range %s runs backwards", base)
		}
	default:
		var msg string
		if lo, msg = parseValue(base, fd); msg != "" {
			return msg
		}
		hi = lo
		if hasStep {
			hi = fd.max
		}
	}
	span := fd.max - fd.min + 1
	n := hi - lo // distance from lo to hi, going round if the range wraps
	if n < 0 {
		n += span
	}
	for k := 0; k <= n; k += step {
		b.set((lo - fd.min + k) % span)
	}
	return ""
}

// parseValue reads a number or a three-letter name and checks its range.
func parseValue(s string, fd field) (int, string) {
	if s == "" {
		return 0, "missing value"
	}
	if v, ok := fd.names[s]; ok {
		return v, ""
	}
	if !isDigits(s) {
		if fd.names != nil {
			return 0, fmt.Sprintf("%q is neither a number %d-%d nor a name", s, fd.min, fd.max)
		}
		return 0, fmt.Sprintf("%q is not a number", s)
	}
	if len(s) > 4 {
		return 0, fmt.Sprintf("%s is out of range %d-%d", s, fd.min, fd.max)
	}
	v, _ := strconv.Atoi(s)
	if v < fd.min || v > fd.max {
		return 0, fmt.Sprintf("%d is out of range %d-%d", v, fd.min, fd.max)
	}
	return v, ""
}

// next returns the first firing strictly after t, evaluated on the wall
// clock of loc, or the zero time.
func (c *cronSpec) next(t time.Time, loc *time.Location) time.Time {
	lt := t.In(loc)
	sy, sm, sd := lt.Date()
	startMinute := lt.Hour()*60 + lt.Minute()
	if sy < minYear {
		sy, sm, sd, startMinute = minYear, time.January, 1, 0
	}
	for y := sy; y <= maxYear; y++ {
		if !c.years.has(y - minYear) {
			continue
		}
		firstMonth := time.January
		if y == sy {
			firstMonth = sm
		}
		for m := firstMonth; m <= time.December; m++ {
			if !c.months.has(int(m) - 1) {
				continue
			}
			days := daysIn(y, m)
			firstDay := 1
			if y == sy && m == sm {
				firstDay = sd
			}
			for d := firstDay; d <= days; d++ {
				if !c.matchDay(y, m, d, days) {
					continue
				}
				startDay := y == sy && m == sm && d == sd
				if at, ok := c.firstTimeOfDay(y, m, d, startDay, startMinute, t, loc); ok {
					return at
				}
			}
		}
	}
	return time.Time{}
}

// firstTimeOfDay returns the first matching hour and minute of one day
// whose first occurrence is after t. On the start day, minutes earlier on
// the wall clock than t cannot qualify: their first occurrence was before t.
func (c *cronSpec) firstTimeOfDay(y int, m time.Month, d int, startDay bool, startMinute int, t time.Time, loc *time.Location) (time.Time, bool) {
	for h := 0; h < 24; h++ {
		if !c.hours.has(h) || (startDay && h*60+59 < startMinute) {
			continue
		}
		for mi := 0; mi < 60; mi++ {
			if !c.minutes.has(mi) || (startDay && h*60+mi < startMinute) {
				continue
			}
			// A wall time that does not exist (clocks spring forward) is
			// skipped; one that happens twice fires at its first occurrence
			// only, so a later occurrence after t does not fire again.
			if at, ok := firstInstant(y, m, d, h, mi, 0, loc); ok && at.After(t) {
				return at, true
			}
		}
	}
	return time.Time{}, false
}

func (c *cronSpec) matchDay(y int, m time.Month, d, days int) bool {
	if c.domRule != ruleAny {
		switch c.domRule {
		case ruleSet:
			return c.dom.has(d - 1)
		case ruleLast:
			return d == days
		case ruleLastWeekday:
			return d == nearestWeekday(y, m, days, days)
		case ruleNearest:
			return c.domDay <= days && d == nearestWeekday(y, m, c.domDay, days)
		}
		return false
	}
	wd := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Weekday()
	switch c.dowRule {
	case ruleSet:
		return c.dow.has(int(wd))
	case ruleLast:
		return wd == c.dowDay && d+7 > days
	case ruleNth:
		return wd == c.dowDay && (d-1)/7+1 == c.dowNth
	}
	return false
}

// nearestWeekday is the weekday (Monday-Friday) nearest day n of the month,
// without leaving the month: Saturday the 1st moves to Monday the 3rd, and a
// Sunday that ends the month moves back to Friday.
func nearestWeekday(y int, m time.Month, n, days int) int {
	switch time.Date(y, m, n, 0, 0, 0, 0, time.UTC).Weekday() {
	case time.Saturday:
		if n == 1 {
			return 3
		}
		return n - 1
	case time.Sunday:
		if n == days {
			return n - 2
		}
		return n + 1
	}
	return n
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// firstInstant returns the earliest instant at which loc's wall clock reads
// the given time, or false if that wall time never happens (a gap where
// clocks spring forward). time.Date alone does not say which of two
// occurrences it picks when clocks fall back.
func firstInstant(y int, m time.Month, d, h, mi, sec int, loc *time.Location) (time.Time, bool) {
	if loc == time.UTC {
		return time.Date(y, m, d, h, mi, sec, 0, loc), true
	}
	wall := time.Date(y, m, d, h, mi, sec, 0, time.UTC)
	guess := time.Date(y, m, d, h, mi, sec, 0, loc)
	var best time.Time
	found := false
	for _, probe := range [...]time.Time{guess.Add(-12 * time.Hour), guess, guess.Add(12 * time.Hour)} {
		_, offset := probe.Zone()
		at := wall.Add(-time.Duration(offset) * time.Second).In(loc)
		ay, am, ad := at.Date()
		if ay == y && am == m && ad == d && at.Hour() == h && at.Minute() == mi && at.Second() == sec &&
			(!found || at.Before(best)) {
			best, found = at, true
		}
	}
	return best, found
}
