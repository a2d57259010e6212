package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/table"
)

// This file moves a user's sign-in address. Like provision.go it does NOT
// authorise: the caller (the directory, whose admins may be limited to a
// department subtree) MUST have decided that the actor may change this
// user's address, and that the actor is not the user, before calling.

// EventEmailChanged is identity's event of a sign-in address moved (data:
// user, from, to).
const EventEmailChanged = "EmailChanged"

// emailChangeOps is what ChangeEmail writes besides Extra: the old claim's
// delete, the new claim and the user item.
const emailChangeOps = 3

// EmailChange is a new sign-in address for a user, with items of the
// caller's own.
type EmailChange struct {
	User  string // the user's ID
	Email string // the new address
	// Extra are written in the same transaction as the address: all or
	// nothing. When one of their conditions fails, ChangeEmail's error
	// wraps a *table.TxError whose Index is the position in Extra.
	Extra []table.Op
}

// EmailChanged is what ChangeEmail did.
type EmailChanged struct {
	User UserView
	// From is the address before; Changed is false when the new one is
	// the same address (in any case), which changes nothing in identity.
	From    string
	Changed bool
}

// ChangeEmail moves a user's sign-in address to ch.Email, in ONE
// transaction with ch.Extra: the old address's claim is deleted (on
// condition that it is the one read, naming this user), the new one is
// claimed (on condition that no one in any company has it: 409
// "email-taken") and the user item is rewritten on its version. The new
// address must pass ProvisionUser's rules (valid, on the company's domain,
// no free mail). The same address in another case changes nothing.
//
// The user's sessions and tokens stay valid (they name the user by ID);
// sign-in with the old address fails from now on like an unknown one. The
// old address is told who moved it where, and the new one that it now
// signs in. A deactivated user's address is not changed (409
// "deactivated"), and an admin's only by a super admin (403).
//
// The caller must have authorised a: ChangeEmail checks only that a names
// a tenant and a user.
func (s *Service) ChangeEmail(ctx context.Context, a Actor, ch EmailChange) (EmailChanged, error) {
	const op = "identity.ChangeEmail"
	if a.Tenant == "" || a.User == "" {
		return EmailChanged{}, problem.E(op, problem.Forbidden, problem.Code("forbidden"), textNotAllowed, "no tenant or user")
	}
	if len(ch.Extra) > table.MaxTransactOps-emailChangeOps {
		return EmailChanged{}, problem.E(op, problem.Internal, "too many extra operations")
	}
	company, err := s.loadCompany(ctx, a.Tenant)
	if err != nil {
		return EmailChanged{}, storeErr(op, err)
	}
	var f fieldErrors
	email := checkEmail(&f, "email", ch.Email, company.Domain)
	if err := f.err(op); err != nil {
		return EmailChanged{}, err
	}
	userItem, err := s.Store.Get(ctx, userKey(a.Tenant, ch.User))
	if errors.Is(err, table.ErrNotFound) {
		return EmailChanged{}, noUser(op, err)
	} else if err != nil {
		return EmailChanged{}, storeErr(op, err)
	}
	var user User
	if err := json.Unmarshal(userItem.Data, &user); err != nil {
		return EmailChanged{}, problem.E(op, problem.Internal, err)
	}
	user.version = userItem.Version
	from := user.Email
	switch user.Status {
	case UserActive, UserInvited:
	case UserDeactivated:
		return EmailChanged{}, problem.E(op, problem.Conflict, problem.Code("deactivated"), textDeactivatedEmail,
			problem.FieldError{Field: "email", Code: "deactivated", Message: i18n.Text{EN: "is the address of a deactivated account", ZH: "屬於已停用的帳戶"}})
	default:
		return EmailChanged{}, problem.E(op, problem.Conflict, problem.Code("user-not-active"), "user "+user.Status, i18n.Text{
			EN: "The address of an account whose registration is not confirmed cannot be changed.",
			ZH: "註冊尚未確認的帳戶不可更改電郵地址。",
		})
	}
	if user.IsAdmin() && a.Role != RoleSuperAdmin {
		// Whoever holds an admin's address can take the account over by a
		// password reset: as with deactivation, only a super admin moves it.
		return EmailChanged{}, problem.E(op, problem.Forbidden, problem.Code("forbidden"), i18n.Text{
			EN: "Only a super admin can change an admin's sign-in address.", ZH: "只有超級管理員可更改管理員的登入電郵地址。",
		})
	}
	if emailKey(email) == emailKey(from) {
		if len(ch.Extra) > 0 {
			if err := s.Store.Transact(ctx, ch.Extra); err != nil {
				return EmailChanged{}, extraFailed(op, err, 0)
			}
		}
		return EmailChanged{User: user.View(), From: from}, nil
	}

	oldClaim, err := s.Store.Get(ctx, emailKey(from))
	if err != nil {
		return EmailChanged{}, storeErr(op, fmt.Errorf("the claim of %s: %w", from, err))
	}
	var oc emailClaim
	if err := json.Unmarshal(oldClaim.Data, &oc); err != nil {
		return EmailChanged{}, problem.E(op, problem.Internal, err)
	}
	if oc.Tenant != a.Tenant || oc.User != user.ID {
		return EmailChanged{}, problem.E(op, problem.Internal, fmt.Sprintf("the claim of %s names %s/%s", from, oc.Tenant, oc.User))
	}
	// An account invited through identity lapses with its link unless
	// accepted: the new claim and the user item keep that expiry.
	newClaim, err1 := item(emailKey(email), emailClaim{Tenant: a.Tenant, User: user.ID}, 1, timeOf(oldClaim.ExpiresAt))
	user.Email = email
	userOp, err2 := userPut(a.Tenant, user, timeOf(userItem.ExpiresAt), table.IfVersion(user.version))
	if err := errors.Join(err1, err2); err != nil {
		return EmailChanged{}, problem.E(op, problem.Internal, err)
	}
	ops := append([]table.Op{
		{Delete: &oldClaim.Key, Condition: table.IfVersion(oldClaim.Version)},
		{Put: &newClaim, Condition: table.IfNotExists},
		userOp,
	}, ch.Extra...)
	err = s.Store.Transact(ctx, ops)
	var tx *table.TxError
	switch {
	case err == nil:
	case errors.As(err, &tx) && tx.Index == 1:
		return EmailChanged{}, problem.E(op, problem.Conflict, problem.Code("email-taken"),
			fmt.Errorf("e-mail claim: %v", err), // not wrapped: Extra's TxErrors only
			textEmailTaken.Format(email),
			problem.FieldError{Field: "email", Code: "taken", Message: i18n.Text{EN: "already has a Lantau account", ZH: "已有 Lantau 帳戶"}})
	default:
		return EmailChanged{}, extraFailed(op, err, emailChangeOps)
	}
	user.version++
	s.publish(ctx, a.Tenant, a.User, EventEmailChanged, map[string]any{"user": user.ID, "from": from, "to": email})
	s.mailEmailChanged(ctx, a, company, user, from)
	return EmailChanged{User: user.View(), From: from, Changed: true}, nil
}

var textDeactivatedEmail = i18n.Text{
	EN: "This person is deactivated: their sign-in address cannot be changed.",
	ZH: "此人已被停用，不可更改其登入電郵地址。",
}

var textEmailTaken = i18n.Text{EN: "The e-mail address %s already has a Lantau account.", ZH: "電郵地址 %s 已有 Lantau 帳戶。"}

// extraFailed is the problem of a transaction whose ops from extraAt on
// are the caller's: a failed condition there wraps a *table.TxError with
// the position among them; one of identity's own items changed meanwhile
// wraps only table.ErrConditionFailed, so that the caller reads again.
func extraFailed(op string, err error, extraAt int) error {
	var tx *table.TxError
	textAgain := i18n.Text{EN: "Something changed meanwhile; please try again.", ZH: "資料剛有變更，請再試一次。"}
	switch {
	case errors.As(err, &tx) && tx.Index >= extraAt:
		return problem.E(op, problem.Conflict, problem.Code("concurrent-change"), &table.TxError{Index: tx.Index - extraAt, Err: tx.Err}, textAgain)
	case errors.Is(err, table.ErrConditionFailed):
		return problem.E(op, problem.Conflict, problem.Code("concurrent-change"), fmt.Errorf("%w: account items: %v", table.ErrConditionFailed, err), textAgain)
	}
	return storeErr(op, err)
}

// timeOf is the expiry of an item's ExpiresAt (zero: never).
func timeOf(expiresAt int64) (t time.Time) {
	if expiresAt == 0 {
		return t
	}
	return time.Unix(expiresAt-1, 0) // item adds the second back
}

// mailEmailChanged tells the old address who moved it where, and the new
// one that it now signs in. The change has happened: a mail that cannot
// be sent is logged, not undone.
func (s *Service) mailEmailChanged(ctx context.Context, a Actor, company Company, user User, from string) {
	by := i18n.Text{EN: "an administrator", ZH: "管理員"}
	if admin, err := s.loadUser(ctx, a.Tenant, a.User); err == nil {
		by = i18n.Text{EN: admin.Name + " (" + admin.Email + ")", ZH: admin.Name + "（" + admin.Email + "）"}
	}
	lang, at := langOf(user.Lang), s.Now()
	mails := emailChangedMails(lang, a.Tenant, user.Name, company.Name, from, user.Email, by, at)
	if user.Status == UserInvited {
		// Someone who has not accepted yet has no password to sign in with,
		// and the links mailed to the old address no longer work: the new
		// address gets a new invitation instead of the notice.
		mails = mails[:1]
		if _, err := s.Reinvite(ctx, a, user.ID); err != nil {
			s.Log.ErrorContext(ctx, "invitation not sent to the new address", "tenant", a.Tenant, "user", user.ID, "error", err.Error())
		}
	}
	for _, m := range mails {
		if err := s.send(ctx, m); err != nil {
			s.Log.ErrorContext(ctx, "address change not mailed", "tenant", a.Tenant, "user", user.ID, "kind", m.Kind, "error", err.Error())
		}
	}
}
