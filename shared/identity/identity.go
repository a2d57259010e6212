// Package identity is who may do what in Lantau: companies registered by
// their own e-mail domain, their users with roles, sign-in with a password
// and an enforced second factor, the tokens that result, and the one
// authorisation function every handler asks.
//
// It is domain code: it stores through the table port, sends mail through
// the mail port, publishes through the event port and signs through
// shared/token; it imports no AWS SDK and knows no HTTP. identityfn wires it
// to the API.
//
// Storage layout (one partition per company, plus the platform partition
// PlatformTenant for what must be unique across companies):
//
//	tenant        PK                 SK         what
//	_lantau       DOMAIN#<domain>    CLAIM      the company owning a domain
//	_lantau       EMAIL#<email>      CLAIM      the company and user of an address
//	<company>     COMPANY            COMPANY    the company
//	<company>     USERS              USER#<id>  a user (one partition: lists are one query)
//	<company>     LINK#<sha256>      LINK       a one-time link (confirmation, invitation, password reset)
//	<company>     PWRESET#<user>     PWRESET    the user's one live password reset link (its hash)
//	<company>     CHALLENGE#<sha256> CHALLENGE  a sign-in waiting for its second factor
//
// Items of a registration that is never confirmed expire with its link, so
// the domain and the address become free again.
package identity

import (
	"slices"
	"time"
)

// PlatformTenant holds the items that are unique across companies.
const PlatformTenant = "_lantau"

// EventSource is the source of identity's events on the bus.
const EventSource = "lantau.identity"

// Event types.
const (
	EventCompanyRegistered  = "CompanyRegistered"
	EventCompanyConfirmed   = "CompanyConfirmed"
	EventLoginSucceeded     = "LoginSucceeded"
	EventLoginFailed        = "LoginFailed"
	EventNewDeviceLogin     = "NewDeviceLogin"
	EventLoggedOut          = "LoggedOut"
	EventTOTPEnrolled       = "TOTPEnrolled"
	EventUserInvited        = "UserInvited"
	EventUserActivated      = "UserActivated"
	EventRolesChanged       = "RolesChanged"
	EventUserDeactivated    = "UserDeactivated"
	EventMFAPolicyChanged   = "MFAPolicyChanged"
	EventRefreshTokenReused = "RefreshTokenReused"
	// EventPasswordChanged: a user's password was changed by its owner
	// ("method":"change") or set through a mailed reset link ("reset").
	EventPasswordChanged = "PasswordChanged"
	// EventPasswordResetRequested: a reset link was mailed to an active
	// user (requests for other addresses are not recorded anywhere).
	EventPasswordResetRequested = "PasswordResetRequested"
	// EventMFAReset: an admin removed a user's second factor and recovery
	// codes; the user must enrol again.
	EventMFAReset = "MFAReset"
	// EventLoginFailuresRepeated: an account's failed sign-ins reached
	// RepeatedFailuresThreshold within an hour; its owner was mailed.
	EventLoginFailuresRepeated = "LoginFailuresRepeated"
	// EventSessionEnded: a user ended one of their own sign-ins (reason
	// SessionEndedByUser; "current" says whether it was the caller's).
	EventSessionEnded = "SessionEnded"
)

// Data regions a company may choose.
var DataRegions = []string{"ap-east-1", "ap-southeast-1"}

// Scopes of access tokens. A full sign-in gets ScopeAPI; a user who must
// enrol a second factor and has not gets ScopeEnrol only, which no route but
// enrolment (and logout) accepts.
const (
	ScopeAPI   = "lantau/api"
	ScopeEnrol = "lantau/enrol"
)

// Role is what a user is in the company.
type Role string

// Roles.
const (
	RoleSuperAdmin Role = "super-admin"
	RoleAdmin      Role = "admin"
	RoleEmployee   Role = "employee"
)

// Area is a part of Lantau an admin may administer.
type Area string

// Areas.
const (
	AreaDirectory  Area = "directory"
	AreaAttendance Area = "attendance"
	AreaApprovals  Area = "approvals"
	AreaFiles      Area = "files"
	AreaAudit      Area = "audit"
)

// DepartmentRolePrefix starts the roles-claim entry that limits a scoped
// admin to a department subtree: "dept:<department ID>".
const DepartmentRolePrefix = "dept:"

// Areas lists every area.
var Areas = []Area{AreaDirectory, AreaAttendance, AreaApprovals, AreaFiles, AreaAudit}

// Company statuses.
const (
	CompanyPending = "pending" // registered, not yet confirmed by its first admin
	CompanyActive  = "active"
)

// User statuses.
const (
	UserPending     = "pending"     // first admin of a company not yet confirmed
	UserInvited     = "invited"     // invited, has not set a password
	UserActive      = "active"      // may sign in
	UserDeactivated = "deactivated" // may not sign in; tokens refused
)

// Company is a registered company.
type Company struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Domain     string    `json:"domain"`
	DataRegion string    `json:"dataRegion"`
	Status     string    `json:"status"`
	CreatedAt  time.Time `json:"createdAt"`
	// ConfirmedAt is when the first admin confirmed the registration.
	ConfirmedAt time.Time `json:"confirmedAt,omitzero"`
	// RequireMFA makes a second factor compulsory for every user, not
	// only for admins and super admins.
	RequireMFA bool `json:"requireMfa"`
	// SuperAdmins are the active super admins' user IDs.
	SuperAdmins []string `json:"superAdmins"`
	// HadTwoSuperAdmins turns on once the company has two super admins:
	// from then on it may not drop below two.
	HadTwoSuperAdmins bool `json:"hadTwoSuperAdmins"`

	version int64
}

// User is a person of a company.
type User struct {
	ID     string `json:"id"`
	Email  string `json:"email"`
	Name   string `json:"name"`
	Status string `json:"status"`
	Role   Role   `json:"role"`
	Areas  []Area `json:"areas,omitempty"`
	// Department limits an admin's areas to a department and its
	// sub-departments; "" is the whole company.
	Department    string    `json:"department,omitempty"`
	Lang          string    `json:"lang,omitempty"` // "en" or "zh-HK": the language of mails
	PasswordHash  string    `json:"passwordHash,omitempty"`
	TOTPSealed    []byte    `json:"totp,omitempty"`        // sealed secret, once confirmed
	TOTPPending   []byte    `json:"totpPending,omitempty"` // sealed secret being enrolled
	TOTPEnrolled  time.Time `json:"totpEnrolledAt,omitzero"`
	TokenVersion  int       `json:"tokenVersion"` // the ver claim; bumped on role change and deactivation
	CreatedAt     time.Time `json:"createdAt"`
	LastLoginAt   time.Time `json:"lastLoginAt,omitzero"`
	DeactivatedAt time.Time `json:"deactivatedAt,omitzero"`

	version int64
}

// HasTOTP reports whether the user has a confirmed second factor.
func (u User) HasTOTP() bool { return len(u.TOTPSealed) > 0 }

// IsAdmin reports whether the user is an admin or super admin.
func (u User) IsAdmin() bool { return u.Role == RoleSuperAdmin || u.Role == RoleAdmin }

// MustHaveMFA reports whether u must sign in with a second factor in c.
func (u User) MustHaveMFA(c Company) bool { return u.IsAdmin() || c.RequireMFA }

// TokenRoles are the roles claim of u's access tokens: the role, "employee"
// for every user (admins are staff too), and for admins one "admin:<area>"
// per area. The audit area also gives "auditor", the role the audit API
// reads.
func (u User) TokenRoles() []string {
	roles := []string{string(u.Role)}
	if u.Role != RoleEmployee {
		roles = append(roles, string(RoleEmployee))
	}
	if u.Role == RoleAdmin {
		for _, a := range u.Areas {
			roles = append(roles, "admin:"+string(a))
		}
		if slices.Contains(u.Areas, AreaAudit) {
			roles = append(roles, "auditor")
		}
		if u.Department != "" {
			roles = append(roles, DepartmentRolePrefix+u.Department)
		}
	}
	return roles
}
