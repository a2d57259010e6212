package attendance

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/table"
)

// CorrectionAction is what a correction does to the timesheet.
type CorrectionAction string

// Correction actions. The original record stays as it was; the
// correction record, appended to the chain, says how to read it.
const (
	// Replace: the original punch counts with Kind and At instead.
	Replace CorrectionAction = "replace"
	// Add: a punch that was never made (forgot to punch) counts.
	Add CorrectionAction = "add"
	// Void: the original punch does not count.
	Void CorrectionAction = "void"
)

// Correction is the content of an approved correction request.
type Correction struct {
	RequestID   string           `json:"requestId"`
	Action      CorrectionAction `json:"action"`
	Kind        Kind             `json:"kind,omitempty"`
	At          time.Time        `json:"at,omitzero"`
	Reason      string           `json:"reason"`
	RequestedBy string           `json:"requestedBy"`
	ApprovedBy  string           `json:"approvedBy,omitempty"`
}

// Correction request states.
const (
	StatusPending  = "pending"
	StatusApproved = "approved"
	StatusRejected = "rejected"
)

// CorrectionRequest asks for a correction of an employee's punches.
type CorrectionRequest struct {
	ID       string     `json:"id"`
	Employee EmployeeID `json:"employee"`
	Original int64      `json:"original,omitempty"` // seq of the punch corrected (Replace, Void)
	Correction
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"createdAt"`
	DecidedBy string    `json:"decidedBy,omitempty"`
	DecidedAt time.Time `json:"decidedAt,omitzero"`
	RecordSeq int64     `json:"recordSeq,omitempty"` // the correction record, once approved
}

// RequestCorrection files a correction request (pending).
func (s *Store) RequestCorrection(ctx context.Context, tenant string, req CorrectionRequest) (CorrectionRequest, error) {
	const op = "attendance.RequestCorrection"
	if err := validateIDs(op, tenant, req.Employee); err != nil {
		return req, err
	}
	bad := func(code, en, zh string) (CorrectionRequest, error) {
		return req, problem.E(op, problem.Invalid, problem.Code(code), i18n.Text{EN: en, ZH: zh})
	}
	if req.ID == "" || req.Reason == "" || req.RequestedBy == "" {
		return bad("correction-incomplete", "A correction request needs an ID, a reason and who asks.", "更正申請需要編號、原因及申請人。")
	}
	switch req.Action {
	case Replace, Add:
		if (req.Kind != In && req.Kind != Out) || req.At.IsZero() {
			return bad("correction-incomplete", "Say whether the corrected punch is a clock-in or clock-out, and when.", "請註明更正後的打卡屬上班或下班，以及時間。")
		}
	case Void:
	default:
		return bad("bad-correction-action", "A correction replaces, adds or voids a punch.", "更正只可取代、新增或作廢打卡。")
	}
	if req.Action == Add {
		req.Original = 0
	} else {
		orig, err := s.Record(ctx, tenant, req.Employee, req.Original)
		if err != nil {
			return req, err
		}
		if orig.Type != TypePunch {
			return bad("not-a-punch", "Only a punch can be corrected.", "只可更正打卡記錄。")
		}
	}
	req.Status, req.CreatedAt, req.ApprovedBy, req.DecidedBy, req.DecidedAt, req.RecordSeq = StatusPending, s.now().UTC(), "", "", time.Time{}, 0
	err := s.t.Put(ctx, table.Item{Key: empKey(tenant, req.Employee, skCorr+req.ID), Version: 1, Data: mustJSON(req)}, table.IfNotExists)
	if errors.Is(err, table.ErrConditionFailed) {
		return req, problem.E(op, problem.Conflict, problem.Code("correction-exists"), i18n.Text{EN: "A correction request with this ID already exists.", ZH: "已有相同編號的更正申請。"})
	}
	if err != nil {
		return req, problem.E(op, problem.Internal, err)
	}
	return req, nil
}

// CorrectionRequestByID reads a correction request.
func (s *Store) CorrectionRequestByID(ctx context.Context, tenant string, emp EmployeeID, id string) (CorrectionRequest, int64, error) {
	const op = "attendance.CorrectionRequest"
	it, err := s.t.Get(ctx, empKey(tenant, emp, skCorr+id))
	if errors.Is(err, table.ErrNotFound) {
		return CorrectionRequest{}, 0, problem.E(op, problem.NotFound, problem.Code("correction-not-found"), i18n.Text{EN: "There is no such correction request.", ZH: "找不到此更正申請。"})
	}
	if err != nil {
		return CorrectionRequest{}, 0, problem.E(op, problem.Internal, err)
	}
	var r CorrectionRequest
	if err := json.Unmarshal(it.Data, &r); err != nil {
		return CorrectionRequest{}, 0, problem.E(op, problem.Internal, err)
	}
	return r, it.Version, nil
}

// DecideCorrection approves or rejects a pending request. Approval
// appends a correction record referring to the original punch (by seq and
// hash) and marks the request approved in the same transaction; the
// original record is never changed.
func (s *Store) DecideCorrection(ctx context.Context, tenant string, emp EmployeeID, id, by string, approve bool) (CorrectionRequest, error) {
	const op = "attendance.DecideCorrection"
	req, version, err := s.CorrectionRequestByID(ctx, tenant, emp, id)
	if err != nil {
		return req, err
	}
	decided := problem.E(op, problem.Conflict, problem.Code("correction-decided"), i18n.Text{EN: "This correction request has already been decided.", ZH: "此更正申請已有決定。"})
	if req.Status != StatusPending {
		return req, decided
	}
	req.DecidedBy, req.DecidedAt = by, s.now().UTC()
	if !approve {
		req.Status = StatusRejected
		err := s.t.Put(ctx, table.Item{Key: empKey(tenant, emp, skCorr+id), Version: version + 1, Data: mustJSON(req)}, table.IfVersion(version))
		if errors.Is(err, table.ErrConditionFailed) {
			return req, decided
		}
		if err != nil {
			return req, problem.E(op, problem.Internal, err)
		}
		return req, nil
	}
	var refers *Ref
	if req.Action != Add {
		orig, err := s.Record(ctx, tenant, emp, req.Original)
		if err != nil {
			return req, err
		}
		refers = &Ref{Seq: orig.Seq, Hash: orig.Hash}
	}
	req.Status = StatusApproved
	c := req.Correction
	c.RequestID, c.ApprovedBy = req.ID, by
	rec, err := s.appendRecord(ctx, op, tenant, emp, func(head) (Record, error) {
		return Record{Type: TypeCorrection, Refers: refers, Correction: &c}, nil
	}, func(rec Record) []table.Op {
		r := req
		r.RecordSeq = rec.Seq
		return []table.Op{{Put: &table.Item{Key: empKey(tenant, emp, skCorr+id), Version: version + 1, Data: mustJSON(r)}, Condition: table.IfVersion(version)}}
	}, decided)
	if err != nil {
		return req, err
	}
	req.RecordSeq = rec.Seq
	return req, nil
}

// CorrectionRequests lists an employee's correction requests, by ID.
func (s *Store) CorrectionRequests(ctx context.Context, tenant string, emp EmployeeID) ([]CorrectionRequest, error) {
	const op = "attendance.CorrectionRequests"
	var out []CorrectionRequest
	cursor := ""
	for {
		p, err := s.t.Query(ctx, table.Query{Tenant: tenant, PK: pkEmployee + string(emp), SortOp: table.SortBeginsWith, Value: skCorr, Limit: 500, Cursor: cursor})
		if err != nil {
			return nil, problem.E(op, problem.Internal, err)
		}
		for _, it := range p.Items {
			var r CorrectionRequest
			if err := json.Unmarshal(it.Data, &r); err != nil {
				return nil, problem.E(op, problem.Internal, err)
			}
			out = append(out, r)
		}
		if p.Cursor == "" {
			return out, nil
		}
		cursor = p.Cursor
	}
}
