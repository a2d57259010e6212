package identity

import (
	"strings"
)

// freeMail are domains where anyone can get an address: a company cannot
// register with one, since owning an address there proves nothing about the
// company. Subdomains of these are refused too.
var freeMail = map[string]bool{
	// Google, Microsoft, Yahoo, Apple
	"gmail.com": true, "googlemail.com": true,
	"outlook.com": true, "outlook.com.hk": true, "hotmail.com": true, "hotmail.com.hk": true,
	"live.com": true, "live.hk": true, "live.com.hk": true, "msn.com": true, "passport.com": true,
	"yahoo.com": true, "yahoo.com.hk": true, "ymail.com": true, "rocketmail.com": true,
	"icloud.com": true, "me.com": true, "mac.com": true,
	// Mainland China
	"qq.com": true, "foxmail.com": true, "163.com": true, "126.com": true, "yeah.net": true,
	"sina.com": true, "sina.cn": true, "sohu.com": true, "139.com": true, "aliyun.com": true,
	// Privacy and others
	"proton.me": true, "protonmail.com": true, "pm.me": true, "tutanota.com": true, "tuta.io": true,
	"gmx.com": true, "gmx.net": true, "gmx.de": true, "aol.com": true, "mail.com": true,
	"zoho.com": true, "zohomail.com": true, "yandex.com": true, "yandex.ru": true, "hey.com": true,
	"fastmail.com": true, "mail.ru": true, "naver.com": true, "hanmail.net": true,
	// Hong Kong ISPs' personal mailboxes
	"netvigator.com": true, "biznetvigator.com": true, "i-cable.com": true, "hkbn.net": true, "ymail.com.hk": true,
}

// IsFreeMail reports whether domain (or a domain it is under) gives
// addresses to anyone.
func IsFreeMail(domain string) bool {
	d := strings.ToLower(strings.TrimSuffix(domain, "."))
	for d != "" {
		if freeMail[d] {
			return true
		}
		_, rest, ok := strings.Cut(d, ".")
		if !ok {
			return false
		}
		d = rest
	}
	return false
}

// NormalizeDomain returns domain lower-cased without a trailing dot, and
// whether it is a plausible public DNS name: at least two labels of
// letters, digits and hyphens (internationalised names in their xn-- form),
// each 1 to 63 characters, not starting or ending with a hyphen, 253
// characters in all, and a top-level label that is not all digits.
func NormalizeDomain(domain string) (string, bool) {
	d := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(domain), "."))
	if len(d) == 0 || len(d) > 253 {
		return d, false
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return d, false
	}
	for _, l := range labels {
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return d, false
		}
		for _, c := range []byte(l) {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return d, false
			}
		}
	}
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return d, false
	}
	return d, true
}

// NormalizeEmail returns the address with its domain lower-cased, and its
// domain. The local part keeps its case (RFC 5321), but addresses are
// compared and stored lower-cased as every mainstream provider treats them.
func NormalizeEmail(email string) (normalized, domain string) {
	email = strings.TrimSpace(email)
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return strings.ToLower(email), ""
	}
	return strings.ToLower(email), strings.ToLower(email[at+1:])
}

// OnDomain reports whether an address at emailDomain belongs to company
// domain: the domain itself or a subdomain of it ("hk.acme.com" is on
// "acme.com").
func OnDomain(emailDomain, domain string) bool {
	return emailDomain == domain || strings.HasSuffix(emailDomain, "."+domain)
}
