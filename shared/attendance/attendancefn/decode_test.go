package attendancefn_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/attendance"
	"github.com/lantau-hq/lantau/shared/attendance/attendancefn"
	"github.com/lantau-hq/lantau/shared/problem"
)

func decode(body, contentType string) (attendance.Request, *httptest.ResponseRecorder, error) {
	r := httptest.NewRequest("POST", "/v1/attendance/punches", strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	w := httptest.NewRecorder()
	req, err := attendancefn.DecodePunch(w, r)
	if err != nil {
		problem.Write(w, r, err)
	}
	return req, w, err
}

const goodPunch = `{"kind":"in","location":{"lat":22.3120,"lng":114.2236,"accuracyM":20},"wifi":[{"ssid":"Acme-Office","bssid":"A4-2B-B0-12-34-56"}],"deviceId":"ios-7F3A9C2E","clientTime":"2026-10-14T08:55:01+08:00","mockLocation":false,"note":"到了"}`

func TestDecodePunch_ReadsAGoodRequest(t *testing.T) {
	req, _, err := decode(goodPunch, "application/json")
	require.NoError(t, err)
	assert.Equal(t, attendance.In, req.Kind)
	require.NotNil(t, req.Location)
	assert.InDelta(t, 22.3120, req.Location.Lat, 1e-9)
	assert.Equal(t, 20.0, req.Location.AccuracyM)
	assert.Equal(t, []attendance.SeenAP{{SSID: "Acme-Office", BSSID: "a4:2b:b0:12:34:56"}}, req.WiFi)
	assert.Equal(t, "2026-10-14T00:55:01Z", req.ClientTime.UTC().Format("2006-01-02T15:04:05Z"))

	req, _, err = decode(`{"kind":"out","location":null,"deviceId":"d","clientTime":"2026-10-14T18:00:00Z"}`, "application/json")
	require.NoError(t, err)
	assert.Nil(t, req.Location, "null location: GPS off")
}

func TestDecodePunch_RefusesBadInputWithAReason(t *testing.T) {
	for _, tc := range []struct {
		name, body, field string
		status            int
	}{
		{"no kind", `{"deviceId":"d","clientTime":"2026-10-14T08:55:01Z"}`, "kind", 400},
		{"kind neither in nor out", `{"kind":"lunch","deviceId":"d","clientTime":"2026-10-14T08:55:01Z"}`, "kind", 400},
		{"no device", `{"kind":"in","clientTime":"2026-10-14T08:55:01Z"}`, "deviceId", 400},
		{"no client time", `{"kind":"in","deviceId":"d"}`, "clientTime", 400},
		{"client time not RFC 3339", `{"kind":"in","deviceId":"d","clientTime":"14/10/2026 08:55"}`, "clientTime", 400},
		{"latitude out of range", `{"kind":"in","deviceId":"d","clientTime":"2026-10-14T08:55:01Z","location":{"lat":91,"lng":114,"accuracyM":5}}`, "location.lat", 400},
		{"negative accuracy", `{"kind":"in","deviceId":"d","clientTime":"2026-10-14T08:55:01Z","location":{"lat":22,"lng":114,"accuracyM":-1}}`, "location.accuracyM", 400},
		{"location without accuracy", `{"kind":"in","deviceId":"d","clientTime":"2026-10-14T08:55:01Z","location":{"lat":22,"lng":114}}`, "location", 400},
		{"bad BSSID", `{"kind":"in","deviceId":"d","clientTime":"2026-10-14T08:55:01Z","wifi":[{"bssid":"zz:zz"}]}`, "wifi[0].bssid", 400},
		{"unknown field", `{"kind":"in","deviceId":"d","clientTime":"2026-10-14T08:55:01Z","employee":"someone-else"}`, "", 400},
		{"wrong type", `{"kind":1}`, "", 400},
		{"two values", `{} {}`, "", 400},
		{"not JSON", `kind=in`, "", 400},
		{"empty", ``, "", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, w, err := decode(tc.body, "application/json")
			require.Error(t, err)
			assert.Equal(t, tc.status, w.Code, "%s", w.Body)
			assert.Equal(t, problem.ContentType, w.Header().Get("Content-Type"))
			if tc.field != "" {
				assert.Contains(t, w.Body.String(), `"field":"`+tc.field+`"`)
			}
		})
	}
	t.Run("too many networks", func(t *testing.T) {
		var aps []map[string]string
		for range attendance.MaxSeenAPs + 1 {
			aps = append(aps, map[string]string{"bssid": "a4:2b:b0:12:34:56"})
		}
		raw, _ := json.Marshal(map[string]any{"kind": "in", "deviceId": "d", "clientTime": "2026-10-14T08:55:01Z", "wifi": aps})
		_, w, err := decode(string(raw), "application/json")
		require.Error(t, err)
		assert.Contains(t, w.Body.String(), `"field":"wifi"`)
	})
	t.Run("another content type", func(t *testing.T) {
		_, w, err := decode(goodPunch, "text/plain")
		require.Error(t, err)
		assert.Equal(t, http.StatusUnsupportedMediaType, w.Code)
	})
}

// FuzzDecodePunch: no input panics the decoder, every refusal is a problem
// (400, or 413 for a body over the limit) that says why, and every
// accepted request is one the domain can take.
func FuzzDecodePunch(f *testing.F) {
	for _, seed := range []string{
		goodPunch,
		`{"kind":"out","location":null,"deviceId":"d","clientTime":"2026-10-14T18:00:00Z"}`,
		`{"kind":"in","deviceId":"d","clientTime":"2026-10-14T08:55:01Z","location":{"lat":1e400,"lng":0,"accuracyM":0}}`,
		`{"kind":"in","deviceId":"d","clientTime":"2026-10-14T08:55:01Z","location":{"lat":-0,"lng":-180,"accuracyM":1e308}}`,
		`{"kind":"in","deviceId":"d","clientTime":"9999-12-31T23:59:59.999999999-23:59","wifi":[{"bssid":"a42bb0123456"},{"bssid":"A4-2B-B0-12-34-5"}]}`,
		`{"kind":"in","deviceId":"\u0000","clientTime":"2026-10-14T08:55:01Z","note":"\ud800"}`,
		`{"kind":["in"]}`, `[]`, `null`, `"in"`, `{"kind":"in",}`, `{"location":{"lat":"22"}}`, "\xff\xfe{}", ``,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		req, w, err := decode(body, "application/json")
		if err != nil {
			var pe *problem.Error
			require.ErrorAs(t, err, &pe)
			require.Contains(t, []int{http.StatusBadRequest, http.StatusRequestEntityTooLarge}, w.Code, "%s", w.Body)
			var out map[string]any
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &out))
			detail, _ := out["detail"].(string)
			require.NotEmpty(t, detail, "a refusal says why: %s", w.Body)
			return
		}
		require.Contains(t, []attendance.Kind{attendance.In, attendance.Out}, req.Kind)
		require.NotEmpty(t, req.DeviceID)
		require.LessOrEqual(t, len(req.WiFi), attendance.MaxSeenAPs)
		require.False(t, req.ClientTime.IsZero())
		if req.Location != nil {
			require.NoError(t, req.Location.Validate())
		}
	})
}
