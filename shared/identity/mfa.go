package identity

import (
	"context"
	"errors"
	"time"

	"github.com/lantau-hq/lantau/shared/credential"
	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/table"
)

// Enrolment is a new TOTP secret shown to its user once, to be confirmed
// with a first code.
type Enrolment struct {
	Secret     string `json:"secret"`
	OTPAuthURI string `json:"otpauthUri"`
	QRCodePNG  []byte `json:"qrCodePng"` // base64 in JSON
}

// Enrolled is the answer to a confirmed enrolment: the recovery codes,
// shown once, and, when the caller held an enrol-only token, full tokens
// of a new session.
type Enrolled struct {
	RecoveryCodes []string `json:"recoveryCodes"`
	Tokens        *Tokens  `json:"tokens,omitempty"`
}

var textAlreadyEnrolled = i18n.Text{
	EN: "Two-factor sign-in is already set up for your account.",
	ZH: "你的帳戶已設定雙重認證。",
}

// StartTOTP makes a TOTP secret for the actor, kept sealed and pending
// until ConfirmTOTP. Starting again replaces a pending secret.
func (s *Service) StartTOTP(ctx context.Context, a Actor) (Enrolment, error) {
	const op = "identity.StartTOTP"
	if err := Authorize(a, PermEnrolMFA); err != nil {
		return Enrolment{}, err
	}
	user, err := s.loadUser(ctx, a.Tenant, a.User)
	if err != nil {
		return Enrolment{}, storeErr(op, err)
	}
	if user.HasTOTP() {
		return Enrolment{}, problem.E(op, problem.Conflict, problem.Code("mfa-already-enrolled"), textAlreadyEnrolled)
	}
	e, err := credential.NewEnrolment(TOTPIssuer, user.Email)
	if err != nil {
		return Enrolment{}, problem.Wrap(op, err)
	}
	sealed, err := s.Sealer.Seal([]byte(e.Secret))
	if err != nil {
		return Enrolment{}, problem.Wrap(op, err)
	}
	user.TOTPPending = sealed
	put, err := userPut(a.Tenant, user, time.Time{}, table.IfVersion(user.version))
	if err == nil {
		err = s.Store.Put(ctx, *put.Put, put.Condition)
	}
	if errors.Is(err, table.ErrConditionFailed) {
		return Enrolment{}, problem.E(op, problem.Conflict, problem.Code("user-changed"), err, i18n.Text{
			EN: "Your account changed meanwhile; please try again.", ZH: "你的帳戶剛有變更，請再試一次。",
		})
	} else if err != nil {
		return Enrolment{}, storeErr(op, err)
	}
	return Enrolment{Secret: e.Secret, OTPAuthURI: e.URI, QRCodePNG: e.QRCode}, nil
}

// ConfirmTOTP checks the first code of a pending secret and makes it the
// actor's second factor; that code is then used up. It returns recovery
// codes, shown this once. An actor holding an enrol-only token gets full
// tokens of a new session too (the enrol-only session ends).
func (s *Service) ConfirmTOTP(ctx context.Context, a Actor, code string, c Client) (Enrolled, error) {
	const op = "identity.ConfirmTOTP"
	if err := Authorize(a, PermEnrolMFA); err != nil {
		return Enrolled{}, err
	}
	user, err := s.loadUser(ctx, a.Tenant, a.User)
	if err != nil {
		return Enrolled{}, storeErr(op, err)
	}
	if user.HasTOTP() {
		return Enrolled{}, problem.E(op, problem.Conflict, problem.Code("mfa-already-enrolled"), textAlreadyEnrolled)
	}
	if len(user.TOTPPending) == 0 {
		return Enrolled{}, problem.E(op, problem.Conflict, problem.Code("mfa-not-started"), i18n.Text{
			EN: "Start the set-up first (POST /v1/auth/totp).", ZH: "請先開始設定（POST /v1/auth/totp）。",
		})
	}
	secret, err := s.Sealer.Open(user.TOTPPending)
	if err != nil {
		return Enrolled{}, problem.Wrap(op, err)
	}
	ok, err := s.used.Verify(ctx, a.Tenant, user.ID, string(secret), code, s.Now())
	if err != nil {
		return Enrolled{}, problem.Wrap(op, err)
	}
	if !ok {
		return Enrolled{}, problem.E(op, problem.Invalid, problem.Code("invalid-code"), i18n.Text{
			EN: "The code is not valid. Enter the code your authenticator app shows now.",
			ZH: "驗證碼無效。請輸入驗證器應用程式目前顯示的驗證碼。",
		}, problem.FieldError{Field: "code", Code: "invalid", Message: i18n.Text{EN: "is not valid", ZH: "無效"}})
	}
	// Codes first: if the user update then fails, a retry replaces them.
	codes, err := s.recovery.Replace(ctx, a.Tenant, user.ID)
	if err != nil {
		return Enrolled{}, problem.Wrap(op, err)
	}
	user.TOTPSealed, user.TOTPPending, user.TOTPEnrolled = user.TOTPPending, nil, s.Now().UTC()
	put, err := userPut(a.Tenant, user, time.Time{}, table.IfVersion(user.version))
	if err == nil {
		err = s.Store.Put(ctx, *put.Put, put.Condition)
	}
	if errors.Is(err, table.ErrConditionFailed) {
		return Enrolled{}, problem.E(op, problem.Conflict, problem.Code("user-changed"), err, i18n.Text{
			EN: "Your account changed meanwhile; please start the set-up again.", ZH: "你的帳戶剛有變更，請重新開始設定。",
		})
	} else if err != nil {
		return Enrolled{}, storeErr(op, err)
	}
	user.version++
	s.publish(ctx, a.Tenant, user.ID, EventTOTPEnrolled, map[string]any{"user": user.ID})
	out := Enrolled{RecoveryCodes: codes}
	if a.HasScope(ScopeEnrol) && !a.HasScope(ScopeAPI) {
		if a.SessionID != "" {
			if _, err := s.Refreshes.RevokeSession(ctx, a.Tenant, a.SessionID); err != nil {
				s.Log.ErrorContext(ctx, "enrol-only session not ended", "error", err.Error())
			}
		}
		company, err := s.loadCompany(ctx, a.Tenant)
		if err != nil {
			return Enrolled{}, storeErr(op, err)
		}
		if out.Tokens, err = s.signIn(ctx, company, user, c, methodTOTP); err != nil {
			return Enrolled{}, problem.Wrap(op, err)
		}
	}
	return out, nil
}

// ResetMFA removes a user's second factor and recovery codes, for a user
// who lost their authenticator: every sign-in of the user ends and their
// tokens stop working, and their next password sign-in gets the token that
// can only enrol a new factor (or full tokens, for an employee of a company
// that does not require one). Who may: see PermResetMFA; an admin's or
// super admin's factor needs a super admin, and nobody resets their own
// (403 "own-mfa-reset": another admin must, so that one stolen sign-in
// cannot strip its own account's factor). The user is mailed, and MFAReset
// goes to the audit trail.
func (s *Service) ResetMFA(ctx context.Context, a Actor, id string) (UserView, error) {
	const op = "identity.ResetMFA"
	if err := Authorize(a, PermResetMFA); err != nil {
		return UserView{}, err
	}
	if id == a.User {
		return UserView{}, problem.E(op, problem.Forbidden, problem.Code("own-mfa-reset"), i18n.Text{
			EN: "You cannot reset your own two-factor sign-in. Use a recovery code to sign in, or ask another admin to reset it.",
			ZH: "你不能重設自己的雙重認證。請以備用碼登入，或請另一位管理員代為重設。",
		})
	}
	var target User
	view, err := s.changeUser(ctx, op, a, id, func(_ *Company, u *User) (string, any, error) {
		if u.IsAdmin() && a.Role != RoleSuperAdmin {
			return "", nil, problem.E(op, problem.Forbidden, problem.Code("forbidden"), i18n.Text{
				EN: "Only a super admin can reset an admin's two-factor sign-in.", ZH: "只有超級管理員可重設管理員的雙重認證。",
			})
		}
		if u.Status != UserActive {
			return "", nil, problem.E(op, problem.Conflict, problem.Code("user-not-active"), i18n.Text{
				EN: "Only an active user's two-factor sign-in can be reset.", ZH: "只可重設已啟用用戶的雙重認證。",
			})
		}
		if !u.HasTOTP() && len(u.TOTPPending) == 0 {
			return "", nil, problem.E(op, problem.Conflict, problem.Code("mfa-not-enrolled"), i18n.Text{
				EN: "This user has not set up two-factor sign-in: there is nothing to reset.",
				ZH: "此用戶尚未設定雙重認證，無須重設。",
			})
		}
		had := u.HasTOTP()
		u.TOTPSealed, u.TOTPPending, u.TOTPEnrolled = nil, nil, time.Time{}
		target = *u
		return EventMFAReset, map[string]any{"user": u.ID, "hadFactor": had}, nil
	})
	if err != nil {
		return UserView{}, err
	}
	if _, err := s.Refreshes.RevokeUser(ctx, a.Tenant, id); err != nil {
		return UserView{}, problem.Wrap(op, err)
	}
	// Codes left behind could not be used (LoginMFA needs a factor) and a
	// new enrolment replaces them; clearing them is tidiness, not safety.
	if _, err := s.recovery.Clear(ctx, a.Tenant, id); err != nil {
		s.Log.ErrorContext(ctx, "recovery codes not cleared after a second factor reset", "error", err.Error())
	}
	if err := s.send(ctx, mfaResetMail(langOf(target.Lang), target.Email, a.Tenant, target.Name, s.Now())); err != nil {
		s.Log.ErrorContext(ctx, "second factor reset not mailed", "error", err.Error())
	}
	return view, nil
}
