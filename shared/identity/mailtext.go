package identity

import (
	"fmt"
	"time"

	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/mail"
)

var hongKong = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Hong_Kong")
	if err != nil {
		return time.FixedZone("HKT", 8*3600)
	}
	return loc
}()

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
