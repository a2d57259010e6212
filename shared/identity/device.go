package identity

import (
	"strings"

	"github.com/lantau-hq/lantau/shared/i18n"
)

// A device is named from its user agent by a few well-known markers, the
// first that matches: enough to tell "Chrome on Windows" from "Safari on
// iPhone" on a list of sign-ins, not to identify versions. Order matters:
// Edge and Opera also say "Chrome/", Chrome also says "Safari/", an iPhone
// also says "Mac OS X" and Android also says "Linux".
var (
	browserMarkers = []struct{ marker, name string }{
		{"Lantau/", "Lantau app"},
		{"Edg/", "Edge"}, {"EdgA/", "Edge"}, {"EdgiOS/", "Edge"},
		{"OPR/", "Opera"}, {"Opera", "Opera"},
		{"SamsungBrowser/", "Samsung Internet"},
		{"Firefox/", "Firefox"}, {"FxiOS/", "Firefox"},
		{"CriOS/", "Chrome"}, {"Chrome/", "Chrome"},
		{"Safari/", "Safari"},
		{"curl/", "curl"},
	}
	osMarkers = []struct{ marker, name string }{
		{"iPhone", "iPhone"}, {"iPad", "iPad"},
		{"Android", "Android"},
		{"Windows", "Windows"},
		{"CrOS", "ChromeOS"},
		{"Macintosh", "macOS"}, {"Mac OS X", "macOS"},
		{"Linux", "Linux"},
	}
)

// parseUserAgent returns the browser (or app) and operating system a user
// agent names, each "" when none of the markers is in it.
func parseUserAgent(ua string) (browser, os string) {
	for _, m := range browserMarkers {
		if strings.Contains(ua, m.marker) {
			browser = m.name
			break
		}
	}
	for _, m := range osMarkers {
		if strings.Contains(ua, m.marker) {
			os = m.name
			break
		}
	}
	return browser, os
}

// deviceLabel names a device for people: "Chrome on macOS".
func deviceLabel(browser, os string) i18n.Text {
	switch {
	case browser != "" && os != "":
		return i18n.Text{EN: browser + " on " + os, ZH: os + " 上的 " + browser}
	case browser != "":
		return i18n.Text{EN: browser, ZH: browser}
	case os != "":
		return i18n.Text{EN: os, ZH: os}
	}
	return i18n.Text{EN: "Unknown device", ZH: "不明裝置"}
}
