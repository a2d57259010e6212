package identity

import (
	"context"
	"errors"

	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/table"
)

// ResendInvitation mails an invited user a new link to set their password
// (the earlier links keep working until they expire; the first one used
// activates the account). An invitation that would have lapsed with its
// link is extended with the new one. Company-wide directory admins only;
// department-scoped ones go through the directory (Reinvite).
func (s *Service) ResendInvitation(ctx context.Context, a Actor, id string) (UserView, error) {
	if err := Authorize(a, PermManageUsers); err != nil {
		return UserView{}, err
	}
	return s.Reinvite(ctx, a, id)
}

// Reinvite is ResendInvitation for callers that have authorised a
// themselves (the directory, whose admins may be limited to a subtree).
func (s *Service) Reinvite(ctx context.Context, a Actor, id string) (UserView, error) {
	const op = "identity.ResendInvitation"
	if a.Tenant == "" || a.User == "" {
		return UserView{}, problem.E(op, problem.Forbidden, problem.Code("forbidden"), textNotAllowed, "no tenant or user")
	}
	company, err := s.loadCompany(ctx, a.Tenant)
	if err != nil {
		return UserView{}, storeErr(op, err)
	}
	userItem, err := s.Store.Get(ctx, userKey(a.Tenant, id))
	if errors.Is(err, table.ErrNotFound) {
		return UserView{}, noUser(op, err)
	} else if err != nil {
		return UserView{}, storeErr(op, err)
	}
	user, err := s.loadUser(ctx, a.Tenant, id)
	if err != nil {
		return UserView{}, storeErr(op, err)
	}
	if user.Status != UserInvited {
		return UserView{}, problem.E(op, problem.Conflict, problem.Code("user-not-invited"), i18n.Text{
			EN: "This person has already set a password (or was deactivated): there is no invitation to send again.",
			ZH: "此用戶已設定密碼（或已被停用），無須再發送邀請。",
		})
	}
	now := s.Now().UTC()
	expires := now.Add(InvitationTTL)
	secret := newSecret(a.Tenant)
	_, hash, _ := parseSecret(secret)
	linkItem, err := item(linkKey(a.Tenant, hash), link{Purpose: linkInvitation, User: user.ID, Email: user.Email, ExpiresAt: expires}, 1, expires)
	if err != nil {
		return UserView{}, problem.E(op, problem.Internal, err)
	}
	ops := []table.Op{{Put: &linkItem, Condition: table.IfNotExists}}
	if userItem.ExpiresAt != 0 {
		// Invited through identity: the account and its address lapse with
		// the link unless accepted; the new link carries them on.
		claim, err := s.Store.Get(ctx, emailKey(user.Email))
		if err != nil {
			return UserView{}, storeErr(op, err)
		}
		claim.Version, claim.ExpiresAt = claim.Version+1, expires.Unix()+1
		renewed := userItem
		renewed.Version, renewed.ExpiresAt = userItem.Version+1, expires.Unix()+1
		ops = append(ops, table.Op{Put: &claim, Condition: table.IfVersion(claim.Version - 1)},
			table.Op{Put: &renewed, Condition: table.IfVersion(userItem.Version)})
	}
	if err := s.Store.Transact(ctx, ops); errors.Is(err, table.ErrConditionFailed) {
		return UserView{}, problem.E(op, problem.Conflict, problem.Code("concurrent-change"), err, i18n.Text{
			EN: "The account changed meanwhile. Please try again.", ZH: "帳戶剛被更改，請再試一次。",
		})
	} else if err != nil {
		return UserView{}, storeErr(op, err)
	}
	url := s.PublicURL + "/v1/users/invitations/accept?token=" + secret
	if err := s.send(ctx, invitationMail(langOf(user.Lang), user.Email, a.Tenant, user.Name, company.Name, url, expires)); err != nil {
		return UserView{}, problem.E(op, problem.Unavailable, problem.Code("mail-unavailable"), err, i18n.Text{
			EN: "We could not send the invitation. Please try again in a few minutes.",
			ZH: "未能發送邀請，請於數分鐘後再試。",
		})
	}
	s.publish(ctx, a.Tenant, a.User, EventUserInvited, map[string]any{"user": user.ID, "email": user.Email, "resent": true})
	return user.View(), nil
}
