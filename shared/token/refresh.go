package token

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/table"
)

// Refresh token lifetimes when Refreshes leaves them zero.
const (
	DefaultRefreshTTL    = 30 * 24 * time.Hour // each token, renewed on every rotation
	DefaultRefreshMaxAge = 90 * 24 * time.Hour // a sign-in, from its first token: then sign in again
)

// Refresh tokens look like "<tenant>.<secret>": the company the sign-in
// belongs to, then 32 random bytes in unpadded base64url (43 characters).
//
// The tenant is in the token because every table key has one and the
// refresh endpoint has nothing else to go by: the access token has expired
// by then. The alternative, a lookup item in a partition shared by all
// companies, would break the store's one-company-per-partition rule and
// cost a read. The tenant is no secret (every access token names it). The
// stored hash covers the whole string, so a secret moved behind another
// company's name finds nothing, and Rotate can be told which company to
// expect (from the host name or a cookie).
const (
	secretBytes   = 32
	secretLen     = 43 // base64url of 32 bytes, unpadded
	maxTenantLen  = 64
	maxRefreshLen = maxTenantLen + 1 + secretLen
)

// tenantRE with the length apart (validTenant): {0,63} compiles to 63 copies.
var tenantRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)

func validTenant(t string) bool { return len(t) <= 64 && tenantRE.MatchString(t) }

// Table layout. A token item is found by the hash of the token; it names
// its family, which holds the sign-in's state (revoked or not, the current
// token). Revoking a family is one write to the family item, which every
// rotation checks and updates in the same transaction. Families sit in
// their session's partition (RevokeSession: one query) and in the user's
// partition of GSI1 (Families, RevokeUser: one query).
//
//	PK                  SK                   GSI1PK       GSI1SK                  ttl
//	REFRESH#<sha256>    REFRESH              -            -                       token expiry
//	RSESSION#<sid>      RFAMILY#<family>     RUSER#<u>    RFAMILY#<created>#<f>   sign-in expiry
const (
	pkRefresh  = "REFRESH#"
	skRefresh  = "REFRESH"
	pkSession  = "RSESSION#"
	skFamily   = "RFAMILY#"
	gsiUser    = "RUSER#"
	gsiFamily  = "RFAMILY#"
	gsiIndex   = "GSI1"
	sortedTime = "2006-01-02T15:04:05.000000000Z"
)

// Reasons a family was revoked.
const (
	ReasonReuse   = "reuse"   // a used token was presented again
	ReasonLogout  = "logout"  // RevokeSession
	ReasonRevoked = "revoked" // RevokeUser (deactivation, password change)
)

// Refreshes keeps refresh tokens in the table. Set Table; zero durations
// take the defaults and a nil Now is time.Now.
type Refreshes struct {
	Table table.Store
	// TTL is how long each refresh token is valid. Default DefaultRefreshTTL.
	TTL time.Duration
	// MaxAge bounds a sign-in: no token of a family outlives its first by
	// more than this. Default DefaultRefreshMaxAge.
	MaxAge time.Duration
	// Now is the clock.
	Now func() time.Time
}

// RefreshToken is a refresh token and what it stands for. Its String and
// LogValue hide Token.
type RefreshToken struct {
	Token     string // give to the client; only its hash is stored
	Tenant    string
	User      string
	SessionID string // the sid of the access tokens minted with it
	FamilyID  string
	ExpiresAt time.Time
	// AMR are the authentication methods of the sign-in the token
	// continues (RFC 8176 style values, as Start was given them), so that
	// a refresh mints what the sign-in earned, no more.
	AMR []string
}

// String describes t without the token itself.
func (t RefreshToken) String() string {
	return fmt.Sprintf("RefreshToken{tenant: %s, user: %s, sid: %s, family: %s, exp: %s}",
		t.Tenant, t.User, t.SessionID, t.FamilyID, t.ExpiresAt.Format(time.RFC3339))
}

// GoString is String, for %#v.
func (t RefreshToken) GoString() string { return t.String() }

// LogValue logs t without the token itself.
func (t RefreshToken) LogValue() slog.Value {
	return slog.GroupValue(slog.String("tenant", t.Tenant), slog.String("user", t.User),
		slog.String("sid", t.SessionID), slog.String("family", t.FamilyID), slog.Time("exp", t.ExpiresAt))
}

// Origin is where a sign-in came from, kept with its family so that the
// user can tell their sign-ins apart. Every field may be "".
type Origin struct {
	DeviceID  string // the opaque ID the client app keeps
	IP        string
	UserAgent string
}

// Bounds on what an Origin stores (longer values are cut): a family item
// must stay small, and a client chooses these strings.
const (
	maxDeviceIDLen  = 200
	maxIPLen        = 64
	maxUserAgentLen = 512
)

// clipped is o with each field cut to its bound.
func (o Origin) clipped() Origin {
	return Origin{DeviceID: clip(o.DeviceID, maxDeviceIDLen), IP: clip(o.IP, maxIPLen), UserAgent: clip(o.UserAgent, maxUserAgentLen)}
}

// clip cuts s to at most n bytes without splitting a UTF-8 sequence.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// Family is one sign-in's chain of refresh tokens, as Families lists it.
type Family struct {
	ID         string
	SessionID  string
	User       string
	CreatedAt  time.Time
	LastUsedAt time.Time // last rotation; CreatedAt before any
	ExpiresAt  time.Time // the sign-in's maximum age
	// IdleExpiresAt is when the current refresh token expires: the
	// sign-in ends then unless it is refreshed before. Never after ExpiresAt.
	IdleExpiresAt time.Time
	Generation    int // rotations so far
	RevokedAt     time.Time
	RevokeReason  string // "" while usable, else a Reason
	// Origin is where the sign-in came from (Start's).
	Origin Origin
	// LastIP is the network address of the last rotation; Origin.IP
	// before any (or when a rotation's was unknown).
	LastIP string
	// AMR are the sign-in's authentication methods, as Start was given them.
	AMR []string
}

// Revoked reports whether f was revoked.
func (f Family) Revoked() bool { return !f.RevokedAt.IsZero() }

// Live reports whether f's refresh token could still rotate at now: not
// revoked, not past its maximum age nor its current token's expiry.
func (f Family) Live(now time.Time) bool {
	return !f.Revoked() && now.Before(f.ExpiresAt) && now.Before(f.IdleExpiresAt)
}

// tokenRecord is the Data of a token item.
type tokenRecord struct {
	Family    string    `json:"family"`
	Session   string    `json:"session"`
	User      string    `json:"user"`
	IssuedAt  time.Time `json:"issuedAt"`
	ExpiresAt time.Time `json:"expiresAt"`
	Used      bool      `json:"used"`
	UsedAt    time.Time `json:"usedAt,omitzero"`
}

// familyRecord is the Data of a family item.
type familyRecord struct {
	Family       string    `json:"family"`
	Session      string    `json:"session"`
	User         string    `json:"user"`
	CreatedAt    time.Time `json:"createdAt"`
	LastUsedAt   time.Time `json:"lastUsedAt"`
	ExpiresAt    time.Time `json:"expiresAt"`
	Generation   int       `json:"generation"`
	Current      string    `json:"current"` // hash of the one token that may rotate
	RevokedAt    time.Time `json:"revokedAt,omitzero"`
	RevokeReason string    `json:"revokeReason,omitempty"`
	AMR          []string  `json:"amr,omitempty"`
	// Where the sign-in came from, and the address of its last rotation:
	// the rotation writes this item anyway, so keeping LastIP costs no write.
	DeviceID  string `json:"deviceId,omitempty"`
	IP        string `json:"ip,omitempty"`
	UserAgent string `json:"userAgent,omitempty"`
	LastIP    string `json:"lastIp,omitempty"`
}

func (r *Refreshes) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Refreshes) ttl() time.Duration {
	if r.TTL > 0 {
		return r.TTL
	}
	return DefaultRefreshTTL
}

func (r *Refreshes) maxAge() time.Duration {
	if r.MaxAge > 0 {
		return r.MaxAge
	}
	return DefaultRefreshMaxAge
}

// Start begins a sign-in of user in tenant: a new family and its first
// token. An empty sessionID gets a random one; the caller puts the returned
// SessionID in the access tokens' sid claim. from is where the sign-in
// comes from (Families lists it). amr are the authentication methods of the
// sign-in; every rotation returns them.
func (r *Refreshes) Start(ctx context.Context, tenant, user, sessionID string, from Origin, amr ...string) (RefreshToken, error) {
	const op = "token.Refreshes.Start"
	switch {
	case r.Table == nil:
		return RefreshToken{}, problem.E(op, problem.Internal, problem.Code("token-config"), "Refreshes.Table is required")
	case !validTenant(tenant):
		return RefreshToken{}, problem.E(op, problem.Internal, problem.Code("invalid-claims"), fmt.Sprintf("tenant %q cannot be put in a refresh token", tenant))
	case user == "" || strings.TrimSpace(user) != user:
		return RefreshToken{}, problem.E(op, problem.Internal, problem.Code("invalid-claims"), "user is empty or padded")
	case sessionID != "" && !isWord(sessionID):
		return RefreshToken{}, problem.E(op, problem.Internal, problem.Code("invalid-claims"), "sessionID is not a single word")
	}
	if sessionID == "" {
		sessionID = "s-" + randomID()
	}
	now := r.now().UTC()
	tok := newRefreshToken(tenant)
	h := hashToken(tok)
	from = from.clipped()
	fam := familyRecord{
		Family: randomID(), Session: sessionID, User: user,
		CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(r.maxAge()),
		Current: h, AMR: slices.Clone(amr),
		DeviceID: from.DeviceID, IP: from.IP, UserAgent: from.UserAgent, LastIP: from.IP,
	}
	rec := tokenRecord{Family: fam.Family, Session: sessionID, User: user,
		IssuedAt: now, ExpiresAt: minTime(now.Add(r.ttl()), fam.ExpiresAt)}
	famItem, err := familyItem(tenant, fam, 1)
	if err != nil {
		return RefreshToken{}, problem.E(op, problem.Internal, err)
	}
	tokItem, err := tokenItem(tenant, h, rec, 1)
	if err != nil {
		return RefreshToken{}, problem.E(op, problem.Internal, err)
	}
	err = r.Table.Transact(ctx, []table.Op{
		{Put: &famItem, Condition: table.IfNotExists},
		{Put: &tokItem, Condition: table.IfNotExists},
	})
	if err != nil {
		return RefreshToken{}, problem.E(op, problem.Internal, err)
	}
	return RefreshToken{Token: tok, Tenant: tenant, User: user, SessionID: sessionID,
		FamilyID: fam.Family, ExpiresAt: rec.ExpiresAt, AMR: fam.AMR}, nil
}

// Rotate exchanges presented for a new token of the same family and marks
// presented used; the caller then mints an access token for the returned
// User and SessionID. tenant, when not "", is the company the caller expects
// (a token of another company is refused without being looked up). ip, when
// not "", is the caller's network address: the family keeps it as LastIP.
//
// A token that was already used revokes its whole family (RFC 6819 section
// 5.2.2.3, OAuth 2.0 Security BCP section 4.14.2): either the client or a
// thief holds a newer token, and the server cannot tell which, so both must
// sign in again. Two concurrent rotations of one token count as reuse too:
// exactly one of them succeeds, and the other then revokes the family.
//
// Errors are 401 problems: CodeRefreshInvalid, CodeRefreshExpired,
// CodeRefreshReused or CodeRefreshRevoked.
func (r *Refreshes) Rotate(ctx context.Context, tenant, presented, ip string) (RefreshToken, error) {
	const op = "token.Refreshes.Rotate"
	if r.Table == nil {
		return RefreshToken{}, problem.E(op, problem.Internal, problem.Code("token-config"), "Refreshes.Table is required")
	}
	owner, ok := parseRefreshToken(presented)
	if !ok {
		return RefreshToken{}, refreshError(op, CodeRefreshInvalid, textRefreshInvalid, "malformed refresh token")
	}
	if tenant != "" && tenant != owner {
		return RefreshToken{}, refreshError(op, CodeRefreshInvalid, textRefreshInvalid,
			fmt.Sprintf("refresh token of tenant %q presented for tenant %q", owner, tenant))
	}
	h := hashToken(presented)
	key := table.Key{Tenant: owner, PK: pkRefresh + h, SK: skRefresh}

	const attempts = 3
	for attempt := 1; ; attempt++ {
		got, err := r.Table.Get(ctx, key)
		if errors.Is(err, table.ErrNotFound) {
			return RefreshToken{}, refreshError(op, CodeRefreshInvalid, textRefreshInvalid, "unknown (or long expired) refresh token")
		} else if err != nil {
			return RefreshToken{}, problem.E(op, problem.Internal, err)
		}
		var rec tokenRecord
		if err := json.Unmarshal(got.Data, &rec); err != nil {
			return RefreshToken{}, problem.E(op, problem.Internal, fmt.Errorf("token item: %w", err))
		}
		now := r.now().UTC()
		if !now.Before(rec.ExpiresAt) {
			return RefreshToken{}, refreshError(op, CodeRefreshExpired, textRefreshExpired, "refresh token expired")
		}
		famKey := familyKey(owner, rec.Session, rec.Family)
		famGot, err := r.Table.Get(ctx, famKey)
		if errors.Is(err, table.ErrNotFound) {
			return RefreshToken{}, refreshError(op, CodeRefreshExpired, textRefreshExpired, "refresh token family expired")
		} else if err != nil {
			return RefreshToken{}, problem.E(op, problem.Internal, err)
		}
		var fam familyRecord
		if err := json.Unmarshal(famGot.Data, &fam); err != nil {
			return RefreshToken{}, problem.E(op, problem.Internal, fmt.Errorf("family item: %w", err))
		}
		switch {
		case !fam.RevokedAt.IsZero():
			return RefreshToken{}, refreshError(op, CodeRefreshRevoked, textRefreshRevoked,
				fmt.Sprintf("family %s of user %s was revoked (%s)", fam.Family, fam.User, fam.RevokeReason))
		case !now.Before(fam.ExpiresAt):
			return RefreshToken{}, refreshError(op, CodeRefreshExpired, textRefreshExpired, "sign-in reached its maximum age")
		case rec.Used || fam.Current != h:
			if _, err := r.revoke(ctx, famKey, ReasonReuse); err != nil {
				return RefreshToken{}, problem.E(op, problem.Internal, fmt.Errorf("revoke family after reuse: %w", err))
			}
			return RefreshToken{}, refreshError(op, CodeRefreshReused, textRefreshReused,
				fmt.Sprintf("used refresh token presented again: family %s of user %s revoked", fam.Family, fam.User))
		}

		next := newRefreshToken(owner)
		nextHash := hashToken(next)
		nextRec := tokenRecord{Family: rec.Family, Session: rec.Session, User: rec.User,
			IssuedAt: now, ExpiresAt: minTime(now.Add(r.ttl()), fam.ExpiresAt)}
		rec.Used, rec.UsedAt = true, now
		fam.Current, fam.LastUsedAt, fam.Generation = nextHash, now, fam.Generation+1
		if ip != "" {
			fam.LastIP = clip(ip, maxIPLen)
		}

		usedItem, err1 := tokenItem(owner, h, rec, got.Version+1)
		nextItem, err2 := tokenItem(owner, nextHash, nextRec, 1)
		famItem, err3 := familyItem(owner, fam, famGot.Version+1)
		if err := errors.Join(err1, err2, err3); err != nil {
			return RefreshToken{}, problem.E(op, problem.Internal, err)
		}
		err = r.Table.Transact(ctx, []table.Op{
			{Put: &usedItem, Condition: table.IfVersion(got.Version)},
			{Put: &nextItem, Condition: table.IfNotExists},
			{Put: &famItem, Condition: table.IfVersion(famGot.Version)},
		})
		switch {
		case err == nil:
			return RefreshToken{Token: next, Tenant: owner, User: rec.User, SessionID: rec.Session,
				FamilyID: rec.Family, ExpiresAt: nextRec.ExpiresAt, AMR: fam.AMR}, nil
		case errors.Is(err, table.ErrConditionFailed) && attempt < attempts:
			// Another rotation or a revocation got there first: read again,
			// which finds the token used (reuse) or the family revoked.
			continue
		case errors.Is(err, table.ErrConditionFailed):
			return RefreshToken{}, problem.E(op, problem.Conflict, problem.Code("refresh-contention"), err)
		default:
			return RefreshToken{}, problem.E(op, problem.Internal, err)
		}
	}
}

// RevokeSession ends the sign-in sessionID of tenant (logout): every family
// of the session is revoked, so none of its refresh tokens rotates again.
// Access tokens already issued live out their short TTL. It returns how many
// families it revoked.
func (r *Refreshes) RevokeSession(ctx context.Context, tenant, sessionID string) (int, error) {
	const op = "token.Refreshes.RevokeSession"
	if tenant == "" || sessionID == "" {
		return 0, problem.E(op, problem.Internal, "tenant and sessionID are required")
	}
	n, err := r.revokeAll(ctx, table.Query{Tenant: tenant, PK: pkSession + sessionID,
		SortOp: table.SortBeginsWith, Value: skFamily}, ReasonLogout)
	return n, problem.Wrap(op, err)
}

// RevokeUser ends every sign-in of user in tenant (deactivation, password
// reset). It returns how many families it revoked.
func (r *Refreshes) RevokeUser(ctx context.Context, tenant, user string) (int, error) {
	const op = "token.Refreshes.RevokeUser"
	if tenant == "" || user == "" {
		return 0, problem.E(op, problem.Internal, "tenant and user are required")
	}
	n, err := r.revokeAll(ctx, table.Query{Tenant: tenant, Index: gsiIndex, PK: gsiUser + user,
		SortOp: table.SortBeginsWith, Value: gsiFamily}, ReasonRevoked)
	return n, problem.Wrap(op, err)
}

// Families lists the sign-ins of user in tenant, newest first, including
// revoked and idle-expired ones until the table drops them (Live tells):
// for a "where you're signed in" page.
func (r *Refreshes) Families(ctx context.Context, tenant, user string) ([]Family, error) {
	const op = "token.Refreshes.Families"
	if r.Table == nil || tenant == "" || user == "" {
		return nil, problem.E(op, problem.Internal, "Table, tenant and user are required")
	}
	var out []Family
	q := table.Query{Tenant: tenant, Index: gsiIndex, PK: gsiUser + user,
		SortOp: table.SortBeginsWith, Value: gsiFamily, Reverse: true}
	for {
		page, err := r.Table.Query(ctx, q)
		if err != nil {
			return nil, problem.E(op, problem.Internal, err)
		}
		for _, it := range page.Items {
			var f familyRecord
			if err := json.Unmarshal(it.Data, &f); err != nil {
				return nil, problem.E(op, problem.Internal, fmt.Errorf("family item: %w", err))
			}
			out = append(out, Family{ID: f.Family, SessionID: f.Session, User: f.User,
				CreatedAt: f.CreatedAt, LastUsedAt: f.LastUsedAt, ExpiresAt: f.ExpiresAt,
				IdleExpiresAt: minTime(f.LastUsedAt.Add(r.ttl()), f.ExpiresAt),
				Generation:    f.Generation, RevokedAt: f.RevokedAt, RevokeReason: f.RevokeReason,
				Origin: Origin{DeviceID: f.DeviceID, IP: f.IP, UserAgent: f.UserAgent},
				LastIP: cmp.Or(f.LastIP, f.IP), AMR: f.AMR})
		}
		if page.Cursor == "" {
			return out, nil
		}
		q.Cursor = page.Cursor
	}
}

// revokeAll revokes the family items q finds.
func (r *Refreshes) revokeAll(ctx context.Context, q table.Query, reason string) (int, error) {
	if r.Table == nil {
		return 0, problem.E("token.Refreshes", problem.Internal, "Refreshes.Table is required")
	}
	n := 0
	for {
		page, err := r.Table.Query(ctx, q)
		if err != nil {
			return n, problem.E("token.Refreshes", problem.Internal, err)
		}
		for _, it := range page.Items {
			done, err := r.revoke(ctx, it.Key, reason)
			if err != nil {
				return n, err
			}
			if done {
				n++
			}
		}
		if page.Cursor == "" {
			return n, nil
		}
		q.Cursor = page.Cursor
	}
}

// revoke marks the family at key revoked, unless it is already (or gone).
// It retries when a concurrent rotation changed the family meanwhile, so a
// revocation is never lost to a rotation.
func (r *Refreshes) revoke(ctx context.Context, key table.Key, reason string) (bool, error) {
	const op = "token.Refreshes.revoke"
	for range 10 {
		got, err := r.Table.Get(ctx, key)
		if errors.Is(err, table.ErrNotFound) {
			return false, nil
		} else if err != nil {
			return false, problem.E(op, problem.Internal, err)
		}
		var fam familyRecord
		if err := json.Unmarshal(got.Data, &fam); err != nil {
			return false, problem.E(op, problem.Internal, fmt.Errorf("family item: %w", err))
		}
		if !fam.RevokedAt.IsZero() {
			return false, nil
		}
		fam.RevokedAt, fam.RevokeReason = r.now().UTC(), reason
		it, err := familyItem(key.Tenant, fam, got.Version+1)
		if err != nil {
			return false, problem.E(op, problem.Internal, err)
		}
		err = r.Table.Put(ctx, it, table.IfVersion(got.Version))
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, table.ErrConditionFailed) {
			return false, problem.E(op, problem.Internal, err)
		}
		if err := ctx.Err(); err != nil {
			return false, problem.E(op, problem.Other, err)
		}
	}
	return false, problem.E(op, problem.Conflict, problem.Code("refresh-contention"), "family kept changing")
}

func familyKey(tenant, session, family string) table.Key {
	return table.Key{Tenant: tenant, PK: pkSession + session, SK: skFamily + family}
}

func familyItem(tenant string, f familyRecord, version int64) (table.Item, error) {
	data, err := json.Marshal(f)
	if err != nil {
		return table.Item{}, err
	}
	return table.Item{
		Key: familyKey(tenant, f.Session, f.Family),
		Index: map[string]string{
			"GSI1PK": gsiUser + f.User,
			"GSI1SK": gsiFamily + f.CreatedAt.UTC().Format(sortedTime) + "#" + f.Family,
		},
		Version:   version,
		ExpiresAt: ceilUnix(f.ExpiresAt),
		Data:      data,
	}, nil
}

func tokenItem(tenant, hash string, rec tokenRecord, version int64) (table.Item, error) {
	data, err := json.Marshal(rec)
	if err != nil {
		return table.Item{}, err
	}
	return table.Item{
		Key:       table.Key{Tenant: tenant, PK: pkRefresh + hash, SK: skRefresh},
		Version:   version,
		ExpiresAt: ceilUnix(rec.ExpiresAt),
		Data:      data,
	}, nil
}

// newRefreshToken returns "<tenant>.<32 random bytes, base64url>".
func newRefreshToken(tenant string) string {
	var b [secretBytes]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return tenant + "." + b64(b[:])
}

// parseRefreshToken returns the tenant of a well-formed token.
func parseRefreshToken(s string) (tenant string, ok bool) {
	if len(s) > maxRefreshLen {
		return "", false
	}
	tenant, secret, ok := strings.Cut(s, ".")
	if !ok || !validTenant(tenant) || len(secret) != secretLen {
		return "", false
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(secret)
	if err != nil || len(raw) != secretBytes {
		return "", false
	}
	return tenant, true
}

// hashToken is what the table keeps of a token: SHA-256 of the whole string
// (tenant included), base64url. A table dump yields no usable token.
func hashToken(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return b64(sum[:])
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return b64(b[:])
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// ceilUnix is t in Unix seconds, rounded up so the table keeps an item at
// least as long as it is valid.
func ceilUnix(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}
