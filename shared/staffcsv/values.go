package staffcsv

import (
	"net/mail"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// isTrimmed reports the runes trimmed from both ends of every value: white
// space (including U+3000 and NBSP) and the invisible ZWSP, word joiner and
// BOM that copying from web pages leaves behind.
func isTrimmed(r rune) bool {
	return unicode.IsSpace(r) || r == '\u200B' || r == '\u2060' || r == '\uFEFF'
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// cleanValue trims v, drops invisible characters and NFC-normalizes it.
func cleanValue(v string) string {
	v = strings.TrimFunc(v, isTrimmed)
	// A quote before a formula character is the guard against CSV
	// injection that exports (shared/sheet) write: "'+85291234567" is
	// +85291234567, so an exported sheet imports back.
	if len(v) > 1 && v[0] == '\'' && strings.ContainsRune("=+-@", rune(v[1])) {
		v = v[1:]
	}
	if isASCII(v) {
		return v
	}
	if strings.ContainsAny(v, "\u200B\u2060\uFEFF") {
		v = strings.Map(func(r rune) rune {
			if r == '\u200B' || r == '\u2060' || r == '\uFEFF' {
				return -1
			}
			return r
		}, v)
	}
	return strings.TrimFunc(norm.NFC.String(v), isTrimmed)
}

// badCharacter reports U+FFFD (what a decoder leaves for bytes it could not
// read), invalid UTF-8 and control characters other than TAB, CR and LF.
func badCharacter(v string) bool {
	for _, r := range v {
		if r == utf8.RuneError || (unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r') {
			return true
		}
	}
	return false
}

// collapseSpace replaces each run of white space with one space.
func collapseSpace(v string) string {
	prevSpace, clean := false, true
	for _, r := range v {
		sp := unicode.IsSpace(r)
		if sp && (prevSpace || r != ' ') {
			clean = false
			break
		}
		prevSpace = sp
	}
	if clean {
		return v
	}
	return strings.Join(strings.FieldsFunc(v, unicode.IsSpace), " ")
}

// foldWidth maps full-width ASCII (U+FF01-U+FF5E) to ASCII and the
// ideographic space to a space, as typed with a Chinese input method.
func foldWidth(v string) string {
	if isASCII(v) {
		return v
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= '\uFF01' && r <= '\uFF5E':
			return r - 0xFEE0
		case r == '\u3000':
			return ' '
		}
		return r
	}, v)
}

func hasLetter(v string) bool {
	return strings.IndexFunc(v, unicode.IsLetter) >= 0
}

// parseEmail accepts a bare address with a dot in its domain and returns it
// lower-cased.
func parseEmail(v string) (string, bool) {
	v = strings.TrimFunc(foldWidth(v), isTrimmed)
	if v == "" || len(v) > 254 || strings.ContainsAny(v, " \t\r\n<>\"()[],;") {
		return "", false
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Name != "" || a.Address != v {
		return "", false
	}
	at := strings.LastIndexByte(v, '@')
	domain := v[at+1:]
	if at > 64 || !strings.Contains(domain, ".") || strings.HasSuffix(domain, ".") {
		return "", false
	}
	return strings.ToLower(v), true
}

// parsePhone returns v in E.164. Spaces, hyphens, dots and brackets are
// ignored; "00" stands for "+"; eight digits starting 2-9, or those eight
// after 852, are a Hong Kong number.
func parsePhone(v string) (string, bool) {
	var digits []byte
	plus := false
	for _, r := range foldWidth(v) {
		switch {
		case r >= '0' && r <= '9':
			digits = append(digits, byte(r))
		case r == '+' && len(digits) == 0 && !plus:
			plus = true
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || r == '\u00A0':
		default:
			return "", false
		}
	}
	d := string(digits)
	if !plus && strings.HasPrefix(d, "00") {
		plus, d = true, d[2:]
	}
	hk := func(n string) (string, bool) {
		if len(n) == 8 && n[0] >= '2' && n[0] <= '9' {
			return "+852" + n, true
		}
		return "", false
	}
	switch {
	case strings.HasPrefix(d, "852") && len(d) == 11:
		return hk(d[3:])
	case strings.HasPrefix(d, "852") && plus:
		return "", false
	case !plus:
		return hk(d)
	case len(d) < 8 || len(d) > 15 || d[0] == '0':
		return "", false
	}
	return "+" + d, true
}

var monthNames = map[string]int{
	"jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3,
	"apr": 4, "april": 4, "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7,
	"aug": 8, "august": 8, "sep": 9, "sept": 9, "september": 9, "oct": 10, "october": 10,
	"nov": 11, "november": 11, "dec": 12, "december": 12,
}

// parseDate reads the date forms listed in the package documentation.
func parseDate(v string) (Date, bool) {
	v = strings.TrimFunc(foldWidth(v), isTrimmed)
	if i := strings.LastIndexAny(v, " T"); i > 0 && isMidnight(v[i+1:]) {
		v = strings.TrimSpace(v[:i])
	}
	if strings.ContainsRune(v, '年') {
		return parseChineseDate(v)
	}
	sep := strings.IndexFunc(v, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if sep < 0 {
		return Date{}, false
	}
	if !strings.ContainsRune("-/. ", rune(v[sep])) {
		return Date{}, false
	}
	var parts []string
	if v[sep] == ' ' {
		parts = strings.Fields(v)
	} else {
		parts = strings.Split(v, v[sep:sep+1])
	}
	if len(parts) != 3 {
		return Date{}, false
	}
	a, b, c := parts[0], parts[1], parts[2]
	switch {
	case len(a) == 4 && isDigits(a) && isDigits(b) && isDigits(c) && len(b) <= 2 && len(c) <= 2:
		return makeDate(atoi(a), atoi(b), atoi(c))
	case isDigits(a) && len(a) <= 2 && (len(c) == 4 || len(c) == 2) && isDigits(c):
		m, ok := monthNames[strings.ToLower(b)]
		if !ok {
			if !isDigits(b) || len(b) > 2 {
				return Date{}, false
			}
			m = atoi(b)
		}
		return makeDate(fullYear(c), m, atoi(a))
	}
	return Date{}, false
}

// parseChineseDate reads 2025年11月3日 (spaces allowed, 日 optional).
func parseChineseDate(v string) (Date, bool) {
	v = strings.Join(strings.Fields(v), "")
	y, rest, ok1 := strings.Cut(v, "年")
	m, rest, ok2 := strings.Cut(rest, "月")
	d, rest, _ := strings.Cut(rest, "日")
	if !ok1 || !ok2 || rest != "" || len(y) != 4 || !isDigits(y) || !isDigits(m) || !isDigits(d) || len(m) > 2 || len(d) > 2 {
		return Date{}, false
	}
	return makeDate(atoi(y), atoi(m), atoi(d))
}

// fullYear applies Excel's two-digit year rule: 00-29 is 2000-2029, 30-99
// is 1930-1999.
func fullYear(y string) int {
	n := atoi(y)
	if len(y) == 2 {
		if n < 30 {
			return 2000 + n
		}
		return 1900 + n
	}
	return n
}

func isMidnight(t string) bool {
	switch t {
	case "0:00", "00:00", "0:00:00", "00:00:00", "00:00:00Z":
		return true
	}
	return false
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// splitDepartment splits a department path on "/", "／", ">" and "＞",
// dropping empty levels.
func splitDepartment(v string) []string {
	parts := strings.FieldsFunc(v, func(r rune) bool { return r == '/' || r == '／' || r == '>' || r == '＞' })
	out := parts[:0]
	for _, p := range parts {
		if p = collapseSpace(strings.TrimFunc(p, isTrimmed)); p != "" {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// splitOneColumn splits 部門-姓名-職級: the first part is the department,
// the last the rank and everything between the name, so names may hold a
// hyphen. All three must be present and the name must hold a letter.
func splitOneColumn(v string) (dept []string, name, rank string, ok bool) {
	v = strings.NewReplacer("－", "-", "–", "-").Replace(v)
	first, last := strings.IndexByte(v, '-'), strings.LastIndexByte(v, '-')
	if first < 0 || first == last {
		return nil, "", "", false
	}
	dept = splitDepartment(v[:first])
	name = collapseSpace(strings.TrimFunc(v[first+1:last], isTrimmed))
	rank = collapseSpace(strings.TrimFunc(v[last+1:], isTrimmed))
	if len(dept) == 0 || name == "" || rank == "" || !hasLetter(name) {
		return nil, "", "", false
	}
	return dept, name, rank, true
}
