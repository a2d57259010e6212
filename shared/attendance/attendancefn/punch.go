package attendancefn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/lantau-hq/lantau/shared/attendance"
	"github.com/lantau-hq/lantau/shared/event"
	"github.com/lantau-hq/lantau/shared/httpapi"
	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/identity"
	"github.com/lantau-hq/lantau/shared/problem"
)

// MaxPunchBytes bounds a punch request's body: 20 networks and a note fit
// in a few KB.
const MaxPunchBytes = 16 << 10

// punchIn is the body of POST /v1/attendance/punches.
type punchIn struct {
	Kind     string `json:"kind"`
	Location *struct {
		Lat       *float64 `json:"lat"`
		Lng       *float64 `json:"lng"`
		AccuracyM *float64 `json:"accuracyM"`
	} `json:"location"` // null or absent: GPS off or denied
	WiFi         []attendance.SeenAP `json:"wifi"`
	DeviceID     string              `json:"deviceId"`
	ClientTime   string              `json:"clientTime"` // RFC 3339
	MockLocation bool                `json:"mockLocation"`
	Note         string              `json:"note"`
}

func msg(en, zh string) i18n.Text { return i18n.Text{EN: en, ZH: zh} }

// DecodePunch reads and checks a clock-in request. Every error is a
// *problem.Error of kind Invalid (400) naming what is wrong (or 413/415
// for an oversized body or another content type); it never panics.
func DecodePunch(w http.ResponseWriter, r *http.Request) (attendance.Request, error) {
	const op = "attendance.DecodePunch"
	var in punchIn
	if err := (httpapi.Decoder{MaxBytes: MaxPunchBytes}).Decode(w, r, &in); err != nil {
		return attendance.Request{}, err
	}
	var v httpapi.Validator
	if v.Required("kind", in.Kind) {
		v.OneOf("kind", in.Kind, string(attendance.In), string(attendance.Out))
	}
	if v.Required("deviceId", in.DeviceID) {
		v.MaxLen("deviceId", in.DeviceID, 200)
	}
	var clientTime time.Time
	if v.Required("clientTime", in.ClientTime) {
		t, err := time.Parse(time.RFC3339Nano, in.ClientTime)
		v.Check(err == nil && t.Year() >= 2000 && t.Year() < 10000, "clientTime", "time",
			msg("Send the phone's time in RFC 3339, e.g. 2026-11-25T09:01:00+08:00.", "請以 RFC 3339 格式傳送手機時間，例如 2026-11-25T09:01:00+08:00。"))
		clientTime = t
	}
	v.MaxLen("note", in.Note, attendance.MaxNoteBytes)
	v.Check(len(in.WiFi) <= attendance.MaxSeenAPs, "wifi", "too-many",
		msg(fmt.Sprintf("Send at most %d Wi-Fi networks, the strongest.", attendance.MaxSeenAPs), fmt.Sprintf("最多傳送 %d 個 Wi-Fi 網絡（訊號最強者）。", attendance.MaxSeenAPs)))
	var wifi []attendance.SeenAP
	if len(in.WiFi) <= attendance.MaxSeenAPs {
		for i, ap := range in.WiFi {
			field := fmt.Sprintf("wifi[%d].bssid", i)
			b, err := attendance.NormalizeBSSID(ap.BSSID)
			if !v.Check(err == nil, field, "bssid", msg("A BSSID is six hexadecimal pairs, e.g. a4:2b:b0:12:34:56.", "BSSID 應為六組十六進位數字，例如 a4:2b:b0:12:34:56。")) {
				continue
			}
			v.MaxLen(fmt.Sprintf("wifi[%d].ssid", i), ap.SSID, 32*4)
			wifi = append(wifi, attendance.SeenAP{SSID: ap.SSID, BSSID: b})
		}
	}
	var loc *attendance.Fix
	if l := in.Location; l != nil {
		ok := v.Check(l.Lat != nil && l.Lng != nil && l.AccuracyM != nil, "location", "required",
			msg("A location needs lat, lng and accuracyM (send null when GPS is off).", "位置須包括 lat、lng 及 accuracyM（GPS 關閉時請傳送 null）。"))
		if ok {
			f := attendance.Fix{LatLng: attendance.LatLng{Lat: *l.Lat, Lng: *l.Lng}, AccuracyM: *l.AccuracyM}
			v.Check(f.Lat >= -90 && f.Lat <= 90, "location.lat", "range", msg("Latitude must be between -90 and 90.", "緯度必須介乎 -90 至 90。"))
			v.Check(f.Lng >= -180 && f.Lng <= 180, "location.lng", "range", msg("Longitude must be between -180 and 180.", "經度必須介乎 -180 至 180。"))
			v.Check(f.AccuracyM >= 0 && !math.IsInf(f.AccuracyM, 0), "location.accuracyM", "range", msg("Accuracy must be a distance in metres, not negative.", "準確度必須為不小於零的米數。"))
			if v.Valid() {
				// The domain's own limits (e.g. accuracy at most 100 km).
				if err := f.Validate(); err != nil {
					var pe *problem.Error
					detail := msg("The location is not valid.", "位置資料無效。")
					if errors.As(err, &pe) && !pe.Detail.IsZero() {
						detail = pe.Detail
					}
					v.Add("location", "invalid", detail)
				}
			}
			loc = &f
		}
	}
	if err := v.Err(); err != nil {
		return attendance.Request{}, problem.Wrap(op, err)
	}
	return attendance.Request{Kind: attendance.Kind(in.Kind), Location: loc, WiFi: wifi, DeviceID: in.DeviceID,
		ClientTime: clientTime, MockLocation: in.MockLocation, Note: in.Note}, nil
}

var textKeyMissing = msg("Send an Idempotency-Key header (at most 200 characters, e.g. a UUID made when the button was pressed) so that a retry cannot record the punch twice.",
	"請提供 Idempotency-Key 標頭（最多 200 字元，例如按下按鈕時產生的 UUID），以免重試時重複打卡。")

// punch records the caller's own clock-in or clock-out.
func (a *API) punch(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	const op = "attendance.Punch"
	if err := signedIn(op, actor); err != nil {
		return err
	}
	key := r.Header.Get("Idempotency-Key")
	if key == "" || len(key) > 200 {
		return problem.E(op, problem.Invalid, problem.Code("idempotency-key-missing"), textKeyMissing)
	}
	req, err := DecodePunch(w, r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	person, err := a.People.Person(ctx, actor.Tenant, actor.User)
	if err != nil {
		return problem.E(op, problem.Internal, err)
	}
	if !person.Active {
		return forbidden(op, textNotAllowed, "deactivated employee")
	}
	rules, err := a.Rules(ctx, actor.Tenant)
	if err != nil {
		return err
	}
	emp := attendance.EmployeeID(actor.User)
	res, err := a.Store.Punch(ctx, attendance.PunchCommand{
		Tenant: actor.Tenant, Employee: emp, IdempotencyKey: key, Request: req,
		Policy: rules.Policy, Applicable: rules.For(emp, person.Department), Calendar: rules.Calendar,
	})
	if err != nil {
		return err
	}
	if !res.Replayed {
		if err := a.markCompany(ctx, actor.Tenant); err != nil {
			a.Log.ErrorContext(ctx, "company not indexed for the daily root", "tenant", actor.Tenant, "error", err.Error())
		}
	}
	evs, err := attendance.PunchEvents(res.Record, actor.User)
	if err != nil {
		return problem.E(op, problem.Internal, err)
	}
	if err := a.addApprover(ctx, actor.Tenant, actor.User, evs); err != nil {
		a.Log.ErrorContext(ctx, "field punch approver not found", "error", err.Error())
	}
	a.publish(ctx, evs)
	if res.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	w.Header().Set("Location", fmt.Sprintf("%s/proofs/%s/%d", Base, emp, res.Record.Seq))
	return httpapi.JSON(w, http.StatusCreated, viewRecord(res.Record, i18n.FromRequest(r)))
}

// reasonView is a reason as the client shows it: the message in the
// caller's language, and in both.
type reasonView struct {
	Code     string            `json:"code"`
	Severity string            `json:"severity"`
	Args     map[string]string `json:"args,omitempty"`
	Message  string            `json:"message"`
	Messages map[string]string `json:"messages"`
}

// recordView is a chain record as the API shows it.
type recordView struct {
	Employee    string                 `json:"employee"`
	Seq         int64                  `json:"seq"`
	Type        string                 `json:"type"`
	Time        time.Time              `json:"time"`
	Hash        string                 `json:"hash"`
	Prev        string                 `json:"prev"`
	Kind        string                 `json:"kind,omitempty"`
	Outcome     string                 `json:"outcome,omitempty"`
	Site        string                 `json:"site,omitempty"`
	Via         string                 `json:"via,omitempty"`
	Placement   string                 `json:"placement,omitempty"`
	DistanceM   float64                `json:"distanceM,omitempty"`
	Shift       *attendance.Occurrence `json:"shift,omitempty"`
	Late        bool                   `json:"late,omitempty"`
	LateMin     int                    `json:"lateMin,omitempty"`
	EarlyLeave  bool                   `json:"earlyLeave,omitempty"`
	EarlyMin    int                    `json:"earlyMin,omitempty"`
	Field       bool                   `json:"field,omitempty"`
	BindDevice  bool                   `json:"bindDevice,omitempty"`
	Reasons     []reasonView           `json:"reasons,omitempty"`
	Request     *attendance.Request    `json:"request,omitempty"`
	Refers      *attendance.Ref        `json:"refers,omitempty"`
	Correction  *attendance.Correction `json:"correction,omitempty"`
	Resolution  *attendance.Resolution `json:"resolution,omitempty"`
	ContentHash string                 `json:"contentHash,omitempty"`
}

func viewRecord(rec attendance.Record, lang i18n.Lang) recordView {
	v := recordView{Employee: string(rec.Employee), Seq: rec.Seq, Type: string(rec.Type), Time: rec.Time, Hash: rec.Hash, Prev: rec.Prev,
		Request: rec.Request, Refers: rec.Refers, Correction: rec.Correction, Resolution: rec.Resolution, ContentHash: rec.ContentHash}
	if rec.Request != nil {
		v.Kind = string(rec.Request.Kind)
	}
	if d := rec.Decision; d != nil {
		v.Outcome, v.Site, v.Via, v.Placement, v.DistanceM = string(d.Outcome), d.Site, d.Via, string(d.Placement), d.DistanceM
		v.Shift, v.Late, v.LateMin, v.EarlyLeave, v.EarlyMin, v.Field, v.BindDevice = d.Shift, d.Late, d.LateMin, d.EarlyLeave, d.EarlyMin, d.Field, d.BindDevice
		for _, rs := range d.Reasons {
			m := rs.Message
			if m.IsZero() {
				m = attendance.Explain(rs.Code, rs.Args)
			}
			v.Reasons = append(v.Reasons, reasonView{Code: rs.Code, Severity: string(rs.Severity), Args: rs.Args, Message: m.T(lang),
				Messages: map[string]string{"en": m.T(i18n.EN), "zh-HK": m.T(i18n.ZHHK)}})
		}
	}
	return v
}

// punches lists an employee's records and their effective punches between
// two Hong Kong dates (default: the last 31 days).
func (a *API) punches(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	const op = "attendance.Punches"
	q := r.URL.Query()
	who := q.Get("employee")
	if who == "" {
		who = actor.User
	}
	emp, err := employeeParam(op, who)
	if err != nil {
		return err
	}
	if err := a.selfOrAdmin(r.Context(), op, actor, string(emp)); err != nil {
		return err
	}
	today := a.Now().In(hongKong)
	today = time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, hongKong)
	from, err := dateParam(op, "from", q.Get("from"), today.AddDate(0, 0, -30))
	if err != nil {
		return err
	}
	to, err := dateParam(op, "to", q.Get("to"), today)
	if err != nil {
		return err
	}
	if to.Before(from) || to.Sub(from) > 400*24*time.Hour {
		return problem.E(op, problem.Invalid, problem.Code("bad-range"), msg("from must not be after to, and at most about 13 months apart.", "from 不可遲於 to，兩者相距最多約 13 個月。"))
	}
	end := to.AddDate(0, 0, 1)
	recs, err := a.Store.Records(r.Context(), actor.Tenant, emp)
	if err != nil {
		return err
	}
	lang := i18n.FromRequest(r)
	views := []recordView{}
	for _, rec := range recs {
		if !rec.Time.Before(from) && rec.Time.Before(end) {
			views = append(views, viewRecord(rec, lang))
		}
	}
	eff := []attendance.Punch{}
	for _, p := range attendance.Effective(recs) {
		if !p.Time.Before(from) && p.Time.Before(end) {
			eff = append(eff, p)
		}
	}
	return httpapi.JSON(w, http.StatusOK, map[string]any{"employee": emp, "from": from.Format(time.DateOnly), "to": to.Format(time.DateOnly),
		"records": views, "punches": eff})
}

// addApprover names, in FieldPunchPending events, who is to approve the
// field punch: the employee's nearest manager ("" when no one is above
// them: then an attendance admin resolves it). The approvals capability
// consumes the event.
func (a *API) addApprover(ctx context.Context, tenant, employee string, evs []event.Envelope) error {
	for i, e := range evs {
		if e.Type != attendance.EventFieldPunchPending {
			continue
		}
		managers, err := a.People.Managers(ctx, tenant, employee)
		if err != nil {
			return err
		}
		var data map[string]any
		if err := json.Unmarshal(e.Data, &data); err != nil {
			return err
		}
		data["approver"] = ""
		if len(managers) > 0 {
			data["approver"] = managers[0]
		}
		if evs[i].Data, err = json.Marshal(data); err != nil {
			return err
		}
	}
	return nil
}
