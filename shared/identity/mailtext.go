package identity

import (
	"fmt"
	"time"

	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/mail"
)

var hongKong = i18n.HongKong

func hkTime(t time.Time) string { return t.In(hongKong).Format("2006-01-02 15:04 (HKT)") }

func confirmationMail(lang i18n.Lang, to, tenant, name, company, url string, expires time.Time) mail.Message {
	m := mail.Message{To: to, Tenant: tenant, Kind: "company-confirmation"}
	if lang == i18n.ZHHK {
		m.Subject = "確認你的 Lantau 公司帳戶：" + company
		m.Text = fmt.Sprintf("%s 你好：\n\n你為 %s 註冊了 Lantau。請按以下連結確認並啟用公司帳戶（只可使用一次，於 %s 前有效）：\n\n%s\n\n如你沒有註冊，請忽略此電郵，帳戶不會被啟用。\n\nLantau\n",
			name, company, hkTime(expires), url)
		return m
	}
	m.Subject = "Confirm your Lantau company account: " + company
	m.Text = fmt.Sprintf("Hello %s,\n\nYou registered %s with Lantau. Open this link to confirm and activate the company account (it works once, until %s):\n\n%s\n\nIf you did not register, ignore this mail: nothing will be activated.\n\nLantau\n",
		name, company, hkTime(expires), url)
	return m
}

func invitationMail(lang i18n.Lang, to, tenant, name, company, url string, expires time.Time) mail.Message {
	m := mail.Message{To: to, Tenant: tenant, Kind: "invitation"}
	if lang == i18n.ZHHK {
		m.Subject = company + " 邀請你加入 Lantau"
		m.Text = fmt.Sprintf("%s 你好：\n\n%s 邀請你使用 Lantau。請按以下連結設定密碼（只可使用一次，於 %s 前有效）：\n\n%s\n\nLantau\n",
			name, company, hkTime(expires), url)
		return m
	}
	m.Subject = company + " invites you to Lantau"
	m.Text = fmt.Sprintf("Hello %s,\n\n%s invites you to Lantau. Open this link to set your password (it works once, until %s):\n\n%s\n\nLantau\n",
		name, company, hkTime(expires), url)
	return m
}

func newDeviceMail(lang i18n.Lang, to, tenant, name string, at time.Time, ip, agent string, newDevice, newNetwork bool) mail.Message {
	m := mail.Message{To: to, Tenant: tenant, Kind: "new-device"}
	if agent == "" {
		agent = "-"
	}
	if lang == i18n.ZHHK {
		what := "新的裝置"
		if !newDevice && newNetwork {
			what = "新的網絡"
		}
		m.Subject = "Lantau：你的帳戶從" + what + "登入"
		m.Text = fmt.Sprintf("%s 你好：\n\n你的 Lantau 帳戶於 %s 從%s登入。\n\nIP 地址：%s\n裝置：%s\n\n如這不是你本人，請立即更改密碼並通知公司的管理員。\n\nLantau\n",
			name, hkTime(at), what, ip, agent)
		return m
	}
	what := "a new device"
	if !newDevice && newNetwork {
		what = "a new network"
	}
	m.Subject = "Lantau: sign-in from " + what
	m.Text = fmt.Sprintf("Hello %s,\n\nYour Lantau account was signed in to from %s at %s.\n\nIP address: %s\nDevice: %s\n\nIf this was not you, change your password now and tell your company's admin.\n\nLantau\n",
		name, what, hkTime(at), ip, agent)
	return m
}

func repeatedFailuresMail(lang i18n.Lang, to, tenant, name string, failures int, at time.Time, ip string) mail.Message {
	m := mail.Message{To: to, Tenant: tenant, Kind: "repeated-failures"}
	if lang == i18n.ZHHK {
		m.Subject = "Lantau：你的帳戶多次登入失敗"
		m.Text = fmt.Sprintf("%s 你好：\n\n過去一小時內，有人 %d 次嘗試以錯誤的密碼或驗證碼登入你的 Lantau 帳戶，最近一次於 %s，IP 地址 %s。我們已按次數延長每次嘗試之間的等待時間。\n\n如這不是你本人，請立即更改密碼並通知公司的管理員。\n\nLantau\n",
			name, failures, hkTime(at), ip)
		return m
	}
	m.Subject = "Lantau: repeated failed sign-ins to your account"
	m.Text = fmt.Sprintf("Hello %s,\n\nIn the past hour there were %d attempts to sign in to your Lantau account with a wrong password or code, the latest at %s from IP address %s. Each further attempt now has to wait longer.\n\nIf this was not you, change your password now and tell your company's admin.\n\nLantau\n",
		name, failures, hkTime(at), ip)
	return m
}

// localMail is a mail in its reader's language.
func localMail(lang i18n.Lang, to, tenant, kind string, subject, text i18n.Text) mail.Message {
	return mail.Message{To: to, Tenant: tenant, Kind: kind, Subject: subject.T(lang), Text: text.T(lang)}
}

func passwordResetMail(lang i18n.Lang, to, tenant, name, url string, expires time.Time) mail.Message {
	return localMail(lang, to, tenant, "password-reset",
		i18n.Text{EN: "Lantau: set a new password", ZH: "Lantau：設定新密碼"},
		i18n.Text{
			EN: fmt.Sprintf("Hello %s,\n\nSomeone asked to set a new password for your Lantau account. Open this link to choose one (it works once, for %d minutes, until %s; a newer request replaces it):\n\n%s\n\nIf you use an authenticator app, you will still need it to sign in. If you did not ask for this, ignore this mail: your password stays as it is.\n\nLantau\n",
				name, int(PasswordResetTTL.Minutes()), hkTime(expires), url),
			ZH: fmt.Sprintf("%s 你好：\n\n有人要求為你的 Lantau 帳戶設定新密碼。請按以下連結設定（只可使用一次，%d 分鐘內、即 %s 前有效；再次要求會取代此連結）：\n\n%s\n\n如你已設定驗證器應用程式，登入時仍須使用。如你沒有提出要求，請忽略此電郵，你的密碼不會改變。\n\nLantau\n",
				name, int(PasswordResetTTL.Minutes()), hkTime(expires), url),
		})
}

func passwordChangedMail(lang i18n.Lang, to, tenant, name string, at time.Time, ip string, reset bool) mail.Message {
	how := i18n.Text{EN: "was changed", ZH: "已被更改"}
	if reset {
		how = i18n.Text{EN: "was set through a password reset link", ZH: "已透過重設密碼連結重新設定"}
	}
	return localMail(lang, to, tenant, "password-changed",
		i18n.Text{EN: "Lantau: your password was changed", ZH: "Lantau：你的密碼已更改"},
		i18n.Text{
			EN: fmt.Sprintf("Hello %s,\n\nThe password of your Lantau account %s at %s (IP address %s). Your other sign-ins have been ended.\n\nIf this was not you, reset your password now (\"Forgot password\" on the sign-in page) and tell your company's admin at once.\n\nLantau\n",
				name, how.EN, hkTime(at), ip),
			ZH: fmt.Sprintf("%s 你好：\n\n你的 Lantau 帳戶密碼於 %s %s（IP 地址 %s）。你在其他裝置的登入已被結束。\n\n如這不是你本人，請立即重設密碼（登入頁的「忘記密碼」），並馬上通知公司的管理員。\n\nLantau\n",
				name, hkTime(at), how.ZH, ip),
		})
}

func mfaResetMail(lang i18n.Lang, to, tenant, name string, at time.Time) mail.Message {
	return localMail(lang, to, tenant, "mfa-reset",
		i18n.Text{EN: "Lantau: your two-factor sign-in was reset", ZH: "Lantau：你的雙重認證已被重設"},
		i18n.Text{
			EN: fmt.Sprintf("Hello %s,\n\nAn admin of your company removed the authenticator app and recovery codes of your Lantau account at %s, and ended your sign-ins. The next time you sign in with your password you will be asked to set up two-factor sign-in again.\n\nIf you did not ask for this, tell your company's super admin at once.\n\nLantau\n",
				name, hkTime(at)),
			ZH: fmt.Sprintf("%s 你好：\n\n公司的管理員於 %s 移除了你 Lantau 帳戶的驗證器應用程式及備用碼，並結束了你的所有登入。下次以密碼登入時，你須重新設定雙重認證。\n\n如你沒有提出要求，請立即通知公司的超級管理員。\n\nLantau\n",
				name, hkTime(at)),
		})
}

// emailChangedMails are the notices of a sign-in address moved from one
// address to another by someone (by: name and address): one to the old
// address, saying where it went and who moved it, one to the new.
func emailChangedMails(lang i18n.Lang, tenant, name, company, from, to string, by i18n.Text, at time.Time) []mail.Message {
	old := mail.Message{To: from, Tenant: tenant, Kind: "email-changed"}
	now := mail.Message{To: to, Tenant: tenant, Kind: "email-now-sign-in"}
	if lang == i18n.ZHHK {
		old.Subject = "Lantau：你的登入電郵地址已更改"
		old.Text = fmt.Sprintf("%s 你好：\n\n%s 於 %s 將你在 %s 的 Lantau 登入電郵地址由 %s 更改為 %s。此地址不能再用於登入；你已登入的裝置可繼續使用。\n\n如你沒有要求此更改，請立即通知公司的管理員。\n\nLantau\n",
			name, by.ZH, hkTime(at), company, from, to)
		now.Subject = "Lantau：此地址現為你的登入電郵地址"
		now.Text = fmt.Sprintf("%s 你好：\n\n%s 於 %s 將你在 %s 的 Lantau 登入電郵地址由 %s 更改為此地址（%s）。請以此地址登入，密碼不變。\n\nLantau\n",
			name, by.ZH, hkTime(at), company, from, to)
		return []mail.Message{old, now}
	}
	old.Subject = "Lantau: your sign-in address was changed"
	old.Text = fmt.Sprintf("Hello %s,\n\n%s changed your Lantau sign-in address at %s from %s to %s at %s. This address no longer signs in; devices you are signed in on stay signed in.\n\nIf you did not ask for this change, tell your company's admin now.\n\nLantau\n",
		name, by.EN, company, from, to, hkTime(at))
	now.Subject = "Lantau: this is now your sign-in address"
	now.Text = fmt.Sprintf("Hello %s,\n\n%s changed your Lantau sign-in address at %s from %s to this address (%s) at %s. Sign in with it from now on; your password stays the same.\n\nLantau\n",
		name, by.EN, company, from, to, hkTime(at))
	return []mail.Message{old, now}
}
