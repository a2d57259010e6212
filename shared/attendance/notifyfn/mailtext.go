package notifyfn

import (
	"fmt"
	"time"

	"github.com/lantau-hq/lantau/shared/attendance"
	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/mail"
)

var hongKong = i18n.HongKong

func hkTime(t time.Time) string { return t.In(hongKong).Format("2006-01-02 15:04 (HKT)") }

// missingMail tells an employee that their shift has started and no
// clock-in has come.
func missingMail(lang i18n.Lang, name string, at time.Time) mail.Message {
	if lang == i18n.ZHHK {
		return mail.Message{Subject: "Lantau：你今天尚未打卡上班",
			Text: fmt.Sprintf("%s 你好：\n\n截至 %s，你今天的班次已開始，但我們仍未收到你的上班打卡。\n\n如你已在辦公室，請立即在 Lantau 應用程式打卡。如你在外工作，請以外勤打卡並附上備註，交由你的主管批核。如你今天放假，可忽略此電郵。\n\nLantau\n",
				name, hkTime(at))}
	}
	return mail.Message{Subject: "Lantau: you have not clocked in today",
		Text: fmt.Sprintf("Hello %s,\n\nYour shift has started and, as of %s, no clock-in from you has reached us.\n\nIf you are at the office, clock in now in the Lantau app. If you are working elsewhere, clock in as a field punch with a note; your manager will approve it. If you are on leave today, ignore this mail.\n\nLantau\n",
			name, hkTime(at))}
}

// fieldPendingMail asks an approver to decide a field punch. It names the
// API route that decides and carries nothing that decides by itself.
func fieldPendingMail(lang i18n.Lang, approver, employee string, kind attendance.Kind, at time.Time, route string) mail.Message {
	if lang == i18n.ZHHK {
		dir := "上班"
		if kind == attendance.Out {
			dir = "下班"
		}
		return mail.Message{Subject: "Lantau：" + employee + " 的外勤打卡待你批核",
			Text: fmt.Sprintf("%s 你好：\n\n%s 於 %s 在所有辦公地點範圍以外打了%s卡（外勤），並附上備註，現待你批核。\n\n請在 Lantau 查看並批准或拒絕（POST %s，內容為 {\"approve\": true 或 false, \"note\": \"…\"}）。批核前，此打卡不計入考勤。\n\nLantau\n",
				approver, employee, hkTime(at), dir, route)}
	}
	dir := "in"
	if kind == attendance.Out {
		dir = "out"
	}
	return mail.Message{Subject: "Lantau: " + employee + "'s field punch is waiting for you",
		Text: fmt.Sprintf("Hello %s,\n\n%s clocked %s at %s outside every office site (a field punch), with a note, and it is waiting for your approval.\n\nLook at it in Lantau and approve or reject it (POST %s with {\"approve\": true or false, \"note\": \"…\"}). Until then it does not count in the timesheet.\n\nLantau\n",
			approver, employee, dir, hkTime(at), route)}
}

// fieldResolvedMail tells an employee what became of their field punch.
func fieldResolvedMail(lang i18n.Lang, name, by string, d attendance.FieldResolvedEventData) mail.Message {
	if lang == i18n.ZHHK {
		outcome, counts := "已獲批准", "此打卡會計入考勤。"
		if !d.Approved {
			outcome, counts = "被拒絕", "此打卡不會計入考勤；如有需要，請與主管商討或提出更正申請。"
		}
		text := fmt.Sprintf("%s 你好：\n\n你於 %s 的外勤打卡%s（由 %s 批核）。%s\n", name, hkTime(d.PunchTime), outcome, by, counts)
		if d.Note != "" {
			text += fmt.Sprintf("\n備註：%s\n", d.Note)
		}
		return mail.Message{Subject: "Lantau：你的外勤打卡" + outcome, Text: text + "\nLantau\n"}
	}
	outcome, counts := "approved", "It counts in your timesheet."
	if !d.Approved {
		outcome, counts = "rejected", "It does not count in your timesheet; talk to your manager or ask for a correction if needed."
	}
	text := fmt.Sprintf("Hello %s,\n\nYour field punch of %s was %s by %s. %s\n", name, hkTime(d.PunchTime), outcome, by, counts)
	if d.Note != "" {
		text += fmt.Sprintf("\nNote: %s\n", d.Note)
	}
	return mail.Message{Subject: "Lantau: your field punch was " + outcome, Text: text + "\nLantau\n"}
}
