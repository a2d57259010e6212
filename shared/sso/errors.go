package sso

import (
	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/problem"
)

// Codes of the SSO problems. Clients may rely on them.
const (
	// 400: the sign-in cannot be resumed; the user starts it again.
	CodeStateInvalid problem.Code = "sso-state-invalid" // malformed, unknown, or the company's SSO changed meanwhile
	CodeStateExpired problem.Code = "sso-state-expired" // older than the state's lifetime (10 minutes)
	CodeStateUsed    problem.Code = "sso-state-used"    // presented a second time (replay)
	CodeCodeMissing  problem.Code = "sso-code-missing"  // the callback carried no authorization code

	// 401: what came back from the identity provider does not prove who the user is.
	CodeNonceMismatch problem.Code = "sso-nonce-mismatch" // the ID token is not the answer to this sign-in
	CodeTokenInvalid  problem.Code = "sso-token-invalid"  // code refused, or ID token unverifiable (signature, issuer, audience, expiry)

	// 403: the user is who they say, but may not sign in this way.
	CodeEmailUnverified  problem.Code = "sso-email-unverified"   // no email, or the provider has not verified it
	CodeDomainNotAllowed problem.Code = "sso-domain-not-allowed" // the email's domain is not one of the company's
	CodeNoEmployee       problem.Code = "sso-no-employee"        // no active employee has the email
	CodeNotConfigured    problem.Code = "sso-not-configured"     // the company has no SSO (404 from Configs.Get)

	// 503: the identity provider could not be reached or failed.
	CodeProviderUnavailable problem.Code = "sso-provider-unavailable"

	// 400: Configs.Save refused the configuration (see the field errors).
	CodeConfigInvalid problem.Code = "sso-config-invalid"
)

var (
	textStateInvalid = i18n.Text{
		EN: "This sign-in link is not valid. Please start signing in again.",
		ZH: "此登入連結無效，請重新開始登入。",
	}
	textStateExpired = i18n.Text{
		EN: "This sign-in took too long and has expired. Please start signing in again.",
		ZH: "登入時間過長，已經逾時，請重新開始登入。",
	}
	textStateUsed = i18n.Text{
		EN: "This sign-in link has already been used. Please start signing in again.",
		ZH: "此登入連結已經使用過，請重新開始登入。",
	}
	textCodeMissing = i18n.Text{
		EN: "Your identity provider did not complete the sign-in. Please try again.",
		ZH: "你的身份提供者未有完成登入，請再試一次。",
	}
	textNonceMismatch = i18n.Text{
		EN: "The answer from your identity provider does not belong to this sign-in. Please start signing in again.",
		ZH: "身份提供者的回應與此登入不符，請重新開始登入。",
	}
	textTokenInvalid = i18n.Text{
		EN: "We could not verify your sign-in with your identity provider. Please try again.",
		ZH: "我們未能透過你的身份提供者驗證登入，請再試一次。",
	}
	textEmailUnverified = i18n.Text{
		EN: "Your identity provider has not verified your email address, so it cannot be used to sign in.",
		ZH: "你的身份提供者未有驗證你的電郵地址，因此不能用作登入。",
	}
	textDomainNotAllowed = i18n.Text{
		EN: "Your email address is not on a domain your company allows for single sign-on.",
		ZH: "你的電郵地址不屬於公司容許單一登入的網域。",
	}
	textNoEmployee = i18n.Text{
		EN: "No active employee account has this email address. Please ask your company's administrator to add you.",
		ZH: "沒有使用此電郵地址的在職員工帳戶，請聯絡公司管理員為你新增帳戶。",
	}
	textNotConfigured = i18n.Text{
		EN: "Single sign-on is not set up for your company.",
		ZH: "你的公司尚未設定單一登入。",
	}
	textProviderUnavailable = i18n.Text{
		EN: "Your company's identity provider cannot be reached right now. Please try again later.",
		ZH: "暫時未能連接公司的身份提供者，請稍後再試。",
	}
	textConfigInvalid = i18n.Text{
		EN: "The single sign-on settings are not valid.",
		ZH: "單一登入設定無效。",
	}
)
