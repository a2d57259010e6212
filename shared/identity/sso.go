package identity

// Single sign-on, identity's side: which company a sign-in is for, which
// employee an identity provider's verified address is, and the Lantau
// session that follows. The OpenID Connect flow itself is shared/sso,
// composed with this by identityfn; identity does not import it (the
// session package, used by every function, imports identity).

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/table"
)

// EventSSOConfigured reports a change of a company's single sign-on:
// data.action is "saved" or "removed". The client secret is never in it.
const EventSSOConfigured = "SSOConfigured"

// LoginMethodSSO is the method of a LoginSucceeded event of a single
// sign-on.
const LoginMethodSSO = "sso"

var textNoCompany = i18n.Text{EN: "There is no such company.", ZH: "沒有此公司。"}

// AuthorizeSSOSettings checks that a may read and change the single
// sign-on settings of companyID: a super admin of that very company
// (PermSetCompanyPolicy: SSO is part of the company's sign-in policy).
// Another company's ID is not found, as if it did not exist.
func (s *Service) AuthorizeSSOSettings(a Actor, companyID string) error {
	const op = "identity.AuthorizeSSOSettings"
	if err := Authorize(a, PermSetCompanyPolicy); err != nil {
		return err
	}
	if companyID != a.Tenant {
		return problem.E(op, problem.NotFound, problem.Code("company-not-found"), textNoCompany)
	}
	return nil
}

// SSOConfigured publishes EventSSOConfigured for a's company.
func (s *Service) SSOConfigured(ctx context.Context, a Actor, data map[string]any) {
	s.publish(ctx, a.Tenant, a.User, EventSSOConfigured, data)
}

// CompanyForSignIn finds the active company a sign-in names, by its ID or
// by its domain. Errors: 404 "company-not-found".
func (s *Service) CompanyForSignIn(ctx context.Context, idOrDomain string) (string, error) {
	const op = "identity.CompanyForSignIn"
	ref := strings.ToLower(strings.TrimSpace(idOrDomain))
	notFound := func(cause any) error {
		return problem.E(op, problem.NotFound, problem.Code("company-not-found"), textNoCompany, cause)
	}
	tenant := strings.TrimSpace(idOrDomain)
	if strings.Contains(ref, ".") {
		var claim domainClaim
		if _, err := get(ctx, s.Store, domainKey(ref), &claim); errors.Is(err, table.ErrNotFound) {
			return "", notFound("no company has domain " + ref)
		} else if err != nil {
			return "", storeErr(op, err)
		}
		tenant = claim.Tenant
	}
	if !validTenant(tenant) || tenant == PlatformTenant {
		return "", notFound("malformed company reference")
	}
	c, err := s.loadCompany(ctx, tenant)
	if errors.Is(err, table.ErrNotFound) {
		return "", notFound("no company " + tenant)
	} else if err != nil {
		return "", storeErr(op, err)
	}
	if c.Status != CompanyActive {
		return "", notFound("company " + c.Status)
	}
	return c.ID, nil
}

// FindActiveByEmail looks email up among tenant's active users; a user of
// another company, an invited or a deactivated one is not found. It is
// shared/sso's Directory.
func (s *Service) FindActiveByEmail(ctx context.Context, tenant, email string) (string, bool, error) {
	claimTenant, u, err := s.userByEmail(ctx, strings.ToLower(strings.TrimSpace(email)))
	switch {
	case errors.Is(err, table.ErrNotFound):
		return "", false, nil
	case err != nil:
		return "", false, err
	case claimTenant != tenant || u.Status != UserActive:
		return "", false, nil
	}
	return u.ID, true, nil
}

// ExternalIdentity is a user as a company's identity provider vouched for
// them: the address is verified and on one of the company's SSO domains.
type ExternalIdentity struct {
	Issuer, Subject string
	Email           string // lower-case
	Name            string
}

// LoginSSO finishes a single sign-on for tenant: as the active user
// userID, or, when create is set (the company lets SSO create users and
// no user has the address), as a new active employee made from id.
//
// The identity provider's sign-in stands for both factors: the company
// chose to trust its provider (which enforces its own MFA policy, as Azure
// AD's Conditional Access and Google's 2-Step Verification do), so an
// admin without Lantau TOTP gets full tokens here rather than an
// enrol-only one. Password sign-in to the same account still needs TOTP.
func (s *Service) LoginSSO(ctx context.Context, tenant, userID string, id ExternalIdentity, create bool, c Client) (*Tokens, error) {
	const op = "identity.LoginSSO"
	company, err := s.loadCompany(ctx, tenant)
	if err != nil {
		return nil, storeErr(op, err)
	}
	if company.Status != CompanyActive {
		return nil, problem.E(op, problem.Forbidden, problem.Code("sso-no-employee"), textNoSSOUser, "company "+company.Status)
	}
	var user User
	if create {
		if user, err = s.createSSOUser(ctx, company, id); err != nil {
			return nil, err
		}
	} else if user, err = s.loadUser(ctx, tenant, userID); errors.Is(err, table.ErrNotFound) {
		return nil, problem.E(op, problem.Forbidden, problem.Code("sso-no-employee"), textNoSSOUser, err)
	} else if err != nil {
		return nil, storeErr(op, err)
	}
	if user.Status != UserActive || !strings.EqualFold(user.Email, id.Email) {
		return nil, problem.E(op, problem.Forbidden, problem.Code("sso-no-employee"), textNoSSOUser, "user "+user.Status)
	}
	tokens, err := s.signIn(ctx, company, user, c, signInMethod{name: LoginMethodSSO, amr: []string{AMRFederated},
		event: map[string]any{"idpIssuer": id.Issuer, "idpSubject": id.Subject}})
	return tokens, problem.Wrap(op, err)
}

var textNoSSOUser = i18n.Text{
	EN: "No active employee account has this email address. Please ask your company's administrator to add you.",
	ZH: "沒有使用此電郵地址的在職員工帳戶，請聯絡公司管理員為你新增帳戶。",
}

// createSSOUser adds an active employee without a password (they sign in
// through the provider; a password can come later by invitation flows).
// An address taken meanwhile, here or in another company, is refused.
func (s *Service) createSSOUser(ctx context.Context, company Company, id ExternalIdentity) (User, error) {
	const op = "identity.createSSOUser"
	email := strings.ToLower(strings.TrimSpace(id.Email))
	name := strings.TrimSpace(id.Name)
	if name == "" || len(name) > 200 {
		name, _, _ = strings.Cut(email, "@")
	}
	now := s.Now().UTC()
	user := User{ID: newID("u-"), Email: email, Name: name, Status: UserActive, Role: RoleEmployee, CreatedAt: now}
	emailItem, err1 := item(emailKey(email), emailClaim{Tenant: company.ID, User: user.ID}, 1, time.Time{})
	userOp, err2 := userPut(company.ID, user, time.Time{}, table.IfNotExists)
	if err := errors.Join(err1, err2); err != nil {
		return User{}, problem.E(op, problem.Internal, err)
	}
	err := s.Store.Transact(ctx, []table.Op{{Put: &emailItem, Condition: table.IfNotExists}, userOp})
	if errors.Is(err, table.ErrConditionFailed) {
		return User{}, problem.E(op, problem.Forbidden, problem.Code("sso-no-employee"), textNoSSOUser,
			"address already has an account (not an active user of this company)")
	} else if err != nil {
		return User{}, storeErr(op, err)
	}
	user.version = 1
	s.publish(ctx, company.ID, user.ID, EventUserActivated, map[string]any{"user": user.ID, "email": email, "method": LoginMethodSSO})
	return user, nil
}

// ssoThrottleAccount is the throttle's account for single sign-on
// callbacks from ip. A callback names no account before it succeeds, and
// counting failures against the company would let anyone lock a whole
// company out of SSO, so they count per network address.
func ssoThrottleAccount(ip string) string { return "sso-callback@" + ip }

// BeginSSOCallback admits a single sign-on callback from c, or refuses it
// (429 with Retry-After) after too many failures from its network, as
// password sign-in does. Every admitted callback must be settled with
// EndSSOCallback.
func (s *Service) BeginSSOCallback(ctx context.Context, c Client) error {
	_, err := s.ssoThrottle.Check(ctx, PlatformTenant, ssoThrottleAccount(c.IP), c.IP, s.Now())
	return problem.Wrap("identity.BeginSSOCallback", err)
}

// EndSSOCallback settles a callback that BeginSSOCallback admitted. A
// failure counts in the throttle and goes to the audit trail of the
// company the callback named (tenant, "" when it named none) as
// LoginFailed with method "sso" and the reason's problem code.
func (s *Service) EndSSOCallback(ctx context.Context, tenant string, c Client, failure error) {
	now, account := s.Now(), ssoThrottleAccount(c.IP)
	if failure == nil {
		if err := s.ssoThrottle.Succeed(ctx, PlatformTenant, account, c.IP, now); err != nil {
			s.Log.ErrorContext(ctx, "sign-in throttle not updated", "error", err.Error())
		}
		return
	}
	if err := s.ssoThrottle.Fail(ctx, PlatformTenant, account, c.IP, now); err != nil {
		s.Log.ErrorContext(ctx, "sign-in throttle not updated", "error", err.Error())
	}
	reason := string(problem.CodeOf(failure))
	if reason == "" {
		reason = "sso-failed"
	}
	actor := "anonymous"
	if tenant == "" || !validTenant(tenant) {
		tenant = PlatformTenant
	}
	s.publish(ctx, tenant, actor, EventLoginFailed, map[string]any{"reason": reason, "method": LoginMethodSSO,
		"ip": c.IP, "userAgent": c.UserAgent})
}
