package staffcsv

import (
	"slices"
	"strings"
	"unicode"
)

// columnNames lists, for each field, the header names it is recognised by.
// Headers are compared after headerKey: without case, white space,
// punctuation or a bracketed hint, with full-width letters folded, so
// "E-mail", "EMAIL" and "電郵 (公司)" all mean FieldEmail. Simplified
// Chinese spellings are accepted too.
var columnNames = map[string][]string{
	FieldName: {"name", "english name", "full name", "staff name", "employee name",
		"姓名", "英文姓名", "英文名", "員工姓名", "员工姓名"},
	FieldChineseName: {"chinese name", "中文姓名", "中文名"},
	FieldEmail: {"email", "email address", "e-mail", "mail", "work email", "company email",
		"電郵", "電郵地址", "電子郵件", "電子郵箱", "郵箱", "电邮", "电子邮件", "邮箱"},
	FieldPhone: {"phone", "phone number", "mobile", "mobile number", "mobile phone", "tel", "telephone", "contact number",
		"電話", "電話號碼", "手機", "手提電話", "聯絡電話", "电话", "手机"},
	FieldTitle: {"title", "job title", "position", "職位", "職銜", "職稱", "职位", "职衔"},
	FieldRank:  {"rank", "grade", "職級", "职级"},
	FieldEmployeeNumber: {"employee number", "employee no", "employee id", "staff number", "staff no", "staff id", "emp no",
		"員工編號", "員工號碼", "工號", "员工编号", "工号"},
	FieldDepartment: {"department", "dept", "部門", "所屬部門", "部门"},
	FieldManagerEmail: {"manager", "manager email", "manager's email", "line manager", "reports to",
		"上司", "上司電郵", "經理電郵", "直屬上司", "经理电邮", "上司电邮"},
	FieldStartDate: {"start date", "join date", "joined", "date joined", "hire date", "入職日期", "到職日期", "入职日期"},
	FieldLeaveDate: {"leave date", "end date", "last day", "last working day", "termination date", "離職日期", "离职日期"},
	FieldOneColumn: {"department-name-rank", "dept-name-rank", "部門-姓名-職級", "部门-姓名-职级"},
}

// HeaderNames returns the header names recognised for field (one of the
// Field constants), English ones first, for a template or a help text.
func HeaderNames(field string) []string { return slices.Clone(columnNames[field]) }

var headerFields = func() map[string]string {
	m := make(map[string]string)
	for f, names := range columnNames {
		for _, n := range names {
			m[headerKey(n)] = f
		}
	}
	return m
}()

// headerKey reduces a header cell to the letters and digits that identify
// it.
func headerKey(h string) string {
	h = foldWidth(cleanValue(h))
	if stripped := stripBrackets(h); stripped != "" {
		h = stripped
	}
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// stripBrackets removes "(...)", "（...）" and "[...]" parts.
func stripBrackets(s string) string {
	if !strings.ContainsAny(s, "(（[") {
		return s
	}
	var b strings.Builder
	depth := 0
	for _, r := range s {
		switch r {
		case '(', '（', '[':
			depth++
		case ')', '）', ']':
			if depth > 0 {
				depth--
			}
		default:
			if depth == 0 {
				b.WriteRune(r)
			}
		}
	}
	return strings.TrimSpace(b.String())
}

// detectDelimiter picks TAB, comma or semicolon from a line: the most
// frequent outside double quotes, ties in that order, comma for none.
func detectDelimiter(line string) rune {
	var tab, comma, semi int
	quoted := false
	for _, r := range line {
		switch r {
		case '"':
			quoted = !quoted
		case '\t':
			if !quoted {
				tab++
			}
		case ',':
			if !quoted {
				comma++
			}
		case ';':
			if !quoted {
				semi++
			}
		}
	}
	switch {
	case tab > 0 && tab >= comma && tab >= semi:
		return '\t'
	case semi > comma:
		return ';'
	}
	return ','
}
