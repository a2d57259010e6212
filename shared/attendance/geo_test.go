package attendance_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/attendance"
	"github.com/lantau-hq/lantau/shared/problem"
)

// The site: Kowloon Bay, 22.3120, 114.2250, 150 m radius.
var kowloonBay = attendance.LatLng{Lat: 22.3120, Lng: 114.2250}

func TestDistance_MatchesIndependentHaversine(t *testing.T) {
	tests := []struct {
		name string
		a, b attendance.LatLng
		want float64 // computed with Python's math module on R = 6,371,008.8 m
	}{
		{"same point", kowloonBay, kowloonBay, 0},
		{"one degree of latitude", attendance.LatLng{Lat: 0, Lng: 0}, attendance.LatLng{Lat: 1, Lng: 0}, 111195.08023353292},
		{"Kowloon Bay to Central", kowloonBay, attendance.LatLng{Lat: 22.2800, Lng: 114.1588}, 7684.248083226584},
		{"antipodes", attendance.LatLng{Lat: 0, Lng: 0}, attendance.LatLng{Lat: 0, Lng: 180}, math.Pi * attendance.EarthRadiusM},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.InDelta(t, tt.want, attendance.Distance(tt.a, tt.b), 1e-6)
			assert.InDelta(t, tt.want, attendance.Distance(tt.b, tt.a), 1e-6, "symmetric")
		})
	}
}

func TestOffset_PlacesPointsAtTheRequestedDistance(t *testing.T) {
	for _, bearing := range []float64{0, 45, 90, 180, 270} {
		for _, d := range []float64{1, 140, 2000} {
			assert.InDelta(t, d, attendance.Distance(kowloonBay, attendance.Offset(kowloonBay, d, bearing)), 1e-6)
		}
	}
}

func TestPlace_CircleAppliesTheAccuracyRule(t *testing.T) {
	fence := attendance.Geofence{Center: kowloonBay, RadiusM: 150}
	at := func(d, acc float64) attendance.Fix {
		return attendance.Fix{LatLng: attendance.Offset(kowloonBay, d, 90), AccuracyM: acc}
	}
	tests := []struct {
		name string
		fix  attendance.Fix
		want attendance.Placement
	}{
		{"100 m away, 20 m accuracy: 100+20 <= 150, certainly inside", at(100, 20), attendance.Inside},
		{"130 m away, 20 m accuracy: 130+20 = 150, inside on the edge", at(130, 20), attendance.Inside},
		// The case: 140 + 20 = 160 > 150 but 140 - 20 = 120 <= 150:
		// the employee may be just outside; flagged for review, not accepted
		// silently and not refused.
		{"140 m away, 20 m accuracy: uncertain", at(140, 20), attendance.Uncertain},
		{"140 m away, 0 m accuracy: inside", at(140, 0), attendance.Inside},
		{"160 m away, 20 m accuracy: 160-20 <= 150, uncertain", at(160, 20), attendance.Uncertain},
		{"2 km away, 20 m accuracy: outside", at(2000, 20), attendance.Outside},
		{"2 km away, 1.9 km accuracy: still only uncertain, never inside", at(2000, 1900), attendance.Uncertain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := fence.Place(tt.fix)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestPlace_PolygonUsesRayCastingAndEdgeDistance(t *testing.T) {
	// A square of about 200 m x 200 m around the site.
	c := kowloonBay
	n, s := attendance.Offset(c, 100, 0).Lat, attendance.Offset(c, 100, 180).Lat
	e, w := attendance.Offset(c, 100, 90).Lng, attendance.Offset(c, 100, 270).Lng
	fence := attendance.Geofence{Polygon: []attendance.LatLng{{Lat: s, Lng: w}, {Lat: s, Lng: e}, {Lat: n, Lng: e}, {Lat: n, Lng: w}}}
	require.NoError(t, fence.Validate())
	tests := []struct {
		name     string
		fix      attendance.Fix
		want     attendance.Placement
		edgeDist float64
	}{
		{"centre, 20 m accuracy", attendance.Fix{LatLng: c, AccuracyM: 20}, attendance.Inside, 0},
		{"90 m east, 20 m accuracy: 10 m from the edge", attendance.Fix{LatLng: attendance.Offset(c, 90, 90), AccuracyM: 20}, attendance.Uncertain, 0},
		{"110 m east, 20 m accuracy: 10 m outside", attendance.Fix{LatLng: attendance.Offset(c, 110, 90), AccuracyM: 20}, attendance.Uncertain, 10},
		{"150 m north, 20 m accuracy: 50 m outside", attendance.Fix{LatLng: attendance.Offset(c, 150, 0), AccuracyM: 20}, attendance.Outside, 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, d := fence.Place(tt.fix)
			assert.Equal(t, tt.want, got)
			assert.InDelta(t, tt.edgeDist, d, 0.5)
		})
	}
}

func TestValidate_RefusesUnusableValuesWithReasons(t *testing.T) {
	tests := []struct {
		name string
		fix  attendance.Fix
		code problem.Code
	}{
		{"NaN latitude", attendance.Fix{LatLng: attendance.LatLng{Lat: math.NaN(), Lng: 114}}, "latitude-not-a-number"},
		{"infinite longitude", attendance.Fix{LatLng: attendance.LatLng{Lat: 22, Lng: math.Inf(1)}}, "longitude-not-a-number"},
		{"latitude 91", attendance.Fix{LatLng: attendance.LatLng{Lat: 91, Lng: 114}}, "latitude-out-of-range"},
		{"longitude -180.5", attendance.Fix{LatLng: attendance.LatLng{Lat: 22, Lng: -180.5}}, "longitude-out-of-range"},
		{"NaN accuracy", attendance.Fix{LatLng: kowloonBay, AccuracyM: math.NaN()}, "accuracy-not-a-number"},
		{"negative accuracy", attendance.Fix{LatLng: kowloonBay, AccuracyM: -1}, "accuracy-out-of-range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.fix.Validate()
			require.Error(t, err)
			assert.Equal(t, problem.Invalid, problem.KindOf(err))
			assert.Equal(t, tt.code, problem.CodeOf(err))
			var pe *problem.Error
			require.ErrorAs(t, err, &pe)
			assert.NotEmpty(t, pe.Detail.EN)
			assert.NotEmpty(t, pe.Detail.ZH)
		})
	}
	assert.NoError(t, attendance.Fix{LatLng: kowloonBay, AccuracyM: 20}.Validate())
}

func TestGeofenceValidate_RefusesBadFences(t *testing.T) {
	tests := []struct {
		name  string
		fence attendance.Geofence
		code  problem.Code
	}{
		{"zero radius", attendance.Geofence{Center: kowloonBay}, "radius-out-of-range"},
		{"NaN radius", attendance.Geofence{Center: kowloonBay, RadiusM: math.NaN()}, "radius-out-of-range"},
		{"radius beyond office scale", attendance.Geofence{Center: kowloonBay, RadiusM: 60_000}, "radius-out-of-range"},
		{"two-vertex polygon", attendance.Geofence{Polygon: []attendance.LatLng{kowloonBay, {Lat: 22.32, Lng: 114.23}}}, "polygon-too-few-vertices"},
		{"district-sized polygon", attendance.Geofence{Polygon: []attendance.LatLng{kowloonBay, {Lat: 23, Lng: 114.2}, {Lat: 23, Lng: 115}}}, "polygon-too-large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.code, problem.CodeOf(tt.fence.Validate()))
		})
	}
}

// FuzzGeofence: no input panics; invalid input is refused with a coded,
// bilingual reason; valid input gives a finite distance and a placement
// consistent with the accuracy rule.
func FuzzGeofence(f *testing.F) {
	f.Add(22.3120, 114.2250, 150.0, 22.3120, 114.2265, 20.0)
	f.Add(math.NaN(), 114.0, 150.0, 22.0, 114.0, 5.0)
	f.Add(22.0, math.Inf(-1), 150.0, 22.0, 114.0, 5.0)
	f.Add(22.0, 114.0, 150.0, 91.0, 114.0, 5.0)
	f.Add(22.0, 114.0, 150.0, 22.0, 181.0, 5.0)
	f.Add(22.0, 114.0, 150.0, 22.0, 114.0, math.Inf(1))
	f.Add(89.9999, 179.9999, 50000.0, -89.9999, -179.9999, 0.0)
	f.Add(0.0, 0.0, -1.0, 0.0, 0.0, -1.0)
	f.Fuzz(func(t *testing.T, cLat, cLng, radius, lat, lng, acc float64) {
		fence := attendance.Geofence{Center: attendance.LatLng{Lat: cLat, Lng: cLng}, RadiusM: radius}
		fix := attendance.Fix{LatLng: attendance.LatLng{Lat: lat, Lng: lng}, AccuracyM: acc}
		finite := func(vs ...float64) bool {
			for _, v := range vs {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return false
				}
			}
			return true
		}
		fenceErr, fixErr := fence.Validate(), fix.Validate()
		if !finite(cLat, cLng, radius) || cLat < -90 || cLat > 90 || cLng < -180 || cLng > 180 || radius <= 0 || radius > attendance.MaxRadiusM {
			require.Error(t, fenceErr)
		}
		if !finite(lat, lng, acc) || lat < -90 || lat > 90 || lng < -180 || lng > 180 || acc < 0 || acc > attendance.MaxAccuracyM {
			require.Error(t, fixErr)
		}
		for _, err := range []error{fenceErr, fixErr} {
			if err != nil {
				var pe *problem.Error
				require.ErrorAs(t, err, &pe)
				require.NotEmpty(t, pe.Code)
				require.NotEmpty(t, pe.Detail.EN)
				require.NotEmpty(t, pe.Detail.ZH)
			}
		}
		if fenceErr != nil || fixErr != nil {
			return
		}
		pl, d := fence.Place(fix)
		require.False(t, math.IsNaN(d) || math.IsInf(d, 0), "distance %v", d)
		require.GreaterOrEqual(t, d, 0.0)
		require.LessOrEqual(t, d, math.Pi*attendance.EarthRadiusM+1e-6)
		switch pl {
		case attendance.Inside:
			require.LessOrEqual(t, d+acc, radius)
		case attendance.Uncertain:
			require.LessOrEqual(t, d-acc, radius)
			require.Greater(t, d+acc, radius)
		case attendance.Outside:
			require.Greater(t, d-acc, radius)
		default:
			t.Fatalf("placement %q", pl)
		}
	})
}

func TestNormalizeBSSID(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"A4:2B:B0:12:34:56", "a4:2b:b0:12:34:56", true},
		{"a4-2b-b0-12-34-56", "a4:2b:b0:12:34:56", true},
		{"a42bb0123456", "a4:2b:b0:12:34:56", true},
		{" a4:2b:b0:12:34:56 ", "a4:2b:b0:12:34:56", true},
		{"a4:2b:b0:12:34", "", false},
		{"a4:2b-b0:12:34:56", "", false},
		{"a4:2b:b0:12:34:5g", "", false},
		{"a4:2b:b0:12:34:56:78", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := attendance.NormalizeBSSID(tt.in)
			if !tt.ok {
				require.Error(t, err)
				assert.Equal(t, problem.Code("bad-bssid"), problem.CodeOf(err))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
