// Package i18n chooses between the two languages Lantau speaks, English and
// Traditional Chinese as written in Hong Kong, and carries short bilingual
// texts. Message catalogs live with the packages that own the messages.
package i18n

import (
	"fmt"
	"net/http"
	"strings"

	"golang.org/x/text/language"
)

// Lang is a supported response language. Its value is a BCP 47 tag suitable
// for a Content-Language header.
type Lang string

// Supported languages.
const (
	EN   Lang = "en"
	ZHHK Lang = "zh-HK"
)

// String returns the BCP 47 tag.
func (l Lang) String() string { return string(l) }

// FromRequest negotiates the response language from the Accept-Language
// header. It reads every header value: the API Gateway adapter splits a
// comma-separated header into several values.
func FromRequest(r *http.Request) Lang {
	return Negotiate(strings.Join(r.Header.Values("Accept-Language"), ","))
}

// Negotiate picks the language for an Accept-Language header value. Any
// Chinese (zh, zh-Hant, zh-TW, zh-MO, and also zh-Hans/zh-CN, who read
// Traditional more easily than English) Cantonese (yue) or Mandarin (cmn) is answered in
// zh-HK; anything else, a malformed header or no header, in English. Entries
// are tried in order of preference (q value); q=0 excludes an entry.
func Negotiate(acceptLanguage string) Lang {
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil {
		tags = lenientParse(acceptLanguage)
	}
	for _, t := range tags {
		if l, ok := match(t); ok {
			return l
		}
	}
	return EN
}

func match(t language.Tag) (Lang, bool) {
	base, _ := t.Base()
	switch base.String() {
	case "zh", "yue", "cmn":
		return ZHHK, true
	case "en":
		return EN, true
	}
	return "", false
}

// lenientParse keeps the well-formed entries of a header that
// language.ParseAcceptLanguage refused as a whole, in their written order.
// Entries with q=0 are dropped.
func lenientParse(s string) []language.Tag {
	var tags []language.Tag
	for part := range strings.SplitSeq(s, ",") {
		name, params, _ := strings.Cut(part, ";")
		if q := strings.ReplaceAll(params, " ", ""); strings.HasPrefix(q, "q=0") && strings.Trim(q[3:], ".0") == "" {
			continue
		}
		if t, err := language.Parse(strings.TrimSpace(name)); err == nil {
			tags = append(tags, t)
		}
	}
	return tags
}

// Text is a message in both languages. ZH may be empty, in which case the
// English text is used.
type Text struct {
	EN string
	ZH string
}

// T returns the text in lang.
func (t Text) T(lang Lang) string {
	if lang == ZHHK && t.ZH != "" {
		return t.ZH
	}
	return t.EN
}

// IsZero reports whether t holds no text.
func (t Text) IsZero() bool { return t.EN == "" && t.ZH == "" }

// Format returns t with both texts used as fmt.Sprintf formats for args.
func (t Text) Format(args ...any) Text {
	return Text{EN: fmt.Sprintf(t.EN, args...), ZH: fmt.Sprintf(t.ZH, args...)}
}
