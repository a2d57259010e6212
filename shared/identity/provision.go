package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/table"
)

// This file holds the account operations of capabilities that authorise
// their callers themselves (the directory, whose admins may be limited to
// a department subtree that identity knows nothing of). They do the same
// work as Invite and Deactivate WITHOUT identity's own authorisation
// check: the caller MUST have decided that the actor may do this to this
// user before calling. Never wire them to a route directly.

// NewUserID returns a fresh user ID, for callers that need the ID of an
// account before ProvisionUser writes it (to key their own items by it).
func NewUserID() string { return newID("u-") }

var userIDRE = regexp.MustCompile(`^u-[a-z2-7]{16}$`)

// Provision is an account to create with items of the caller's own.
type Provision struct {
	// ID is the new user's ID, from NewUserID.
	ID string
	Invitation
	// Extra are written in the same transaction as the account, its
	// e-mail claim and its invitation link: all or nothing. When one of
	// their conditions fails, ProvisionUser's error wraps a
	// *table.TxError whose Index is the position in Extra.
	Extra []table.Op
	// Undo is written (best effort) when the invitation mail cannot be
	// sent and the account is removed again: typically deletes of what
	// Extra put, with IfVersion conditions.
	Undo []table.Op
}

// ProvisionUser creates an employee account invited by a one-time link
// (InvitationTTL) to set a password, like Invite, together with p.Extra in
// one transaction, so there is never an account without the caller's
// items or the other way round. The account and its address claim do not
// expire with the link (the caller's record of the person stays): a new
// link is a new invitation. The address must be on the company's domain
// and not have an account (409 "email-taken").
//
// The caller must have authorised a: ProvisionUser checks only that a
// names a tenant and a user.
func (s *Service) ProvisionUser(ctx context.Context, a Actor, p Provision) (UserView, error) {
	const op = "identity.ProvisionUser"
	if a.Tenant == "" || a.User == "" {
		return UserView{}, problem.E(op, problem.Forbidden, problem.Code("forbidden"), textNotAllowed, "no tenant or user")
	}
	if !userIDRE.MatchString(p.ID) {
		return UserView{}, problem.E(op, problem.Internal, "Provision.ID is not from NewUserID: "+p.ID)
	}
	if len(p.Extra) > table.MaxTransactOps-3 {
		return UserView{}, problem.E(op, problem.Internal, "too many extra operations")
	}
	company, err := s.loadCompany(ctx, a.Tenant)
	if err != nil {
		return UserView{}, storeErr(op, err)
	}
	var f fieldErrors
	checkName(&f, "name", p.Name)
	email := checkEmail(&f, "email", p.Email, company.Domain)
	if err := f.err(op); err != nil {
		return UserView{}, err
	}
	emailTaken := problem.E(op, problem.Conflict, problem.Code("email-taken"), i18n.Text{
		EN: "This e-mail address already has a Lantau account.", ZH: "此電郵地址已有 Lantau 帳戶。",
	})
	now := s.Now().UTC()
	expires := now.Add(InvitationTTL)
	user := User{ID: p.ID, Email: email, Name: strings.TrimSpace(p.Name), Status: UserInvited,
		Role: RoleEmployee, Lang: string(p.Lang), CreatedAt: now}
	secret := newSecret(a.Tenant)
	_, hash, _ := parseSecret(secret)
	emailItem, err1 := item(emailKey(email), emailClaim{Tenant: a.Tenant, User: user.ID}, 1, time.Time{})
	userOp, err2 := userPut(a.Tenant, user, time.Time{}, table.IfNotExists)
	linkItem, err3 := item(linkKey(a.Tenant, hash), link{Purpose: linkInvitation, User: user.ID, Email: user.Email, ExpiresAt: expires}, 1, expires)
	if err := errors.Join(err1, err2, err3); err != nil {
		return UserView{}, problem.E(op, problem.Internal, err)
	}
	ops := append([]table.Op{{Put: &emailItem, Condition: table.IfNotExists}, userOp, {Put: &linkItem, Condition: table.IfNotExists}}, p.Extra...)
	err = s.Store.Transact(ctx, ops)
	var tx *table.TxError
	switch {
	case err == nil:
	case errors.As(err, &tx) && tx.Index == 0:
		emailTaken.Err = fmt.Errorf("e-mail claim: %v", err) // not wrapped: Extra's TxErrors only
		return UserView{}, emailTaken
	case errors.As(err, &tx) && tx.Index >= 3:
		return UserView{}, problem.E(op, problem.Conflict, problem.Code("concurrent-change"),
			&table.TxError{Index: tx.Index - 3, Err: tx.Err},
			i18n.Text{EN: "Something changed meanwhile; please try again.", ZH: "資料剛有變更，請再試一次。"})
	default:
		return UserView{}, storeErr(op, err)
	}
	url := s.PublicURL + "/v1/users/invitations/accept?token=" + secret
	if err := s.send(ctx, invitationMail(p.Lang, email, a.Tenant, user.Name, company.Name, url, expires)); err != nil {
		undo := append([]table.Op{
			{Delete: &emailItem.Key, Condition: table.IfVersion(1)},
			{Delete: &userOp.Put.Key, Condition: table.IfVersion(1)},
			{Delete: &linkItem.Key, Condition: table.IfVersion(1)},
		}, p.Undo...)
		if uerr := s.Store.Transact(context.WithoutCancel(ctx), undo); uerr != nil {
			s.Log.ErrorContext(ctx, "provisioned account not removed after a mail failure", "tenant", a.Tenant, "user", user.ID, "error", uerr.Error())
		}
		return UserView{}, problem.E(op, problem.Unavailable, problem.Code("mail-unavailable"), err, i18n.Text{
			EN: "We could not send the invitation. Please try again in a few minutes.",
			ZH: "未能發送邀請，請於數分鐘後再試。",
		})
	}
	s.publish(ctx, a.Tenant, a.User, EventUserInvited, map[string]any{"user": user.ID, "email": email})
	return user.View(), nil
}

// DeactivateUser stops a user like Deactivate: no sign-in, every session
// and refresh token revoked, access tokens already issued refused by the
// session check. It is idempotent: a user already deactivated is returned
// as they are, with no second event (their refresh tokens are revoked
// again, in case an earlier call stopped half-way). Deactivating an admin
// or super admin still needs a super admin, and the super admin rule
// holds.
//
// The caller must have authorised a for this user: DeactivateUser checks
// only the admin rule above.
func (s *Service) DeactivateUser(ctx context.Context, a Actor, id string) (UserView, error) {
	const op = "identity.DeactivateUser"
	if a.Tenant == "" || a.User == "" {
		return UserView{}, problem.E(op, problem.Forbidden, problem.Code("forbidden"), textNotAllowed, "no tenant or user")
	}
	var already UserView
	view, err := s.changeUser(ctx, op, a, id, func(c *Company, u *User) (string, any, error) {
		if u.Status == UserDeactivated {
			already = u.View()
			return "", nil, errAlreadyDeactivated
		}
		if u.IsAdmin() && a.Role != RoleSuperAdmin {
			return "", nil, problem.E(op, problem.Forbidden, problem.Code("forbidden"), i18n.Text{
				EN: "Only a super admin can deactivate an admin.", ZH: "只有超級管理員可停用管理員。",
			})
		}
		u.Status, u.DeactivatedAt = UserDeactivated, s.Now().UTC()
		return EventUserDeactivated, map[string]any{"user": u.ID}, nil
	})
	if errors.Is(err, errAlreadyDeactivated) {
		view, err = already, nil
	}
	if err != nil {
		return UserView{}, err
	}
	if _, err := s.Refreshes.RevokeUser(ctx, a.Tenant, id); err != nil {
		return UserView{}, problem.Wrap(op, err)
	}
	return view, nil
}

var errAlreadyDeactivated = errors.New("already deactivated")

// AccountStatuses returns the status of each of the tenant's users in ids
// that exists (UserInvited, UserActive, UserDeactivated, ...), for
// capabilities that show people with their account's state. It reads; it
// authorises nothing.
func (s *Service) AccountStatuses(ctx context.Context, tenant string, ids []string) (map[string]string, error) {
	const op = "identity.AccountStatuses"
	out := make(map[string]string, len(ids))
	seen := make(map[string]bool, len(ids))
	var keys []table.Key
	flush := func() error {
		if len(keys) == 0 {
			return nil
		}
		items, err := s.Store.BatchGet(ctx, keys)
		if err != nil {
			return storeErr(op, err)
		}
		for _, it := range items {
			var u struct {
				ID     string `json:"id"`
				Status string `json:"status"`
			}
			if err := json.Unmarshal(it.Data, &u); err != nil {
				return problem.E(op, problem.Internal, err)
			}
			out[u.ID] = u.Status
		}
		keys = keys[:0]
		return nil
	}
	for _, id := range ids {
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		keys = append(keys, userKey(tenant, id))
		if len(keys) == table.MaxBatchGetKeys {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// Account returns a user of the tenant as the API shows them (404
// "user-not-found" when there is none), for capabilities that attach
// records of their own to existing accounts. It reads; it authorises
// nothing.
func (s *Service) Account(ctx context.Context, tenant, id string) (UserView, error) {
	const op = "identity.Account"
	if tenant == "" || id == "" {
		return UserView{}, noUser(op, "no tenant or id")
	}
	u, err := s.loadUser(ctx, tenant, id)
	if errors.Is(err, table.ErrNotFound) {
		return UserView{}, noUser(op, err)
	} else if err != nil {
		return UserView{}, storeErr(op, err)
	}
	return u.View(), nil
}
