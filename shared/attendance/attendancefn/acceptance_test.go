package attendancefn_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/lantau-hq/lantau/shared/attendance"
	"github.com/lantau-hq/lantau/shared/attendance/attendancefn"
	"github.com/lantau-hq/lantau/shared/directory"
	"github.com/lantau-hq/lantau/shared/identity/identitytest"
	"github.com/lantau-hq/lantau/shared/table"
)

// The office: a site at 22.3120,114.2250 with a 150 m geofence and one
// Wi-Fi access point.
var (
	office      = attendance.LatLng{Lat: 22.3120, Lng: 114.2250}
	officeBSSID = "A4:2B:B0:12:34:56"
)

func TestAttendanceAPI(t *testing.T) {
	s := start(t)
	c := s.NewCompany(t, "acme.com.hk")
	boss := c.Access

	ops := s.must(http.StatusCreated, "POST", "/v1/directory/departments", boss, map[string]any{"name": "Operations", "nameZh": "營運部"}).Str("id")
	sales := s.must(http.StatusCreated, "POST", "/v1/directory/departments", boss, map[string]any{"name": "Sales", "nameZh": "銷售部"}).Str("id")
	chan_, chanTok := s.employee(boss, map[string]any{"nameEn": "Chan Tai Man", "nameZh": "陳大文", "email": "tm.chan@acme.com.hk", "department": ops})
	ho, hoTok := s.employee(boss, map[string]any{"nameEn": "Ho Ka Yan", "email": "ky.ho@acme.com.hk", "department": ops})
	lee, leeTok := s.employee(boss, map[string]any{"nameEn": "Lee Siu Ming", "email": "sm.lee@acme.com.hk", "department": ops})
	wong, wongTok := s.employee(boss, map[string]any{"nameEn": "Wong Mei", "email": "m.wong@acme.com.hk", "department": sales})
	ng, ngTok := s.employee(boss, map[string]any{"nameEn": "Ng Night", "email": "night.ng@acme.com.hk", "department": ops})

	t.Run("an attendance admin sets up sites, shifts and assignments", func(t *testing.T) {
		site := s.must(http.StatusOK, "PUT", "/v1/attendance/sites/kt", boss, map[string]any{"name": "Kwun Tong office",
			"fence":        map[string]any{"center": map[string]any{"lat": office.Lat, "lng": office.Lng}, "radiusM": 150},
			"accessPoints": []map[string]any{{"ssid": "Acme-Office", "bssid": officeBSSID}}})
		assert.Equal(t, "a4:2b:b0:12:34:56", site.Body["accessPoints"].([]any)[0].(map[string]any)["bssid"], "BSSIDs are normalised")
		s.must(http.StatusOK, "PUT", "/v1/attendance/shifts/day", boss, map[string]any{"name": "Office hours", "start": "09:00", "end": "18:00", "lateGraceMin": 10})
		s.must(http.StatusOK, "PUT", "/v1/attendance/shifts/night", boss, map[string]any{"name": "Night", "start": "22:00", "end": "06:00",
			"weekdays": []int{0, 1, 2, 3, 4, 5, 6}})
		s.must(http.StatusOK, "PUT", "/v1/attendance/assignments/ops", boss, map[string]any{"department": ops, "sites": []string{"kt"}, "shifts": []string{"day"}})
		s.must(http.StatusOK, "PUT", "/v1/attendance/assignments/sales", boss, map[string]any{"department": sales, "sites": []string{"kt"}, "shifts": []string{"day"}, "allowField": true})
		s.must(http.StatusOK, "PUT", "/v1/attendance/assignments/ng", boss, map[string]any{"employee": ng, "sites": []string{"kt"}, "shifts": []string{"night"}})
		s.must(http.StatusOK, "PUT", "/v1/attendance/holidays/2026-11-02", boss, map[string]any{"en": "Company day", "zh": "公司假期"})

		rules := s.must(http.StatusOK, "GET", "/v1/attendance/rules", boss, nil)
		assert.Len(t, rules.Body["sites"], 1)
		assert.Len(t, rules.Body["assignments"], 3)
		hol := s.must(http.StatusOK, "GET", "/v1/attendance/holidays", chanTok, nil)
		assert.Contains(t, string(hol.Raw), `{"date":"2026-10-01","en":"National Day","zh":"國慶日"}`)
		assert.Contains(t, string(hol.Raw), `"2026-11-02"`)
	})

	t.Run("an employee cannot change the rules", func(t *testing.T) {
		res := s.Do(t, "PUT", "/v1/attendance/sites/kt", chanTok, map[string]any{"name": "Mine", "fence": map[string]any{"center": map[string]any{"lat": 1, "lng": 1}, "radiusM": 10}})
		assert.Equal(t, http.StatusForbidden, res.Status, "%s", res.Raw)
		res = s.Do(t, "PUT", "/v1/attendance/policy", chanTok, map[string]any{"onMockLocation": "flag"})
		assert.Equal(t, http.StatusForbidden, res.Status, "%s", res.Raw)
	})

	var chanFirst identitytest.Reply
	t.Run("140 m from the centre with 20 m accuracy is flagged, in both languages", func(t *testing.T) {
		s.clock.set(t, "2026-10-14 08:55")
		chanFirst = s.punch(chanTok, "chan-1", s.punchBody("in", "chan-phone", fix(attendance.Offset(office, 140, 90), 20)), "Accept-Language", "zh-HK")
		require.Equal(t, http.StatusCreated, chanFirst.Status, "%s", chanFirst.Raw)
		assert.Equal(t, "flagged", chanFirst.Str("outcome"))
		assert.Equal(t, "uncertain", chanFirst.Str("placement"))
		assert.Contains(t, codes(chanFirst), "location-uncertain")
		m := reasonMessage(chanFirst, "location-uncertain")
		require.NotNil(t, m)
		assert.Contains(t, m["message"], "你距離 Kwun Tong office 140 米", "the caller's language")
		assert.Contains(t, m["messages"].(map[string]any)["en"], "You are 140 m from Kwun Tong office")
		assert.Equal(t, "2026-10-14", chanFirst.Body["shift"].(map[string]any)["date"])
		assert.NotContains(t, chanFirst.Body, "late")
	})

	t.Run("2 km away is refused", func(t *testing.T) {
		s.clock.set(t, "2026-10-14 08:56")
		res := s.punch(hoTok, "ho-1", s.punchBody("in", "ho-phone", fix(attendance.Offset(office, 2000, 0), 15)))
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Raw)
		assert.Equal(t, "refused", res.Str("outcome"))
		assert.Contains(t, codes(res), "outside-sites")
	})

	t.Run("a mock location is refused even inside the fence", func(t *testing.T) {
		s.clock.set(t, "2026-10-14 08:57")
		b := s.punchBody("in", "ho-phone", fix(office, 10))
		b["mockLocation"] = true
		res := s.punch(hoTok, "ho-2", b)
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Raw)
		assert.Equal(t, "refused", res.Str("outcome"))
		assert.Contains(t, codes(res), "mock-location")
	})

	t.Run("the office BSSID with GPS off is accepted, late after the grace", func(t *testing.T) {
		s.clock.set(t, "2026-10-15 09:25")
		res := s.punch(chanTok, "chan-3", s.punchBody("in", "chan-phone", nil, "a4-2b-b0-12-34-56"))
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Raw)
		assert.Equal(t, "accepted", res.Str("outcome"), "%s", res.Raw)
		assert.Equal(t, "wifi", res.Str("via"))
		assert.Equal(t, true, res.Body["late"])
		assert.EqualValues(t, 25, res.Body["lateMin"])
		assert.Contains(t, codes(res), "wifi-match")
		assert.Contains(t, codes(res), "late")
	})

	t.Run("Chan's clock-outs: on time after overtime, then early", func(t *testing.T) {
		s.clock.set(t, "2026-10-14 18:05")
		res := s.punch(chanTok, "chan-2", s.punchBody("out", "chan-phone", fix(office, 10)))
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Raw)
		assert.Equal(t, "accepted", res.Str("outcome"), "%s", res.Raw)
		s.clock.set(t, "2026-10-15 17:30")
		res = s.punch(chanTok, "chan-4", s.punchBody("out", "chan-phone", nil, officeBSSID))
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Raw)
		assert.Equal(t, true, res.Body["earlyLeave"], "%s", res.Raw)
		assert.EqualValues(t, 30, res.Body["earlyMin"])
	})

	t.Run("a field punch needs a note, then waits for approval", func(t *testing.T) {
		s.must(http.StatusOK, "PATCH", "/v1/directory/employees/"+wong, boss, map[string]any{"manager": ho})
		s.clock.set(t, "2026-10-14 10:00")
		far := fix(attendance.Offset(office, 2000, 180), 10)
		res := s.punch(wongTok, "wong-1", s.punchBody("in", "wong-phone", far))
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Raw)
		assert.Equal(t, "refused", res.Str("outcome"))
		assert.Contains(t, codes(res), "field-note-required")

		b := s.punchBody("in", "wong-phone", far)
		b["note"] = "Visiting a client in Tsim Sha Tsui"
		res = s.punch(wongTok, "wong-2", b)
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Raw)
		assert.Equal(t, "pending-field", res.Str("outcome"))
		seq := int(res.Body["seq"].(float64))

		denied := s.Do(t, "POST", fmt.Sprintf("/v1/attendance/field-punches/%s/%d/decision", wong, seq), wongTok, map[string]any{"approve": true})
		assert.Equal(t, http.StatusForbidden, denied.Status, "no one approves their own: %s", denied.Raw)
		ok := s.must(http.StatusOK, "POST", fmt.Sprintf("/v1/attendance/field-punches/%s/%d/decision", wong, seq), boss, map[string]any{"approve": true, "note": "ok"})
		assert.Equal(t, "resolution", ok.Str("type"))
		again := s.Do(t, "POST", fmt.Sprintf("/v1/attendance/field-punches/%s/%d/decision", wong, seq), boss, map[string]any{"approve": false})
		assert.Equal(t, http.StatusConflict, again.Status, "resolved once: %s", again.Raw)

		// The manager was asked by mail, and Wong hears the decision, once
		// (the refused second decision mails nobody).
		identitytest.Eventually(t, func() bool { return len(s.Mails(t, "ky.ho@acme.com.hk", "attendance-field-punch")) == 1 },
			"the manager is asked to approve")
		identitytest.Eventually(t, func() bool { return len(s.Mails(t, "m.wong@acme.com.hk", "attendance-field-decision")) == 1 },
			"the employee hears the decision")
		decided := s.Mails(t, "m.wong@acme.com.hk", "attendance-field-decision")[0]
		assert.Equal(t, "Lantau: your field punch was approved", decided.Subject)
		assert.Contains(t, decided.Text, "Note: ok")
	})

	t.Run("a night shift across midnight into a public holiday", func(t *testing.T) {
		s.clock.set(t, "2026-09-30 21:55")
		in := s.punch(ngTok, "ng-1", s.punchBody("in", "ng-phone", fix(office, 10)))
		require.Equal(t, http.StatusCreated, in.Status, "%s", in.Raw)
		assert.Equal(t, "accepted", in.Str("outcome"), "%s", in.Raw)
		assert.Equal(t, "2026-09-30", in.Body["shift"].(map[string]any)["date"])
		s.clock.set(t, "2026-10-01 06:02")
		out := s.punch(ngTok, "ng-2", s.punchBody("out", "ng-phone", fix(office, 10)))
		require.Equal(t, http.StatusCreated, out.Status, "%s", out.Raw)
		assert.Equal(t, "accepted", out.Str("outcome"), "%s", out.Raw)
		assert.Equal(t, "2026-09-30", out.Body["shift"].(map[string]any)["date"], "the shift belongs to the day it started")
	})

	t.Run("another phone than the bound one is refused", func(t *testing.T) {
		s.clock.set(t, "2026-10-01 06:03")
		res := s.punch(ngTok, "ng-3", s.punchBody("out", "someone-elses-phone", fix(office, 10)))
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Raw)
		assert.Equal(t, "refused", res.Str("outcome"), "%s", res.Raw)
		assert.Contains(t, codes(res), "device-not-bound")
	})

	t.Run("on a public holiday, and on the company's own, the office shift does not occur", func(t *testing.T) {
		for _, day := range []string{"2026-10-01", "2026-11-02"} {
			s.clock.set(t, day+" 09:00")
			res := s.punch(hoTok, "ho-holiday-"+day, s.punchBody("in", "ho-phone", fix(office, 10)))
			require.Equal(t, http.StatusCreated, res.Status, "%s", res.Raw)
			assert.Equal(t, "flagged", res.Str("outcome"), day)
			assert.Contains(t, codes(res), "outside-shift", day)
		}
		s.clock.set(t, "2026-11-03 09:00")
		res := s.punch(hoTok, "ho-workday", s.punchBody("in", "ho-phone", fix(office, 10)))
		assert.Equal(t, "accepted", res.Str("outcome"), "the next day is a working day: %s", res.Raw)
	})

	t.Run("a retry with the same key returns the first result and writes nothing", func(t *testing.T) {
		s.clock.set(t, "2026-11-04 08:50")
		body := s.punchBody("in", "lee-phone", nil, officeBSSID)
		first := s.punch(leeTok, "lee-dup", body)
		require.Equal(t, http.StatusCreated, first.Status, "%s", first.Raw)
		s.clock.set(t, "2026-11-04 08:51")
		again := s.punch(leeTok, "lee-dup", body)
		require.Equal(t, http.StatusCreated, again.Status, "%s", again.Raw)
		assert.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
		assert.Equal(t, first.Body["seq"], again.Body["seq"])
		assert.Equal(t, first.Str("hash"), again.Str("hash"))
		assert.Equal(t, first.Str("time"), again.Str("time"))
		list := s.must(http.StatusOK, "GET", "/v1/attendance/punches?from=2026-11-01&to=2026-11-30", leeTok, nil)
		assert.Len(t, list.Body["records"], 1)

		other := s.punch(leeTok, "lee-dup", s.punchBody("out", "lee-phone", nil, officeBSSID))
		assert.Equal(t, http.StatusConflict, other.Status, "the same key with another punch: %s", other.Raw)
	})

	t.Run("a punch without an Idempotency-Key is a 400 with a reason", func(t *testing.T) {
		res := s.punch(leeTok, "", s.punchBody("in", "lee-phone", nil, officeBSSID), "Accept-Language", "zh-HK")
		assert.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Raw)
		assert.Equal(t, "https://lantau.dev/problems/idempotency-key-missing", res.Str("type"))
		assert.Contains(t, res.Str("detail"), "Idempotency-Key")
	})

	t.Run("50 concurrent punches of one employee keep the chain linear and valid", func(t *testing.T) {
		s.clock.set(t, "2026-11-04 08:52")
		const n = 50
		var wg sync.WaitGroup
		statuses := make([]int, n)
		seqs := make([]int, n)
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				kind := "in"
				if i%2 == 1 {
					kind = "out"
				}
				st, body, err := rawPunch(s.API, leeTok, fmt.Sprintf("lee-burst-%d", i), s.punchBody(kind, "lee-phone", nil, officeBSSID))
				statuses[i], errs[i] = st, err
				if seq, ok := body["seq"].(float64); ok {
					seqs[i] = int(seq)
				}
			}()
		}
		wg.Wait()
		seen := map[int]bool{}
		for i := range n {
			require.NoError(t, errs[i])
			assert.Equal(t, http.StatusCreated, statuses[i])
			assert.False(t, seen[seqs[i]], "seq %d given twice", seqs[i])
			seen[seqs[i]] = true
		}
		for seq := 2; seq <= n+1; seq++ {
			assert.True(t, seen[seq], "seq %d missing", seq)
		}
		rep := s.must(http.StatusOK, "GET", "/v1/attendance/verify?employee="+lee, leeTok, nil)
		assert.Equal(t, true, rep.Body["valid"], "%s", rep.Raw)
		assert.EqualValues(t, n+1, rep.Body["records"])
		assert.EqualValues(t, n+1, rep.Body["head"])
	})

	t.Run("employees read only their own punches", func(t *testing.T) {
		res := s.Do(t, "GET", "/v1/attendance/punches?employee="+chan_, hoTok, nil)
		assert.Equal(t, http.StatusForbidden, res.Status, "%s", res.Raw)
		res = s.must(http.StatusOK, "GET", "/v1/attendance/punches?employee="+chan_+"&from=2026-10-01&to=2026-10-31", boss, nil)
		assert.Len(t, res.Body["records"], 4)
		assert.Len(t, res.Body["punches"], 4)
	})

	t.Run("a signed daily root proves a record", func(t *testing.T) {
		out := s.invoke("AttendanceRootFunction", map[string]any{"date": "2026-11-04"})
		roots := out["roots"].(map[string]any)
		require.Contains(t, roots, c.ID)
		assert.Len(t, roots[c.ID], 64, "a fresh root, hex")
		again := s.invoke("AttendanceRootFunction", map[string]any{"date": "2026-11-04"})
		assert.Equal(t, "kept", again["roots"].(map[string]any)[c.ID], "a day's root is written once")

		key := s.must(http.StatusOK, "GET", "/v1/attendance/roots/key", chanTok, nil)
		pub, err := base64.StdEncoding.DecodeString(key.Str("publicKey"))
		require.NoError(t, err)
		root := s.must(http.StatusOK, "GET", "/v1/attendance/roots/2026-11-04", boss, nil)
		assert.Equal(t, true, root.Body["verified"])
		assert.Len(t, root.Body["leaves"], 5, "Chan, Ho, Lee, Wong and Ng have chains")

		res := s.must(http.StatusOK, "GET", "/v1/attendance/proofs/"+chan_+"/1?date=2026-11-04", chanTok, nil)
		assert.Equal(t, true, res.Body["valid"], "%s", res.Raw)
		var p attendance.Proof
		raw, err := json.Marshal(res.Body["proof"])
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(raw, &p))
		require.NoError(t, attendance.VerifyProof(p, pub), "anyone can check the proof with the published key")
		assert.Equal(t, chanFirst.Str("hash"), p.Record.Hash)

		res = s.Do(t, "GET", "/v1/attendance/proofs/"+chan_+"/1?date=2026-11-03", chanTok, nil)
		assert.Equal(t, http.StatusNotFound, res.Status, "no root for that day: %s", res.Raw)
	})

	t.Run("a tampered record is found at its place", func(t *testing.T) {
		store := s.table()
		key := table.Key{Tenant: c.ID, PK: "ATT#EMP#" + lee, SK: fmt.Sprintf("P#%012d", 3)}
		it, err := store.Get(context.Background(), key)
		require.NoError(t, err)
		var rec map[string]any
		require.NoError(t, json.Unmarshal(it.Data, &rec))
		rec["time"] = "2026-11-04T00:30:00Z" // moved 20 minutes earlier
		it.Data, err = json.Marshal(rec)
		require.NoError(t, err)
		require.NoError(t, store.Put(context.Background(), it, table.Always))

		rep := s.must(http.StatusOK, "GET", "/v1/attendance/verify?employee="+lee, boss, nil)
		assert.Equal(t, false, rep.Body["valid"])
		first := rep.Body["firstProblem"].(map[string]any)
		assert.EqualValues(t, 3, first["seq"])
		assert.Equal(t, "altered", first["kind"])

		full := s.must(http.StatusOK, "GET", "/v1/attendance/verify?date=2026-11-04", boss, nil)
		assert.Equal(t, false, full.Body["valid"], "%s", full.Raw)
		require.Len(t, full.Body["broken"], 1)
		assert.Equal(t, lee, full.Body["broken"].([]any)[0].(map[string]any)["employee"])
		res := s.Do(t, "GET", "/v1/attendance/verify", chanTok, nil)
		assert.Equal(t, http.StatusForbidden, res.Status, "the full check is for admins: %s", res.Raw)
	})

	t.Run("a correction is a new record made by an approved request", func(t *testing.T) {
		req := s.must(http.StatusCreated, "POST", "/v1/attendance/corrections", hoTok, map[string]any{"action": "add", "kind": "in",
			"at": "2026-10-14T00:58:00Z", "reason": "The app refused my phone; I was at my desk"})
		assert.Equal(t, "pending", req.Str("status"))
		res := s.Do(t, "POST", "/v1/attendance/corrections/"+ho+"/"+req.Str("id")+"/decision", hoTok, map[string]any{"approve": true})
		assert.Equal(t, http.StatusForbidden, res.Status, "%s", res.Raw)
		done := s.must(http.StatusOK, "POST", "/v1/attendance/corrections/"+ho+"/"+req.Str("id")+"/decision", boss, map[string]any{"approve": true})
		assert.Equal(t, "approved", done.Str("status"))
		assert.NotZero(t, done.Body["recordSeq"])
		rep := s.must(http.StatusOK, "GET", "/v1/attendance/verify?employee="+ho, hoTok, nil)
		assert.Equal(t, true, rep.Body["valid"], "%s", rep.Raw)
	})

	t.Run("the missing check names who has not clocked in, once", func(t *testing.T) {
		out := s.invoke("AttendanceMissingFunction", map[string]any{"time": "2026-10-14T01:15:00Z"}) // 09:15 HKT
		missing := out["missing"].(map[string]any)[c.ID]
		// Chan clocked in at 08:55 (flagged, counts); Ho only had refused
		// punches by then (his correction adds 08:58, approved later but
		// counted: the check reads the chain as it is now); Lee punched in
		// November; Wong at 10:00; Ng works nights.
		assert.ElementsMatch(t, []any{lee, wong}, missing, "%v", out)

		svc := attendancefn.NewService(s.table(), nil, attendancefn.Directory{D: directory.New(directory.Deps{Store: s.table()})}, s.clock.Now, nil)
		job := &attendancefn.MissingJob{Service: svc}
		at := time.Date(2026, 10, 14, 1, 15, 0, 0, time.UTC)
		evs1, _, err := job.Check(context.Background(), c.ID, at)
		require.NoError(t, err)
		evs2, _, err := job.Check(context.Background(), c.ID, at.Add(time.Minute))
		require.NoError(t, err)
		require.Len(t, evs1, 2)
		require.Len(t, evs2, 2)
		for i := range evs1 {
			assert.Equal(t, evs1[i].ID, evs2[i].ID, "a re-run raises the same events")
		}
	})

	t.Run("Chan's October timesheet", func(t *testing.T) {
		res := s.must(http.StatusOK, "GET", "/v1/attendance/timesheets?month=2026-10&employee="+chan_, chanTok, nil)
		emps := res.Body["employees"].([]any)
		require.Len(t, emps, 1)
		f := emps[0].(map[string]any)
		// 22 weekdays in October 2026, less National Day (1st) and the day
		// following Chung Yeung (19th); 9 hours each.
		want := map[string]float64{"scheduledShifts": 20, "scheduledMinutes": 20 * 540, "presentShifts": 2, "absences": 18,
			"workedMinutes": 550 + 485, "lateArrivals": 1, "lateMinutes": 25, "earlyLeaves": 1, "earlyMinutes": 30,
			"overtimeMinutes": 5, "incomplete": 0, "flaggedPunches": 1, "fieldPunches": 0}
		for k, v := range want {
			assert.Equal(t, v, f[k], k)
		}
		assert.Equal(t, ops, f["department"])

		res = s.Do(t, "GET", "/v1/attendance/timesheets?month=2026-10&employee="+chan_, hoTok, nil)
		assert.Equal(t, http.StatusForbidden, res.Status, "%s", res.Raw)
	})

	t.Run("the department timesheet as CSV and XLSX with zh-HK headers", func(t *testing.T) {
		csv := s.must(http.StatusOK, "GET", "/v1/attendance/timesheets?month=2026-10&department="+ops+"&format=csv", boss, nil, "Accept-Language", "zh-HK")
		assert.Contains(t, csv.Header.Get("Content-Type"), "text/csv")
		text := string(csv.Raw)
		require.True(t, strings.HasPrefix(text, "\ufeff"), "Excel needs the BOM")
		header := strings.SplitN(strings.TrimPrefix(text, "\ufeff"), "\r\n", 2)[0]
		assert.Equal(t, "員工編號,姓名,部門,排班次數,排班分鐘,出勤班次,缺勤次數,工作分鐘,遲到次數,遲到分鐘,早退次數,早退分鐘,加班分鐘,打卡不完整班次,外勤打卡,須覆核打卡", header)
		assert.Contains(t, text, chan_+",Chan Tai Man 陳大文,"+ops+",20,10800,2,18,1035,1,25,1,30,5,0,0,1")
		assert.NotContains(t, text, wong, "Sales is another department")

		x := s.must(http.StatusOK, "GET", "/v1/attendance/timesheets?month=2026-10&department="+ops+"&format=xlsx", boss, nil, "Accept-Language", "zh-HK")
		f, err := excelize.OpenReader(bytes.NewReader(x.Raw))
		require.NoError(t, err)
		rows, err := f.GetRows(f.GetSheetName(0))
		require.NoError(t, err)
		require.NotEmpty(t, rows)
		assert.Equal(t, []string{"員工編號", "姓名", "部門", "排班次數"}, rows[0][:4])
	})

	t.Run("a department-scoped attendance admin acts only on their departments' people", func(t *testing.T) {
		s.must(http.StatusOK, "PUT", "/v1/users/"+lee+"/roles", boss, map[string]any{"role": "admin", "areas": []string{"attendance"}, "department": ops})
		res := s.must(http.StatusOK, "POST", "/v1/auth/login", "", map[string]any{"email": "sm.lee@acme.com.hk", "password": identitytest.GoodPassword})
		require.Equal(t, true, res.Body["enrolmentRequired"], "admins need a second factor: %s", res.Raw)
		enrol := res.Str("accessToken")
		res = s.must(http.StatusOK, "POST", "/v1/auth/totp", enrol, nil)
		res = s.must(http.StatusOK, "POST", "/v1/auth/totp/confirm", enrol, map[string]any{"code": identitytest.Code(t, res.Str("secret"), 0)})
		scoped := res.Body["tokens"].(map[string]any)["accessToken"].(string)

		s.must(http.StatusOK, "GET", "/v1/attendance/punches?employee="+chan_+"&from=2026-10-01&to=2026-10-31", scoped, nil)
		s.must(http.StatusOK, "GET", "/v1/attendance/timesheets?month=2026-10", scoped, nil)
		s.must(http.StatusOK, "PUT", "/v1/attendance/assignments/ops", scoped, map[string]any{"department": ops, "sites": []string{"kt"}, "shifts": []string{"day"}})
		for _, call := range []struct {
			method, path string
			body         any
		}{
			{"GET", "/v1/attendance/punches?employee=" + wong, nil},
			{"GET", "/v1/attendance/timesheets?month=2026-10&department=" + sales, nil},
			{"PUT", "/v1/attendance/assignments/sales", map[string]any{"department": sales, "sites": []string{"kt"}}},
			{"PUT", "/v1/attendance/sites/kt", map[string]any{"name": "Moved", "fence": map[string]any{"center": map[string]any{"lat": 22.3, "lng": 114.2}, "radiusM": 100}}},
			{"POST", "/v1/attendance/devices/" + wong + "/rebind", map[string]any{"deviceId": "x"}},
			{"GET", "/v1/attendance/verify", nil},
		} {
			res := s.Do(t, call.method, call.path, scoped, call.body)
			assert.Equal(t, http.StatusForbidden, res.Status, "%s %s: %s", call.method, call.path, res.Raw)
		}
		res = s.must(http.StatusOK, "POST", "/v1/attendance/devices/"+ho+"/rebind", scoped, map[string]any{"deviceId": "ho-new-phone"})
		assert.Equal(t, "ho-new-phone", res.Str("deviceId"))
	})

	t.Run("the sample events invoke the functions as API Gateway and the scheduler would", func(t *testing.T) {
		yip, yipTok := s.employee(boss, map[string]any{"nameEn": "Yip Sample", "email": "yip@acme.com.hk", "department": ops})
		raw, err := os.ReadFile("../../../events/http-attendance-punch.json")
		require.NoError(t, err)
		var ev events.APIGatewayV2HTTPRequest
		require.NoError(t, json.Unmarshal(raw, &ev))
		claims := jwtClaims(t, yipTok)
		for k, v := range claims { // as the JWT authorizer passes them: strings, lists flattened
			if f, ok := v.(float64); ok {
				v = int64(f)
			}
			ev.RequestContext.Authorizer.JWT.Claims[k] = fmt.Sprint(v)
		}
		s.clock.set(t, "2026-10-14 08:55")
		payload, err := json.Marshal(ev)
		require.NoError(t, err)
		out, err := s.Runner.Function("ClockinFunction").Invoke(context.Background(), "sample-punch-request-000000001", payload)
		require.NoError(t, err)
		var resp events.APIGatewayV2HTTPResponse
		require.NoError(t, json.Unmarshal(out, &resp))
		require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", resp.Body)
		var body map[string]any
		require.NoError(t, json.Unmarshal([]byte(resp.Body), &body))
		assert.Equal(t, yip, body["employee"])
		assert.Equal(t, "accepted", body["outcome"], "the office Wi-Fi is in sight: %s", resp.Body)
		assert.Equal(t, "wifi", body["via"])

		daily, err := os.ReadFile("../../../events/schedule-attendance-daily-root.json")
		require.NoError(t, err)
		res := s.invoke("AttendanceRootFunction", json.RawMessage(daily))
		assert.Equal(t, "2026-11-04", res["date"], "the run after midnight signs the day before")
		assert.Equal(t, "kept", res["roots"].(map[string]any)[c.ID])

		missing, err := os.ReadFile("../../../events/schedule-attendance-missing.json")
		require.NoError(t, err)
		res = s.invoke("AttendanceMissingFunction", json.RawMessage(missing))
		assert.ElementsMatch(t, []any{lee, wong}, res["missing"].(map[string]any)[c.ID])
	})

	t.Run("attendance events reach the audit trail", func(t *testing.T) {
		require.Eventually(t, func() bool {
			res := s.Do(t, "GET", "/v1/audit/entries?limit=500", boss, nil)
			raw := string(res.Raw)
			return res.Status == http.StatusOK && strings.Contains(raw, "PunchFlagged") && strings.Contains(raw, "FieldPunchPending") &&
				strings.Contains(raw, "FieldPunchResolved") && strings.Contains(raw, `"Late"`)
		}, 10*time.Second, 50*time.Millisecond, "the audit function records attendance's events")
		res := s.Do(t, "GET", "/v1/audit/entries?limit=500", boss, nil)
		var body struct {
			Entries []struct {
				Type string
				Data map[string]any
			}
		}
		require.NoError(t, json.Unmarshal(res.Raw, &body))
		found := false
		for _, e := range body.Entries {
			if e.Type == "FieldPunchPending" {
				found = true
				assert.Equal(t, ho, e.Data["approver"], "the field punch goes to the employee's manager")
			}
		}
		assert.True(t, found)
	})
}

// jwtClaims reads a token's claims (unverified: the runner's authorizer
// checked it when it was issued).
func jwtClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	require.Len(t, parts, 3)
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var c map[string]any
	require.NoError(t, json.Unmarshal(raw, &c))
	return c
}
