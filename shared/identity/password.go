package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lantau-hq/lantau/shared/credential"
	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/table"
)

// Password self-service: a signed-in user changes their password knowing
// the current one (ChangePassword); a user who forgot it asks for a link
// mailed to their address (RequestPasswordReset) and sets a new one with
// it (ResetPassword). Neither touches the second factor: a user who has
// one still needs it at the next sign-in.

// newResetThrottle counts password reset requests, apart from failed
// sign-ins: every request counts (there is no "success" to end a streak),
// for known and unknown addresses alike, so the answers stay the same. Per
// address: three requests, then a minute that doubles up to an hour, at
// most ten an hour. Per network: twenty, then a second that doubles up to
// five minutes, at most 200 an hour.
func newResetThrottle(store table.Store) *credential.Throttle {
	t := credential.NewThrottle(store)
	t.Name = "PWRESET"
	t.Account = credential.Policy{Free: 3, Base: time.Minute, Max: time.Hour, Limit: 10, Window: time.Hour}
	t.Network = credential.Policy{Free: 20, Base: time.Second, Max: 5 * time.Minute, Limit: 200, Window: time.Hour}
	return t
}

var (
	textWrongCurrentPassword = i18n.Text{
		EN: "The current password is incorrect.",
		ZH: "現時的密碼不正確。",
	}
	textResetLinkExpired = i18n.Text{
		EN: "This password reset link has expired (links work for 30 minutes). Please ask for a new one.",
		ZH: "此重設密碼連結已過期（連結有效 30 分鐘），請重新申請。",
	}
	textResetTokenMalformed = i18n.Text{
		EN: "This is not a password reset link: it was copied incompletely or changed.",
		ZH: "這不是有效的重設密碼連結：可能未有完整複製或已被修改。",
	}
)

// checkNewPassword checks a new password of user against the policy,
// adding what is wrong to f under field.
func checkNewPassword(f *fieldErrors, field, password string, user User, company Company) error {
	err := credential.CheckPassword(password, user.Email, user.Name, company.Name, company.Domain)
	if err == nil {
		return nil
	}
	var pe *problem.Error
	if !errors.As(err, &pe) {
		return err
	}
	for _, fe := range pe.Fields {
		fe.Field = field
		f.fields = append(f.fields, fe)
	}
	f.headline("password-policy", pe.Detail)
	return nil
}

// ChangePassword sets the actor's password, given the current one. A wrong
// current password is a failed sign-in to the account: it is throttled
// and counted with the others (429 with Retry-After), recorded as
// LoginFailed and counts towards the repeated-failures alert. On success
// every other sign-in of the user ends (the caller's goes on), the user is
// mailed, and PasswordChanged is published. It returns how many other
// sign-ins ended.
func (s *Service) ChangePassword(ctx context.Context, a Actor, current, newPassword string, c Client) (int, error) {
	const op = "identity.ChangePassword"
	if err := Authorize(a, PermChangePassword); err != nil {
		return 0, err
	}
	if a.SessionID == "" {
		return 0, problem.E(op, problem.Invalid, problem.Code("no-session"), "token without sid")
	}
	user, err := s.loadUser(ctx, a.Tenant, a.User)
	if errors.Is(err, table.ErrNotFound) {
		return 0, noUser(op, err)
	} else if err != nil {
		return 0, storeErr(op, err)
	}
	if user.PasswordHash == "" {
		return 0, problem.E(op, problem.Conflict, problem.Code("no-password"), i18n.Text{
			EN: "Your account signs in through your company's single sign-on: it has no Lantau password to change.",
			ZH: "你的帳戶經公司的單一登入系統登入，沒有可更改的 Lantau 密碼。",
		})
	}
	company, err := s.loadCompany(ctx, a.Tenant)
	if err != nil {
		return 0, storeErr(op, err)
	}
	// The new password is checked before the current one: a refusal here
	// says nothing about the current password and costs no attempt.
	var f fieldErrors
	if current == "" {
		f.add("currentPassword", "required", msgRequired)
	}
	if err := checkNewPassword(&f, "newPassword", newPassword, user, company); err != nil {
		return 0, problem.E(op, problem.Internal, err)
	}
	if err := f.err(op); err != nil {
		return 0, err
	}
	account := throttleAccount(user.Email)
	if _, err := s.throttle.Check(ctx, PlatformTenant, account, c.IP, s.Now()); err != nil {
		return 0, problem.Wrap(op, err)
	}
	ok, _, err := s.verifyPassword(ctx, a.Tenant, user, account, current, "wrong-current-password", c)
	if err != nil {
		return 0, problem.Wrap(op, err)
	}
	if !ok {
		return 0, problem.E(op, problem.Invalid, problem.Code("current-password-incorrect"), textWrongCurrentPassword,
			problem.FieldError{Field: "currentPassword", Code: "incorrect", Message: i18n.Text{EN: "is incorrect", ZH: "不正確"}})
	}
	s.settle(ctx, account, c.IP, true)
	// Only now may the two be compared: before, this would tell whether a
	// guess was the current password.
	if newPassword == current {
		return 0, problem.E(op, problem.Invalid, problem.Code("password-unchanged"), i18n.Text{
			EN: "The new password must differ from the current one.", ZH: "新密碼不可與現時的密碼相同。",
		}, problem.FieldError{Field: "newPassword", Code: "unchanged", Message: i18n.Text{EN: "is the current password", ZH: "與現時的密碼相同"}})
	}
	if user.PasswordHash, err = credential.Hash(newPassword); err != nil {
		return 0, problem.Wrap(op, err)
	}
	put, err := userPut(a.Tenant, user, time.Time{}, table.IfVersion(user.version))
	if err == nil {
		err = s.Store.Put(ctx, *put.Put, put.Condition)
	}
	if errors.Is(err, table.ErrConditionFailed) {
		return 0, problem.E(op, problem.Conflict, problem.Code("user-changed"), err, i18n.Text{
			EN: "Your account changed meanwhile; please try again.", ZH: "你的帳戶剛有變更，請再試一次。",
		})
	} else if err != nil {
		return 0, storeErr(op, err)
	}
	// A reset link asked for before (by the user who has now remembered,
	// or by whoever is reading their mail) must not undo the change.
	if err := s.dropResetLink(ctx, a.Tenant, user.ID); err != nil {
		return 0, storeErr(op, err)
	}
	ended, err := s.endOtherSessions(ctx, a.Tenant, user.ID, a.SessionID)
	if err != nil {
		return 0, problem.Wrap(op, err)
	}
	s.passwordChanged(ctx, a.Tenant, user, "change", len(ended), c)
	return len(ended), nil
}

// dropResetLink deletes user's pending password reset link, if any.
func (s *Service) dropResetLink(ctx context.Context, tenant, user string) error {
	var p resetPointer
	if _, err := get(ctx, s.Store, resetKey(tenant, user), &p); errors.Is(err, table.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	lk, pk := linkKey(tenant, p.Hash), resetKey(tenant, user)
	return s.Store.Transact(ctx, []table.Op{{Delete: &lk, Condition: table.Always}, {Delete: &pk, Condition: table.Always}})
}

// passwordChanged tells the user and the audit trail that the password
// changed; method is "change" or "reset".
func (s *Service) passwordChanged(ctx context.Context, tenant string, user User, method string, ended int, c Client) {
	s.publish(ctx, tenant, user.ID, EventPasswordChanged, map[string]any{
		"user": user.ID, "method": method, "signInsEnded": ended, "ip": c.IP, "userAgent": c.UserAgent,
	})
	m := passwordChangedMail(langOf(user.Lang), user.Email, tenant, user.Name, s.Now(), c.IP, method == "reset")
	if err := s.send(ctx, m); err != nil {
		s.Log.ErrorContext(ctx, "password change not mailed", "tenant", tenant, "user", user.ID, "error", err.Error())
	}
}

// RequestPasswordReset mails an active user who has a password a link to
// set a new one (PasswordResetTTL, single use; a new request supersedes
// the earlier link). Whether the address has such an account or not, the
// answer is the same nil after the same throttle: nobody learns from it
// which addresses have accounts. Requests are throttled per address and
// per network (429 with Retry-After), known addresses or not. Only a
// malformed address is refused (400).
func (s *Service) RequestPasswordReset(ctx context.Context, email string, c Client) error {
	const op = "identity.RequestPasswordReset"
	account := throttleAccount(email)
	var f fieldErrors
	switch {
	case account == "":
		f.add("email", "required", msgRequired)
	case len(account) > 254 || strings.Count(account, "@") != 1 || strings.HasPrefix(account, "@") || strings.HasSuffix(account, "@"):
		f.add("email", "email", i18n.Text{EN: "must be a valid e-mail address", ZH: "電郵地址格式無效"})
	}
	if err := f.err(op); err != nil {
		return err
	}
	now := s.Now()
	if wait, err := s.resetThrottle.Check(ctx, PlatformTenant, account, c.IP, now); err != nil {
		if problem.KindOf(err) != problem.TooManyRequests {
			return problem.Wrap(op, err)
		}
		minutes := int((wait + time.Minute - 1) / time.Minute)
		return problem.E(op, problem.TooManyRequests, problem.Code("too-many-reset-requests"), wait, i18n.Text{
			EN: fmt.Sprintf("Too many password reset requests. Please try again in %d minute(s).", minutes),
			ZH: fmt.Sprintf("重設密碼的要求過多，請於 %d 分鐘後再試。", minutes),
		})
	}
	if err := s.resetThrottle.Fail(ctx, PlatformTenant, account, c.IP, now); err != nil {
		s.Log.ErrorContext(ctx, "password reset throttle not updated", "error", err.Error())
	}
	tenant, user, err := s.userByEmail(ctx, account)
	switch {
	case errors.Is(err, table.ErrNotFound):
		return nil
	case err != nil:
		return storeErr(op, err)
	case user.Status != UserActive || user.PasswordHash == "":
		return nil // deactivated, not yet active, or single sign-on only: no link
	}
	// A failure past this point is logged, not answered: a 5xx here
	// would tell that the address has an account.
	if err := s.mailResetLink(ctx, tenant, user, c); err != nil {
		s.Log.ErrorContext(ctx, "password reset link not sent", "tenant", tenant, "user", user.ID, "error", err.Error())
	}
	return nil
}

// mailResetLink stores a new reset link for user, deleting the one before
// (so that only the newest works), and mails it.
func (s *Service) mailResetLink(ctx context.Context, tenant string, user User, c Client) error {
	now := s.Now().UTC()
	expires := now.Add(PasswordResetTTL)
	secret := newSecret(tenant)
	_, hash, _ := parseSecret(secret)
	var before resetPointer
	pv, err := get(ctx, s.Store, resetKey(tenant, user.ID), &before)
	cond := table.IfVersion(pv)
	if errors.Is(err, table.ErrNotFound) {
		cond = table.IfNotExists
	} else if err != nil {
		return err
	}
	linkItem, err1 := item(linkKey(tenant, hash), link{Purpose: linkPasswordReset, User: user.ID, Email: user.Email, ExpiresAt: expires}, 1, expires)
	pointer, err2 := item(resetKey(tenant, user.ID), resetPointer{Hash: hash}, pv+1, expires)
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	ops := []table.Op{{Put: &linkItem, Condition: table.IfNotExists}, {Put: &pointer, Condition: cond}}
	if before.Hash != "" {
		superseded := linkKey(tenant, before.Hash)
		ops = append(ops, table.Op{Delete: &superseded, Condition: table.Always})
	}
	if err := s.Store.Transact(ctx, ops); err != nil {
		return err
	}
	url := s.PublicURL + "/v1/auth/password/reset/confirm?token=" + secret
	if err := s.send(ctx, passwordResetMail(langOf(user.Lang), user.Email, tenant, user.Name, url, expires)); err != nil {
		return err
	}
	s.publish(ctx, tenant, user.ID, EventPasswordResetRequested, map[string]any{"user": user.ID, "ip": c.IP, "userAgent": c.UserAgent})
	return nil
}

// ResetPassword sets a new password with a reset link's token. The link
// works once, and only until it expires: a malformed token is a 400
// ("reset-token-malformed"), a used, superseded or unknown one a 410
// ("link-invalid"), an expired one a 410 ("link-expired"). A password the
// policy refuses is a 400 and leaves the link usable. On success every
// sign-in of the user ends, the account's failed sign-ins are forgotten
// (the link proved the mailbox), the user is mailed and PasswordChanged is
// published. The second factor stays: the next sign-in still asks for it.
// It returns how many sign-ins ended.
func (s *Service) ResetPassword(ctx context.Context, secret, newPassword string, c Client) (int, error) {
	const op = "identity.ResetPassword"
	gone := func(code problem.Code, text i18n.Text, cause any) error {
		return problem.E(op, problem.Gone, code, text, cause)
	}
	tenant, hash, ok := parseSecret(secret)
	if !ok {
		return 0, problem.E(op, problem.Invalid, problem.Code("reset-token-malformed"), textResetTokenMalformed,
			problem.FieldError{Field: "token", Code: "malformed", Message: i18n.Text{EN: "is not a reset token", ZH: "不是重設密碼的代碼"}})
	}
	var l link
	lv, err := get(ctx, s.Store, linkKey(tenant, hash), &l)
	switch {
	case errors.Is(err, table.ErrNotFound):
		return 0, gone("link-invalid", errLinkInvalid, "unknown, used, superseded or expired link")
	case err != nil:
		return 0, storeErr(op, err)
	case l.Purpose != linkPasswordReset:
		return 0, gone("link-invalid", errLinkInvalid, "link of purpose "+l.Purpose)
	case !s.Now().Before(l.ExpiresAt):
		return 0, gone("link-expired", textResetLinkExpired, "link expired at "+l.ExpiresAt.String())
	}
	user, err := s.loadUser(ctx, tenant, l.User)
	if err != nil && !errors.Is(err, table.ErrNotFound) {
		return 0, storeErr(op, err)
	}
	if err != nil || user.Status != UserActive || user.PasswordHash == "" {
		return 0, gone("link-invalid", errLinkInvalid, "user gone, inactive or without a password")
	}
	if l.Email != user.Email { // the address changed since: the old mailbox may not be theirs any more
		return 0, gone("link-invalid", errLinkInvalid, "link mailed to an earlier address")
	}
	company, err := s.loadCompany(ctx, tenant)
	if err != nil {
		return 0, storeErr(op, err)
	}
	var f fieldErrors
	if err := checkNewPassword(&f, "newPassword", newPassword, user, company); err != nil {
		return 0, problem.E(op, problem.Internal, err)
	}
	if err := f.err(op); err != nil {
		return 0, err
	}
	if user.PasswordHash, err = credential.Hash(newPassword); err != nil {
		return 0, problem.Wrap(op, err)
	}
	userOp, err := userPut(tenant, user, time.Time{}, table.IfVersion(user.version))
	if err != nil {
		return 0, problem.E(op, problem.Internal, err)
	}
	lk, pk := linkKey(tenant, hash), resetKey(tenant, user.ID)
	err = s.Store.Transact(ctx, []table.Op{
		{Delete: &lk, Condition: table.IfVersion(lv)}, userOp, {Delete: &pk, Condition: table.Always},
	})
	if errors.Is(err, table.ErrConditionFailed) {
		return 0, gone("link-invalid", errLinkInvalid, err)
	} else if err != nil {
		return 0, storeErr(op, err)
	}
	ended, err := s.Refreshes.RevokeUser(ctx, tenant, user.ID)
	if err != nil {
		return 0, problem.Wrap(op, err)
	}
	if err := s.throttle.Clear(ctx, PlatformTenant, throttleAccount(user.Email)); err != nil {
		s.Log.ErrorContext(ctx, "failed sign-ins not cleared after a password reset", "error", err.Error())
	}
	s.passwordChanged(ctx, tenant, user, "reset", ended, c)
	return ended, nil
}
