package attendance

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/problem"
)

// EmployeeID names an employee within a company.
type EmployeeID string

// DefaultTimeZone is the time zone of a shift that names none.
const DefaultTimeZone = "Asia/Hong_Kong"

// AccessPoint is one office Wi-Fi access point.
type AccessPoint struct {
	SSID  string `json:"ssid"`
	BSSID string `json:"bssid"` // normalised: lower-case, colon-separated
}

// Site is a place employees punch at.
type Site struct {
	ID           string        `json:"id"`
	Name         string        `json:"name"`
	Fence        Geofence      `json:"fence"`
	AccessPoints []AccessPoint `json:"accessPoints,omitempty"`
}

var bssidRE = regexp.MustCompile(`^[0-9a-fA-F]{2}([:\-]?)[0-9a-fA-F]{2}(?:[:\-]?[0-9a-fA-F]{2}){4}$`)

// NormalizeBSSID returns a BSSID in lower-case colon form
// ("a4:2b:b0:12:34:56"). It accepts colons, hyphens or no separators
// ("A4-2B-B0-12-34-56", "a42bb0123456"), one style throughout, and refuses
// anything else.
func NormalizeBSSID(s string) (string, error) {
	s = strings.TrimSpace(s)
	m := bssidRE.FindStringSubmatch(s)
	if m == nil || (m[1] != "" && strings.Count(s, m[1]) != 5) || (m[1] == "" && len(s) != 12) {
		return "", problem.E("attendance.NormalizeBSSID", problem.Invalid, problem.Code("bad-bssid"),
			i18n.Text{EN: fmt.Sprintf("%q is not a Wi-Fi BSSID (six hexadecimal pairs such as a4:2b:b0:12:34:56).", s),
				ZH: fmt.Sprintf("%q 不是有效的 Wi-Fi BSSID（應為六組十六進制數字，例如 a4:2b:b0:12:34:56）。", s)})
	}
	hex := strings.ToLower(strings.NewReplacer(":", "", "-", "").Replace(s))
	var b strings.Builder
	for i := 0; i < 12; i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(hex[i : i+2])
	}
	return b.String(), nil
}

// Normalize validates the site and normalises its BSSIDs.
func (s Site) Normalize() (Site, error) {
	const op = "attendance.Site"
	if s.ID == "" {
		return s, invalid(op, "site-id-missing", "A site needs an ID.", "地點需要編號。")
	}
	if err := s.Fence.Validate(); err != nil {
		return s, err
	}
	aps := make([]AccessPoint, 0, len(s.AccessPoints))
	for _, ap := range s.AccessPoints {
		b, err := NormalizeBSSID(ap.BSSID)
		if err != nil {
			return s, err
		}
		aps = append(aps, AccessPoint{SSID: ap.SSID, BSSID: b})
	}
	s.AccessPoints = aps
	return s, nil
}

// Shift is a working pattern. The clock times are local to TimeZone; a
// shift whose End is not after its Start is overnight (22:00 to 06:00 ends
// the next day). A shift occurs on each of its Weekdays (Monday to Friday
// when empty) that is not a public holiday, and belongs to the day it
// starts on: a night shift starting the evening before a holiday occurs.
type Shift struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Start string `json:"start"` // "09:00"
	End   string `json:"end"`   // "18:00"
	// LateGraceMin: minutes after the start (plus FlexMin) before a
	// clock-in counts as late. EarlyGraceMin: minutes before the end
	// before a clock-out counts as an early leave.
	LateGraceMin  int `json:"lateGraceMin,omitempty"`
	EarlyGraceMin int `json:"earlyGraceMin,omitempty"`
	// FlexMin makes the hours flexible: a clock-in up to FlexMin after
	// Start is on time, and the end moves by as much as the start did.
	FlexMin  int            `json:"flexMin,omitempty"`
	Weekdays []time.Weekday `json:"weekdays,omitempty"`
	TimeZone string         `json:"timeZone,omitempty"` // IANA name; DefaultTimeZone when empty
	// WorksHolidays makes the shift occur on public holidays too.
	WorksHolidays bool `json:"worksHolidays,omitempty"`
}

func clock(s string) (int, bool) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, false
	}
	return t.Hour()*60 + t.Minute(), true
}

// Normalize validates the shift and fills its defaults.
func (s Shift) Normalize() (Shift, error) {
	const op = "attendance.Shift"
	if s.ID == "" {
		return s, invalid(op, "shift-id-missing", "A shift needs an ID.", "班次需要編號。")
	}
	if _, ok := clock(s.Start); !ok {
		return s, invalid(op, "bad-shift-time", fmt.Sprintf("The shift start %q is not a time such as 09:00.", s.Start), fmt.Sprintf("班次開始時間 %q 格式不正確，應如 09:00。", s.Start))
	}
	if _, ok := clock(s.End); !ok {
		return s, invalid(op, "bad-shift-time", fmt.Sprintf("The shift end %q is not a time such as 18:00.", s.End), fmt.Sprintf("班次結束時間 %q 格式不正確，應如 18:00。", s.End))
	}
	if s.LateGraceMin < 0 || s.EarlyGraceMin < 0 || s.FlexMin < 0 || s.LateGraceMin > 240 || s.EarlyGraceMin > 240 || s.FlexMin > 720 {
		return s, invalid(op, "bad-shift-minutes", "Grace minutes must be 0 to 240 and flexible minutes 0 to 720.", "寬限時間必須為 0 至 240 分鐘，彈性時間必須為 0 至 720 分鐘。")
	}
	if s.TimeZone == "" {
		s.TimeZone = DefaultTimeZone
	}
	if _, err := loadZone(s.TimeZone); err != nil {
		return s, invalid(op, "bad-time-zone", fmt.Sprintf("%q is not a known time zone.", s.TimeZone), fmt.Sprintf("%q 不是已知的時區。", s.TimeZone))
	}
	if len(s.Weekdays) == 0 {
		s.Weekdays = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}
	}
	for _, d := range s.Weekdays {
		if d < time.Sunday || d > time.Saturday {
			return s, invalid(op, "bad-weekday", "Working days are 0 (Sunday) to 6 (Saturday).", "工作日必須為 0（星期日）至 6（星期六）。")
		}
	}
	return s, nil
}

// zones caches loaded time zones: time.LoadLocation parses the zone data
// on every call.
var zones sync.Map // name -> *time.Location

func loadZone(name string) (*time.Location, error) {
	if l, ok := zones.Load(name); ok {
		return l.(*time.Location), nil
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	zones.Store(name, l)
	return l, nil
}

// Location is the shift's time zone (DefaultTimeZone if it names a bad one).
func (s Shift) Location() *time.Location {
	name := s.TimeZone
	if name == "" {
		name = DefaultTimeZone
	}
	loc, err := loadZone(name)
	if err != nil {
		loc, _ = loadZone(DefaultTimeZone)
	}
	return loc
}

// Occurrence is one shift on one day.
type Occurrence struct {
	Shift string    `json:"shift"`
	Date  string    `json:"date"` // local date the shift starts on, 2006-01-02
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// LatestStart is start + flexible minutes: lateness counts from here.
	// LateAfter is the latest start + late grace: a clock-in after it is
	// late. (Both are left out of a punch's decision, which says Late and
	// LateMin instead, to keep the record small.)
	LatestStart time.Time `json:"latestStart,omitzero"`
	LateAfter   time.Time `json:"lateAfter,omitzero"`
}

// Duration is the scheduled length of the occurrence.
func (o Occurrence) Duration() time.Duration { return o.End.Sub(o.Start) }

// On is the occurrence of the shift starting on the local date y-m-d, if
// the shift works that day under the calendar.
func (s Shift) On(y int, m time.Month, d int, cal Calendar) (Occurrence, bool) {
	loc := s.Location()
	day := time.Date(y, m, d, 0, 0, 0, 0, loc)
	weekdays := s.Weekdays
	if len(weekdays) == 0 {
		weekdays = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}
	}
	if !slices.Contains(weekdays, day.Weekday()) {
		return Occurrence{}, false
	}
	date := day.Format(time.DateOnly)
	if _, holiday := cal.Holiday(date); holiday && !s.WorksHolidays {
		return Occurrence{}, false
	}
	sm, ok1 := clock(s.Start)
	em, ok2 := clock(s.End)
	if !ok1 || !ok2 {
		return Occurrence{}, false
	}
	start := time.Date(y, m, d, sm/60, sm%60, 0, 0, loc)
	endDay := d
	if em <= sm {
		endDay++ // overnight
	}
	end := time.Date(y, m, endDay, em/60, em%60, 0, 0, loc)
	return Occurrence{
		Shift: s.ID, Date: date, Start: start, End: end,
		LatestStart: start.Add(time.Duration(s.FlexMin) * time.Minute),
		LateAfter:   start.Add(time.Duration(s.FlexMin+s.LateGraceMin) * time.Minute),
	}, true
}

// Around lists the shift's occurrences starting on the local days before,
// of and after t.
func (s Shift) Around(t time.Time, cal Calendar) []Occurrence {
	local := t.In(s.Location())
	var out []Occurrence
	for delta := -1; delta <= 1; delta++ {
		d := local.AddDate(0, 0, delta)
		if o, ok := s.On(d.Year(), d.Month(), d.Day(), cal); ok {
			out = append(out, o)
		}
	}
	return out
}

// Holiday is one public holiday.
type Holiday struct {
	Date string `json:"date"` // 2006-01-02
	EN   string `json:"en"`
	ZH   string `json:"zh"`
	// Removed, in a company's override, takes a shipped holiday away.
	Removed bool `json:"removed,omitempty"`
}

//go:embed holidays_hk.json
var hkHolidaysJSON []byte

// HongKongHolidays are the Hong Kong general holidays shipped with Lantau
// (2025 and 2026), in date order.
func HongKongHolidays() []Holiday {
	var hs []Holiday
	if err := json.Unmarshal(hkHolidaysJSON, &hs); err != nil {
		panic(fmt.Sprintf("attendance: embedded holidays: %v", err)) // caught by tests
	}
	return hs
}

// Calendar answers which days are public holidays.
type Calendar struct {
	days map[string]Holiday
}

// NewCalendar is base with a company's overrides applied in order: an
// override adds or renames the holiday on its date, or (Removed) takes it
// away. Use HongKongHolidays() as the base.
func NewCalendar(base []Holiday, overrides ...Holiday) Calendar {
	c := Calendar{days: make(map[string]Holiday, len(base)+len(overrides))}
	for _, h := range slices.Concat(base, overrides) {
		if h.Removed {
			delete(c.days, h.Date)
			continue
		}
		c.days[h.Date] = h
	}
	return c
}

// Holiday reports the holiday on the date (2006-01-02).
func (c Calendar) Holiday(date string) (Holiday, bool) {
	h, ok := c.days[date]
	return h, ok
}

// Holidays lists the calendar's holidays in date order.
func (c Calendar) Holidays() []Holiday {
	out := make([]Holiday, 0, len(c.days))
	for _, h := range c.days {
		out = append(out, h)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Date < out[j].Date })
	return out
}

// ValidateHoliday checks an admin's holiday override.
func ValidateHoliday(h Holiday) error {
	if _, err := time.Parse(time.DateOnly, h.Date); err != nil {
		return invalid("attendance.ValidateHoliday", "bad-holiday-date", fmt.Sprintf("%q is not a date such as 2026-12-25.", h.Date), fmt.Sprintf("%q 不是有效日期，應如 2026-12-25。", h.Date))
	}
	if !h.Removed && (h.EN == "" || h.ZH == "") {
		return invalid("attendance.ValidateHoliday", "holiday-name-missing", "A holiday needs its name in English and Chinese.", "假期需要中英文名稱。")
	}
	return nil
}

// Assignment applies sites and shifts to a department or to one employee.
// An employee's own assignments replace those of their department.
type Assignment struct {
	ID         string     `json:"id"`
	Department string     `json:"department,omitempty"`
	Employee   EmployeeID `json:"employee,omitempty"`
	Sites      []string   `json:"sites,omitempty"`
	Shifts     []string   `json:"shifts,omitempty"`
	// AllowField lets these employees punch outside every site, with a
	// note, for their manager to approve.
	AllowField bool `json:"allowField,omitempty"`
}

// Rules are a company's attendance set-up.
type Rules struct {
	Policy      Policy
	Sites       []Site
	Shifts      []Shift
	Assignments []Assignment
	Calendar    Calendar
}

// Applicable is what applies to one employee.
type Applicable struct {
	Sites      []Site
	Shifts     []Shift
	AllowField bool
}

// For resolves what applies to the employee of the department: the
// employee's own assignments if there are any, else the department's.
func (r Rules) For(emp EmployeeID, department string) Applicable {
	var own, dept []Assignment
	for _, a := range r.Assignments {
		switch {
		case a.Employee != "" && a.Employee == emp:
			own = append(own, a)
		case a.Employee == "" && a.Department != "" && a.Department == department:
			dept = append(dept, a)
		}
	}
	use := own
	if len(use) == 0 {
		use = dept
	}
	var out Applicable
	for _, a := range use {
		out.AllowField = out.AllowField || a.AllowField
		for _, s := range r.Sites {
			if slices.Contains(a.Sites, s.ID) && !slices.ContainsFunc(out.Sites, func(x Site) bool { return x.ID == s.ID }) {
				out.Sites = append(out.Sites, s)
			}
		}
		for _, s := range r.Shifts {
			if slices.Contains(a.Shifts, s.ID) && !slices.ContainsFunc(out.Shifts, func(x Shift) bool { return x.ID == s.ID }) {
				out.Shifts = append(out.Shifts, s)
			}
		}
	}
	return out
}
