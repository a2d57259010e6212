package staffcsv

import (
	"cmp"
	"fmt"
	"time"
)

// Date is a calendar day without a time or a zone, as a start or leave date
// is written in a staff list.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// String returns the ISO 8601 form, 2025-11-03.
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// Compare returns -1, 0 or +1 as d is before, the same day as, or after o.
func (d Date) Compare(o Date) int {
	if c := cmp.Compare(d.Year, o.Year); c != 0 {
		return c
	}
	if c := cmp.Compare(d.Month, o.Month); c != 0 {
		return c
	}
	return cmp.Compare(d.Day, o.Day)
}

// Before reports whether d is an earlier day than o.
func (d Date) Before(o Date) bool { return d.Compare(o) < 0 }

// In returns the start of the day in loc.
func (d Date) In(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// MarshalText writes the ISO form.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads the ISO form only.
func (d *Date) UnmarshalText(b []byte) error {
	t, err := time.Parse(time.DateOnly, string(b))
	if err != nil {
		return fmt.Errorf("staffcsv: date %q is not YYYY-MM-DD: %w", b, err)
	}
	*d = Date{t.Year(), t.Month(), t.Day()}
	return nil
}

// makeDate checks that y-m-d is a real day in the range a staff list can
// hold.
func makeDate(y, m, d int) (Date, bool) {
	if y < 1900 || y > 2199 || m < 1 || m > 12 || d < 1 {
		return Date{}, false
	}
	if d > time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day() {
		return Date{}, false
	}
	return Date{y, time.Month(m), d}, true
}
