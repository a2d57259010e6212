package credential

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"time"

	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/table"
)

// Policy says how one kind of counter (per account, per network address)
// slows down failed sign-in attempts.
type Policy struct {
	Free           int           // failures in a row allowed without delay
	Base           time.Duration // delay after failure Free+1; doubles with each further failure
	Max            time.Duration // longest delay
	Limit          int           // failures allowed per Window, whatever the delays (0: no limit)
	Window         time.Duration // rolling window of Limit; also how long a quiet counter keeps its streak
	ResetOnSuccess bool          // a success ends the streak of failures
}

// Default policies. Per account: OWASP ASVS 4.0.3 V2.2.1 (and 5.0 V6.3.1)
// asks for at most 100 failed attempts per account per hour and suggests
// growing delays; 3 free failures then 1 s, 2 s, 4 s ... capped at 15 minutes
// allow about 16 guesses an hour against one account. Per network address
// (IPv4 address or IPv6 /64), which many staff share behind an office NAT:
// more free failures, a shorter cap, and successes of one person must not
// reset the counter an attacker is running up.
var (
	AccountPolicy = Policy{Free: 3, Base: time.Second, Max: 15 * time.Minute, Limit: 100, Window: time.Hour, ResetOnSuccess: true}
	NetworkPolicy = Policy{Free: 20, Base: time.Second, Max: 5 * time.Minute, Limit: 500, Window: time.Hour}
)

// pendingTimeout is how long an admitted attempt may go without Fail or
// Succeed; after that it counts as a failure (a crashed or abandoned
// attempt must not be a free guess).
const pendingTimeout = time.Minute

// maxTries bounds the optimistic-concurrency retries of one update.
const maxTries = 500

// Throttle counts failed sign-in attempts per account and per network
// address in the table and tells when the next attempt may be made. All
// updates are conditional on the version read, so concurrent attempts are
// all counted; Check reserves the attempt it admits, so a burst of parallel
// attempts cannot all pass before the first failure is recorded.
type Throttle struct {
	store   table.Store
	Account Policy
	Network Policy
	// Name keeps the counters of a throttle of something other than
	// sign-ins (password reset requests) apart from the sign-in counters:
	// it goes into their keys. "" is the sign-in throttle.
	Name string
}

// NewThrottle returns a Throttle with the default policies, storing in store.
func NewThrottle(store table.Store) *Throttle {
	return &Throttle{store: store, Account: AccountPolicy, Network: NetworkPolicy}
}

// counter is the stored state of one account or address.
type counter struct {
	Streak  int        `json:"streak,omitempty"`  // failures since the last success (or quiet Window)
	Last    int64      `json:"last,omitempty"`    // Unix ms of the last failure or admitted attempt
	Minutes [][2]int64 `json:"minutes,omitempty"` // [Unix minute, failures], oldest first, within Window
	Pending []int64    `json:"pending,omitempty"` // Unix ms of admitted attempts without an outcome
}

// Check tells whether an attempt to sign in to account from ip may be made
// at now. If so it returns 0 and nil and reserves the attempt, which counts
// as a failure until Succeed (or Fail) settles it. If not, it returns how
// long to wait (whole seconds) and a TooManyRequests problem carrying it as
// RetryAfter, with a message in English and zh-HK. An empty ip counts as
// one address, "unknown".
func (t *Throttle) Check(ctx context.Context, tenant, account, ip string, now time.Time) (time.Duration, error) {
	const op = "credential.Throttle.Check"
	var wait time.Duration
	err := t.update(ctx, op, tenant, account, ip, now, func(a, n *counter) bool {
		wait = max(a.wait(t.Account, now), n.wait(t.Network, now))
		if wait > 0 {
			return false
		}
		ms := now.UnixMilli()
		for _, c := range []*counter{a, n} {
			c.Pending = append(c.Pending, ms)
			c.Last = max(c.Last, ms)
		}
		return true
	})
	if err != nil {
		return 0, err
	}
	if wait > 0 {
		wait = (wait + time.Second - 1).Truncate(time.Second)
		return wait, problem.E(op, problem.TooManyRequests, problem.Code("too-many-attempts"), wait, i18n.Text{
			EN: fmt.Sprintf("Too many sign-in attempts. Please try again in %s.", humanDuration(wait, i18n.EN)),
			ZH: fmt.Sprintf("登入嘗試次數過多，請於%s後再試。", humanDuration(wait, i18n.ZHHK)),
		})
	}
	return 0, nil
}

// Fail records a failed attempt (settling the reservation of Check, if any).
func (t *Throttle) Fail(ctx context.Context, tenant, account, ip string, now time.Time) error {
	return t.update(ctx, "credential.Throttle.Fail", tenant, account, ip, now, func(a, n *counter) bool {
		a.fail(now)
		n.fail(now)
		return true
	})
}

// Succeed records a successful attempt: it settles the reservation of Check
// and ends the account's streak of failures (the network's goes on, see
// NetworkPolicy). Failures stay counted towards the hourly Limit.
func (t *Throttle) Succeed(ctx context.Context, tenant, account, ip string, now time.Time) error {
	return t.update(ctx, "credential.Throttle.Succeed", tenant, account, ip, now, func(a, n *counter) bool {
		a.succeed(t.Account)
		n.succeed(t.Network)
		return true
	})
}

// Failures counts the failed attempts on account in the rolling Window
// before now (to the minute), including unsettled ones.
func (t *Throttle) Failures(ctx context.Context, tenant, account string, now time.Time) (int, error) {
	c, _, _, err := t.load(ctx, t.accountKey(tenant, account))
	if err != nil {
		return 0, problem.E("credential.Throttle.Failures", problem.Other, err)
	}
	c.prune(t.Account, now)
	return c.failures(), nil
}

// Clear forgets account's failures (not its network's): for when the
// account's owner has proved who they are another way, such as a password
// reset by a link mailed to them.
func (t *Throttle) Clear(ctx context.Context, tenant, account string) error {
	if tenant == "" || account == "" {
		return problem.E("credential.Throttle.Clear", problem.Invalid, "tenant and account are required")
	}
	if err := t.store.Delete(ctx, t.accountKey(tenant, account), table.Always); err != nil && !errors.Is(err, table.ErrNotFound) {
		return problem.E("credential.Throttle.Clear", problem.Other, err)
	}
	return nil
}

func (t *Throttle) accountKey(tenant, account string) table.Key {
	return table.Key{Tenant: tenant, PK: t.prefix() + accountPK(account), SK: "C"}
}

func (t *Throttle) networkKey(tenant, ip string) table.Key {
	return table.Key{Tenant: tenant, PK: t.prefix() + networkPK(ip), SK: "C"}
}

func (t *Throttle) prefix() string {
	if t.Name == "" {
		return ""
	}
	return t.Name + "#"
}

func accountPK(account string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(account))))
	return "THROTTLE#ACCOUNT#" + hex.EncodeToString(sum[:16])
}

// networkPK names the counter of ip: the address for IPv4, its /64 for
// IPv6 (one subscriber gets a whole /64 and can rotate within it).
func networkPK(ip string) string {
	if a, err := netip.ParseAddr(ip); err == nil {
		a = a.Unmap().WithZone("")
		if a.Is6() {
			return "THROTTLE#NET#" + netip.PrefixFrom(a, 64).Masked().String()
		}
		return "THROTTLE#NET#" + a.String()
	}
	return "THROTTLE#NET#" + ip
}

// update runs fn on the account's and the network's counters and, if fn
// says so, writes both back in one transaction conditional on the versions
// read, retrying from the read when another writer came first.
func (t *Throttle) update(ctx context.Context, op, tenant, account, ip string, now time.Time, fn func(a, n *counter) bool) error {
	if tenant == "" || account == "" {
		return problem.E(op, problem.Invalid, "tenant and account are required")
	}
	if ip == "" {
		ip = "unknown"
	}
	keys := [2]table.Key{t.accountKey(tenant, account), t.networkKey(tenant, ip)}
	pols := [2]Policy{t.Account, t.Network}
	for try := range maxTries {
		var cs [2]counter
		var ops [2]table.Op
		for i, k := range keys {
			c, version, found, err := t.load(ctx, k)
			if err != nil {
				return problem.E(op, problem.Other, err)
			}
			c.prune(pols[i], now)
			cs[i] = c
			cond := table.IfNotExists
			if found {
				cond = table.IfVersion(version)
			}
			ops[i] = table.Op{Put: &table.Item{Key: k, Version: version + 1}, Condition: cond}
		}
		if !fn(&cs[0], &cs[1]) {
			return nil
		}
		for i := range ops {
			data, err := json.Marshal(cs[i])
			if err != nil {
				return problem.E(op, problem.Internal, err)
			}
			ops[i].Put.Data = data
			ops[i].Put.ExpiresAt = now.Add(pols[i].Window + pols[i].Max + pendingTimeout + time.Minute).Unix()
		}
		err := t.store.Transact(ctx, ops[:])
		if err == nil {
			return nil
		}
		if !errors.Is(err, table.ErrConditionFailed) {
			return problem.E(op, problem.Other, err)
		}
		// Another attempt wrote first: back off a little, at random, and redo.
		d := time.Duration(rand.Int64N(int64(time.Millisecond) * int64(1+min(try, 20))))
		select {
		case <-ctx.Done():
			return problem.E(op, problem.Other, ctx.Err())
		case <-time.After(d):
		}
	}
	return problem.E(op, problem.Unavailable, "too much contention on the throttle counters")
}

func (t *Throttle) load(ctx context.Context, k table.Key) (c counter, version int64, found bool, err error) {
	it, err := t.store.Get(ctx, k)
	if errors.Is(err, table.ErrNotFound) {
		return counter{}, 0, false, nil
	}
	if err != nil {
		return counter{}, 0, false, err
	}
	if err := json.Unmarshal(it.Data, &c); err != nil {
		// A corrupt counter must not block sign-in for good; start afresh.
		c = counter{}
	}
	return c, it.Version, true, nil
}

// prune turns stale reservations into failures, forgets failures that left
// the window, and ends a streak after a quiet Window.
func (c *counter) prune(p Policy, now time.Time) {
	ms := now.UnixMilli()
	kept := c.Pending[:0]
	for _, at := range c.Pending {
		if ms-at >= pendingTimeout.Milliseconds() {
			c.Streak++
			c.add(at)
		} else {
			kept = append(kept, at)
		}
	}
	c.Pending = kept
	i := 0
	for i < len(c.Minutes) && time.UnixMilli((c.Minutes[i][0]+1)*60_000).Add(p.Window).Compare(now) <= 0 {
		i++
	}
	c.Minutes = c.Minutes[i:]
	if len(c.Pending) == 0 && c.Last != 0 && ms-c.Last >= p.Window.Milliseconds() {
		c.Streak, c.Last = 0, 0
	}
}

// add counts a failure at Unix ms at in its minute.
func (c *counter) add(at int64) {
	m := at / 60_000
	for i := len(c.Minutes) - 1; i >= 0; i-- {
		switch {
		case c.Minutes[i][0] == m:
			c.Minutes[i][1]++
			return
		case c.Minutes[i][0] < m:
			c.Minutes = append(c.Minutes[:i+1], append([][2]int64{{m, 1}}, c.Minutes[i+1:]...)...)
			return
		}
	}
	c.Minutes = append([][2]int64{{m, 1}}, c.Minutes...)
}

func (c *counter) failures() int {
	n := len(c.Pending)
	for _, b := range c.Minutes {
		n += int(b[1])
	}
	return n
}

func (c *counter) fail(now time.Time) {
	if len(c.Pending) > 0 {
		c.Pending = c.Pending[1:]
	}
	ms := now.UnixMilli()
	c.Streak++
	c.add(ms)
	c.Last = max(c.Last, ms)
}

func (c *counter) succeed(p Policy) {
	if len(c.Pending) > 0 {
		c.Pending = c.Pending[1:]
	}
	if p.ResetOnSuccess {
		c.Streak = 0
	}
}

// wait is how long from now until the next attempt may be made: the
// growing delay after the last attempt, and the rolling Limit. Unsettled
// attempts count as failures.
func (c *counter) wait(p Policy, now time.Time) time.Duration {
	var w time.Duration
	if d := p.delay(c.Streak + len(c.Pending)); d > 0 {
		// Only a delay makes the last attempt's time matter: with none due,
		// a concurrent attempt stamped a moment after now must not refuse this one.
		w = time.UnixMilli(c.Last).Add(d).Sub(now)
	}
	if p.Limit > 0 {
		if over := c.failures() - p.Limit + 1; over > 0 {
			// Wait until enough failures leave the window.
			until := pendingTimeout
			for _, b := range c.Minutes {
				over -= int(b[1])
				if over <= 0 {
					until = time.UnixMilli((b[0] + 1) * 60_000).Add(p.Window).Sub(now)
					break
				}
			}
			w = max(w, until)
		}
	}
	return max(w, 0)
}

// delay before the attempt after n failures in a row: none for the first
// Free, then Base, 2·Base, 4·Base ... up to Max.
func (p Policy) delay(n int) time.Duration {
	if n < p.Free {
		return 0
	}
	k := n - p.Free
	if k >= 40 || p.Base<<k > p.Max || p.Base<<k <= 0 {
		return p.Max
	}
	return p.Base << k
}

// humanDuration writes d (whole seconds) as "5 seconds", "2 minutes",
// "5 秒", "2 分鐘", rounding minutes up.
func humanDuration(d time.Duration, lang i18n.Lang) string {
	s := int((d + time.Second - 1) / time.Second)
	unitEN, unitZH, n := "second", "秒", s
	if s >= 60 {
		unitEN, unitZH, n = "minute", "分鐘", (s+59)/60
	}
	if lang == i18n.ZHHK {
		return fmt.Sprintf(" %d %s", n, unitZH) // "請於 5 秒後再試"
	}
	if n != 1 {
		unitEN += "s"
	}
	return fmt.Sprintf("%d %s", n, unitEN)
}
