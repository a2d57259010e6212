package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/lantau-hq/lantau/infra/schedule"
	"github.com/lantau-hq/lantau/infra/template"
)

// scheduleEntry is one Schedule or ScheduleV2 event of a function.
type scheduleEntry struct {
	name    string // Function.Event
	kind    string // Schedule or ScheduleV2
	expr    *schedule.Schedule
	input   json.RawMessage
	enabled bool
	fn      *Function
}

type scheduler struct {
	r       *Runner
	entries []*scheduleEntry
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

func newScheduler(r *Runner) (*scheduler, error) {
	s := &scheduler{r: r}
	for _, fid := range sortedKeys(r.functions) {
		fn := r.functions[fid]
		for _, ev := range fn.Spec.Events {
			if ev.Type != "Schedule" && ev.Type != "ScheduleV2" {
				continue
			}
			where := "Events." + ev.Name + ".Properties"
			e := &scheduleEntry{name: fid + "." + ev.Name, kind: ev.Type, fn: fn, enabled: true}
			exprKey, tz := "Schedule", ""
			if ev.Type == "ScheduleV2" {
				exprKey = "ScheduleExpression"
				if v, ok := ev.Properties["ScheduleExpressionTimezone"]; ok {
					var err error
					if tz, err = r.res.String(v, fid, where+".ScheduleExpressionTimezone"); err != nil {
						return nil, err
					}
				}
			}
			expr, err := r.res.String(ev.Properties[exprKey], fid, where+"."+exprKey)
			if err != nil {
				return nil, err
			}
			if e.expr, err = schedule.Parse(expr, tz); err != nil {
				return nil, &template.Error{Resource: fid, Property: where + "." + exprKey, Reason: err.Error()}
			}
			if v, ok := ev.Properties["Enabled"]; ok {
				s, err := r.res.String(v, fid, where+".Enabled")
				if err != nil {
					return nil, err
				}
				e.enabled = s != "false"
			}
			if v, ok := ev.Properties["State"]; ok {
				s, err := r.res.String(v, fid, where+".State")
				if err != nil {
					return nil, err
				}
				e.enabled = e.enabled && s != "DISABLED"
			}
			if v, ok := ev.Properties["Input"]; ok {
				in, err := r.res.String(v, fid, where+".Input")
				if err != nil {
					return nil, err
				}
				if !json.Valid([]byte(in)) {
					return nil, &template.Error{Resource: fid, Property: where + ".Input", Reason: "must be a JSON text"}
				}
				e.input = json.RawMessage(in)
			}
			s.entries = append(s.entries, e)
		}
	}
	return s, nil
}

// payload is what the function receives when the schedule fires at t.
func (s *scheduler) payload(e *scheduleEntry, t time.Time) []byte {
	if e.input != nil {
		return e.input
	}
	source, resource := "aws.events", fmt.Sprintf("arn:aws:events:%s:%s:rule/%s", s.r.cfg.Region, AccountID, e.name)
	if e.kind == "ScheduleV2" {
		source, resource = "aws.scheduler", fmt.Sprintf("arn:aws:scheduler:%s:%s:schedule/default/%s", s.r.cfg.Region, AccountID, e.name)
	}
	return mustJSON(map[string]any{
		"version": "0", "id": newID(), "detail-type": "Scheduled Event", "source": source,
		"account": AccountID, "time": t.UTC().Format(time.RFC3339), "region": s.r.cfg.Region,
		"resources": []string{resource}, "detail": map[string]any{},
	})
}

func (s *scheduler) start() {
	ctx, cancel := context.WithCancel(s.r.ctx)
	s.cancel = cancel
	for _, e := range s.entries {
		if !e.enabled {
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.loop(ctx, e)
		}()
	}
}

func (s *scheduler) loop(ctx context.Context, e *scheduleEntry) {
	last := s.r.cfg.Now()
	for {
		next := e.expr.Next(last)
		if next.IsZero() {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(next)):
		}
		last = next
		d := &delivery{Function: e.fn.Spec.LogicalID, Trigger: e.kind + ":" + e.name, Payload: s.payload(e, next)}
		if err := s.r.async.enqueue(d); err != nil {
			s.r.log.Error("schedule could not be spooled", "schedule", e.name, "error", err)
		}
	}
}

// fire invokes a schedule's function at once and returns what it returned.
func (s *scheduler) fire(ctx context.Context, name string) ([]byte, error) {
	for _, e := range s.entries {
		if e.name == name || e.fn.Spec.Name+"."+e.name[len(e.fn.Spec.LogicalID)+1:] == name {
			return e.fn.Invoke(ctx, "", s.payload(e, s.r.cfg.Now()))
		}
	}
	return nil, errUnknownSchedule
}

var errUnknownSchedule = fmt.Errorf("no such schedule")

func (s *scheduler) stop() {
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
}
