package identity

import (
	"slices"
	"strings"

	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/problem"
)

// Actor is the caller as the domain sees it, read once from the token's
// claims at the edge.
type Actor struct {
	Tenant    string
	User      string
	SessionID string
	Role      Role // the strongest role in the token; "" when it names none
	Areas     []Area
	// Department is the root of the subtree a scoped admin's areas are
	// limited to; "" is the whole company. Capabilities that know
	// departments enforce it (AdministersIn).
	Department string
	Scopes     []string
}

// ActorFromClaims builds an Actor from the token's claims: roles as
// User.TokenRoles writes them, scopes as the token's scope claim.
func ActorFromClaims(tenant, user, sessionID string, roles, scopes []string) Actor {
	a := Actor{Tenant: tenant, User: user, SessionID: sessionID, Scopes: slices.Clone(scopes)}
	for _, r := range roles {
		switch {
		case r == string(RoleSuperAdmin):
			a.Role = RoleSuperAdmin
		case r == string(RoleAdmin) && a.Role != RoleSuperAdmin:
			a.Role = RoleAdmin
		case r == string(RoleEmployee) && a.Role == "":
			a.Role = RoleEmployee
		case strings.HasPrefix(r, DepartmentRolePrefix):
			a.Department = strings.TrimPrefix(r, DepartmentRolePrefix)
		case strings.HasPrefix(r, "admin:"):
			if area := Area(strings.TrimPrefix(r, "admin:")); slices.Contains(Areas, area) && !slices.Contains(a.Areas, area) {
				a.Areas = append(a.Areas, area)
			}
		}
	}
	if a.Role != RoleAdmin {
		a.Areas, a.Department = nil, "" // areas mean something only for scoped admins
	}
	return a
}

// HasScope reports whether the token carries scope.
func (a Actor) HasScope(scope string) bool { return slices.Contains(a.Scopes, scope) }

// Administers reports whether a is a super admin, or an admin of area.
func (a Actor) Administers(area Area) bool {
	return a.Role == RoleSuperAdmin || (a.Role == RoleAdmin && slices.Contains(a.Areas, area))
}

// Subtree answers whether department lies in the subtree rooted at root
// (root itself included). Capabilities that store departments implement it.
type Subtree func(root, department string) (bool, error)

// AdministersIn reports whether a administers area for a thing in
// department ("" for a thing in no department): super admins and
// company-wide admins of the area everywhere, a department-scoped admin
// only inside their subtree, and never for things in no department.
func (a Actor) AdministersIn(area Area, department string, within Subtree) (bool, error) {
	switch {
	case !a.Administers(area):
		return false, nil
	case a.Role == RoleSuperAdmin || a.Department == "":
		return true, nil
	case department == "":
		return false, nil
	}
	return within(a.Department, department)
}

// Permission is something a caller may be allowed to do.
type Permission string

// Permissions.
const (
	// PermEnrolMFA: set up one's own second factor. The only permission
	// an enrol-only token has, with PermSignOut.
	PermEnrolMFA Permission = "identity.mfa.enrol"
	// PermSignOut: end one's own session.
	PermSignOut Permission = "identity.session.end"
	// PermReadSelf: read one's own profile.
	PermReadSelf Permission = "identity.self.read"
	// PermReadUsers: list and read the company's users.
	PermReadUsers Permission = "identity.users.read"
	// PermManageUsers: invite and deactivate employees.
	PermManageUsers Permission = "identity.users.manage"
	// PermAssignRoles: make users admins or super admins, or deactivate them.
	PermAssignRoles Permission = "identity.roles.assign"
	// PermReviewSecurity: read the security summary.
	PermReviewSecurity Permission = "identity.security.read"
	// PermSetCompanyPolicy: change the company's sign-in policy.
	PermSetCompanyPolicy Permission = "identity.company.policy"
	// PermChangePassword: change one's own password (knowing the current one).
	PermChangePassword Permission = "identity.self.password"
	// PermResetMFA: remove another user's second factor so that they enrol
	// again (a lost phone). ResetMFA also needs PermAssignRoles when the
	// user is an admin or super admin.
	PermResetMFA Permission = "identity.users.mfa.reset"
	// PermOwnSessions: list one's own sign-ins and end them.
	PermOwnSessions Permission = "identity.self.sessions"
	// PermReviewSessions: list another user's sign-ins (incident response).
	PermReviewSessions Permission = "identity.users.sessions.read"
)

// rules says who holds each permission. A permission missing here is held
// by nobody: deny by default.
var rules = map[Permission]func(Actor) bool{
	PermEnrolMFA: func(a Actor) bool { return a.HasScope(ScopeAPI) || a.HasScope(ScopeEnrol) },
	PermSignOut:  func(a Actor) bool { return a.HasScope(ScopeAPI) || a.HasScope(ScopeEnrol) },
	PermReadSelf: func(a Actor) bool { return a.HasScope(ScopeAPI) },
	// Identity knows no departments: admins limited to one use the
	// directory's routes, which check the subtree.
	PermReadUsers:        func(a Actor) bool { return a.HasScope(ScopeAPI) && a.Administers(AreaDirectory) && a.Department == "" },
	PermManageUsers:      func(a Actor) bool { return a.HasScope(ScopeAPI) && a.Administers(AreaDirectory) && a.Department == "" },
	PermAssignRoles:      func(a Actor) bool { return a.HasScope(ScopeAPI) && a.Role == RoleSuperAdmin },
	PermReviewSecurity:   func(a Actor) bool { return a.HasScope(ScopeAPI) && a.Role == RoleSuperAdmin },
	PermSetCompanyPolicy: func(a Actor) bool { return a.HasScope(ScopeAPI) && a.Role == RoleSuperAdmin },
	// An enrol-only token proves the password only: it may not change it.
	PermChangePassword: func(a Actor) bool { return a.HasScope(ScopeAPI) },
	// Resetting a second factor follows deactivation, the other thing done
	// to an account that has lost control of a credential: whoever may stop
	// an account (a company-wide directory admin, for employees) may also
	// send it back to enrolment, and admins' accounts need a super admin
	// (PermAssignRoles, checked in ResetMFA against the target). A reset
	// grants nobody access, since the password is still needed, but with a
	// stolen password it would strip the account's last defence, so it is
	// kept to those who could already deactivate the account, never on
	// oneself (ResetMFA refuses), and always audited.
	PermResetMFA: func(a Actor) bool { return a.HasScope(ScopeAPI) && a.Administers(AreaDirectory) && a.Department == "" },
	// An enrol-only token may end only itself (PermSignOut): listing and
	// ending other sign-ins needs a full one.
	PermOwnSessions: func(a Actor) bool { return a.HasScope(ScopeAPI) },
	// Where a user signs in from is personal data: only super admins see
	// it, as they see the security summary.
	PermReviewSessions: func(a Actor) bool { return a.HasScope(ScopeAPI) && a.Role == RoleSuperAdmin },
}

var (
	textEnrolFirst = i18n.Text{
		EN: "Set up two-factor sign-in first; until then your sign-in can only do that.",
		ZH: "請先設定雙重認證；在此之前，你的登入只可用於設定雙重認證。",
	}
	textNotAllowed = i18n.Text{
		EN: "You do not have permission to do this.",
		ZH: "你沒有權限進行此操作。",
	}
)

// Authorize is the one authorisation decision of identity: nil when a may
// do p, else a Forbidden problem. Everything not granted is denied, and no
// one is anything without a tenant and a user.
func Authorize(a Actor, p Permission) error {
	const op = "identity.Authorize"
	rule, known := rules[p]
	switch {
	case a.Tenant == "" || a.User == "":
		return problem.E(op, problem.Forbidden, problem.Code("forbidden"), textNotAllowed, "no tenant or user")
	case !known:
		return problem.E(op, problem.Forbidden, problem.Code("forbidden"), textNotAllowed, "unknown permission "+string(p))
	case rule(a):
		return nil
	case a.HasScope(ScopeEnrol) && !a.HasScope(ScopeAPI):
		return problem.E(op, problem.Forbidden, problem.Code("mfa-enrolment-required"), textEnrolFirst, "enrol-only token for "+string(p))
	default:
		return problem.E(op, problem.Forbidden, problem.Code("forbidden"), textNotAllowed, string(p)+" denied to "+string(a.Role))
	}
}
