package staffcsv

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lantau-hq/lantau/shared/i18n"
)

// Fields, as Problem.Field names them.
const (
	FieldName           = "name"
	FieldChineseName    = "chinese_name"
	FieldEmail          = "email"
	FieldPhone          = "phone"
	FieldTitle          = "title"
	FieldRank           = "rank"
	FieldEmployeeNumber = "employee_number"
	FieldDepartment     = "department"
	FieldManagerEmail   = "manager_email"
	FieldStartDate      = "start_date"
	FieldLeaveDate      = "leave_date"
	// FieldOneColumn is the one-column 部門-姓名-職級 form.
	FieldOneColumn = "department_name_rank"
)

// Problem codes. File-level problems have Line 0 or the header's line.
const (
	CodeTooLarge          = "too_large"          // file over MaxBytes
	CodeNotText           = "not_text"           // a workbook or a binary file
	CodeEncoding          = "encoding"           // neither UTF-8, UTF-16 nor Big5
	CodeEmpty             = "empty"              // nothing but white space
	CodeNoHeader          = "no_header"          // first record is neither a header nor the one-column form
	CodeMissingColumn     = "missing_column"     // no name or no email column
	CodeDuplicateColumn   = "duplicate_column"   // two headers for the same field
	CodeTooManyColumns    = "too_many_columns"   // header over MaxColumns
	CodeNoRows            = "no_rows"            // a header and nothing else
	CodeTooManyRows       = "too_many_rows"      // over MaxRows data rows
	CodeQuote             = "quote"              // CSV quoting error
	CodeColumnCount       = "column_count"       // row width differs from the header
	CodeRequired          = "required"           // name or email missing in a row
	CodeTooLong           = "too_long"           // field over MaxFieldChars
	CodeBadCharacter      = "bad_character"      // undecodable or control character
	CodeName              = "name"               // a name without a letter
	CodeOneColumn         = "one_column"         // 部門-姓名-職級 value that does not split
	CodeEmail             = "email"              // not a bare e-mail address
	CodePhone             = "phone"              // not a phone number
	CodeDate              = "date"               // not a date in an accepted form
	CodeLeaveBeforeStart  = "leave_before_start" // leave date before start date
	CodeSelfManager       = "self_manager"       // manager email is the row's own
	CodeDuplicateEmail    = "duplicate_email"    // same email on several lines
	CodeDuplicateEmployee = "duplicate_employee_number"

	// Warnings.
	CodeUnknownColumn   = "unknown_column"   // header not recognised: column ignored
	CodeUnnamedColumn   = "unnamed_column"   // values under an empty header: ignored
	CodeEncodingGuessed = "encoding_guessed" // UTF-16 without a byte order mark
)

var labels = map[string]i18n.Text{
	FieldName:           {EN: "name", ZH: "姓名"},
	FieldChineseName:    {EN: "Chinese name", ZH: "中文姓名"},
	FieldEmail:          {EN: "email", ZH: "電郵"},
	FieldPhone:          {EN: "phone", ZH: "電話"},
	FieldTitle:          {EN: "title", ZH: "職位"},
	FieldRank:           {EN: "rank", ZH: "職級"},
	FieldEmployeeNumber: {EN: "employee number", ZH: "員工編號"},
	FieldDepartment:     {EN: "department", ZH: "部門"},
	FieldManagerEmail:   {EN: "manager's email", ZH: "上司電郵"},
	FieldStartDate:      {EN: "start date", ZH: "入職日期"},
	FieldLeaveDate:      {EN: "leave date", ZH: "離職日期"},
	FieldOneColumn:      {EN: "department-name-rank", ZH: "部門-姓名-職級"},
}

// text formats a message in both languages; an i18n.Text argument is
// replaced by its text in each language.
func text(en, zh string, args ...any) i18n.Text {
	ea, za := make([]any, len(args)), make([]any, len(args))
	for i, a := range args {
		if t, ok := a.(i18n.Text); ok {
			ea[i], za[i] = t.EN, t.ZH
		} else {
			ea[i], za[i] = a, a
		}
	}
	return i18n.Text{EN: fmt.Sprintf(en, ea...), ZH: fmt.Sprintf(zh, za...)}
}

// show returns a value fit to quote in a message: at most 40 characters,
// anything unprintable replaced.
func show(v string) string {
	const maxShown = 40
	var b strings.Builder
	n := 0
	for _, r := range v {
		if n == maxShown {
			b.WriteString("…")
			break
		}
		if r == utf8.RuneError || (!unicode.IsPrint(r) && r != ' ') {
			r = '?'
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

const maxListed = 5

func lineList(lines []int) string {
	parts := make([]string, 0, maxListed+1)
	for i, l := range lines {
		if i == maxListed {
			parts = append(parts, "…")
			break
		}
		parts = append(parts, fmt.Sprint(l))
	}
	return strings.Join(parts, ", ")
}

const saveHint = `Save the sheet from Excel as "CSV UTF-8" or "Unicode Text".`
const saveHintZH = "請在 Excel 以「CSV UTF-8」或「Unicode 文字」格式另存。"

var (
	msgTooLarge = func(max int) i18n.Text {
		return text("The file is larger than %d MB.", "檔案大於 %d MB。", max>>20)
	}
	msgWorkbook = text("This is an Excel workbook, not a CSV file. "+saveHint, "這是 Excel 活頁簿，不是 CSV 檔案。"+saveHintZH)
	msgBinary   = text("The file holds binary data, not text. "+saveHint, "檔案含有二進位資料，並非文字。"+saveHintZH)
	msgUTF32    = text("UTF-32 files are not supported. "+saveHint, "不支援 UTF-32 檔案。"+saveHintZH)
	msgEncoding = text("The file is neither UTF-8, UTF-16 nor Big5 (the first unreadable byte is on this line). "+saveHint,
		"檔案並非 UTF-8、UTF-16 或 Big5 編碼（此行首次出現無法讀取的位元組）。"+saveHintZH)
	msgGuessed = func(enc string) i18n.Text {
		return text("The file has no byte order mark; it was read as %s.", "檔案沒有位元組順序記號（BOM），已按 %s 讀取。", enc)
	}
	msgEmpty    = text("The file is empty.", "檔案是空的。")
	msgNoHeader = text("The first line is not a header row: name the columns, e.g. 姓名, 電郵 (Name, Email), or use one column of 部門-姓名-職級.",
		"第一行不是標題列：請為各欄命名，例如「姓名」、「電郵」，或只用一欄「部門-姓名-職級」。")
	msgMissingColumn = func(what i18n.Text) i18n.Text {
		return text("No %s column: the header needs one.", "標題列缺少「%s」欄。", what)
	}
	msgNameColumns     = i18n.Text{EN: "name (name, 姓名, 中文姓名 or 部門-姓名-職級)", ZH: "姓名（姓名、中文姓名或部門-姓名-職級）"}
	msgEmailColumns    = i18n.Text{EN: "email (email, 電郵)", ZH: "電郵"}
	msgDuplicateColumn = func(f i18n.Text, other int) i18n.Text {
		return text("Column %[2]d already holds the %[1]s; only one column may.", "第 %[2]d 欄已是「%[1]s」，同一資料只可有一欄。", f, other)
	}
	msgTooManyColumns = func(max int) i18n.Text {
		return text("This row has more than %d columns.", "此行超過 %d 欄。", max)
	}
	msgNoRows      = text("The file has a header but no staff rows.", "檔案只有標題列，沒有員工資料。")
	msgTooManyRows = func(max int) i18n.Text {
		return text("The file has more than %d staff rows; split it into smaller files.", "檔案超過 %d 行員工資料，請分拆成較小的檔案。", max)
	}
	msgUnterminated = func(endLine int) i18n.Text {
		return text("A quoted value starts in this column and is never closed (the file ends on line %d).",
			"此欄的引號（\"）開始後沒有關閉（檔案在第 %d 行結束）。", endLine)
	}
	msgBareQuote = func(char int) i18n.Text {
		return text(`A double quote (") appears inside a value that does not start with one (character %d of the line); write it as "" inside a quoted value.`,
			"未以引號開始的值內出現引號（\"）（該行第 %d 個字元）；請在加引號的值內寫成 \"\"。", char)
	}
	msgAfterQuote = func(char int) i18n.Text {
		return text("Unexpected text after a closing quote (character %d of the line).", "關閉引號後出現多餘文字（該行第 %d 個字元）。", char)
	}
	msgColumnCount = func(got, want int) i18n.Text {
		return text("This row has %d columns but the header has %d.", "此行有 %d 欄，但標題列有 %d 欄。", got, want)
	}
	msgRequired = func(f i18n.Text) i18n.Text {
		return text("The %s is missing.", "缺少%s。", f)
	}
	msgNoEmailOneColumn = text("The email is missing: put it in a second column after 部門-姓名-職級.",
		"缺少電郵：請在「部門-姓名-職級」後加第二欄填寫電郵。")
	msgTooLong = func(f i18n.Text, max int) i18n.Text {
		return text("The %s is longer than %d characters.", "%s超過 %d 個字。", f, max)
	}
	msgBadCharacter = func(f i18n.Text) i18n.Text {
		return text("The %s contains a character that cannot be read (a control character, or a wrong or private encoding). "+saveHint,
			"%s含有無法讀取的字元（控制字元，或編碼錯誤／造字）。"+saveHintZH, f)
	}
	msgName = func(f i18n.Text, v string) i18n.Text {
		return text("The %s %q has no letters.", "%s「%s」沒有文字。", f, show(v))
	}
	msgOneColumn = func(v string) i18n.Text {
		return text("%q is not in the form 部門-姓名-職級 (department-name-rank).", "「%s」不符合「部門-姓名-職級」格式。", show(v))
	}
	msgEmail = func(f i18n.Text, v string) i18n.Text {
		return text("The %s %q is not a valid e-mail address.", "%s「%s」格式無效。", f, show(v))
	}
	msgPhone = func(v string) i18n.Text {
		return text("The phone %q is not a phone number: write 8 digits for Hong Kong, or + and the country code.",
			"電話「%s」無效：香港號碼請寫 8 位數字，其他地區請加 + 及國家代碼。", show(v))
	}
	msgDate = func(f i18n.Text, v string) i18n.Text {
		return text("The %s %q is not a date: write 2025-11-03, 3/11/2025 (day first), 3-Nov-2025 or 2025年11月3日.",
			"%s「%s」不是有效日期：請寫 2025-11-03、3/11/2025（日／月／年）、3-Nov-2025 或 2025年11月3日。", f, show(v))
	}
	msgLeaveBeforeStart = func(leave, start Date) i18n.Text {
		return text("The leave date %s is before the start date %s.", "離職日期 %s 早於入職日期 %s。", leave, start)
	}
	msgSelfManager = text("The manager's email is the employee's own.", "上司電郵與員工本人的電郵相同。")
	msgDuplicate   = func(f i18n.Text, v string, others []int) i18n.Text {
		return text("The %s %q is also on line %s.", "%s「%s」亦出現在第 %s 行。", f, show(v), lineList(others))
	}
	msgUnknownColumn = func(h string) i18n.Text {
		return text("The column %q is not recognised and is ignored.", "無法識別「%s」欄，已略過。", show(h))
	}
	msgUnnamedColumn = text("This column has values but no header; they are ignored.", "此欄有資料但沒有標題，已略過。")
)
