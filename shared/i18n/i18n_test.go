package i18n_test

import (
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/lantau-hq/lantau/shared/i18n"
)

func TestNegotiate(t *testing.T) {
	tests := []struct {
		header string
		want   i18n.Lang
	}{
		{"", i18n.EN},
		{"en", i18n.EN},
		{"en-GB", i18n.EN},
		{"zh-HK", i18n.ZHHK},
		{"ZH-hk", i18n.ZHHK},
		{"zh", i18n.ZHHK},
		{"zh-Hant", i18n.ZHHK},
		{"zh-Hant-HK", i18n.ZHHK},
		{"zh-TW", i18n.ZHHK},
		{"zh-MO", i18n.ZHHK},
		{"zh-CN", i18n.ZHHK},
		{"yue", i18n.ZHHK},
		{"yue-Hant-HK", i18n.ZHHK},
		{"zh-yue", i18n.ZHHK},
		{"fr", i18n.EN},
		{"ja-JP,ko;q=0.8", i18n.EN},
		{"*", i18n.EN},
		{"zh-HK,zh;q=0.9,en;q=0.8", i18n.ZHHK},
		{"en-US,zh-HK;q=0.1", i18n.EN},
		{"en;q=0.5,zh-HK;q=0.9", i18n.ZHHK},
		{"fr,de;q=0.9,zh-TW;q=0.3", i18n.ZHHK},
		{"zh-HK;q=0,en", i18n.EN},
		{"en;q=0,zh", i18n.ZHHK},
		{"!!!,zh-HK", i18n.ZHHK},
		{"garbage;;;", i18n.EN},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			assert.Equal(t, tt.want, i18n.Negotiate(tt.header))
		})
	}
}

func TestFromRequest_JoinsSplitHeaderValues(t *testing.T) {
	// The API Gateway adapter turns "fr, zh-HK;q=0.9" into two header values.
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Add("Accept-Language", "fr")
	r.Header.Add("Accept-Language", "zh-HK;q=0.9")
	assert.Equal(t, i18n.ZHHK, i18n.FromRequest(r))
	assert.Equal(t, i18n.EN, i18n.FromRequest(httptest.NewRequest("GET", "/", nil)))
}

func TestText(t *testing.T) {
	full := i18n.Text{EN: "Saved", ZH: "已儲存"}
	assert.Equal(t, "Saved", full.T(i18n.EN))
	assert.Equal(t, "已儲存", full.T(i18n.ZHHK))
	assert.Equal(t, "Saved", i18n.Text{EN: "Saved"}.T(i18n.ZHHK), "falls back to English")
	assert.True(t, i18n.Text{}.IsZero())
	assert.Equal(t, i18n.Text{EN: "max 3", ZH: "最多 3"}, i18n.Text{EN: "max %d", ZH: "最多 %d"}.Format(3))
	assert.Equal(t, "zh-HK", i18n.ZHHK.String())
}
