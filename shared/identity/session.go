package identity

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/table"
	"github.com/lantau-hq/lantau/shared/token"
)

// DefaultSessionCacheTTL is how long a session check's answer is reused.
// It bounds how long a deactivated user's or a logged-out session's access
// token still works in a function instance that checked it just before.
const DefaultSessionCacheTTL = 30 * time.Second

// Sessions checks that an access token's session is still live: its user
// is active with the token's version (ver), and its sign-in (sid) has not
// been revoked (logout, refresh token reuse, deactivation). Answers are
// cached per function instance for TTL. Any function can use it with
// read access to the table (GetItem and Query on GSI1).
type Sessions struct {
	Store     table.Store
	Refreshes *token.Refreshes
	TTL       time.Duration // default DefaultSessionCacheTTL; negative: no cache
	Now       func() time.Time

	mu    sync.Mutex
	cache map[sessionKey]cached
}

type sessionKey struct {
	tenant, user, sid string
	ver               int
}

type cached struct {
	err error
	at  time.Time
}

// maxCached bounds the cache; when full it is cleared.
const maxCached = 10_000

var textSessionEnded = i18n.Text{
	EN: "Your sign-in has ended or your account changed. Please sign in again.",
	ZH: "你的登入已結束或帳戶已有變更，請重新登入。",
}

func sessionEnded(cause string) error {
	return problem.E("identity.Sessions.Check", problem.Unauthenticated, problem.Code("session-ended"), textSessionEnded, cause)
}

func (s *Sessions) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Sessions) ttl() time.Duration {
	if s.TTL == 0 {
		return DefaultSessionCacheTTL
	}
	return s.TTL
}

// Check returns nil when the session sid of user in tenant is live and ver
// is the user's current token version, else a 401 problem (code
// "session-ended"). Storage failures are 500s and are not cached.
func (s *Sessions) Check(ctx context.Context, tenant, user, sid string, ver int) error {
	if tenant == "" || user == "" || sid == "" {
		return sessionEnded("token without tenant, sub or sid")
	}
	k := sessionKey{tenant, user, sid, ver}
	now := s.now()
	if s.ttl() > 0 {
		s.mu.Lock()
		c, ok := s.cache[k]
		s.mu.Unlock()
		if ok && now.Sub(c.at) < s.ttl() {
			return c.err
		}
	}
	err := s.check(ctx, tenant, user, sid, ver)
	if kind := problem.KindOf(err); err != nil && kind != problem.Unauthenticated {
		return err
	}
	if s.ttl() > 0 {
		s.mu.Lock()
		if s.cache == nil || len(s.cache) >= maxCached {
			s.cache = map[sessionKey]cached{}
		}
		s.cache[k] = cached{err: err, at: now}
		s.mu.Unlock()
	}
	return err
}

// Forget drops cached answers about sid (after a logout in this instance).
func (s *Sessions) Forget(tenant, sid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.cache {
		if k.tenant == tenant && k.sid == sid {
			delete(s.cache, k)
		}
	}
}

func (s *Sessions) check(ctx context.Context, tenant, user, sid string, ver int) error {
	const op = "identity.Sessions.Check"
	var u User
	_, err := get(ctx, s.Store, userKey(tenant, user), &u)
	switch {
	case errors.Is(err, table.ErrNotFound):
		return sessionEnded("no such user")
	case err != nil:
		return problem.E(op, problem.Internal, err)
	case u.Status != UserActive:
		return sessionEnded("user " + u.Status)
	case u.TokenVersion != ver:
		return sessionEnded("token version is outdated")
	}
	families, err := s.Refreshes.Families(ctx, tenant, user)
	if err != nil {
		return problem.Wrap(op, err)
	}
	for _, f := range families {
		if f.SessionID == sid && !f.Revoked() && s.now().Before(f.ExpiresAt) {
			return nil
		}
	}
	return sessionEnded("session revoked or expired")
}
