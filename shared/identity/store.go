package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/table"
)

// Keys.
func domainKey(domain string) table.Key {
	return table.Key{Tenant: PlatformTenant, PK: "DOMAIN#" + domain, SK: "CLAIM"}
}

func emailKey(email string) table.Key {
	return table.Key{Tenant: PlatformTenant, PK: "EMAIL#" + strings.ToLower(email), SK: "CLAIM"}
}

func companyKey(tenant string) table.Key {
	return table.Key{Tenant: tenant, PK: "COMPANY", SK: "COMPANY"}
}

const usersPK = "USERS"

func userKey(tenant, user string) table.Key {
	return table.Key{Tenant: tenant, PK: usersPK, SK: "USER#" + user}
}

func linkKey(tenant, hash string) table.Key {
	return table.Key{Tenant: tenant, PK: "LINK#" + hash, SK: "LINK"}
}

func challengeKey(tenant, hash string) table.Key {
	return table.Key{Tenant: tenant, PK: "CHALLENGE#" + hash, SK: "CHALLENGE"}
}

// domainClaim says which company owns a domain.
type domainClaim struct {
	Tenant string    `json:"tenant"`
	Status string    `json:"status"`
	At     time.Time `json:"at"`
}

// emailClaim says which company and user an address belongs to.
type emailClaim struct {
	Tenant string `json:"tenant"`
	User   string `json:"user"`
}

// link is a one-time link: company confirmation, invitation or password reset.
type link struct {
	Purpose string `json:"purpose"`
	User    string `json:"user"`
	// Email is the address an invitation or password reset link was mailed
	// to: once the user's address has changed (ChangeEmail), a link mailed
	// to the old one no longer works. "" in invitations made before it was
	// recorded.
	Email     string    `json:"email,omitempty"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// Link purposes.
const (
	linkConfirmCompany = "confirm-company"
	linkInvitation     = "invitation"
	linkPasswordReset  = "password-reset"
)

// resetKey names a user's one live password reset link: a new request
// deletes the link it names, so only the newest link works.
func resetKey(tenant, user string) table.Key {
	return table.Key{Tenant: tenant, PK: "PWRESET#" + user, SK: "PWRESET"}
}

// resetPointer is the item at resetKey.
type resetPointer struct {
	Hash string `json:"hash"`
}

// challenge is a sign-in whose password was right, waiting for its second factor.
type challenge struct {
	User      string    `json:"user"`
	DeviceID  string    `json:"deviceId,omitempty"`
	IP        string    `json:"ip"`
	UserAgent string    `json:"userAgent,omitempty"`
	Attempts  int       `json:"attempts"`
	ExpiresAt time.Time `json:"expiresAt"`
}

func item(key table.Key, v any, version int64, expires time.Time) (table.Item, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return table.Item{}, err
	}
	it := table.Item{Key: key, Version: version, Data: data}
	if !expires.IsZero() {
		it.ExpiresAt = expires.Unix() + 1
	}
	return it, nil
}

// get reads the item at key into v and returns its version; a missing item
// is table.ErrNotFound.
func get(ctx context.Context, store table.Store, key table.Key, v any) (int64, error) {
	it, err := store.Get(ctx, key)
	if err != nil {
		return 0, err
	}
	if err := json.Unmarshal(it.Data, v); err != nil {
		return 0, fmt.Errorf("item %s: %w", table.KeyString(key), err)
	}
	return it.Version, nil
}

func (s *Service) loadCompany(ctx context.Context, tenant string) (Company, error) {
	var c Company
	v, err := get(ctx, s.Store, companyKey(tenant), &c)
	if err != nil {
		return c, err
	}
	c.version = v
	return c, nil
}

func (s *Service) loadUser(ctx context.Context, tenant, id string) (User, error) {
	var u User
	v, err := get(ctx, s.Store, userKey(tenant, id), &u)
	if err != nil {
		return u, err
	}
	u.version = v
	return u, nil
}

// userByEmail finds the company and user of an address.
func (s *Service) userByEmail(ctx context.Context, email string) (string, User, error) {
	var claim emailClaim
	if _, err := get(ctx, s.Store, emailKey(email), &claim); err != nil {
		return "", User{}, err
	}
	u, err := s.loadUser(ctx, claim.Tenant, claim.User)
	return claim.Tenant, u, err
}

func companyPut(c Company, expires time.Time, cond table.Condition) (table.Op, error) {
	it, err := item(companyKey(c.ID), c, c.version+1, expires)
	return table.Op{Put: &it, Condition: cond}, err
}

func userPut(tenant string, u User, expires time.Time, cond table.Condition) (table.Op, error) {
	it, err := item(userKey(tenant, u.ID), u, u.version+1, expires)
	return table.Op{Put: &it, Condition: cond}, err
}

// storeErr turns a storage failure into an internal problem, keeping
// problems (and their kinds) that are already there.
func storeErr(op string, err error) error {
	var pe *problem.Error
	if errors.As(err, &pe) {
		return problem.Wrap(op, err)
	}
	return problem.E(op, problem.Internal, err)
}

// failedOp is the index of the transaction operation whose condition
// failed, or -1.
func failedOp(err error) int {
	var tx *table.TxError
	if errors.As(err, &tx) {
		return tx.Index
	}
	return -1
}

// IDs and secrets.

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newID returns prefix + 16 random lower-case base32 characters (80 bits).
func newID(prefix string) string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return prefix + idEncoding.EncodeToString(b[:])
}

// Secret tokens (links, challenges) look like refresh tokens:
// "<tenant>.<32 random bytes, base64url>"; the tenant says which partition
// holds the hash. The hash covers the whole string.
const secretLen = 43

// tenantRE with the length apart (validTenant): {0,63} compiles to 63 copies.
var tenantRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)

func validTenant(t string) bool { return len(t) <= 64 && tenantRE.MatchString(t) }

func newSecret(tenant string) string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return tenant + "." + base64.RawURLEncoding.EncodeToString(b[:])
}

func parseSecret(s string) (tenant, hash string, ok bool) {
	tenant, secret, ok := strings.Cut(strings.TrimSpace(s), ".")
	if !ok || !validTenant(tenant) || tenant == PlatformTenant || len(secret) != secretLen {
		return "", "", false
	}
	if _, err := base64.RawURLEncoding.Strict().DecodeString(secret); err != nil {
		return "", "", false
	}
	return tenant, hashSecret(tenant + "." + secret), true
}

func hashSecret(s string) string {
	sum := sha256.Sum256([]byte("lantau-identity-secret\x00" + s))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
