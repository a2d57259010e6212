package credential_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/credential"
	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/problem"
)

const email = "chan.taiman@acme.com.hk"

func TestThrottle_DelaysGrowAfterThreeFailures(t *testing.T) {
	th := credential.NewThrottle(newStore(t))
	ctx := t.Context()
	now := clock()
	// Each failure is made as soon as allowed; wait is what the next Check says.
	want := []time.Duration{0, 0, 0, 1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second,
		16 * time.Second, 32 * time.Second, 64 * time.Second, 128 * time.Second, 256 * time.Second,
		512 * time.Second, 15 * time.Minute, 15 * time.Minute}
	for i, w := range want {
		wait, err := th.Check(ctx, tenant, email, "203.0.113.7", now)
		assert.Equal(t, w, wait, "after %d failures", i)
		if w > 0 {
			require.Error(t, err)
			assert.Equal(t, problem.TooManyRequests, problem.KindOf(err))
			var pe *problem.Error
			require.True(t, errors.As(err, &pe))
			assert.Equal(t, w, pe.RetryAfter)
			now = now.Add(w)
			wait, err = th.Check(ctx, tenant, email, "203.0.113.7", now)
		}
		require.NoError(t, err, "after waiting, failure %d", i+1)
		assert.Zero(t, wait)
		require.NoError(t, th.Fail(ctx, tenant, email, "203.0.113.7", now))
	}
}

func TestThrottle_RetryAfterCountsFromTheLastFailure(t *testing.T) {
	th := credential.NewThrottle(newStore(t))
	ctx := t.Context()
	now := clock()
	for range 5 { // delay after 5 failures: 4 s
		require.NoError(t, th.Fail(ctx, tenant, email, "203.0.113.7", now))
	}
	tests := []struct {
		after time.Duration
		wait  time.Duration
	}{
		{0, 4 * time.Second},
		{1500 * time.Millisecond, 3 * time.Second}, // 2.5 s rounded up to whole seconds
		{3999 * time.Millisecond, 1 * time.Second},
		{4 * time.Second, 0},
	}
	for _, tt := range tests {
		wait, _ := th.Check(ctx, tenant, email, "203.0.113.7", now.Add(tt.after))
		assert.Equal(t, tt.wait, wait, "%v after the last failure", tt.after)
	}
}

func TestThrottle_RefusalIsLocalized(t *testing.T) {
	th := credential.NewThrottle(newStore(t))
	now := clock()
	for range 10 { // delay after 10 failures: 128 s
		require.NoError(t, th.Fail(t.Context(), tenant, email, "203.0.113.7", now))
	}
	_, err := th.Check(t.Context(), tenant, email, "203.0.113.7", now)
	var pe *problem.Error
	require.True(t, errors.As(err, &pe))
	assert.Equal(t, problem.Code("too-many-attempts"), problem.CodeOf(err))
	assert.Equal(t, "Too many sign-in attempts. Please try again in 3 minutes.", pe.Detail.T(i18n.EN))
	assert.Equal(t, "登入嘗試次數過多，請於 3 分鐘後再試。", pe.Detail.T(i18n.ZHHK))

	_, err = th.Check(t.Context(), tenant, email, "203.0.113.7", now.Add(127*time.Second))
	require.True(t, errors.As(err, &pe))
	assert.Equal(t, "Too many sign-in attempts. Please try again in 1 second.", pe.Detail.T(i18n.EN))
	assert.Equal(t, "登入嘗試次數過多，請於 1 秒後再試。", pe.Detail.T(i18n.ZHHK))
}

func TestThrottle_SuccessEndsTheAccountStreak(t *testing.T) {
	th := credential.NewThrottle(newStore(t))
	ctx := t.Context()
	now := clock()
	for range 6 {
		require.NoError(t, th.Fail(ctx, tenant, email, "203.0.113.7", now))
	}
	wait, _ := th.Check(ctx, tenant, email, "203.0.113.7", now)
	require.Equal(t, 8*time.Second, wait)
	now = now.Add(wait)
	_, err := th.Check(ctx, tenant, email, "203.0.113.7", now)
	require.NoError(t, err)
	require.NoError(t, th.Succeed(ctx, tenant, email, "203.0.113.7", now))
	for range 3 {
		wait, err = th.Check(ctx, tenant, email, "203.0.113.7", now)
		require.NoError(t, err)
		assert.Zero(t, wait)
		require.NoError(t, th.Fail(ctx, tenant, email, "203.0.113.7", now))
	}
	wait, _ = th.Check(ctx, tenant, email, "203.0.113.7", now)
	assert.Equal(t, time.Second, wait, "the streak started again")
}

func TestThrottle_CapsFailuresAt100PerRollingHour(t *testing.T) {
	th := credential.NewThrottle(newStore(t))
	ctx := t.Context()
	start := clock()
	now := start
	// A success between failures ends the delays but not the hourly count.
	// Each attempt comes from another address, so only the account limits.
	for i := range 100 {
		ip := fmt.Sprintf("198.51.%d.%d", i/200, i%200+1)
		_, err := th.Check(ctx, tenant, email, ip, now)
		require.NoError(t, err, "attempt %d", i+1)
		require.NoError(t, th.Fail(ctx, tenant, email, ip, now))
		require.NoError(t, th.Succeed(ctx, tenant, email, ip, now))
		now = now.Add(30 * time.Second) // 100 failures over 50 minutes
	}
	n, err := th.Failures(ctx, tenant, email, now)
	require.NoError(t, err)
	assert.Equal(t, 100, n)

	wait, err := th.Check(ctx, tenant, email, "192.0.2.1", now)
	require.Error(t, err)
	assert.Equal(t, problem.TooManyRequests, problem.KindOf(err))
	// The first failure (at start, minute granularity) leaves the window an hour after its minute.
	assert.Equal(t, start.Add(time.Hour+time.Minute).Sub(now), wait)

	now = start.Add(time.Hour + time.Minute)
	_, err = th.Check(ctx, tenant, email, "192.0.2.1", now)
	assert.NoError(t, err, "the oldest failures have left the window")
}

func TestThrottle_CountsAccountsAndNetworksSeparately(t *testing.T) {
	th := credential.NewThrottle(newStore(t))
	ctx := t.Context()
	now := clock()
	for range 4 {
		require.NoError(t, th.Fail(ctx, tenant, email, "203.0.113.7", now))
	}
	wait, _ := th.Check(ctx, tenant, email, "192.0.2.99", now)
	assert.Equal(t, 2*time.Second, wait, "the account is slowed from any address")
	wait, err := th.Check(ctx, tenant, "other@acme.com.hk", "203.0.113.7", now)
	assert.NoError(t, err, "another account from the same address is not")
	assert.Zero(t, wait)
	wait, err = th.Check(ctx, "t-other", email, "192.0.2.99", now)
	assert.NoError(t, err, "the same e-mail in another tenant is not")
	assert.Zero(t, wait)

	// Spraying one password over many accounts from one address.
	th2 := credential.NewThrottle(newStore(t))
	for i := range credential.NetworkPolicy.Free {
		require.NoError(t, th2.Fail(ctx, tenant, fmt.Sprintf("user%d@acme.com.hk", i), "2001:db8:1:2::10", now))
	}
	wait, err = th2.Check(ctx, tenant, "fresh@acme.com.hk", "2001:db8:1:2::99", now)
	assert.Error(t, err, "same IPv6 /64")
	assert.Equal(t, time.Second, wait)
	wait, err = th2.Check(ctx, tenant, "fresh@acme.com.hk", "2001:db8:1:3::99", now)
	assert.NoError(t, err, "another /64")
	assert.Zero(t, wait)
}

func TestThrottle_CountersExpire(t *testing.T) {
	th := credential.NewThrottle(newStore(t))
	ctx := t.Context()
	now := clock()
	for range 12 {
		require.NoError(t, th.Fail(ctx, tenant, email, "203.0.113.7", now))
	}
	wait, _ := th.Check(ctx, tenant, email, "203.0.113.7", now.Add(59*time.Minute))
	assert.Zero(t, wait, "the longest delay is 15 minutes")
	n, err := th.Failures(ctx, tenant, email, now.Add(59*time.Minute))
	require.NoError(t, err)
	assert.Equal(t, 13, n, "12 failures and the attempt just admitted")

	later := now.Add(119 * time.Minute)
	n, err = th.Failures(ctx, tenant, email, later)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "only the attempt admitted at 59 minutes (now a failure: never settled) is in the window")
	later = now.Add(3 * time.Hour)
	n, err = th.Failures(ctx, tenant, email, later)
	require.NoError(t, err)
	assert.Zero(t, n)
	for range 3 {
		wait, err := th.Check(ctx, tenant, email, "203.0.113.7", later)
		require.NoError(t, err, "a quiet hour forgives the streak")
		assert.Zero(t, wait)
		require.NoError(t, th.Fail(ctx, tenant, email, "203.0.113.7", later))
	}
}

func TestThrottle_CountsEveryConcurrentFailure(t *testing.T) {
	th := credential.NewThrottle(newStore(t))
	now := clock()
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			assert.NoError(t, th.Fail(t.Context(), tenant, email, fmt.Sprintf("203.0.113.%d", i%3), now))
		})
	}
	wg.Wait()
	n, err := th.Failures(t.Context(), tenant, email, now)
	require.NoError(t, err)
	assert.Equal(t, 50, n)
}

func TestThrottle_ConcurrentAttemptsCannotAllPass(t *testing.T) {
	th := credential.NewThrottle(newStore(t))
	now := clock()
	var admitted atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 30 {
		wg.Go(func() {
			<-start
			_, err := th.Check(t.Context(), tenant, email, "203.0.113.7", now)
			if err == nil {
				admitted.Add(1)
				return
			}
			assert.Equal(t, problem.TooManyRequests, problem.KindOf(err))
		})
	}
	close(start)
	wg.Wait()
	assert.Equal(t, int32(credential.AccountPolicy.Free), admitted.Load(),
		"a burst gets the free attempts, not one guess per request")
}

func TestThrottle_AbandonedAttemptsCountAsFailures(t *testing.T) {
	th := credential.NewThrottle(newStore(t))
	ctx := t.Context()
	now := clock()
	for range 3 {
		_, err := th.Check(ctx, tenant, email, "203.0.113.7", now)
		require.NoError(t, err) // never settled
	}
	wait, _ := th.Check(ctx, tenant, email, "203.0.113.7", now.Add(2*time.Minute))
	assert.Zero(t, wait, "the 1 s delay has passed")
	n, err := th.Failures(ctx, tenant, email, now.Add(2*time.Minute))
	require.NoError(t, err)
	assert.Equal(t, 4, n)
}

func TestThrottle_NoDelayDueMeansNoWaitEvenIfAnotherAttemptIsStampedLater(t *testing.T) {
	th := credential.NewThrottle(newStore(t))
	ctx := context.Background()
	now := time.Now()
	// An attempt that another request stamped a little after our clock reading.
	_, err := th.Check(ctx, "t-acme", "a@acme.com.hk", "203.0.113.7", now.Add(50*time.Millisecond))
	require.NoError(t, err)
	require.NoError(t, th.Succeed(ctx, "t-acme", "a@acme.com.hk", "203.0.113.7", now.Add(50*time.Millisecond)))
	wait, err := th.Check(ctx, "t-acme", "b@acme.com.hk", "203.0.113.7", now)
	require.NoError(t, err, "a success from the same network is no reason to wait")
	assert.Zero(t, wait)
}

// Clear forgets an account's failures, not its network's; a named throttle
// counts apart from the sign-in throttle on the same store.
func TestThrottle_ClearForgetsTheAccountAndNamesKeepThrottlesApart(t *testing.T) {
	store := newStore(t)
	signIn, resets := credential.NewThrottle(store), credential.NewThrottle(store)
	resets.Name = "PWRESET"
	ctx := t.Context()
	now := clock()
	const ip = "203.0.113.7"
	for range 4 {
		require.NoError(t, signIn.Fail(ctx, tenant, email, ip, now))
	}
	_, err := signIn.Check(ctx, tenant, email, ip, now)
	require.Equal(t, problem.TooManyRequests, problem.KindOf(err), "four failures: the account waits")
	wait, err := resets.Check(ctx, tenant, email, ip, now)
	require.NoError(t, err, "the named throttle has its own counters")
	assert.Zero(t, wait)
	n, err := resets.Failures(ctx, tenant, email, now)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "its own reservation only")

	require.NoError(t, signIn.Clear(ctx, tenant, email))
	n, err = signIn.Failures(ctx, tenant, email, now)
	require.NoError(t, err)
	assert.Zero(t, n)
	_, err = signIn.Check(ctx, tenant, email, ip, now)
	require.NoError(t, err, "the account's failures are forgotten")
	_, err = signIn.Check(ctx, tenant, "other@acme.com.hk", ip, now)
	require.NoError(t, err, "the network's 4 failures stay under its free 20")
	require.NoError(t, signIn.Clear(ctx, tenant, "never-seen@acme.com.hk"), "clearing nothing is fine")
	assert.Equal(t, problem.Invalid, problem.KindOf(signIn.Clear(ctx, "", email)))
}
