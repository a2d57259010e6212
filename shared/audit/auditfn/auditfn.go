// Package auditfn builds the audit functions: the consumer that appends
// every Lantau event to its company's chain, and the API that lists and
// verifies the chain for super admins and auditors.
package auditfn

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lantau-hq/lantau/shared/audit"
	"github.com/lantau-hq/lantau/shared/event"
	"github.com/lantau-hq/lantau/shared/function"
	"github.com/lantau-hq/lantau/shared/httpapi"
	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/identity/session"
	"github.com/lantau-hq/lantau/shared/logging"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/storage"
	"github.com/lantau-hq/lantau/shared/table"
)

var hongKong = i18n.HongKong

// Roles allowed to read the audit trail.
var readerRoles = []string{"super-admin", "auditor"}

func open(ctx context.Context, env function.Env) (table.Store, *slog.Logger, error) {
	base, err := function.LoadBase(env)
	if err != nil {
		return nil, nil, err
	}
	store, err := storage.OpenTable(ctx, env)
	if err != nil {
		return nil, nil, err
	}
	return store, logging.New(os.Stdout, base.FunctionName, base.LogLevel), nil
}

// NewConsumer is the constructor of the audit function (functions/audit).
func NewConsumer(ctx context.Context, env function.Env) (lambda.Handler, error) {
	store, log, err := open(ctx, env)
	if err != nil {
		return nil, err
	}
	return Consumer{Chain: audit.New(store, time.Now), Log: log}, nil
}

// Consumer appends each event it receives to its tenant's chain.
type Consumer struct {
	Chain *audit.Chain
	Log   *slog.Logger
}

// Invoke handles one EventBridge event. An event that is not a valid Lantau
// envelope is logged and dropped rather than retried forever; a storage
// failure is returned so the event is retried and then dead-lettered.
func (c Consumer) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	e, err := event.Decode(payload)
	if err != nil {
		c.Log.ErrorContext(ctx, "not a Lantau event: not audited", "error", err.Error(), "payload_bytes", len(payload))
		return []byte(`{"audited":false}`), nil
	}
	entry, err := c.Chain.Append(ctx, e.Tenant, audit.Record{
		ID: e.ID, Kind: "event", Source: e.Source, Type: e.Type, Actor: e.Actor, Time: e.OccurredAt, Data: e.Data,
	})
	if err != nil {
		return nil, err
	}
	c.Log.InfoContext(ctx, "audited", "tenant", e.Tenant, "seq", entry.Seq, "type", e.Source+"/"+e.Type)
	return json.Marshal(map[string]any{"audited": true, "seq": entry.Seq})
}

// NewAPI is the constructor of the audit API function (functions/auditapi).
func NewAPI(ctx context.Context, env function.Env) (lambda.Handler, error) {
	store, log, err := open(ctx, env)
	if err != nil {
		return nil, err
	}
	h := API(audit.New(store, time.Now), audit.NewAccessLog(store, 0, nil), log, session.Require(session.FromEnv(store, env)))
	return function.HTTP(h), nil
}

// API serves GET /v1/audit/entries, /v1/audit/verify and /v1/audit/access.
// signedIn refuses tokens whose sign-in has ended (deactivated user,
// revoked session); it runs after the caller is read from the token.
func API(c *audit.Chain, access *audit.AccessLog, log *slog.Logger, signedIn func(http.Handler) http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /v1/audit/access", httpapi.Handle("audit.Access", func(w http.ResponseWriter, r *http.Request) error {
		actor, err := reader(r)
		if err != nil {
			return err
		}
		day := r.URL.Query().Get("date")
		if day == "" {
			day = time.Now().In(hongKong).Format(time.DateOnly)
		}
		calls, err := access.Day(r.Context(), actor.Tenant, day)
		if err != nil {
			return err
		}
		return httpapi.JSON(w, http.StatusOK, map[string]any{"date": day, "calls": calls})
	}))
	mux.Handle("GET /v1/audit/access/verify", httpapi.Handle("audit.VerifyAccess", func(w http.ResponseWriter, r *http.Request) error {
		actor, err := reader(r)
		if err != nil {
			return err
		}
		day := r.URL.Query().Get("date")
		if day == "" {
			day = time.Now().In(hongKong).AddDate(0, 0, -1).Format(time.DateOnly)
		}
		check, err := audit.VerifyDay(r.Context(), c, access, actor.Tenant, day)
		if err != nil {
			return err
		}
		return httpapi.JSON(w, http.StatusOK, check)
	}))
	mux.Handle("GET /v1/audit/entries", httpapi.Handle("audit.List", func(w http.ResponseWriter, r *http.Request) error {
		actor, err := reader(r)
		if err != nil {
			return err
		}
		limit := 50
		if v := r.URL.Query().Get("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 500 {
				return problem.E("audit.List", problem.Invalid, problem.Code("bad-limit"),
					i18n.Text{EN: "limit must be a whole number from 1 to 500.", ZH: "limit 必須是 1 至 500 的整數。"})
			}
			limit = n
		}
		entries, cursor, err := c.Page(r.Context(), actor.Tenant, limit, r.URL.Query().Get("cursor"), r.URL.Query().Get("order") != "oldest")
		if err != nil {
			return err
		}
		return httpapi.JSON(w, http.StatusOK, map[string]any{"entries": entries, "cursor": cursor})
	}))
	mux.Handle("GET /v1/audit/verify", httpapi.Handle("audit.Verify", func(w http.ResponseWriter, r *http.Request) error {
		actor, err := reader(r)
		if err != nil {
			return err
		}
		rep, err := c.Verify(r.Context(), actor.Tenant)
		if err != nil {
			return err
		}
		return httpapi.JSON(w, http.StatusOK, rep)
	}))
	return httpapi.Logging(log)(httpapi.RequireActor(RecordAccess(access, log)(signedIn(mux))))
}

var errNotReader = problem.E("audit", problem.Forbidden, problem.Code("not-an-auditor"),
	i18n.Text{EN: "Only super admins and auditors can read the audit trail.", ZH: "只有超級管理員及審計員可以查閱審計紀錄。"})

func reader(r *http.Request) (httpapi.Actor, error) {
	actor, ok := httpapi.ActorFrom(r.Context())
	if !ok {
		return actor, errors.New("no actor")
	}
	for _, role := range readerRoles {
		if actor.HasRole(role) {
			return actor, nil
		}
	}
	return actor, errNotReader
}

// NewSealer is the constructor of the daily access-log seal
// (functions/auditseal).
func NewSealer(ctx context.Context, env function.Env) (lambda.Handler, error) {
	store, log, err := open(ctx, env)
	if err != nil {
		return nil, err
	}
	return Sealer{Chain: audit.New(store, time.Now), Access: audit.NewAccessLog(store, 0, nil), Log: log}, nil
}

// Sealer seals each company's access log of the days before the one its
// schedule fires on (see audit.SealDay).
type Sealer struct {
	Chain  *audit.Chain
	Access *audit.AccessLog
	Log    *slog.Logger
}

// SealCatchUp is how many days back each run seals: a missed run (or an
// outage) is made up by the next; days already sealed stay as they are.
const SealCatchUp = 3

// Invoke handles a scheduled event (its time names the run's day, in Hong
// Kong) or {"day":"YYYY-MM-DD"} to seal one day by hand. A company whose
// seal failed makes the run fail, to be retried; the others stay sealed.
func (s Sealer) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var in struct {
		Time time.Time `json:"time"`
		Day  string    `json:"day"`
	}
	if err := json.Unmarshal(payload, &in); err != nil {
		return nil, problem.E("audit.Seal", problem.Invalid, problem.Code("bad-event"), err)
	}
	var days []string
	switch {
	case in.Day != "":
		if _, err := time.Parse(time.DateOnly, in.Day); err != nil {
			return nil, problem.E("audit.Seal", problem.Invalid, problem.Code("bad-date"), err)
		}
		days = []string{in.Day}
	case in.Time.IsZero():
		return nil, problem.E("audit.Seal", problem.Invalid, problem.Code("bad-event"),
			`want a scheduled event (with its "time") or {"day":"YYYY-MM-DD"}`)
	default:
		at := in.Time
		for back := SealCatchUp; back >= 1; back-- {
			days = append(days, at.In(hongKong).AddDate(0, 0, -back).Format(time.DateOnly))
		}
	}
	sealed := map[string]int{}
	var errs []error
	for _, day := range days {
		n, err := audit.SealDays(ctx, s.Chain, s.Access, day)
		sealed[day] = n
		if err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		s.Log.ErrorContext(ctx, "access log not sealed for every company", "error", err.Error())
		return nil, err
	}
	s.Log.InfoContext(ctx, "access log sealed", "companies_per_day", sealed)
	return json.Marshal(map[string]any{"sealed": sealed})
}
