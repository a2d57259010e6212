package attendance

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/problem"
)

// Kind is the direction of a punch.
type Kind string

// Kinds of punch.
const (
	In  Kind = "in"
	Out Kind = "out"
)

// Outcome is the server's decision on a punch.
type Outcome string

// Outcomes, from best to worst.
const (
	// Accepted: counted, nothing to look at.
	Accepted Outcome = "accepted"
	// Flagged: counted, but an admin should look (see the reasons).
	Flagged Outcome = "flagged"
	// PendingField: a field punch outside every site, counted once the
	// employee's manager (or an admin) approves it.
	PendingField Outcome = "pending-field"
	// Refused: recorded for the record, never counted.
	Refused Outcome = "refused"
)

// Counts reports whether a punch with the outcome counts as attendance
// (a pending field punch counts once approved).
func (o Outcome) Counts() bool { return o == Accepted || o == Flagged }

// Severity says what a reason does to the outcome.
type Severity string

// Severities.
const (
	Info       Severity = "info"
	FlagIt     Severity = "flag"
	RefuseIt   Severity = "refuse"
	PendingFor Severity = "pending"
)

// Reason explains one part of a decision, in English and zh-HK.
type Reason struct {
	Code     string            `json:"code"`
	Severity Severity          `json:"severity"`
	Args     map[string]string `json:"args,omitempty"`   // the values the message shows
	Message  i18n.Text         `json:"message,omitzero"` // Explain(Code, Args); not stored in the chain
}

// Action is what a policy does when a check fails: "" takes the check's
// default (listed on each Policy field).
type Action string

// Actions.
const (
	Default Action = ""
	Flag    Action = "flag"
	Refuse  Action = "refuse"
)

// Policy is a company's clock-in policy. Zero fields take the defaults
// shown.
type Policy struct {
	MaxAccuracyM    float64 `json:"maxAccuracyM,omitempty"`    // 100: a worse fix is flagged (OnPoorAccuracy)
	MaxSpeedKmh     float64 `json:"maxSpeedKmh,omitempty"`     // 200: faster since the previous punch is impossible travel
	MaxClockSkewSec int     `json:"maxClockSkewSec,omitempty"` // 300: client clock this far off server time
	EarlyWindowMin  int     `json:"earlyWindowMin,omitempty"`  // 180: a punch this long before a shift starts is in its window
	LateWindowMin   int     `json:"lateWindowMin,omitempty"`   // 360: a punch this long after a shift ends is in its window

	OnMockLocation     Action `json:"onMockLocation,omitempty"`     // refuse
	OnPoorAccuracy     Action `json:"onPoorAccuracy,omitempty"`     // flag
	OnUnboundDevice    Action `json:"onUnboundDevice,omitempty"`    // refuse
	OnImpossibleTravel Action `json:"onImpossibleTravel,omitempty"` // flag
	OnClockSkew        Action `json:"onClockSkew,omitempty"`        // flag
	OnOutsideShift     Action `json:"onOutsideShift,omitempty"`     // flag

	// MuteMails stops the attendance mails (a missing clock-in to the
	// employee, a field punch to its approver); the events still reach
	// the audit trail.
	MuteMails bool `json:"muteMails,omitempty"`
}

// WithDefaults fills the zero fields.
func (p Policy) WithDefaults() Policy {
	def := func(v *float64, d float64) {
		if *v <= 0 || math.IsNaN(*v) {
			*v = d
		}
	}
	defi := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defa := func(a *Action, d Action) {
		if *a != Flag && *a != Refuse {
			*a = d
		}
	}
	def(&p.MaxAccuracyM, 100)
	def(&p.MaxSpeedKmh, 200)
	defi(&p.MaxClockSkewSec, 300)
	defi(&p.EarlyWindowMin, 180)
	defi(&p.LateWindowMin, 360)
	defa(&p.OnMockLocation, Refuse)
	defa(&p.OnPoorAccuracy, Flag)
	defa(&p.OnUnboundDevice, Refuse)
	defa(&p.OnImpossibleTravel, Flag)
	defa(&p.OnClockSkew, Flag)
	defa(&p.OnOutsideShift, Flag)
	return p
}

// SeenAP is a Wi-Fi network the phone sees.
type SeenAP struct {
	SSID  string `json:"ssid,omitempty"`
	BSSID string `json:"bssid"`
}

// Request is what the client sends with a punch.
type Request struct {
	Kind         Kind      `json:"kind"`
	Location     *Fix      `json:"location,omitempty"` // nil: GPS off or denied
	WiFi         []SeenAP  `json:"wifi,omitempty"`
	DeviceID     string    `json:"deviceId"`
	ClientTime   time.Time `json:"clientTime"`
	MockLocation bool      `json:"mockLocation,omitempty"` // the OS said the location is mocked
	Note         string    `json:"note,omitempty"`         // required for a field punch
}

// LastPunch is what is remembered of an employee's previous punch.
type LastPunch struct {
	Seq      int64     `json:"seq"`
	Kind     Kind      `json:"kind"`
	Time     time.Time `json:"time"` // server time
	Location *Fix      `json:"location,omitempty"`
	Counts   bool      `json:"counts"`
}

// Context is what the server knows when it decides.
type Context struct {
	Employee    EmployeeID
	Sites       []Site
	Shifts      []Shift
	AllowField  bool
	Calendar    Calendar
	BoundDevice string     // "" when no device is bound yet: this one binds
	Previous    *LastPunch // nil for the first punch
	Now         time.Time  // server time
}

// Decision is the server's answer to a punch.
type Decision struct {
	Outcome    Outcome     `json:"outcome"`
	Site       string      `json:"site,omitempty"`
	Via        string      `json:"via,omitempty"` // "wifi" or "gps"
	Placement  Placement   `json:"placement,omitempty"`
	DistanceM  float64     `json:"distanceM,omitempty"`
	Shift      *Occurrence `json:"shift,omitempty"`
	Late       bool        `json:"late,omitempty"`
	LateMin    int         `json:"lateMin,omitempty"`
	EarlyLeave bool        `json:"earlyLeave,omitempty"`
	EarlyMin   int         `json:"earlyMin,omitempty"`
	Field      bool        `json:"field,omitempty"`
	BindDevice bool        `json:"bindDevice,omitempty"` // the device becomes the employee's bound device
	Reasons    []Reason    `json:"reasons"`
}

// Has reports whether a reason with the code is present.
func (d Decision) Has(code string) bool {
	for _, r := range d.Reasons {
		if r.Code == code {
			return true
		}
	}
	return false
}

// Flagged reports whether any reason flags the punch for review.
func (d Decision) Flagged() bool {
	for _, r := range d.Reasons {
		if r.Severity == FlagIt {
			return true
		}
	}
	return false
}

// add appends a reason; args are name, value pairs.
func (d *Decision) add(code string, sev Severity, args ...string) {
	var m map[string]string
	if len(args) > 0 {
		m = make(map[string]string, len(args)/2)
		for i := 0; i+1 < len(args); i += 2 {
			m[args[i]] = args[i+1]
		}
	}
	d.Reasons = append(d.Reasons, Reason{Code: code, Severity: sev, Args: m, Message: Explain(code, m)})
}

func (d *Decision) act(a Action, code string, args ...string) {
	sev := FlagIt
	if a == Refuse {
		sev = RefuseIt
	}
	d.add(code, sev, args...)
}

// Evaluate decides a punch. It is pure: the same arguments give the same
// decision. Checks, each adding a reason:
//
//   - the kind must be in or out and a device ID present (refused otherwise);
//   - a mock location reported by the OS (policy, default refuse);
//   - the device: the first one binds; another than the bound one
//     (policy, default refuse) until an admin rebinds;
//   - the client's clock more than MaxClockSkewSec off (default flag);
//   - the fix: invalid values are refused, accuracy worse than
//     MaxAccuracyM is flagged (default);
//   - the place: a seen BSSID of a site accepts the punch at that site
//     (GPS not needed); otherwise the geofence with the accuracy rule of
//     Geofence.Place: inside accepts, uncertain flags, outside (or no fix)
//     is a field punch when the employee may punch in the field and wrote
//     a note (pending their manager's approval), refused otherwise;
//   - travel: the speed since the previous punch, with both accuracies
//     given to the employee, above MaxSpeedKmh (default flag);
//   - the shift: a punch not within [start - EarlyWindowMin, end +
//     LateWindowMin] of any of the employee's shift occurrences (default
//     flag); a clock-in after start + flex + late grace is late, a clock-out
//     before end (moved by the flexible start) - early grace is an early
//     leave (both informational: the timesheet and alerts count them).
//
// The outcome is the worst: any refusal refuses, else a field punch is
// pending, else any flag flags, else it is accepted.
func Evaluate(policy Policy, c Context, r Request) Decision {
	p := policy.WithDefaults()
	var d Decision
	now := c.Now

	if r.Kind != In && r.Kind != Out {
		d.add("bad-kind", RefuseIt)
	}
	if r.MockLocation {
		d.act(p.OnMockLocation, "mock-location")
	}
	switch {
	case r.DeviceID == "":
		d.add("device-missing", RefuseIt)
	case c.BoundDevice == "":
		d.BindDevice = true
		d.add("device-bound", Info)
	case c.BoundDevice != r.DeviceID:
		d.act(p.OnUnboundDevice, "device-not-bound")
	}
	skew := time.Duration(p.MaxClockSkewSec) * time.Second
	switch {
	case r.ClientTime.IsZero():
		d.act(p.OnClockSkew, "client-time-missing")
	case absDur(r.ClientTime.Sub(now)) > skew:
		off := absDur(r.ClientTime.Sub(now))
		d.act(p.OnClockSkew, "clock-skew", "offSec", strconv.FormatInt(int64(off/time.Second), 10), "maxSec", strconv.Itoa(p.MaxClockSkewSec))
	}

	fix := r.Location
	if fix != nil {
		if err := fix.Validate(); err != nil {
			var pe *problem.Error
			msg := i18n.Text{EN: "The location is not valid.", ZH: "位置資料無效。"}
			if errors.As(err, &pe) && !pe.Detail.IsZero() {
				msg = pe.Detail
			}
			d.add("bad-location", RefuseIt, "en", msg.EN, "zh", msg.ZH)
			fix = nil
		} else if fix.AccuracyM > p.MaxAccuracyM {
			d.act(p.OnPoorAccuracy, "poor-accuracy", "accuracy", metres(fix.AccuracyM), "max", metres(p.MaxAccuracyM))
		}
	}

	placeSite(&d, c, r, fix)

	if fix != nil && c.Previous != nil && c.Previous.Location != nil {
		prev := c.Previous
		dist := Distance(prev.Location.LatLng, fix.LatLng) - prev.Location.AccuracyM - fix.AccuracyM
		dt := now.Sub(prev.Time).Hours()
		if dist > 0 {
			speed := math.Inf(1)
			if dt > 0 {
				speed = dist / 1000 / dt
			}
			if speed > p.MaxSpeedKmh {
				d.act(p.OnImpossibleTravel, "impossible-travel", "km", fmt.Sprintf("%.1f", dist/1000), "max", metres(p.MaxSpeedKmh))
			}
		}
	}

	placeShift(&d, p, c, r)

	d.Outcome = Accepted
	for _, x := range d.Reasons {
		switch {
		case x.Severity == RefuseIt:
			d.Outcome = Refused
		case x.Severity == PendingFor && d.Outcome != Refused:
			d.Outcome = PendingField
		case x.Severity == FlagIt && d.Outcome == Accepted:
			d.Outcome = Flagged
		}
	}
	if d.Outcome == Refused && d.BindDevice {
		// A refused punch binds nothing: the next one tries again.
		d.BindDevice = false
		d.Reasons = slices.DeleteFunc(d.Reasons, func(x Reason) bool { return x.Code == "device-bound" })
	}
	if d.Reasons == nil {
		d.Reasons = []Reason{}
	}
	return d
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func placeSite(d *Decision, c Context, r Request, fix *Fix) {
	seen := map[string]bool{}
	for _, ap := range r.WiFi {
		if b, err := NormalizeBSSID(ap.BSSID); err == nil {
			seen[b] = true
		}
	}
	for _, s := range c.Sites {
		for _, ap := range s.AccessPoints {
			if seen[ap.BSSID] {
				d.Site, d.Via = s.ID, "wifi"
				d.add("wifi-match", Info, "ssid", ap.SSID, "site", s.Name)
				return
			}
		}
	}
	best, bestDist, bestSite := Outside, math.Inf(1), Site{}
	if fix != nil {
		rank := map[Placement]int{Inside: 0, Uncertain: 1, Outside: 2}
		for _, s := range c.Sites {
			if s.Fence.Validate() != nil {
				continue
			}
			pl, dist := s.Fence.Place(*fix)
			if rank[pl] < rank[best] || (rank[pl] == rank[best] && dist < bestDist) {
				best, bestDist, bestSite = pl, dist, s
			}
		}
	}
	switch best {
	case Inside:
		d.Site, d.Via, d.Placement, d.DistanceM = bestSite.ID, "gps", Inside, bestDist
		d.add("inside-geofence", Info, "site", bestSite.Name, "distance", metres(bestDist), "accuracy", metres(fix.AccuracyM))
		return
	case Uncertain:
		d.Site, d.Via, d.Placement, d.DistanceM = bestSite.ID, "gps", Uncertain, bestDist
		d.add("location-uncertain", FlagIt, "site", bestSite.Name, "distance", metres(bestDist), "accuracy", metres(fix.AccuracyM))
		return
	}
	d.Placement = Outside
	if fix != nil && !math.IsInf(bestDist, 1) {
		d.DistanceM = bestDist
	}
	var where []string
	if fix == nil {
		where = []string{"location", "none"}
	} else if !math.IsInf(bestDist, 1) {
		where = []string{"site", bestSite.Name, "distance", metres(bestDist), "accuracy", metres(fix.AccuracyM)}
	}
	switch {
	case !c.AllowField:
		d.add("outside-sites", RefuseIt, where...)
	case r.Note == "":
		d.add("field-note-required", RefuseIt, where...)
	default:
		d.Field = true
		d.add("field-punch", PendingFor, where...)
	}
}

func placeShift(d *Decision, p Policy, c Context, r Request) {
	now := c.Now
	early := time.Duration(p.EarlyWindowMin) * time.Minute
	late := time.Duration(p.LateWindowMin) * time.Minute
	var best *Occurrence
	var bestShift Shift
	bestGap := time.Duration(math.MaxInt64)
	for _, s := range c.Shifts {
		for _, o := range s.Around(now, c.Calendar) {
			if now.Before(o.Start.Add(-early)) || now.After(o.End.Add(late)) {
				continue
			}
			anchor := o.Start
			if r.Kind == Out {
				anchor = o.End
			}
			if gap := absDur(now.Sub(anchor)); gap < bestGap {
				o := o
				best, bestShift, bestGap = &o, s, gap
			}
		}
	}
	if best == nil {
		d.act(p.OnOutsideShift, "outside-shift")
		return
	}
	// Stored in the chain: UTC, as decoded JSON gives it back.
	d.Shift = &Occurrence{Shift: best.Shift, Date: best.Date, Start: best.Start.UTC(), End: best.End.UTC()}
	loc := bestShift.Location()
	switch r.Kind {
	case In:
		if now.After(best.LateAfter) {
			d.Late = true
			d.LateMin = int(now.Sub(best.LatestStart).Minutes())
			d.add("late", Info, "min", strconv.Itoa(d.LateMin), "start", best.LatestStart.In(loc).Format("15:04"))
		}
	case Out:
		end := flexEnd(*best, bestShift, c.Previous)
		if now.Before(end.Add(-time.Duration(bestShift.EarlyGraceMin) * time.Minute)) {
			d.EarlyLeave = true
			d.EarlyMin = int(end.Sub(now).Minutes())
			d.add("early-leave", Info, "min", strconv.Itoa(d.EarlyMin), "end", end.In(loc).Format("15:04"))
		}
	}
}

// flexEnd is the end of the occurrence moved by how late within the
// flexible window the employee clocked in (their previous punch).
func flexEnd(o Occurrence, s Shift, prev *LastPunch) time.Time {
	if s.FlexMin == 0 || prev == nil || prev.Kind != In || !prev.Counts ||
		prev.Time.Before(o.Start.Add(-6*time.Hour)) || prev.Time.After(o.End) {
		return o.End
	}
	return o.End.Add(flexShift(o, s, prev.Time))
}

func flexShift(o Occurrence, s Shift, in time.Time) time.Duration {
	shift := in.Sub(o.Start)
	return max(0, min(shift, time.Duration(s.FlexMin)*time.Minute))
}

// metres formats a distance or speed for a message: whole units.
func metres(v float64) string { return strconv.FormatFloat(math.Round(v), 'f', 0, 64) }
