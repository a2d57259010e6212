// Package job keeps the state of long-running work that a client starts
// with one request and then polls: a staff import, an export. A job has a
// status, a percentage, the problems found and a result; it lives in the
// company's part of the table and expires some days after it ends.
//
// Writers update a job with optimistic concurrency, and a job that has
// ended never changes again: a redelivered trigger that runs the work a
// second time cannot turn a succeeded job back into a running one.
package job

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/table"
)

// Statuses.
const (
	Queued    = "queued"
	Running   = "running"
	Succeeded = "succeeded"
	Failed    = "failed"
)

// Retention is how long a job is kept after it was created.
const Retention = 14 * 24 * time.Hour

// Job is the state of one piece of work.
type Job struct {
	ID        string          `json:"id"`
	Kind      string          `json:"kind"` // e.g. "staff-import"
	Status    string          `json:"status"`
	Total     int             `json:"total"` // units of work (rows), 0 while unknown
	Done      int             `json:"done"`
	Percent   int             `json:"percent"`
	Problems  json.RawMessage `json:"problems,omitempty"` // what made it fail, as its kind reports them
	Result    json.RawMessage `json:"result,omitempty"`   // what it did, once succeeded
	Input     json.RawMessage `json:"input,omitempty"`    // what it was asked (e.g. the upload's key, the options)
	CreatedBy string          `json:"createdBy"`
	CreatedAt time.Time       `json:"createdAt"`
	UpdatedAt time.Time       `json:"updatedAt"`
	EndedAt   time.Time       `json:"endedAt,omitzero"`

	version int64
}

// Ended reports whether j succeeded or failed.
func (j Job) Ended() bool { return j.Status == Succeeded || j.Status == Failed }

// Jobs stores jobs in the table.
type Jobs struct {
	Table table.Store
	Now   func() time.Time
}

func (s *Jobs) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

var idRE = regexp.MustCompile(`^job-[a-z0-9]{26}$`)

// NewID returns a fresh job ID.
func NewID() string { return "job-" + lower(rand.Text()) }

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func key(tenant, id string) table.Key { return table.Key{Tenant: tenant, PK: "JOB#" + id, SK: "JOB"} }

var textNoJob = i18n.Text{EN: "There is no such job in your company.", ZH: "你的公司沒有此工作。"}

// Create stores a new queued job. Creating the same ID again returns the
// job as it is (a retried request), provided it is of the same kind.
func (s *Jobs) Create(ctx context.Context, tenant string, j Job) (Job, error) {
	const op = "job.Create"
	if !idRE.MatchString(j.ID) || j.Kind == "" {
		return Job{}, problem.E(op, problem.Internal, fmt.Errorf("job needs an ID from NewID and a kind"))
	}
	now := s.now()
	j.Status, j.CreatedAt, j.UpdatedAt, j.Done, j.Percent = Queued, now, now, 0, 0
	if err := s.write(ctx, tenant, &j, table.IfNotExists); errors.Is(err, table.ErrConditionFailed) {
		got, gerr := s.Get(ctx, tenant, j.ID)
		if gerr != nil {
			return Job{}, gerr
		}
		if got.Kind != j.Kind {
			return Job{}, problem.E(op, problem.Conflict, problem.Code("job-exists"), fmt.Errorf("job %s is a %s", j.ID, got.Kind))
		}
		return got, nil
	} else if err != nil {
		return Job{}, problem.E(op, problem.Internal, err)
	}
	return j, nil
}

// Get returns a job of tenant; another company's job is not found.
func (s *Jobs) Get(ctx context.Context, tenant, id string) (Job, error) {
	const op = "job.Get"
	if !idRE.MatchString(id) {
		return Job{}, problem.E(op, problem.NotFound, problem.Code("job-not-found"), textNoJob, "malformed job ID")
	}
	it, err := s.Table.Get(ctx, key(tenant, id))
	if errors.Is(err, table.ErrNotFound) {
		return Job{}, problem.E(op, problem.NotFound, problem.Code("job-not-found"), textNoJob, err)
	} else if err != nil {
		return Job{}, problem.E(op, problem.Internal, err)
	}
	var j Job
	if err := json.Unmarshal(it.Data, &j); err != nil {
		return Job{}, problem.E(op, problem.Internal, err)
	}
	j.version = it.Version
	return j, nil
}

// ErrEnded is returned by Update when the job has already ended.
var ErrEnded = errors.New("job has ended")

// Update applies change to the job and stores it, retrying on concurrent
// updates. A job that has ended is not changed (ErrEnded).
func (s *Jobs) Update(ctx context.Context, tenant, id string, change func(*Job)) (Job, error) {
	const op = "job.Update"
	for range 20 {
		j, err := s.Get(ctx, tenant, id)
		if err != nil {
			return Job{}, err
		}
		if j.Ended() {
			return j, ErrEnded
		}
		change(&j)
		j.UpdatedAt = s.now()
		if j.Total > 0 {
			j.Percent = min(100, j.Done*100/j.Total)
		}
		if j.Ended() {
			j.EndedAt = j.UpdatedAt
			if j.Status == Succeeded {
				j.Percent = 100
			}
		}
		err = s.write(ctx, tenant, &j, table.IfVersion(j.version))
		if err == nil {
			return j, nil
		}
		if !errors.Is(err, table.ErrConditionFailed) {
			return Job{}, problem.E(op, problem.Internal, err)
		}
	}
	return Job{}, problem.E(op, problem.Unavailable, problem.Code("job-contention"), "too many concurrent updates")
}

// Progress records that done of total units are done (running).
func (s *Jobs) Progress(ctx context.Context, tenant, id string, done, total int) (Job, error) {
	return s.Update(ctx, tenant, id, func(j *Job) {
		j.Status, j.Done, j.Total = Running, done, total
	})
}

// Succeed ends the job with its result.
func (s *Jobs) Succeed(ctx context.Context, tenant, id string, result any) (Job, error) {
	raw, err := json.Marshal(result)
	if err != nil {
		return Job{}, problem.E("job.Succeed", problem.Internal, err)
	}
	return s.Update(ctx, tenant, id, func(j *Job) {
		j.Status, j.Result, j.Done = Succeeded, raw, j.Total
	})
}

// Fail ends the job with the problems that stopped it.
func (s *Jobs) Fail(ctx context.Context, tenant, id string, problems any) (Job, error) {
	raw, err := json.Marshal(problems)
	if err != nil {
		return Job{}, problem.E("job.Fail", problem.Internal, err)
	}
	return s.Update(ctx, tenant, id, func(j *Job) { j.Status, j.Problems = Failed, raw })
}

func (s *Jobs) write(ctx context.Context, tenant string, j *Job, cond table.Condition) error {
	data, err := json.Marshal(j)
	if err != nil {
		return err
	}
	it := table.Item{Key: key(tenant, j.ID), Version: j.version + 1, Data: data,
		ExpiresAt: j.CreatedAt.Add(Retention).Unix()}
	if err := s.Table.Put(ctx, it, cond); err != nil {
		return err
	}
	j.version++
	return nil
}

// FailIfStalled ends a job that has not moved for maxIdle (its worker died
// for good, or its trigger was dead-lettered) with problems, so that the
// client polling it learns it will not finish rather than wait forever. A
// job that ended, or moved recently, is returned as it is.
func (s *Jobs) FailIfStalled(ctx context.Context, tenant, id string, maxIdle time.Duration, problems any) (Job, error) {
	j, err := s.Get(ctx, tenant, id)
	if err != nil || j.Ended() || s.now().Sub(j.UpdatedAt) < maxIdle {
		return j, err
	}
	raw, err := json.Marshal(problems)
	if err != nil {
		return Job{}, problem.E("job.FailIfStalled", problem.Internal, err)
	}
	ended, err := s.Update(ctx, tenant, id, func(j *Job) {
		if s.now().Sub(j.UpdatedAt) >= maxIdle { // not moved meanwhile
			j.Status, j.Problems = Failed, raw
		}
	})
	if errors.Is(err, ErrEnded) {
		return ended, nil
	}
	return ended, err
}
