package identity

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/lantau-hq/lantau/shared/i18n"
)

func TestDeviceLabel_NamesCommonBrowsersAndSystems(t *testing.T) {
	cases := []struct{ ua, en, zh string }{
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
			"Chrome on macOS", "macOS 上的 Chrome"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
			"Safari on iPhone", "iPhone 上的 Safari"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
			"Edge on Windows", "Windows 上的 Edge"},
		{"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox on Linux", "Linux 上的 Firefox"},
		{"Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
			"Samsung Internet on Android", "Android 上的 Samsung Internet"},
		{"Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0 Mobile/15E148 Safari/604.1",
			"Chrome on iPad", "iPad 上的 Chrome"},
		{"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 OPR/115.0",
			"Opera on ChromeOS", "ChromeOS 上的 Opera"},
		{"Lantau/2.3 (iPhone; iOS 17.5)", "Lantau app on iPhone", "iPhone 上的 Lantau app"},
		{"curl/8.5.0", "curl", "curl"},
		{"Mozilla/5.0 (Windows NT 10.0)", "Windows", "Windows"},
		{"", "Unknown device", "不明裝置"},
		{"\x00<script>", "Unknown device", "不明裝置"},
	}
	for _, tc := range cases {
		label := deviceLabel(parseUserAgent(tc.ua))
		assert.Equal(t, tc.en, label.T(i18n.EN), tc.ua)
		assert.Equal(t, tc.zh, label.T(i18n.ZHHK), tc.ua)
	}
}
