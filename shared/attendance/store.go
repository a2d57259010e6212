package attendance

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/table"
)

// Keys of the attendance items in a tenant's part of the table.
const (
	pkEmployee  = "ATT#EMP#" // + employee: head, records, markers, corrections
	pkChains    = "ATT#CHAINS"
	skHead      = "HEAD"
	skRecord    = "P#"    // + %012d seq
	skIdem      = "IDEM#" // + idempotency key
	skCorr      = "CORR#" // + correction request ID
	skResolved  = "RES#"  // + %012d seq of the resolved field punch
	idemTTL     = 30 * 24 * time.Hour
	maxAttempts = 200
)

func empKey(tenant string, emp EmployeeID, sk string) table.Key {
	return table.Key{Tenant: tenant, PK: pkEmployee + string(emp), SK: sk}
}

func recordSK(seq int64) string { return fmt.Sprintf("%s%012d", skRecord, seq) }

// head is an employee's chain tip, bound device and last counted punch.
type head struct {
	Seq    int64      `json:"seq"`
	Hash   string     `json:"hash"`
	Device string     `json:"device,omitempty"`
	Last   *LastPunch `json:"last,omitempty"`
}

type marker struct {
	Seq         int64  `json:"seq"`
	Fingerprint string `json:"fp"`
}

// Store keeps the attendance chains and requests in the table.
type Store struct {
	t   table.Store
	now func() time.Time
}

// NewStore returns a store over the table; now defaults to time.Now.
func NewStore(t table.Store, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{t: t, now: now}
}

// Limits on what a punch carries, so that its record stays small (about
// 1 KB with the strongest few networks; each seen network adds about 50
// bytes, and each started KB is a write unit on DynamoDB).
const (
	MaxSeenAPs   = 20
	MaxNoteBytes = 500
)

// ErrBusy is returned when an append lost the race too many times.
var ErrBusy = errors.New("attendance chain busy")

// PunchCommand is one clock-in or clock-out to decide and record.
type PunchCommand struct {
	Tenant         string
	Employee       EmployeeID
	IdempotencyKey string
	Request        Request
	Policy         Policy
	Applicable     Applicable // Rules.For(employee, department)
	Calendar       Calendar
}

// PunchResult is the recorded punch; Replayed is true when the
// idempotency key had been used and nothing was written.
type PunchResult struct {
	Record   Record
	Replayed bool
}

func validateIDs(op, tenant string, emp EmployeeID) error {
	if tenant == "" || emp == "" || strings.ContainsAny(string(emp), "#") {
		return problem.E(op, problem.Invalid, problem.Code("bad-employee"), i18n.Text{EN: "A company and a valid employee ID are required.", ZH: "必須提供公司及有效的員工編號。"})
	}
	return nil
}

// Punch decides the punch with Evaluate and appends it to the employee's
// chain, whatever the outcome (a refused punch is kept as evidence but
// never counts). It writes in one transaction the record, the employee's
// head (conditional on the version read, so concurrent punches of one
// employee stay linear: the loser reads the head again and retries) and a
// marker for the idempotency key. A retry with the same key returns the
// first record and writes nothing; the same key with another request is
// a conflict. Nothing outside the employee's partition is written, except
// the once-only registration of the chain with the first record.
func (s *Store) Punch(ctx context.Context, cmd PunchCommand) (PunchResult, error) {
	const op = "attendance.Punch"
	if err := validateIDs(op, cmd.Tenant, cmd.Employee); err != nil {
		return PunchResult{}, err
	}
	if cmd.IdempotencyKey == "" || len(cmd.IdempotencyKey) > 200 {
		return PunchResult{}, problem.E(op, problem.Invalid, problem.Code("idempotency-key-missing"), i18n.Text{EN: "Send an Idempotency-Key (at most 200 characters) so that a retry cannot record the punch twice.", ZH: "請提供 Idempotency-Key（最多 200 個字元），以免重試時重複打卡。"})
	}
	cmd.Request.ClientTime = cmd.Request.ClientTime.UTC().Truncate(time.Millisecond)
	if f := cmd.Request.Location; f != nil {
		// 1e-7 degree is about a centimetre: far below any GPS accuracy.
		f2 := Fix{LatLng: LatLng{Lat: roundTo(f.Lat, 1e7), Lng: roundTo(f.Lng, 1e7)}, AccuracyM: roundTo(f.AccuracyM, 10)}
		cmd.Request.Location = &f2
	}
	if len(cmd.Request.WiFi) > MaxSeenAPs || len(cmd.Request.Note) > MaxNoteBytes || len(cmd.Request.DeviceID) > 200 {
		return PunchResult{}, problem.E(op, problem.Invalid, problem.Code("punch-too-large"), i18n.Text{
			EN: fmt.Sprintf("Send at most %d Wi-Fi networks (the strongest), a note of at most %d bytes and a device ID of at most 200.", MaxSeenAPs, MaxNoteBytes),
			ZH: fmt.Sprintf("最多傳送 %d 個 Wi-Fi 網絡（訊號最強者）、不超過 %d 位元組的備註，以及不超過 200 字元的裝置編號。", MaxSeenAPs, MaxNoteBytes)})
	}
	reqJSON, err := json.Marshal(cmd.Request)
	if err != nil {
		return PunchResult{}, problem.E(op, problem.Invalid, err)
	}
	fpSum := sha256.Sum256(reqJSON)
	fp := hex.EncodeToString(fpSum[:])
	headK := empKey(cmd.Tenant, cmd.Employee, skHead)
	idemK := empKey(cmd.Tenant, cmd.Employee, skIdem+cmd.IdempotencyKey)
	if err := table.ValidateKey(idemK); err != nil {
		return PunchResult{}, problem.E(op, problem.Invalid, problem.Code("bad-idempotency-key"), i18n.Text{EN: "The Idempotency-Key is not valid.", ZH: "Idempotency-Key 無效。"}, err)
	}
	for attempt := 0; attempt < maxAttempts; attempt++ {
		items, err := s.t.BatchGet(ctx, []table.Key{headK, idemK})
		if err != nil {
			return PunchResult{}, problem.E(op, problem.Internal, err)
		}
		h, version := head{Hash: Genesis}, int64(0)
		for _, it := range items {
			switch it.SK {
			case skHead:
				if err := json.Unmarshal(it.Data, &h); err != nil {
					return PunchResult{}, problem.E(op, problem.Internal, err)
				}
				version = it.Version
			default:
				return s.replay(ctx, cmd, it, fp)
			}
		}
		now := s.now().UTC()
		d := Evaluate(cmd.Policy, Context{
			Employee: cmd.Employee, Sites: cmd.Applicable.Sites, Shifts: cmd.Applicable.Shifts,
			AllowField: cmd.Applicable.AllowField, Calendar: cmd.Calendar,
			BoundDevice: h.Device, Previous: h.Last, Now: now,
		}, cmd.Request)
		req := cmd.Request
		rec, err := Seal(Record{
			Tenant: cmd.Tenant, Employee: cmd.Employee, Seq: h.Seq + 1, Type: TypePunch, Time: now,
			Request: &req, Decision: &d, Prev: h.Hash,
		})
		if err != nil {
			return PunchResult{}, problem.E(op, problem.Internal, err)
		}
		next := h
		next.Seq, next.Hash = rec.Seq, rec.Hash
		if d.BindDevice {
			next.Device = req.DeviceID
		}
		if d.Outcome != Refused {
			var loc *Fix
			switch {
			case d.Via == "wifi":
				loc = siteFix(cmd.Applicable.Sites, d.Site) // the office is where the phone was
			case req.Location != nil && !d.Has("bad-location"):
				f := *req.Location
				loc = &f
			}
			next.Last = &LastPunch{Seq: rec.Seq, Kind: req.Kind, Time: now, Location: loc, Counts: d.Outcome.Counts()}
		}
		ops := []table.Op{
			{Put: &table.Item{Key: idemK, Version: 1, ExpiresAt: now.Add(idemTTL).Unix(), Data: mustJSON(marker{Seq: rec.Seq, Fingerprint: fp})}, Condition: table.IfNotExists},
		}
		ops = append(ops, s.appendOps(cmd.Tenant, rec, next, version)...)
		err = s.t.Transact(ctx, ops)
		if err == nil {
			return PunchResult{Record: rec}, nil
		}
		var txe *table.TxError
		if !errors.As(err, &txe) {
			return PunchResult{}, problem.E(op, problem.Internal, err)
		}
		// Index 0: a concurrent retry with the same key won; the next round replays it.
		// Otherwise another punch moved the head first: read it again.
		if err := backoff(ctx, attempt); err != nil {
			return PunchResult{}, problem.E(op, problem.Unavailable, err)
		}
	}
	return PunchResult{}, problem.E(op, problem.Unavailable, ErrBusy)
}

// appendOps writes rec and moves the head from version to version+1
// (creating it when version is 0); the first record registers the chain.
func (s *Store) appendOps(tenant string, rec Record, next head, version int64) []table.Op {
	headCond := table.IfNotExists
	if version > 0 {
		headCond = table.IfVersion(version)
	}
	ops := []table.Op{
		{Put: &table.Item{Key: empKey(tenant, rec.Employee, recordSK(rec.Seq)), Version: 1, Data: mustJSON(rec.storedForm())}, Condition: table.IfNotExists},
		{Put: &table.Item{Key: empKey(tenant, rec.Employee, skHead), Version: version + 1, Data: mustJSON(next)}, Condition: headCond},
	}
	if rec.Seq == 1 {
		ops = append(ops, table.Op{Put: &table.Item{Key: table.Key{Tenant: tenant, PK: pkChains, SK: string(rec.Employee)}, Version: 1, Data: []byte("{}")}, Condition: table.Always})
	}
	return ops
}

func backoff(ctx context.Context, attempt int) error {
	wait := time.Duration(rand.IntN(1+min(attempt, 20))) * time.Millisecond
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(wait):
		return nil
	}
}

func (s *Store) replay(ctx context.Context, cmd PunchCommand, it table.Item, fp string) (PunchResult, error) {
	const op = "attendance.Punch"
	var m marker
	if err := json.Unmarshal(it.Data, &m); err != nil {
		return PunchResult{}, problem.E(op, problem.Internal, err)
	}
	if m.Fingerprint != fp {
		return PunchResult{}, problem.E(op, problem.Conflict, problem.Code("idempotency-key-reused"), i18n.Text{EN: "This Idempotency-Key was already used for a different punch.", ZH: "此 Idempotency-Key 已用於另一次打卡。"})
	}
	rec, err := s.Record(ctx, cmd.Tenant, cmd.Employee, m.Seq)
	if err != nil {
		return PunchResult{}, err
	}
	return PunchResult{Record: rec, Replayed: true}, nil
}

// Record reads one record of an employee's chain.
func (s *Store) Record(ctx context.Context, tenant string, emp EmployeeID, seq int64) (Record, error) {
	const op = "attendance.Record"
	it, err := s.t.Get(ctx, empKey(tenant, emp, recordSK(seq)))
	if errors.Is(err, table.ErrNotFound) {
		return Record{}, problem.E(op, problem.NotFound, problem.Code("punch-not-found"), i18n.Text{EN: "There is no such punch record.", ZH: "找不到此打卡記錄。"}, err)
	}
	if err != nil {
		return Record{}, problem.E(op, problem.Internal, err)
	}
	r, err := decodeStored(tenant, emp, it.Data)
	if err != nil {
		return Record{}, problem.E(op, problem.Internal, err)
	}
	return r.explained(), nil
}

// Records lists an employee's chain in order (all of it: a few punches a
// day make a few thousand records a year; callers filter by time).
func (s *Store) Records(ctx context.Context, tenant string, emp EmployeeID) ([]Record, error) {
	var out []Record
	err := s.scan(ctx, tenant, emp, func(_ int64, data []byte) error {
		r, err := decodeStored(tenant, emp, data)
		if err != nil {
			return err
		}
		out = append(out, r.explained())
		return nil
	})
	if err != nil {
		return nil, problem.E("attendance.Records", problem.Internal, err)
	}
	return out, nil
}

func (s *Store) scan(ctx context.Context, tenant string, emp EmployeeID, each func(pos int64, data []byte) error) error {
	cursor := ""
	for {
		p, err := s.t.Query(ctx, table.Query{Tenant: tenant, PK: pkEmployee + string(emp), SortOp: table.SortBeginsWith, Value: skRecord, Limit: 500, Cursor: cursor})
		if err != nil {
			return err
		}
		for _, it := range p.Items {
			pos, _ := strconv.ParseInt(strings.TrimPrefix(it.SK, skRecord), 10, 64)
			if err := each(pos, it.Data); err != nil {
				return err
			}
		}
		if p.Cursor == "" {
			return nil
		}
		cursor = p.Cursor
	}
}

func (s *Store) readHead(ctx context.Context, tenant string, emp EmployeeID) (head, int64, error) {
	it, err := s.t.Get(ctx, empKey(tenant, emp, skHead))
	if errors.Is(err, table.ErrNotFound) {
		return head{Hash: Genesis}, 0, nil
	}
	if err != nil {
		return head{}, 0, err
	}
	var h head
	if err := json.Unmarshal(it.Data, &h); err != nil {
		return head{}, 0, err
	}
	return h, it.Version, nil
}

// BoundDevice is the device bound to the employee ("" if none yet).
func (s *Store) BoundDevice(ctx context.Context, tenant string, emp EmployeeID) (string, error) {
	h, _, err := s.readHead(ctx, tenant, emp)
	if err != nil {
		return "", problem.E("attendance.BoundDevice", problem.Internal, err)
	}
	return h.Device, nil
}

// RebindDevice binds another device to the employee: an admin's call
// (the caller checks the role and records the event in the audit trail).
// An empty deviceID unbinds, so the next punch's device binds.
func (s *Store) RebindDevice(ctx context.Context, tenant string, emp EmployeeID, deviceID string) error {
	const op = "attendance.RebindDevice"
	if err := validateIDs(op, tenant, emp); err != nil {
		return err
	}
	for attempt := 0; attempt < maxAttempts; attempt++ {
		h, version, err := s.readHead(ctx, tenant, emp)
		if err != nil {
			return problem.E(op, problem.Internal, err)
		}
		h.Device = deviceID
		cond := table.IfNotExists
		if version > 0 {
			cond = table.IfVersion(version)
		}
		err = s.t.Put(ctx, table.Item{Key: empKey(tenant, emp, skHead), Version: version + 1, Data: mustJSON(h)}, cond)
		if err == nil {
			return nil
		}
		if !errors.Is(err, table.ErrConditionFailed) {
			return problem.E(op, problem.Internal, err)
		}
		if err := backoff(ctx, attempt); err != nil {
			return problem.E(op, problem.Unavailable, err)
		}
	}
	return problem.E(op, problem.Unavailable, ErrBusy)
}

// VerifyChain recomputes the employee's chain from its first record and
// reports the first broken link: an altered record (content or hash), a
// reordered one (stored at another record's place), a missing one, or one
// inserted beyond the head.
func (s *Store) VerifyChain(ctx context.Context, tenant string, emp EmployeeID) (ChainReport, error) {
	const op = "attendance.VerifyChain"
	h, _, err := s.readHead(ctx, tenant, emp)
	if err != nil {
		return ChainReport{}, problem.E(op, problem.Internal, err)
	}
	v := newChainVerifier(tenant, emp, h.Seq, h.Hash)
	errStop := errors.New("stop")
	err = s.scan(ctx, tenant, emp, func(pos int64, data []byte) error {
		if !v.next(pos, data) {
			return errStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return ChainReport{}, problem.E(op, problem.Internal, err)
	}
	return v.finish(), nil
}

// appendRecord appends a record built from the current head, with extra
// operations in the same transaction; a failed extra condition is a
// conflict (cond names it).
func (s *Store) appendRecord(ctx context.Context, op, tenant string, emp EmployeeID, build func(h head) (Record, error), extra func(rec Record) []table.Op, conflict error) (Record, error) {
	for attempt := 0; attempt < maxAttempts; attempt++ {
		h, version, err := s.readHead(ctx, tenant, emp)
		if err != nil {
			return Record{}, problem.E(op, problem.Internal, err)
		}
		rec, err := build(h)
		if err != nil {
			return Record{}, err
		}
		rec.Tenant, rec.Employee, rec.Seq, rec.Prev, rec.Time = tenant, emp, h.Seq+1, h.Hash, s.now().UTC()
		if rec, err = Seal(rec); err != nil {
			return Record{}, problem.E(op, problem.Internal, err)
		}
		next := h
		next.Seq, next.Hash = rec.Seq, rec.Hash
		ops := s.appendOps(tenant, rec, next, version)
		base := len(ops)
		ops = append(ops, extra(rec)...)
		err = s.t.Transact(ctx, ops)
		if err == nil {
			return rec, nil
		}
		var txe *table.TxError
		if !errors.As(err, &txe) {
			return Record{}, problem.E(op, problem.Internal, err)
		}
		if txe.Index >= base {
			return Record{}, conflict
		}
		if err := backoff(ctx, attempt); err != nil {
			return Record{}, problem.E(op, problem.Unavailable, err)
		}
	}
	return Record{}, problem.E(op, problem.Unavailable, ErrBusy)
}

// ResolveField approves or rejects a pending field punch by appending a
// resolution record that refers to it, and returns the resolution with the
// punch it resolved. A punch is resolved once.
func (s *Store) ResolveField(ctx context.Context, tenant string, emp EmployeeID, seq int64, by string, approve bool, note string) (res, punch Record, err error) {
	const op = "attendance.ResolveField"
	if err := validateIDs(op, tenant, emp); err != nil {
		return Record{}, Record{}, err
	}
	orig, err := s.Record(ctx, tenant, emp, seq)
	if err != nil {
		return Record{}, Record{}, err
	}
	if orig.Type != TypePunch || orig.Decision == nil || orig.Decision.Outcome != PendingField {
		return Record{}, Record{}, problem.E(op, problem.Conflict, problem.Code("not-pending-field"), i18n.Text{EN: "This punch is not a field punch waiting for approval.", ZH: "此打卡並非待批核的外勤打卡。"})
	}
	done := problem.E(op, problem.Conflict, problem.Code("already-resolved"), i18n.Text{EN: "This field punch has already been approved or rejected.", ZH: "此外勤打卡已獲批核或被拒絕。"})
	res, err = s.appendRecord(ctx, op, tenant, emp, func(head) (Record, error) {
		return Record{Type: TypeResolution, Refers: &Ref{Seq: orig.Seq, Hash: orig.Hash}, Resolution: &Resolution{Approved: approve, By: by, Note: note}}, nil
	}, func(rec Record) []table.Op {
		return []table.Op{{Put: &table.Item{Key: empKey(tenant, emp, fmt.Sprintf("%s%012d", skResolved, seq)), Version: 1, Data: mustJSON(Ref{Seq: rec.Seq, Hash: rec.Hash})}, Condition: table.IfNotExists}}
	}, done)
	return res, orig, err
}

// siteFix is a site as a fix: its centre (a polygon's first corner) with
// the whole site as the accuracy.
func siteFix(sites []Site, id string) *Fix {
	for _, s := range sites {
		if s.ID != id {
			continue
		}
		if len(s.Fence.Polygon) < 3 {
			return &Fix{LatLng: s.Fence.Center, AccuracyM: s.Fence.RadiusM}
		}
		f := Fix{LatLng: s.Fence.Polygon[0]}
		for _, v := range s.Fence.Polygon {
			f.AccuracyM = math.Max(f.AccuracyM, Distance(f.LatLng, v))
		}
		return &f
	}
	return nil
}

// roundTo rounds v to 1/scale, leaving NaN and infinities for Evaluate to refuse.
func roundTo(v, scale float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > 1e12 {
		return v
	}
	return math.Round(v*scale) / scale
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
