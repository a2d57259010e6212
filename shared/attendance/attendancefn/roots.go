package attendancefn

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/lantau-hq/lantau/shared/attendance"
	"github.com/lantau-hq/lantau/shared/httpapi"
	"github.com/lantau-hq/lantau/shared/identity"
	"github.com/lantau-hq/lantau/shared/problem"
)

// RootStore keeps the daily snapshots (signed root and leaves).
type RootStore interface {
	// PutSnapshot writes the day's snapshot; it reports false when the
	// day already had one (which is kept: a snapshot is never replaced).
	PutSnapshot(ctx context.Context, snap attendance.Snapshot) (bool, error)
	// Snapshot reads a day's snapshot: a NotFound problem when there is none.
	Snapshot(ctx context.Context, tenant, date string) (attendance.Snapshot, error)
}

// RootKey is the object key of a company's snapshot of a day.
func RootKey(tenant, date string) string { return "attendance/roots/" + tenant + "/" + date + ".json" }

// RootJob is the daily signed root: for each company that uses attendance
// it signs the Merkle root over every chain head and writes the snapshot to
// the roots bucket.
type RootJob struct {
	*Service
	Signer SignerSource
	Roots  RootStore
}

// Invoke handles a scheduled event (the snapshot covers the Hong Kong day
// before its time) or {"date":"YYYY-MM-DD"} to sign one day by hand. A
// day already written is left as it is.
func (j *RootJob) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	const op = "attendance.DailyRoot"
	var in struct {
		Time time.Time `json:"time"`
		Date string    `json:"date"`
	}
	if err := json.Unmarshal(payload, &in); err != nil {
		return nil, problem.E(op, problem.Invalid, problem.Code("bad-event"), err)
	}
	date := in.Date
	if date == "" {
		at := in.Time
		if at.IsZero() {
			at = j.Now()
		}
		date = at.In(hongKong).AddDate(0, 0, -1).Format(time.DateOnly)
	} else if _, err := time.Parse(time.DateOnly, date); err != nil {
		return nil, problem.E(op, problem.Invalid, problem.Code("bad-date"), err)
	}
	signer, err := j.Signer(ctx)
	if err != nil {
		return nil, problem.E(op, problem.Unavailable, err)
	}
	tenants, err := j.Companies(ctx)
	if err != nil {
		return nil, problem.E(op, problem.Internal, err)
	}
	written := map[string]string{}
	var errs []error
	for _, t := range tenants {
		snap, err := j.Store.DailyRoot(ctx, t, date, signer)
		if err == nil {
			err = snap.Verify(signer.Public)
		}
		var fresh bool
		if err == nil {
			fresh, err = j.Roots.PutSnapshot(ctx, snap)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", t, err))
			continue
		}
		written[t] = "kept"
		if fresh {
			written[t] = snap.Root.Root
		}
	}
	if err := errors.Join(errs...); err != nil {
		j.Log.ErrorContext(ctx, "daily attendance roots not written for every company", "date", date, "error", err.Error())
		return nil, err
	}
	j.Log.InfoContext(ctx, "daily attendance roots written", slog.String("date", date), slog.Int("companies", len(written)))
	return json.Marshal(map[string]any{"date": date, "roots": written})
}

// signer is the root signer, or an Unavailable problem.
func (a *API) signer(r *http.Request, op string) (*Signer, error) {
	s, err := a.Signer(r.Context())
	if err != nil {
		return nil, problem.E(op, problem.Unavailable, err)
	}
	return s, nil
}

// rootKey publishes the public key that verifies the daily roots.
func (a *API) rootKey(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	const op = "attendance.RootKey"
	if err := signedIn(op, actor); err != nil {
		return err
	}
	sg, err := a.signer(r, op)
	if err != nil {
		return err
	}
	return httpapi.JSON(w, http.StatusOK, map[string]any{"algorithm": "Ed25519", "keyId": sg.KeyID(),
		"publicKey": base64.StdEncoding.EncodeToString(sg.Public), "publicKeyHex": hex.EncodeToString(sg.Public)})
}

// root shows a day's signed root (attendance admins and auditors of the
// whole company).
func (a *API) root(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	const op = "attendance.Root"
	if err := companyReader(op, actor); err != nil {
		return err
	}
	d, err := dateParam(op, "date", r.PathValue("date"), time.Time{})
	if err != nil {
		return err
	}
	snap, err := a.Roots.Snapshot(r.Context(), actor.Tenant, d.Format(time.DateOnly))
	if err != nil {
		return err
	}
	sg, err := a.signer(r, op)
	if err != nil {
		return err
	}
	return httpapi.JSON(w, http.StatusOK, map[string]any{"root": snap.Root, "leaves": snap.Leaves,
		"verified": snap.Verify(sg.Public) == nil})
}

// companyReader allows company-wide attendance admins and auditors.
func companyReader(op string, a identity.Actor) error {
	if err := signedIn(op, a); err != nil {
		return err
	}
	if a.Role == identity.RoleSuperAdmin || (a.Role == identity.RoleAdmin && a.Department == "" &&
		(a.Administers(identity.AreaAttendance) || a.Administers(identity.AreaAudit))) {
		return nil
	}
	return forbidden(op, textCompanyAdmin, "not a company-wide attendance admin or auditor")
}

// verify recomputes one employee's chain (?employee=, the employee
// themself or an admin in scope) or, without it, every chain of the
// company, also against the day's signed root when ?date= names one.
func (a *API) verify(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	const op = "attendance.Verify"
	q := r.URL.Query()
	if who := q.Get("employee"); who != "" {
		emp, err := employeeParam(op, who)
		if err != nil {
			return err
		}
		if err := a.selfOrAdmin(r.Context(), op, actor, string(emp)); err != nil {
			return err
		}
		rep, err := a.Store.VerifyChain(r.Context(), actor.Tenant, emp)
		if err != nil {
			return err
		}
		return httpapi.JSON(w, http.StatusOK, rep)
	}
	if err := companyReader(op, actor); err != nil {
		return err
	}
	var snap *attendance.Snapshot
	if q.Get("date") != "" {
		d, err := dateParam(op, "date", q.Get("date"), time.Time{})
		if err != nil {
			return err
		}
		s, err := a.Roots.Snapshot(r.Context(), actor.Tenant, d.Format(time.DateOnly))
		if err != nil {
			return err
		}
		sg, err := a.signer(r, op)
		if err != nil {
			return err
		}
		if err := s.Verify(sg.Public); err != nil {
			return err
		}
		snap = &s
	}
	rep, err := a.Store.VerifyCompany(r.Context(), actor.Tenant, snap)
	if err != nil {
		return err
	}
	return httpapi.JSON(w, http.StatusOK, rep)
}

// prove builds the proof of one record against a day's signed root
// (?date=, default yesterday in Hong Kong) and checks it.
func (a *API) prove(w http.ResponseWriter, r *http.Request, actor identity.Actor) error {
	const op = "attendance.Prove"
	emp, err := employeeParam(op, r.PathValue("employee"))
	if err != nil {
		return err
	}
	seq, err := seqParam(op, r.PathValue("seq"))
	if err != nil {
		return err
	}
	if err := a.selfOrAdmin(r.Context(), op, actor, string(emp)); err != nil {
		return err
	}
	d, err := dateParam(op, "date", r.URL.Query().Get("date"), a.Now().In(hongKong).AddDate(0, 0, -1))
	if err != nil {
		return err
	}
	snap, err := a.Roots.Snapshot(r.Context(), actor.Tenant, d.Format(time.DateOnly))
	if err != nil {
		return err
	}
	p, err := a.Store.Prove(r.Context(), actor.Tenant, emp, seq, snap)
	if err != nil {
		return err
	}
	sg, err := a.signer(r, op)
	if err != nil {
		return err
	}
	res := map[string]any{"proof": p, "publicKey": base64.StdEncoding.EncodeToString(sg.Public), "valid": true}
	if err := attendance.VerifyProof(p, sg.Public); err != nil {
		res["valid"] = false
		res["problem"] = problem.CodeOf(err)
	}
	return httpapi.JSON(w, http.StatusOK, res)
}
