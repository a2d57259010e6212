package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lantau-hq/lantau/shared/credential"
	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/table"
)

// UserView is a user as the API shows it: no secrets.
type UserView struct {
	ID string `json:"id"`
	// CompanyID is the user's company; Me fills it in.
	CompanyID   string    `json:"companyId,omitempty"`
	Email       string    `json:"email"`
	Name        string    `json:"name"`
	Status      string    `json:"status"`
	Role        Role      `json:"role"`
	Areas       []Area    `json:"areas"`
	Department  string    `json:"department,omitempty"`
	TwoFactor   bool      `json:"twoFactor"`
	CreatedAt   time.Time `json:"createdAt"`
	LastLoginAt time.Time `json:"lastLoginAt,omitzero"`
	// Lang is the language of the user's mails ("en" or "zh-HK"; "" is English).
	Lang string `json:"lang,omitempty"`
}

// View is u without secrets.
func (u User) View() UserView {
	areas := u.Areas
	if areas == nil {
		areas = []Area{}
	}
	return UserView{ID: u.ID, Email: u.Email, Name: u.Name, Status: u.Status, Role: u.Role, Areas: areas, Department: u.Department,
		TwoFactor: u.HasTOTP(), CreatedAt: u.CreatedAt, LastLoginAt: u.LastLoginAt, Lang: u.Lang}
}

var textNoUser = i18n.Text{EN: "There is no such user in your company.", ZH: "你的公司沒有此用戶。"}

func noUser(op string, cause any) error {
	return problem.E(op, problem.NotFound, problem.Code("user-not-found"), textNoUser, cause)
}

// Me returns the actor's own profile.
func (s *Service) Me(ctx context.Context, a Actor) (UserView, error) {
	const op = "identity.Me"
	if err := Authorize(a, PermReadSelf); err != nil {
		return UserView{}, err
	}
	u, err := s.loadUser(ctx, a.Tenant, a.User)
	if errors.Is(err, table.ErrNotFound) {
		return UserView{}, noUser(op, err)
	} else if err != nil {
		return UserView{}, storeErr(op, err)
	}
	v := u.View()
	v.CompanyID = a.Tenant
	return v, nil
}

// GetUser returns a user of the actor's company; a user of another
// company is not found, like one that does not exist.
func (s *Service) GetUser(ctx context.Context, a Actor, id string) (UserView, error) {
	const op = "identity.GetUser"
	if id != a.User {
		if err := Authorize(a, PermReadUsers); err != nil {
			return UserView{}, err
		}
	} else if err := Authorize(a, PermReadSelf); err != nil {
		return UserView{}, err
	}
	u, err := s.loadUser(ctx, a.Tenant, id)
	if errors.Is(err, table.ErrNotFound) {
		return UserView{}, noUser(op, err)
	} else if err != nil {
		return UserView{}, storeErr(op, err)
	}
	return u.View(), nil
}

// ListUsers lists the actor's company's users by ID.
func (s *Service) ListUsers(ctx context.Context, a Actor) ([]UserView, error) {
	const op = "identity.ListUsers"
	if err := Authorize(a, PermReadUsers); err != nil {
		return nil, err
	}
	users, err := s.users(ctx, a.Tenant)
	if err != nil {
		return nil, storeErr(op, err)
	}
	out := make([]UserView, len(users))
	for i, u := range users {
		out[i] = u.View()
	}
	return out, nil
}

func (s *Service) users(ctx context.Context, tenant string) ([]User, error) {
	var out []User
	q := table.Query{Tenant: tenant, PK: usersPK, SortOp: table.SortBeginsWith, Value: "USER#", Limit: table.MaxQueryLimit}
	for {
		page, err := s.Store.Query(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, it := range page.Items {
			var u User
			if err := json.Unmarshal(it.Data, &u); err != nil {
				return nil, fmt.Errorf("user item %s: %w", it.SK, err)
			}
			u.version = it.Version
			out = append(out, u)
		}
		if page.Cursor == "" {
			return out, nil
		}
		q.Cursor = page.Cursor
	}
}

// Invitation invites a person to the actor's company.
type Invitation struct {
	Email string
	Name  string
	Lang  i18n.Lang // of the invitation mail
}

// Invite adds an employee who is invited by a one-time link
// (InvitationTTL) to set a password. The address must be on the company's
// domain and not have an account.
func (s *Service) Invite(ctx context.Context, a Actor, in Invitation) (UserView, error) {
	const op = "identity.Invite"
	if err := Authorize(a, PermManageUsers); err != nil {
		return UserView{}, err
	}
	company, err := s.loadCompany(ctx, a.Tenant)
	if err != nil {
		return UserView{}, storeErr(op, err)
	}
	var f fieldErrors
	checkName(&f, "name", in.Name)
	email := checkEmail(&f, "email", in.Email, company.Domain)
	if err := f.err(op); err != nil {
		return UserView{}, err
	}
	now := s.Now().UTC()
	expires := now.Add(InvitationTTL)
	user := User{ID: newID("u-"), Email: email, Name: strings.TrimSpace(in.Name), Status: UserInvited,
		Role: RoleEmployee, Lang: string(in.Lang), CreatedAt: now}
	secret := newSecret(a.Tenant)
	_, hash, _ := parseSecret(secret)
	emailItem, err1 := item(emailKey(email), emailClaim{Tenant: a.Tenant, User: user.ID}, 1, expires)
	userOp, err2 := userPut(a.Tenant, user, expires, table.IfNotExists)
	linkItem, err3 := item(linkKey(a.Tenant, hash), link{Purpose: linkInvitation, User: user.ID, Email: user.Email, ExpiresAt: expires}, 1, expires)
	if err := errors.Join(err1, err2, err3); err != nil {
		return UserView{}, problem.E(op, problem.Internal, err)
	}
	err = s.Store.Transact(ctx, []table.Op{
		{Put: &emailItem, Condition: table.IfNotExists}, userOp, {Put: &linkItem, Condition: table.IfNotExists},
	})
	if errors.Is(err, table.ErrConditionFailed) && failedOp(err) == 0 {
		return UserView{}, problem.E(op, problem.Conflict, problem.Code("email-taken"), err, i18n.Text{
			EN: "This e-mail address already has a Lantau account.", ZH: "此電郵地址已有 Lantau 帳戶。",
		})
	} else if err != nil {
		return UserView{}, storeErr(op, err)
	}
	url := s.PublicURL + "/v1/users/invitations/accept?token=" + secret
	if err := s.send(ctx, invitationMail(in.Lang, email, a.Tenant, user.Name, company.Name, url, expires)); err != nil {
		_ = s.Store.Transact(context.WithoutCancel(ctx), []table.Op{
			{Delete: &emailItem.Key, Condition: table.IfVersion(1)},
			{Delete: &userOp.Put.Key, Condition: table.IfVersion(1)},
			{Delete: &linkItem.Key, Condition: table.IfVersion(1)},
		})
		return UserView{}, problem.E(op, problem.Unavailable, problem.Code("mail-unavailable"), err, i18n.Text{
			EN: "We could not send the invitation. Please try again in a few minutes.",
			ZH: "未能發送邀請，請於數分鐘後再試。",
		})
	}
	s.publish(ctx, a.Tenant, a.User, EventUserInvited, map[string]any{"user": user.ID, "email": email})
	return user.View(), nil
}

// AcceptInvitation sets the invited user's password and activates them.
// The link works once.
func (s *Service) AcceptInvitation(ctx context.Context, secret, password string) (UserView, error) {
	const op = "identity.AcceptInvitation"
	gone := func(cause any) error {
		return problem.E(op, problem.Gone, problem.Code("link-invalid"), errLinkInvalid, cause)
	}
	tenant, hash, ok := parseSecret(secret)
	if !ok {
		return UserView{}, gone("malformed link token")
	}
	var l link
	lv, err := get(ctx, s.Store, linkKey(tenant, hash), &l)
	if errors.Is(err, table.ErrNotFound) {
		return UserView{}, gone("unknown, used or expired link")
	} else if err != nil {
		return UserView{}, storeErr(op, err)
	}
	if l.Purpose != linkInvitation {
		return UserView{}, gone("link of purpose " + l.Purpose)
	}
	user, err := s.loadUser(ctx, tenant, l.User)
	if err != nil {
		return UserView{}, storeErr(op, err)
	}
	company, err := s.loadCompany(ctx, tenant)
	if err != nil {
		return UserView{}, storeErr(op, err)
	}
	if err := credential.CheckPassword(password, user.Email, user.Name, company.Name, company.Domain); err != nil {
		return UserView{}, problem.Wrap(op, err)
	}
	var ec emailClaim
	ev, err := get(ctx, s.Store, emailKey(user.Email), &ec)
	if err != nil {
		return UserView{}, storeErr(op, err)
	}
	if user.Status != UserInvited || ec.User != user.ID {
		return UserView{}, gone("user no longer invited")
	}
	if l.Email != "" && l.Email != user.Email {
		return UserView{}, gone("invitation mailed to an earlier address")
	}
	if user.PasswordHash, err = credential.Hash(password); err != nil {
		return UserView{}, problem.Wrap(op, err)
	}
	user.Status = UserActive
	userOp, err1 := userPut(tenant, user, time.Time{}, table.IfVersion(user.version))
	emailItem, err2 := item(emailKey(user.Email), ec, ev+1, time.Time{})
	if err := errors.Join(err1, err2); err != nil {
		return UserView{}, problem.E(op, problem.Internal, err)
	}
	lk := linkKey(tenant, hash)
	err = s.Store.Transact(ctx, []table.Op{
		{Delete: &lk, Condition: table.IfVersion(lv)}, userOp, {Put: &emailItem, Condition: table.IfVersion(ev)},
	})
	if errors.Is(err, table.ErrConditionFailed) {
		return UserView{}, gone(err)
	} else if err != nil {
		return UserView{}, storeErr(op, err)
	}
	s.publish(ctx, tenant, user.ID, EventUserActivated, map[string]any{"user": user.ID})
	return user.View(), nil
}

// RoleChange is the new role of a user; Areas and Department only for
// RoleAdmin.
type RoleChange struct {
	Role  Role
	Areas []Area
	// Department limits the admin's areas to that department's subtree.
	Department string
}

// superAdminRule checks the super admins a company would have after a
// change: at least one always, and at least two once it has had two.
func superAdminRule(op string, c Company, after []string) error {
	switch {
	case len(after) < 1:
		return problem.E(op, problem.Conflict, problem.Code("last-super-admin"), i18n.Text{
			EN: "A company must keep at least one super admin. Make someone else super admin first.",
			ZH: "公司必須保留最少一位超級管理員。請先委任另一位超級管理員。",
		})
	case c.HadTwoSuperAdmins && len(after) < 2:
		return problem.E(op, problem.Conflict, problem.Code("two-super-admins-required"), i18n.Text{
			EN: "This company has two super admins and must keep at least two, so that one can always review the other. Make someone else super admin first.",
			ZH: "公司已有兩位超級管理員，必須保持最少兩位，以便互相監察。請先委任另一位超級管理員。",
		})
	}
	return nil
}

// SetRole changes a user's role (super admins only). The user's tokens
// minted before the change stop working (ver); they sign in or refresh to
// get the new role.
func (s *Service) SetRole(ctx context.Context, a Actor, id string, ch RoleChange) (UserView, error) {
	const op = "identity.SetRole"
	if err := Authorize(a, PermAssignRoles); err != nil {
		return UserView{}, err
	}
	var f fieldErrors
	if !slices.Contains([]Role{RoleSuperAdmin, RoleAdmin, RoleEmployee}, ch.Role) {
		f.add("role", "one-of", i18n.Text{EN: "must be super-admin, admin or employee", ZH: "必須為 super-admin、admin 或 employee"})
	}
	var areas []Area
	for _, ar := range ch.Areas {
		switch {
		case !slices.Contains(Areas, ar):
			f.add("areas", "one-of", i18n.Text{EN: "must be among directory, attendance, approvals, files, audit", ZH: "必須為 directory、attendance、approvals、files、audit 之一"})
		case !slices.Contains(areas, ar):
			areas = append(areas, ar)
		}
	}
	if ch.Role == RoleAdmin && len(areas) == 0 {
		f.add("areas", "required", i18n.Text{EN: "an admin needs at least one area", ZH: "管理員最少須負責一個範疇"})
	}
	if ch.Role != RoleAdmin && len(ch.Areas) > 0 {
		f.add("areas", "not-allowed", i18n.Text{EN: "only admins have areas", ZH: "只有管理員設有範疇"})
	}
	if ch.Department != "" {
		switch {
		case ch.Role != RoleAdmin:
			f.add("department", "not-allowed", i18n.Text{EN: "only admins are limited to a department", ZH: "只有管理員可限於某部門"})
		case s.Departments == nil:
			f.add("department", "not-found", i18n.Text{EN: "there is no such department", ZH: "沒有此部門"})
		default:
			ok, err := s.Departments.DepartmentExists(ctx, a.Tenant, ch.Department)
			if err != nil {
				return UserView{}, storeErr(op, err)
			}
			if !ok {
				f.add("department", "not-found", i18n.Text{EN: "there is no such department", ZH: "沒有此部門"})
			}
		}
	}
	if err := f.err(op); err != nil {
		return UserView{}, err
	}
	slices.Sort(areas)
	return s.changeUser(ctx, op, a, id, func(c *Company, u *User) (string, any, error) {
		if u.Status != UserActive {
			return "", nil, problem.E(op, problem.Conflict, problem.Code("user-not-active"), i18n.Text{
				EN: "Only active users can be given a role.", ZH: "只可為已啟用的用戶設定角色。",
			})
		}
		before := map[string]any{"role": u.Role, "areas": u.Areas, "department": u.Department}
		u.Role, u.Areas, u.Department = ch.Role, areas, ch.Department
		return EventRolesChanged, map[string]any{"user": u.ID, "before": before,
			"after": map[string]any{"role": u.Role, "areas": u.Areas, "department": u.Department}}, nil
	})
}

// Deactivate stops a user: no sign-in, every session revoked, and access
// tokens already issued refused by the session check. Only super admins
// may deactivate admins; the super admin rule holds.
func (s *Service) Deactivate(ctx context.Context, a Actor, id string) (UserView, error) {
	const op = "identity.Deactivate"
	if err := Authorize(a, PermManageUsers); err != nil {
		return UserView{}, err
	}
	view, err := s.changeUser(ctx, op, a, id, func(c *Company, u *User) (string, any, error) {
		if u.IsAdmin() {
			if err := Authorize(a, PermAssignRoles); err != nil {
				return "", nil, err
			}
		}
		if u.Status == UserDeactivated {
			return "", nil, problem.E(op, problem.Conflict, problem.Code("already-deactivated"), i18n.Text{
				EN: "This user is already deactivated.", ZH: "此用戶已被停用。",
			})
		}
		u.Status, u.DeactivatedAt = UserDeactivated, s.Now().UTC()
		return EventUserDeactivated, map[string]any{"user": u.ID}, nil
	})
	if err != nil {
		return UserView{}, err
	}
	if _, err := s.Refreshes.RevokeUser(ctx, a.Tenant, id); err != nil {
		return UserView{}, problem.Wrap(op, err)
	}
	return view, nil
}

// changeUser applies change to a user and, in the same transaction, the
// company's list of super admins, checked against the super admin rule.
// Both writes are conditional on what was read, so concurrent changes
// cannot together break the rule; a lost race is retried.
func (s *Service) changeUser(ctx context.Context, op string, a Actor, id string, change func(*Company, *User) (string, any, error)) (UserView, error) {
	for attempt := 1; ; attempt++ {
		company, err := s.loadCompany(ctx, a.Tenant)
		if err != nil {
			return UserView{}, storeErr(op, err)
		}
		user, err := s.loadUser(ctx, a.Tenant, id)
		if errors.Is(err, table.ErrNotFound) {
			return UserView{}, noUser(op, err)
		} else if err != nil {
			return UserView{}, storeErr(op, err)
		}
		typ, data, err := change(&company, &user)
		if err != nil {
			return UserView{}, err
		}
		after := slices.DeleteFunc(slices.Clone(company.SuperAdmins), func(x string) bool { return x == user.ID })
		if user.Role == RoleSuperAdmin && user.Status == UserActive {
			after = append(after, user.ID)
		}
		slices.Sort(after)
		if err := superAdminRule(op, company, after); err != nil {
			return UserView{}, err
		}
		company.SuperAdmins = after
		company.HadTwoSuperAdmins = company.HadTwoSuperAdmins || len(after) >= 2
		user.TokenVersion++
		companyOp, err1 := companyPut(company, time.Time{}, table.IfVersion(company.version))
		userOp, err2 := userPut(a.Tenant, user, time.Time{}, table.IfVersion(user.version))
		if err := errors.Join(err1, err2); err != nil {
			return UserView{}, problem.E(op, problem.Internal, err)
		}
		err = s.Store.Transact(ctx, []table.Op{companyOp, userOp})
		if errors.Is(err, table.ErrConditionFailed) && attempt < 5 {
			continue
		} else if errors.Is(err, table.ErrConditionFailed) {
			return UserView{}, problem.E(op, problem.Conflict, problem.Code("concurrent-change"), err, i18n.Text{
				EN: "The company's users changed meanwhile; please try again.", ZH: "公司的用戶剛有變更，請再試一次。",
			})
		} else if err != nil {
			return UserView{}, storeErr(op, err)
		}
		s.publish(ctx, a.Tenant, a.User, typ, data)
		return user.View(), nil
	}
}

// SecuritySummary is the periodic permission review of a company.
type SecuritySummary struct {
	SuperAdmins             int            `json:"superAdmins"`
	FewerThanTwoSuperAdmins bool           `json:"fewerThanTwoSuperAdmins"`
	RequireMFAForEveryone   bool           `json:"requireMfaForEveryone"`
	AdminsWithout2FA        []UserView     `json:"adminsWithout2fa"`
	Admins                  []AdminLastUse `json:"admins"`
}

// AdminLastUse is one admin's role and last sign-in.
type AdminLastUse struct {
	ID          string    `json:"id"`
	Email       string    `json:"email"`
	Role        Role      `json:"role"`
	Areas       []Area    `json:"areas"`
	Department  string    `json:"department,omitempty"`
	TwoFactor   bool      `json:"twoFactor"`
	LastLoginAt time.Time `json:"lastLoginAt,omitzero"`
}

// Summary reports admins without a second factor, admins' last sign-ins
// and whether the company has fewer than two super admins.
func (s *Service) Summary(ctx context.Context, a Actor) (SecuritySummary, error) {
	const op = "identity.Summary"
	if err := Authorize(a, PermReviewSecurity); err != nil {
		return SecuritySummary{}, err
	}
	company, err := s.loadCompany(ctx, a.Tenant)
	if err != nil {
		return SecuritySummary{}, storeErr(op, err)
	}
	users, err := s.users(ctx, a.Tenant)
	if err != nil {
		return SecuritySummary{}, storeErr(op, err)
	}
	out := SecuritySummary{SuperAdmins: len(company.SuperAdmins), FewerThanTwoSuperAdmins: len(company.SuperAdmins) < 2,
		RequireMFAForEveryone: company.RequireMFA, AdminsWithout2FA: []UserView{}, Admins: []AdminLastUse{}}
	for _, u := range users {
		if !u.IsAdmin() || u.Status != UserActive {
			continue
		}
		v := u.View()
		out.Admins = append(out.Admins, AdminLastUse{ID: u.ID, Email: u.Email, Role: u.Role, Areas: v.Areas, TwoFactor: v.TwoFactor, LastLoginAt: u.LastLoginAt})
		if !u.HasTOTP() {
			out.AdminsWithout2FA = append(out.AdminsWithout2FA, v)
		}
	}
	return out, nil
}

// SetMFAPolicy makes a second factor compulsory for every user of the
// company (or only for admins, who always need one).
func (s *Service) SetMFAPolicy(ctx context.Context, a Actor, companyID string, everyone bool) (Company, error) {
	const op = "identity.SetMFAPolicy"
	if err := Authorize(a, PermSetCompanyPolicy); err != nil {
		return Company{}, err
	}
	if companyID != a.Tenant {
		return Company{}, problem.E(op, problem.NotFound, problem.Code("company-not-found"), i18n.Text{
			EN: "There is no such company.", ZH: "沒有此公司。",
		})
	}
	for attempt := 1; ; attempt++ {
		c, err := s.loadCompany(ctx, a.Tenant)
		if err != nil {
			return Company{}, storeErr(op, err)
		}
		c.RequireMFA = everyone
		put, err := companyPut(c, time.Time{}, table.IfVersion(c.version))
		if err == nil {
			err = s.Store.Put(ctx, *put.Put, put.Condition)
		}
		if errors.Is(err, table.ErrConditionFailed) && attempt < 5 {
			continue
		} else if err != nil {
			return Company{}, storeErr(op, err)
		}
		s.publish(ctx, a.Tenant, a.User, EventMFAPolicyChanged, map[string]any{"requireForEveryone": everyone})
		return c, nil
	}
}
