package attendance

import (
	"github.com/lantau-hq/lantau/shared/i18n"
)

// Reasons are stored in the chain as a code and its arguments only (which
// keeps a punch record under 1 KB, one write unit); Explain renders them in
// English and zh-HK, so wording can improve without touching any hash.
var catalog = map[string]func(a map[string]string) i18n.Text{
	"bad-kind": fixed("A punch must be a clock-in or a clock-out.", "打卡必須是上班或下班打卡。"),
	"mock-location": fixed("The phone reported a simulated (mock) location.",
		"手機報告正在使用模擬位置。"),
	"device-missing": fixed("The punch did not say which device sent it.", "打卡資料沒有註明來自哪部裝置。"),
	"device-bound": fixed("This device is now bound to you; punching from another device needs an admin to rebind.",
		"此裝置現已與你綁定；如要使用其他裝置打卡，需由管理員重新綁定。"),
	"device-not-bound": fixed("This device is not the one bound to you; ask an admin to rebind it.",
		"此裝置並非與你綁定的裝置；請聯絡管理員重新綁定。"),
	"client-time-missing": fixed("The phone did not send its own time.", "手機沒有提供其時間。"),
	"clock-skew": func(a map[string]string) i18n.Text {
		return i18n.Text{EN: "The phone's clock is " + a["offSec"] + " seconds off the server's (at most " + a["maxSec"] + " allowed).",
			ZH: "手機時鐘與伺服器相差 " + a["offSec"] + " 秒（上限為 " + a["maxSec"] + " 秒）。"}
	},
	"bad-location": func(a map[string]string) i18n.Text {
		if a["en"] != "" {
			return i18n.Text{EN: a["en"], ZH: a["zh"]}
		}
		return i18n.Text{EN: "The location is not valid.", ZH: "位置資料無效。"}
	},
	"poor-accuracy": func(a map[string]string) i18n.Text {
		return i18n.Text{EN: "The location is only accurate to " + a["accuracy"] + " m (at most " + a["max"] + " m allowed).",
			ZH: "位置準確度只有 " + a["accuracy"] + " 米（上限為 " + a["max"] + " 米）。"}
	},
	"impossible-travel": func(a map[string]string) i18n.Text {
		return i18n.Text{EN: "You would have travelled " + a["km"] + " km since your previous punch, faster than " + a["max"] + " km/h.",
			ZH: "自上次打卡後你需移動 " + a["km"] + " 公里，速度超過每小時 " + a["max"] + " 公里。"}
	},
	"wifi-match": func(a map[string]string) i18n.Text {
		return i18n.Text{EN: "Your phone sees the office Wi-Fi \"" + a["ssid"] + "\" of " + a["site"] + ".",
			ZH: "你的手機偵測到 " + a["site"] + " 的辦公室 Wi-Fi「" + a["ssid"] + "」。"}
	},
	"inside-geofence": func(a map[string]string) i18n.Text {
		return i18n.Text{EN: "You are inside " + a["site"] + " (" + a["distance"] + " m from it, accurate to " + a["accuracy"] + " m).",
			ZH: "你身處 " + a["site"] + " 範圍內（距離 " + a["distance"] + " 米，準確度 " + a["accuracy"] + " 米）。"}
	},
	"location-uncertain": func(a map[string]string) i18n.Text {
		return i18n.Text{EN: "You are " + a["distance"] + " m from " + a["site"] + ", but your location is only accurate to " + a["accuracy"] + " m, so you may be outside it; an admin will review this punch.",
			ZH: "你距離 " + a["site"] + " " + a["distance"] + " 米，但位置準確度只有 " + a["accuracy"] + " 米，可能身處範圍以外；管理員會覆核此打卡。"}
	},
	"outside-sites": where,
	"field-note-required": func(a map[string]string) i18n.Text {
		w := where(a)
		return i18n.Text{EN: w.EN + " A field punch needs a note saying where you are and why.", ZH: w.ZH + "外勤打卡須附註說明地點及原因。"}
	},
	"field-punch": func(a map[string]string) i18n.Text {
		w := where(a)
		return i18n.Text{EN: w.EN + " Recorded as a field punch for your manager to approve.", ZH: w.ZH + "已記錄為外勤打卡，待你的上司批核。"}
	},
	"outside-shift": fixed("This punch is outside all of your shifts.", "此打卡不在你任何班次的時段內。"),
	"late": func(a map[string]string) i18n.Text {
		return i18n.Text{EN: "Late by " + a["min"] + " minutes: the shift started at " + a["start"] + ".",
			ZH: "遲到 " + a["min"] + " 分鐘：班次於 " + a["start"] + " 開始。"}
	},
	"early-leave": func(a map[string]string) i18n.Text {
		return i18n.Text{EN: "Early leave by " + a["min"] + " minutes: the shift ends at " + a["end"] + ".",
			ZH: "早退 " + a["min"] + " 分鐘：班次於 " + a["end"] + " 結束。"}
	},
}

func fixed(en, zh string) func(map[string]string) i18n.Text {
	return func(map[string]string) i18n.Text { return i18n.Text{EN: en, ZH: zh} }
}

func where(a map[string]string) i18n.Text {
	switch {
	case a["site"] != "":
		return i18n.Text{EN: "You are " + a["distance"] + " m from " + a["site"] + ", outside it even allowing for the " + a["accuracy"] + " m accuracy.",
			ZH: "你距離 " + a["site"] + " " + a["distance"] + " 米，即使計及 " + a["accuracy"] + " 米的準確度，仍在範圍以外。"}
	case a["location"] == "none":
		return i18n.Text{EN: "There is no usable location and no office Wi-Fi in sight.", ZH: "沒有可用的位置資料，亦偵測不到辦公室 Wi-Fi。"}
	}
	return i18n.Text{EN: "You are outside every site you may punch at.", ZH: "你不在任何可打卡的地點範圍內。"}
}

// Explain renders a reason code with its arguments in English and zh-HK.
func Explain(code string, args map[string]string) i18n.Text {
	if f, ok := catalog[code]; ok {
		return f(args)
	}
	return i18n.Text{EN: "Reason: " + code, ZH: "原因：" + code}
}

// ReasonCodes lists every code Evaluate may give.
func ReasonCodes() []string {
	out := make([]string, 0, len(catalog))
	for c := range catalog {
		out = append(out, c)
	}
	return out
}

// explain fills the messages of the decision's reasons (after reading a
// record, whose stored reasons hold codes and arguments only).
func (d *Decision) explain() {
	for i := range d.Reasons {
		d.Reasons[i].Message = Explain(d.Reasons[i].Code, d.Reasons[i].Args)
	}
}

// stored is the decision as the chain keeps it: without messages.
func (d *Decision) stored() *Decision {
	if d == nil {
		return nil
	}
	c := *d
	c.Reasons = make([]Reason, len(d.Reasons))
	for i, r := range d.Reasons {
		r.Message = i18n.Text{}
		c.Reasons[i] = r
	}
	return &c
}
