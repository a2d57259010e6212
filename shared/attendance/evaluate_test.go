package attendance_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/attendance"
)

const officeAP = "a4:2b:b0:12:34:56"

func kbSite() attendance.Site {
	return attendance.Site{ID: "kb", Name: "Kowloon Bay office", Fence: attendance.Geofence{Center: kowloonBay, RadiusM: 150},
		AccessPoints: []attendance.AccessPoint{{SSID: "Acme-Office", BSSID: officeAP}}}
}

func officeShift() attendance.Shift {
	return attendance.Shift{ID: "office", Start: "09:00", End: "18:00", LateGraceMin: 10, EarlyGraceMin: 10, TimeZone: "Asia/Hong_Kong"}
}

func nightShift() attendance.Shift {
	return attendance.Shift{ID: "night", Start: "22:00", End: "06:00", LateGraceMin: 10, EarlyGraceMin: 10, Weekdays: []time.Weekday{0, 1, 2, 3, 4, 5, 6}}
}

// near is a fix d metres east of the site with the accuracy.
func near(d, acc float64) *attendance.Fix {
	return &attendance.Fix{LatLng: attendance.Offset(kowloonBay, d, 90), AccuracyM: acc}
}

type evalCase struct {
	name    string
	change  func(p *attendance.Policy, c *attendance.Context, r *attendance.Request)
	outcome attendance.Outcome
	codes   []string // reasons that must be present
	absent  []string // reasons that must not be
	check   func(t *testing.T, d attendance.Decision)
}

func runEval(t *testing.T, tests []evalCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Wednesday 25 November 2026, 08:55 in Hong Kong, at the office.
			now := hk(2026, 11, 25, 8, 55)
			p := attendance.Policy{}
			c := attendance.Context{
				Employee: "e-1", Sites: []attendance.Site{kbSite()}, Shifts: []attendance.Shift{officeShift()},
				Calendar: attendance.NewCalendar(attendance.HongKongHolidays()), BoundDevice: "dev-1", Now: now,
			}
			r := attendance.Request{Kind: attendance.In, Location: near(30, 10), DeviceID: "dev-1", ClientTime: now.Add(3 * time.Second)}
			if tt.change != nil {
				tt.change(&p, &c, &r)
			}
			d := attendance.Evaluate(p, c, r)
			assert.Equal(t, tt.outcome, d.Outcome, "reasons: %+v", d.Reasons)
			for _, code := range tt.codes {
				assert.True(t, d.Has(code), "reason %s missing from %+v", code, d.Reasons)
			}
			for _, code := range tt.absent {
				assert.False(t, d.Has(code), "reason %s present", code)
			}
			for _, reason := range d.Reasons {
				assert.NotEmpty(t, reason.Message.EN, reason.Code)
				assert.NotEmpty(t, reason.Message.ZH, reason.Code)
			}
			if tt.check != nil {
				tt.check(t, d)
			}
			assert.Equal(t, d, attendance.Evaluate(p, c, r), "pure: same input, same decision")
		})
	}
}

func TestEvaluate_Place(t *testing.T) {
	runEval(t, []evalCase{
		{name: "30 m from the centre with 10 m accuracy is accepted", outcome: attendance.Accepted, codes: []string{"inside-geofence"},
			check: func(t *testing.T, d attendance.Decision) {
				assert.Equal(t, "kb", d.Site)
				assert.Equal(t, "gps", d.Via)
				assert.InDelta(t, 30, d.DistanceM, 0.01)
			}},
		// 140 + 20 = 160 > 150 m: could be outside; 140 - 20 = 120 <= 150:
		// could be inside. Flagged for review, counted meanwhile.
		{name: "140 m away with 20 m accuracy against a 150 m radius is flagged as uncertain", outcome: attendance.Flagged,
			change: func(_ *attendance.Policy, _ *attendance.Context, r *attendance.Request) { r.Location = near(140, 20) },
			codes:  []string{"location-uncertain"}, absent: []string{"inside-geofence"},
			check: func(t *testing.T, d attendance.Decision) {
				assert.Equal(t, attendance.Uncertain, d.Placement)
				assert.Equal(t, "kb", d.Site)
				assert.True(t, d.Outcome.Counts())
			}},
		{name: "2 km away is refused when field punches are not allowed", outcome: attendance.Refused,
			change: func(_ *attendance.Policy, _ *attendance.Context, r *attendance.Request) { r.Location = near(2000, 20) },
			codes:  []string{"outside-sites"},
			check:  func(t *testing.T, d attendance.Decision) { assert.InDelta(t, 2000, d.DistanceM, 0.01) }},
		{name: "2 km away with a note is a field punch pending approval when allowed", outcome: attendance.PendingField,
			change: func(_ *attendance.Policy, c *attendance.Context, r *attendance.Request) {
				r.Location, r.Note, c.AllowField = near(2000, 20), "Client visit, Kwun Tong", true
			},
			codes: []string{"field-punch"},
			check: func(t *testing.T, d attendance.Decision) { assert.True(t, d.Field); assert.Empty(t, d.Site) }},
		{name: "a field punch without a note is refused", outcome: attendance.Refused,
			change: func(_ *attendance.Policy, c *attendance.Context, r *attendance.Request) {
				r.Location, c.AllowField = near(2000, 20), true
			},
			codes: []string{"field-note-required"}},
		{name: "an office BSSID with GPS off is accepted at that site", outcome: attendance.Accepted,
			change: func(_ *attendance.Policy, _ *attendance.Context, r *attendance.Request) {
				r.Location = nil
				r.WiFi = []attendance.SeenAP{{SSID: "Starbucks", BSSID: "00:11:22:33:44:55"}, {SSID: "Acme-Office", BSSID: "A4-2B-B0-12-34-56"}}
			},
			codes: []string{"wifi-match"},
			check: func(t *testing.T, d attendance.Decision) {
				assert.Equal(t, "kb", d.Site)
				assert.Equal(t, "wifi", d.Via)
			}},
		{name: "an office BSSID wins over an uncertain fix", outcome: attendance.Accepted,
			change: func(_ *attendance.Policy, _ *attendance.Context, r *attendance.Request) {
				r.Location, r.WiFi = near(140, 20), []attendance.SeenAP{{BSSID: officeAP}}
			},
			codes: []string{"wifi-match"}, absent: []string{"location-uncertain"}},
		{name: "GPS off and no office Wi-Fi is refused", outcome: attendance.Refused,
			change: func(_ *attendance.Policy, _ *attendance.Context, r *attendance.Request) {
				r.Location, r.WiFi = nil, []attendance.SeenAP{{BSSID: "not a bssid"}}
			},
			codes: []string{"outside-sites"}},
		{name: "a NaN latitude is refused with a reason", outcome: attendance.Refused,
			change: func(_ *attendance.Policy, _ *attendance.Context, r *attendance.Request) {
				r.Location = &attendance.Fix{LatLng: attendance.LatLng{Lat: math.NaN(), Lng: 114.2}, AccuracyM: 5}
			},
			codes: []string{"bad-location"}},
		{name: "accuracy worse than the 100 m policy is flagged", outcome: attendance.Flagged,
			change: func(_ *attendance.Policy, c *attendance.Context, r *attendance.Request) {
				c.Sites[0].Fence.RadiusM = 500
				r.Location = near(0, 120)
			},
			codes: []string{"poor-accuracy", "inside-geofence"}},
		{name: "a policy may refuse poor accuracy", outcome: attendance.Refused,
			change: func(p *attendance.Policy, c *attendance.Context, r *attendance.Request) {
				p.MaxAccuracyM, p.OnPoorAccuracy = 50, attendance.Refuse
				r.Location = near(0, 60)
			},
			codes: []string{"poor-accuracy"}},
		{name: "an unknown kind is refused", outcome: attendance.Refused,
			change: func(_ *attendance.Policy, _ *attendance.Context, r *attendance.Request) { r.Kind = "lunch" },
			codes:  []string{"bad-kind"}},
	})
}

func TestEvaluate_Integrity(t *testing.T) {
	runEval(t, []evalCase{
		{name: "a mock location is refused", outcome: attendance.Refused,
			change: func(_ *attendance.Policy, _ *attendance.Context, r *attendance.Request) { r.MockLocation = true },
			codes:  []string{"mock-location"}},
		{name: "a policy may only flag a mock location", outcome: attendance.Flagged,
			change: func(p *attendance.Policy, _ *attendance.Context, r *attendance.Request) {
				r.MockLocation, p.OnMockLocation = true, attendance.Flag
			},
			codes: []string{"mock-location"}},
		{name: "the first device binds", outcome: attendance.Accepted,
			change: func(_ *attendance.Policy, c *attendance.Context, _ *attendance.Request) { c.BoundDevice = "" },
			codes:  []string{"device-bound"},
			check:  func(t *testing.T, d attendance.Decision) { assert.True(t, d.BindDevice) }},
		{name: "a refused first punch binds nothing", outcome: attendance.Refused,
			change: func(_ *attendance.Policy, c *attendance.Context, r *attendance.Request) {
				c.BoundDevice, r.MockLocation = "", true
			},
			codes: []string{"mock-location"}, absent: []string{"device-bound"},
			check: func(t *testing.T, d attendance.Decision) { assert.False(t, d.BindDevice) }},
		{name: "another device than the bound one is refused", outcome: attendance.Refused,
			change: func(_ *attendance.Policy, _ *attendance.Context, r *attendance.Request) { r.DeviceID = "dev-2" },
			codes:  []string{"device-not-bound"},
			check:  func(t *testing.T, d attendance.Decision) { assert.False(t, d.BindDevice) }},
		{name: "no device ID is refused", outcome: attendance.Refused,
			change: func(_ *attendance.Policy, _ *attendance.Context, r *attendance.Request) { r.DeviceID = "" },
			codes:  []string{"device-missing"}},
		{name: "a client clock 10 minutes off is flagged", outcome: attendance.Flagged,
			change: func(_ *attendance.Policy, c *attendance.Context, r *attendance.Request) {
				r.ClientTime = c.Now.Add(-10 * time.Minute)
			},
			codes: []string{"clock-skew"},
			check: func(t *testing.T, d attendance.Decision) {
				assert.Equal(t, "The phone's clock is 600 seconds off the server's (at most 300 allowed).", d.Reasons[0].Message.EN)
				assert.Equal(t, "手機時鐘與伺服器相差 600 秒（上限為 300 秒）。", d.Reasons[0].Message.ZH)
			}},
		{name: "a client clock 4 minutes off is within the 5 minute bound", outcome: attendance.Accepted,
			change: func(_ *attendance.Policy, c *attendance.Context, r *attendance.Request) {
				r.ClientTime = c.Now.Add(4 * time.Minute)
			},
			absent: []string{"clock-skew"}},
		{name: "a missing client time is flagged", outcome: attendance.Flagged,
			change: func(_ *attendance.Policy, _ *attendance.Context, r *attendance.Request) { r.ClientTime = time.Time{} },
			codes:  []string{"client-time-missing"}},
		// Macau (22.1987, 113.5439) is about 71 km from Kowloon Bay: in 10
		// minutes that is over 400 km/h.
		{name: "Macau ten minutes ago is impossible travel", outcome: attendance.Flagged,
			change: func(_ *attendance.Policy, c *attendance.Context, _ *attendance.Request) {
				c.Previous = &attendance.LastPunch{Seq: 1, Kind: attendance.Out, Time: c.Now.Add(-10 * time.Minute),
					Location: &attendance.Fix{LatLng: attendance.LatLng{Lat: 22.1987, Lng: 113.5439}, AccuracyM: 10}, Counts: true}
			},
			codes: []string{"impossible-travel"}},
		// Central is 7.7 km away: in 10 minutes, 46 km/h, a taxi.
		{name: "Central ten minutes ago is possible", outcome: attendance.Accepted,
			change: func(_ *attendance.Policy, c *attendance.Context, _ *attendance.Request) {
				c.Previous = &attendance.LastPunch{Seq: 1, Kind: attendance.Out, Time: c.Now.Add(-10 * time.Minute),
					Location: &attendance.Fix{LatLng: attendance.LatLng{Lat: 22.2800, Lng: 114.1588}, AccuracyM: 10}, Counts: true}
			},
			absent: []string{"impossible-travel"}},
		{name: "jitter within both accuracies is no travel at all", outcome: attendance.Accepted,
			change: func(_ *attendance.Policy, c *attendance.Context, _ *attendance.Request) {
				c.Previous = &attendance.LastPunch{Seq: 1, Kind: attendance.Out, Time: c.Now, Location: near(40, 10), Counts: true}
			},
			absent: []string{"impossible-travel"}},
	})
}

func TestEvaluate_Shifts(t *testing.T) {
	at := func(tm time.Time, kind attendance.Kind) func(*attendance.Policy, *attendance.Context, *attendance.Request) {
		return func(_ *attendance.Policy, c *attendance.Context, r *attendance.Request) {
			c.Now, r.ClientTime, r.Kind = tm, tm, kind
		}
	}
	runEval(t, []evalCase{
		{name: "clock-in at 09:10 is within the 10 minute grace", outcome: attendance.Accepted, change: at(hk(2026, 11, 25, 9, 10), attendance.In),
			absent: []string{"late"},
			check: func(t *testing.T, d attendance.Decision) {
				require.NotNil(t, d.Shift)
				assert.Equal(t, "2026-11-25", d.Shift.Date)
				assert.False(t, d.Late)
			}},
		{name: "clock-in at 09:15 is 15 minutes late", outcome: attendance.Accepted, change: at(hk(2026, 11, 25, 9, 15), attendance.In),
			codes: []string{"late"},
			check: func(t *testing.T, d attendance.Decision) { assert.True(t, d.Late); assert.Equal(t, 15, d.LateMin) }},
		{name: "clock-out at 17:40 is a 20 minute early leave", outcome: attendance.Accepted, change: at(hk(2026, 11, 25, 17, 40), attendance.Out),
			codes: []string{"early-leave"},
			check: func(t *testing.T, d attendance.Decision) {
				assert.True(t, d.EarlyLeave)
				assert.Equal(t, 20, d.EarlyMin)
			}},
		{name: "clock-out at 17:55 is within the early grace", outcome: attendance.Accepted, change: at(hk(2026, 11, 25, 17, 55), attendance.Out),
			absent: []string{"early-leave"}},
		{name: "a punch at 02:00 is outside every shift", outcome: attendance.Flagged, change: at(hk(2026, 11, 25, 2, 0), attendance.In),
			codes: []string{"outside-shift"}},
		{name: "a punch on Christmas Day is outside every shift (public holiday)", outcome: attendance.Flagged, change: at(hk(2026, 12, 25, 9, 0), attendance.In),
			codes: []string{"outside-shift"}},
		{name: "a policy may refuse punches outside shifts", outcome: attendance.Refused,
			change: func(p *attendance.Policy, c *attendance.Context, r *attendance.Request) {
				at(hk(2026, 11, 28, 9, 0), attendance.In)(p, c, r) // a Saturday
				p.OnOutsideShift = attendance.Refuse
			},
			codes: []string{"outside-shift"}},
		{name: "a night shift clock-out at 06:05 belongs to the shift that started the evening before", outcome: attendance.Accepted,
			change: func(p *attendance.Policy, c *attendance.Context, r *attendance.Request) {
				c.Shifts = []attendance.Shift{nightShift()}
				at(hk(2026, 11, 26, 6, 5), attendance.Out)(p, c, r)
			},
			absent: []string{"early-leave", "outside-shift"},
			check: func(t *testing.T, d attendance.Decision) {
				require.NotNil(t, d.Shift)
				assert.Equal(t, "2026-11-25", d.Shift.Date)
				assert.Equal(t, hk(2026, 11, 26, 6, 0).UTC(), d.Shift.End)
			}},
		{name: "a night shift clock-in at 22:25 is late", outcome: attendance.Accepted,
			change: func(p *attendance.Policy, c *attendance.Context, r *attendance.Request) {
				c.Shifts = []attendance.Shift{nightShift()}
				at(hk(2026, 11, 25, 22, 25), attendance.In)(p, c, r)
			},
			codes: []string{"late"},
			check: func(t *testing.T, d attendance.Decision) { assert.Equal(t, 25, d.LateMin) }},
		{name: "the night shift into a public holiday still runs (Mid-Autumn 2026)", outcome: attendance.Accepted,
			change: func(p *attendance.Policy, c *attendance.Context, r *attendance.Request) {
				c.Shifts = []attendance.Shift{nightShift()}
				at(hk(2026, 9, 26, 5, 58), attendance.Out)(p, c, r)
			},
			absent: []string{"outside-shift", "early-leave"},
			check:  func(t *testing.T, d attendance.Decision) { assert.Equal(t, "2026-09-25", d.Shift.Date) }},
		{name: "no night shift starts on the holiday itself", outcome: attendance.Flagged,
			change: func(p *attendance.Policy, c *attendance.Context, r *attendance.Request) {
				c.Shifts = []attendance.Shift{nightShift()}
				at(hk(2026, 9, 26, 22, 0), attendance.In)(p, c, r)
			},
			codes: []string{"outside-shift"}},
		{name: "flexible hours: in at 09:25 within 30 flexible minutes is on time", outcome: attendance.Accepted,
			change: func(p *attendance.Policy, c *attendance.Context, r *attendance.Request) {
				s := officeShift()
				s.FlexMin = 30
				c.Shifts = []attendance.Shift{s}
				at(hk(2026, 11, 25, 9, 25), attendance.In)(p, c, r)
			},
			absent: []string{"late"}},
		{name: "flexible hours: in at 09:25 then out at 18:10 leaves 15 minutes early", outcome: attendance.Accepted,
			change: func(p *attendance.Policy, c *attendance.Context, r *attendance.Request) {
				s := officeShift()
				s.FlexMin = 30
				c.Shifts = []attendance.Shift{s}
				c.Previous = &attendance.LastPunch{Seq: 1, Kind: attendance.In, Time: hk(2026, 11, 25, 9, 25), Counts: true}
				at(hk(2026, 11, 25, 18, 10), attendance.Out)(p, c, r)
			},
			codes: []string{"early-leave"},
			check: func(t *testing.T, d attendance.Decision) { assert.Equal(t, 15, d.EarlyMin) }},
	})
}

// FuzzEvaluate: any reported position, accuracy and Wi-Fi list gives a
// decision without panicking; an unusable fix is refused with a
// bilingual reason.
func FuzzEvaluate(f *testing.F) {
	f.Add(22.3120, 114.2250, 20.0, false, "a4:2b:b0:12:34:56")
	f.Add(math.NaN(), 114.2250, 20.0, false, "")
	f.Add(22.3120, math.Inf(1), 20.0, true, "zz")
	f.Add(-91.0, 0.0, -5.0, false, "A4-2B-B0-12-34-56")
	f.Add(22.3120, 114.2250, math.MaxFloat64, false, "a42bb0123456")
	f.Fuzz(func(t *testing.T, lat, lng, acc float64, mock bool, bssid string) {
		now := hk(2026, 11, 25, 8, 55)
		c := attendance.Context{Employee: "e-1", Sites: []attendance.Site{kbSite()}, Shifts: []attendance.Shift{officeShift(), nightShift()},
			Calendar: attendance.NewCalendar(attendance.HongKongHolidays()), BoundDevice: "dev-1", Now: now, AllowField: true,
			Previous: &attendance.LastPunch{Seq: 1, Kind: attendance.Out, Time: now.Add(-time.Hour), Location: near(10, 5), Counts: true}}
		fix := &attendance.Fix{LatLng: attendance.LatLng{Lat: lat, Lng: lng}, AccuracyM: acc}
		r := attendance.Request{Kind: attendance.In, Location: fix, DeviceID: "dev-1", ClientTime: now, MockLocation: mock,
			WiFi: []attendance.SeenAP{{BSSID: bssid}}, Note: "fuzz"}
		d := attendance.Evaluate(attendance.Policy{}, c, r)
		require.Contains(t, []attendance.Outcome{attendance.Accepted, attendance.Flagged, attendance.PendingField, attendance.Refused}, d.Outcome)
		if fix.Validate() != nil {
			require.True(t, d.Has("bad-location"))
			require.Equal(t, attendance.Refused, d.Outcome)
		}
		if mock {
			require.Equal(t, attendance.Refused, d.Outcome)
		}
		require.False(t, math.IsNaN(d.DistanceM) || math.IsInf(d.DistanceM, 0))
		for _, reason := range d.Reasons {
			require.NotEmpty(t, reason.Code)
			require.NotEmpty(t, reason.Message.EN)
			require.NotEmpty(t, reason.Message.ZH)
		}
	})
}
