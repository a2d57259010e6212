package job_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/bolt"
	"github.com/lantau-hq/lantau/shared/job"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/table"
)

func jobs(t *testing.T) *job.Jobs {
	store, err := bolt.Open(filepath.Join(t.TempDir(), "table.db"), table.Lantau)
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	return &job.Jobs{Table: store}
}

func TestJobs_RunFromQueuedToSucceededAndNeverChangeAfter(t *testing.T) {
	s := jobs(t)
	ctx := context.Background()
	id := job.NewID()
	j, err := s.Create(ctx, "t-acme", job.Job{ID: id, Kind: "staff-import", CreatedBy: "u-1"})
	require.NoError(t, err)
	assert.Equal(t, job.Queued, j.Status)

	again, err := s.Create(ctx, "t-acme", job.Job{ID: id, Kind: "staff-import", CreatedBy: "u-1"})
	require.NoError(t, err, "a retried create returns the job")
	assert.Equal(t, j.CreatedAt, again.CreatedAt)
	_, err = s.Create(ctx, "t-acme", job.Job{ID: id, Kind: "export"})
	assert.Equal(t, problem.Conflict, problem.KindOf(err))

	j, err = s.Progress(ctx, "t-acme", id, 250, 1000)
	require.NoError(t, err)
	assert.Equal(t, job.Running, j.Status)
	assert.Equal(t, 25, j.Percent)

	j, err = s.Succeed(ctx, "t-acme", id, map[string]int{"created": 1000})
	require.NoError(t, err)
	assert.Equal(t, job.Succeeded, j.Status)
	assert.Equal(t, 100, j.Percent)
	assert.JSONEq(t, `{"created":1000}`, string(j.Result))
	assert.False(t, j.EndedAt.IsZero())

	// A redelivered trigger cannot reopen or re-end it.
	_, err = s.Progress(ctx, "t-acme", id, 1, 1000)
	assert.ErrorIs(t, err, job.ErrEnded)
	_, err = s.Fail(ctx, "t-acme", id, []string{"late"})
	assert.ErrorIs(t, err, job.ErrEnded)
	got, err := s.Get(ctx, "t-acme", id)
	require.NoError(t, err)
	assert.Equal(t, job.Succeeded, got.Status)
}

func TestJobs_AreOnlyFoundInTheirCompany(t *testing.T) {
	s := jobs(t)
	ctx := context.Background()
	id := job.NewID()
	_, err := s.Create(ctx, "t-acme", job.Job{ID: id, Kind: "staff-import"})
	require.NoError(t, err)
	for _, tc := range []struct{ tenant, id string }{{"t-bravo", id}, {"t-acme", "job-nope"}, {"t-acme", "../JOB#x"}} {
		_, err := s.Get(ctx, tc.tenant, tc.id)
		assert.Equal(t, problem.NotFound, problem.KindOf(err), "%v", tc)
	}
}

func TestJobs_ConcurrentUpdatesAreAllApplied(t *testing.T) {
	s := jobs(t)
	ctx := context.Background()
	id := job.NewID()
	_, err := s.Create(ctx, "t-acme", job.Job{ID: id, Kind: "staff-import"})
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			_, err := s.Update(ctx, "t-acme", id, func(j *job.Job) { j.Status, j.Total = job.Running, 10; j.Done++ })
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	got, err := s.Get(ctx, "t-acme", id)
	require.NoError(t, err)
	assert.Equal(t, 10, got.Done)
	assert.Equal(t, 100, got.Percent)
	assert.False(t, errors.Is(err, job.ErrEnded))
}

// A job that stops moving is failed when polled after maxIdle, so the
// client stops waiting; one that moves is left alone.
func TestJobs_FailIfStalled(t *testing.T) {
	s := jobs(t)
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }
	ctx := context.Background()
	id := job.NewID()
	_, err := s.Create(ctx, "t-acme", job.Job{ID: id, Kind: "staff-import"})
	require.NoError(t, err)
	_, err = s.Progress(ctx, "t-acme", id, 10, 100)
	require.NoError(t, err)

	now = now.Add(10 * time.Minute)
	j, err := s.FailIfStalled(ctx, "t-acme", id, 20*time.Minute, []string{"stalled"})
	require.NoError(t, err)
	assert.Equal(t, job.Running, j.Status, "moved 10 minutes ago")

	now = now.Add(15 * time.Minute)
	j, err = s.FailIfStalled(ctx, "t-acme", id, 20*time.Minute, []string{"stalled"})
	require.NoError(t, err)
	assert.Equal(t, job.Failed, j.Status)
	assert.JSONEq(t, `["stalled"]`, string(j.Problems))
	_, err = s.Progress(ctx, "t-acme", id, 20, 100)
	assert.ErrorIs(t, err, job.ErrEnded, "a late worker cannot revive it")
}
