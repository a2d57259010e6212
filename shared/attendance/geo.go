package attendance

import (
	"fmt"
	"math"

	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/problem"
)

// EarthRadiusM is the mean radius of the WGS-84 ellipsoid, (2a+b)/3, in
// metres. Distances are computed on a sphere of this radius (haversine):
// at office scale the error against the ellipsoid is under 0.5 %, far
// below GPS accuracy.
const EarthRadiusM = 6_371_008.8

// Limits on site definitions.
const (
	MaxRadiusM      = 50_000.0 // a geofence is an office, not a district
	MaxPolygonSpanM = 50_000.0 // every vertex within this of the first
	MaxAccuracyM    = 100_000.0
)

// LatLng is a WGS-84 position in decimal degrees.
type LatLng struct {
	Lat float64 `json:"lat"`
	Lng float64 `json:"lng"`
}

// Fix is a position as a phone reports it: AccuracyM is the radius of
// its uncertainty in metres (Android's and iOS's horizontal accuracy, a
// 68 % circle).
type Fix struct {
	LatLng
	AccuracyM float64 `json:"accuracyM"`
}

func invalid(op string, code string, en, zh string) error {
	return problem.E(op, problem.Invalid, problem.Code(code), i18n.Text{EN: en, ZH: zh})
}

// Validate refuses a position that is not finite or out of range.
func (p LatLng) Validate() error {
	const op = "attendance.LatLng.Validate"
	switch {
	case math.IsNaN(p.Lat) || math.IsInf(p.Lat, 0):
		return invalid(op, "latitude-not-a-number", "The latitude is not a number.", "緯度不是有效數字。")
	case math.IsNaN(p.Lng) || math.IsInf(p.Lng, 0):
		return invalid(op, "longitude-not-a-number", "The longitude is not a number.", "經度不是有效數字。")
	case p.Lat < -90 || p.Lat > 90:
		return invalid(op, "latitude-out-of-range", fmt.Sprintf("The latitude %g is outside -90 to 90.", p.Lat), fmt.Sprintf("緯度 %g 超出 -90 至 90 的範圍。", p.Lat))
	case p.Lng < -180 || p.Lng > 180:
		return invalid(op, "longitude-out-of-range", fmt.Sprintf("The longitude %g is outside -180 to 180.", p.Lng), fmt.Sprintf("經度 %g 超出 -180 至 180 的範圍。", p.Lng))
	}
	return nil
}

// Validate refuses a fix whose position or accuracy is not usable: the
// accuracy must be finite and not negative.
func (f Fix) Validate() error {
	if err := f.LatLng.Validate(); err != nil {
		return err
	}
	const op = "attendance.Fix.Validate"
	switch {
	case math.IsNaN(f.AccuracyM) || math.IsInf(f.AccuracyM, 0):
		return invalid(op, "accuracy-not-a-number", "The location accuracy is not a number.", "定位準確度不是有效數字。")
	case f.AccuracyM < 0 || f.AccuracyM > MaxAccuracyM:
		return invalid(op, "accuracy-out-of-range", fmt.Sprintf("The location accuracy %g m is outside 0 to %g m.", f.AccuracyM, MaxAccuracyM), fmt.Sprintf("定位準確度 %g 米超出 0 至 %g 米的範圍。", f.AccuracyM, MaxAccuracyM))
	}
	return nil
}

func rad(deg float64) float64 { return deg * math.Pi / 180 }

// Distance is the great-circle distance in metres between a and b on the
// sphere of radius EarthRadiusM (haversine formula, stable for the short
// distances that matter here). Both must be valid.
func Distance(a, b LatLng) float64 {
	dLat := rad(b.Lat - a.Lat)
	dLng := rad(b.Lng - a.Lng)
	s1, s2 := math.Sin(dLat/2), math.Sin(dLng/2)
	h := s1*s1 + math.Cos(rad(a.Lat))*math.Cos(rad(b.Lat))*s2*s2
	h = math.Min(1, math.Max(0, h))
	return 2 * EarthRadiusM * math.Asin(math.Sqrt(h))
}

// Offset is the point distM metres from p on bearing bearingDeg (0 north,
// 90 east), on the same sphere. Tests use it to place points exactly.
func Offset(p LatLng, distM, bearingDeg float64) LatLng {
	d := distM / EarthRadiusM
	br := rad(bearingDeg)
	lat1, lng1 := rad(p.Lat), rad(p.Lng)
	lat2 := math.Asin(math.Sin(lat1)*math.Cos(d) + math.Cos(lat1)*math.Sin(d)*math.Cos(br))
	lng2 := lng1 + math.Atan2(math.Sin(br)*math.Sin(d)*math.Cos(lat1), math.Cos(d)-math.Sin(lat1)*math.Sin(lat2))
	return LatLng{Lat: lat2 * 180 / math.Pi, Lng: math.Mod(lng2*180/math.Pi+540, 360) - 180}
}

// Geofence is a circle (Center, RadiusM) or, when Polygon has three or
// more vertices, a polygon (Center and RadiusM are then ignored).
type Geofence struct {
	Center  LatLng   `json:"center"`
	RadiusM float64  `json:"radiusM,omitempty"`
	Polygon []LatLng `json:"polygon,omitempty"`
}

// Validate refuses a fence that cannot be evaluated: a bad centre, a
// radius not in (0, MaxRadiusM], a polygon of fewer than three vertices, a
// bad vertex, or a polygon larger than office scale.
func (g Geofence) Validate() error {
	const op = "attendance.Geofence.Validate"
	if len(g.Polygon) == 0 {
		if err := g.Center.Validate(); err != nil {
			return err
		}
		if math.IsNaN(g.RadiusM) || g.RadiusM <= 0 || g.RadiusM > MaxRadiusM {
			return invalid(op, "radius-out-of-range", fmt.Sprintf("A site's radius must be more than 0 and at most %g m.", MaxRadiusM), fmt.Sprintf("地點的半徑必須大於 0 及不超過 %g 米。", MaxRadiusM))
		}
		return nil
	}
	if len(g.Polygon) < 3 {
		return invalid(op, "polygon-too-few-vertices", "A site's polygon needs at least three corners.", "地點的多邊形範圍最少要有三個角。")
	}
	for _, v := range g.Polygon {
		if err := v.Validate(); err != nil {
			return err
		}
		if Distance(g.Polygon[0], v) > MaxPolygonSpanM {
			return invalid(op, "polygon-too-large", fmt.Sprintf("A site's polygon must fit within %g m.", MaxPolygonSpanM), fmt.Sprintf("地點的多邊形範圍必須在 %g 米之內。", MaxPolygonSpanM))
		}
	}
	return nil
}

// Placement is where a fix lies relative to a fence, its accuracy counted.
type Placement string

// Placements.
const (
	// Inside: the whole accuracy circle is inside the fence.
	Inside Placement = "inside"
	// Uncertain: the accuracy circle straddles the fence's edge.
	Uncertain Placement = "uncertain"
	// Outside: the whole accuracy circle is outside the fence.
	Outside Placement = "outside"
)

// Place decides where the fix lies. The accuracy rule, with d the distance
// from the fix to the fence and a its accuracy:
//
//   - circle (d from the centre, radius r):
//     Inside when d + a <= r (the employee is certainly inside);
//     Uncertain when d - a <= r < d + a (could be either side);
//     Outside when d - a > r (certainly outside).
//   - polygon (e the distance from the fix to the nearest edge):
//     Inside when the point is in the polygon and e >= a; Uncertain when
//     e < a (on either side); Outside when the point is outside and e > a.
//
// So a fix 140 m from the centre of a 150 m fence with 20 m accuracy is
// Uncertain (140 + 20 = 160 > 150, 140 - 20 = 120 <= 150): Evaluate flags
// it for review rather than accepting it silently or refusing someone who
// is probably at the door. A poor accuracy cannot make a far point look
// inside, which "d <= r + a" would do. Both must be valid. The fix's
// distance to the fence (to the centre for a circle, to the nearest edge
// for a polygon, 0 when inside) is returned as well.
func (g Geofence) Place(f Fix) (Placement, float64) {
	a := f.AccuracyM
	if len(g.Polygon) < 3 {
		d := Distance(g.Center, f.LatLng)
		switch {
		case d+a <= g.RadiusM:
			return Inside, d
		case d-a <= g.RadiusM:
			return Uncertain, d
		}
		return Outside, d
	}
	in, e := polygon(g.Polygon, f.LatLng)
	switch {
	case in && e >= a:
		return Inside, 0
	case in:
		return Uncertain, 0
	case e <= a:
		return Uncertain, e
	}
	return Outside, e
}

// polygon projects the polygon onto the plane tangent at p (equirectangular
// projection in metres, fine at office scale, where the distortion is far
// below GPS accuracy; fences never cross the antimeridian or a pole at
// that scale), then casts a ray from p eastwards and counts the edges it
// crosses (odd: inside). It also returns the distance from p to the
// nearest edge in metres.
func polygon(vs []LatLng, p LatLng) (inside bool, edgeM float64) {
	k := math.Cos(rad(p.Lat))
	proj := func(v LatLng) (float64, float64) {
		dl := v.Lng - p.Lng
		if dl > 180 {
			dl -= 360
		} else if dl < -180 {
			dl += 360
		}
		return rad(dl) * k * EarthRadiusM, rad(v.Lat-p.Lat) * EarthRadiusM
	}
	edgeM = math.Inf(1)
	n := len(vs)
	for i := range n {
		x1, y1 := proj(vs[i])
		x2, y2 := proj(vs[(i+1)%n])
		if (y1 > 0) != (y2 > 0) {
			x := x1 + (0-y1)*(x2-x1)/(y2-y1)
			if x > 0 {
				inside = !inside
			}
		}
		edgeM = math.Min(edgeM, segmentDistance(x1, y1, x2, y2))
	}
	return inside, edgeM
}

// segmentDistance is the distance from the origin to the segment.
func segmentDistance(x1, y1, x2, y2 float64) float64 {
	dx, dy := x2-x1, y2-y1
	l2 := dx*dx + dy*dy
	t := 0.0
	if l2 > 0 {
		t = math.Max(0, math.Min(1, -(x1*dx+y1*dy)/l2))
	}
	return math.Hypot(x1+t*dx, y1+t*dy)
}
