package directoryfn

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lantau-hq/lantau/shared/directory"
	"github.com/lantau-hq/lantau/shared/event"
	"github.com/lantau-hq/lantau/shared/function"
	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/identity"
	"github.com/lantau-hq/lantau/shared/platform"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/token"
)

// CatchUpDays is how many past leave dates each scheduled run looks at:
// a missed run (or an outage) is made up by the next.
const CatchUpDays = 7

// NewOffboarding is the off-boarding function's constructor
// (functions/offboarding): scheduled daily, and subscribed to the
// directory's employee events and identity's UserDeactivated.
func NewOffboarding(ctx context.Context, env function.Env) (lambda.Handler, error) {
	pf, err := platform.Open(ctx, env)
	if err != nil {
		return nil, err
	}
	log, store, bus := pf.Log, pf.Store, pf.Bus
	accounts := identity.New(identity.Deps{Store: store, Events: bus, Refreshes: &token.Refreshes{Table: store}, Log: log})
	dir := directory.New(directory.Deps{Store: store, Accounts: accounts, Events: bus, Log: log})
	return &Offboarding{Directory: dir, Now: time.Now, Log: log}, nil
}

// Offboarding runs off-boarding (see directory.Offboard).
type Offboarding struct {
	Directory *directory.Directory
	Now       func() time.Time
	Log       *slog.Logger
}

// Invoke handles, by what it is given:
//   - a scheduled event: off-board everyone whose leave date has passed
//     (the last CatchUpDays dates);
//   - {"today":"YYYY-MM-DD"}: the same as if run on that day (by hand);
//   - a directory EmployeeCreated or EmployeeUpdated event: keep the
//     leave-date index in line with the record;
//   - a directory EmployeeDeactivated, or identity UserDeactivated, event
//     not caused by off-boarding itself: off-board that person at once.
func (o *Offboarding) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var probe struct {
		DetailType string `json:"detail-type"`
		Source     string `json:"source"`
		Today      string `json:"today"`
	}
	if err := json.Unmarshal(payload, &probe); err != nil {
		return nil, problem.E("offboarding", problem.Invalid, problem.Code("bad-event"), err)
	}
	switch {
	case probe.Today != "":
		today, err := time.ParseInLocation(directory.DateLayout, probe.Today, hongKong)
		if err != nil {
			return nil, problem.E("offboarding", problem.Invalid, problem.Code("bad-date"), err)
		}
		return o.due(ctx, today)
	case probe.DetailType == "Scheduled Event" || probe.Source == "aws.scheduler" || probe.Source == "aws.events":
		return o.due(ctx, o.Now())
	}
	e, err := event.Decode(payload)
	if err != nil {
		o.Log.ErrorContext(ctx, "not a Lantau event: ignored", "error", err.Error())
		return []byte(`{"handled":false}`), nil
	}
	var data struct {
		Employee string `json:"employee"`
		User     string `json:"user"`
	}
	_ = json.Unmarshal(e.Data, &data)
	ours := e.Actor == directory.OffboardingActor
	switch {
	case e.Source == directory.EventSource && (e.Type == directory.EventEmployeeCreated || e.Type == directory.EventEmployeeUpdated):
		err = o.Directory.IndexLeaveDate(ctx, e.Tenant, data.Employee)
	case e.Source == directory.EventSource && e.Type == directory.EventEmployeeDeactivated && !ours:
		_, err = o.Directory.Offboard(ctx, e.Tenant, data.Employee, directory.ReasonDeactivatedByAdmin)
	case e.Source == identity.EventSource && e.Type == identity.EventUserDeactivated && !ours:
		_, err = o.Directory.Offboard(ctx, e.Tenant, data.User, directory.ReasonAccountDeactivated)
	default:
		return []byte(`{"handled":false}`), nil
	}
	if err != nil {
		return nil, err // retried by the bus, then dead-lettered
	}
	return []byte(`{"handled":true}`), nil
}

func (o *Offboarding) due(ctx context.Context, today time.Time) ([]byte, error) {
	done, err := o.Directory.OffboardDue(ctx, today, CatchUpDays)
	if err != nil {
		o.Log.ErrorContext(ctx, "some employees not off-boarded", "error", err.Error())
	}
	o.Log.InfoContext(ctx, "off-boarding run", "offboarded", len(done))
	out, merr := json.Marshal(map[string]any{"offboarded": done})
	if err != nil {
		return nil, err
	}
	return out, merr
}

var hongKong = i18n.HongKong
