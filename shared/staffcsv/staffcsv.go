package staffcsv

import (
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/lantau-hq/lantau/shared/i18n"
)

// Limits. Going over one is a Problem.
const (
	MaxBytes      = 10 << 20 // file size, before decoding
	MaxRows       = 50_000   // data rows, not counting the header or blank lines
	MaxFieldChars = 1_000    // characters in one field
	MaxColumns    = 200      // columns in the header
)

// Options change how a file is read. The zero value detects everything.
type Options struct {
	// Encoding forces an encoding: UTF8, UTF16LE, UTF16BE, Big5HKSCS or
	// "utf-16" (byte order from the BOM, else little-endian). A matching
	// BOM is still skipped.
	Encoding string
	// Delimiter forces the field separator: ',', '\t', ';' or '|'.
	Delimiter rune
}

// Sheet is a decoded staff list.
type Sheet struct {
	Rows      []Row     // rows without problems, in file order
	Problems  []Problem // the file is fit to import only when this is empty
	Warnings  []Problem // worth showing, not blocking
	Encoding  string    // UTF8, UTF16LE, UTF16BE or Big5HKSCS; "" when undecidable
	Delimiter rune      // ',', '\t', ';' or '|'; 0 when the file was not read that far
	// Columns are the fields the file has a column for, with its 1-based
	// spreadsheet column (as Problem.Column): an importer changes only
	// those fields, and names the column of what it finds wrong.
	Columns map[string]int
}

// Row is one employee as the file describes them. Strings are trimmed and
// NFC-normalized; absent values are empty.
type Row struct {
	Line           int // where the row starts in the file, 1-based
	Name           string
	ChineseName    string
	Email          string // lower-cased
	Phone          string // E.164, e.g. +85291234567
	Title          string
	Rank           string
	EmployeeNumber string
	Department     []string // path from the top, e.g. [技術部 後端組]
	ManagerEmail   string   // lower-cased
	Start, Leave   *Date
}

// Problem is something wrong with the file, a row or a field.
type Problem struct {
	Line    int    // 1-based line in the file; 0 for the whole file
	Column  int    // 1-based spreadsheet column; 0 when no single column is at fault
	Field   string // a Field constant; "" when no field is concerned
	Code    string // a Code constant
	Message i18n.Text
}

// Decode reads a staff list. It returns an error only when opts are
// invalid; everything wrong with data is in the Sheet's Problems.
func Decode(data []byte, opts Options) (*Sheet, error) {
	forced, err := parseEncoding(opts.Encoding)
	if err != nil {
		return nil, err
	}
	switch opts.Delimiter {
	case 0, ',', '\t', ';', '|':
	default:
		return nil, fmt.Errorf("staffcsv: delimiter %q is not one of comma, TAB, semicolon or |", opts.Delimiter)
	}
	d := &decoder{sheet: &Sheet{}}
	d.decode(data, forced, opts.Delimiter)
	d.finish()
	return d.sheet, nil
}

// decoder holds the state of one Decode.
type decoder struct {
	sheet      *Sheet
	lineOffset int            // lines dropped before the CSV reader (a sep= line)
	fieldCol   map[string]int // field -> 0-based column
	width      int            // columns in the header; 0 without one
	headerless bool           // one-column form without a header
	unnamed    map[int]int    // 0-based column with an empty header -> first line with a value there
	records    int            // data records read, good or bad
	text       string         // what the CSV reader reads
	lineStarts []int          // offsets of its lines, built on the first quoting error
	cands      []candidate
}

type candidate struct {
	row      Row
	bad      bool
	emailCol int // 1-based
	numCol   int // 1-based
}

func (d *decoder) fileProblem(code string, msg i18n.Text) {
	d.sheet.Problems = append(d.sheet.Problems, Problem{Code: code, Message: msg})
}

func (d *decoder) problem(line, col int, field, code string, msg i18n.Text) {
	d.sheet.Problems = append(d.sheet.Problems, Problem{Line: line, Column: col, Field: field, Code: code, Message: msg})
}

func (d *decoder) warn(line, col int, field, code string, msg i18n.Text) {
	d.sheet.Warnings = append(d.sheet.Warnings, Problem{Line: line, Column: col, Field: field, Code: code, Message: msg})
}

func (d *decoder) decode(data []byte, forced string, delim rune) {
	if len(data) > MaxBytes {
		d.fileProblem(CodeTooLarge, msgTooLarge(MaxBytes))
		return
	}
	text, ok := d.decodeText(data, forced)
	if !ok {
		return
	}
	text = strings.TrimPrefix(text, "\uFEFF")
	if !strings.Contains(text, "\n") {
		text = strings.ReplaceAll(text, "\r", "\n") // CR-only line ends (old Excel for Mac)
	}
	if strings.TrimFunc(text, isTrimmed) == "" {
		d.fileProblem(CodeEmpty, msgEmpty)
		return
	}

	first, rest, _ := strings.Cut(text, "\n")
	if sep, ok := sepLine(first); ok {
		d.lineOffset, text = 1, rest
		if delim == 0 {
			delim = sep
		}
	}
	if delim == 0 {
		delim = detectDelimiter(firstNonBlankLine(text))
	}
	d.sheet.Delimiter = delim

	d.text = text
	if line := widestRecord(text, delim, delim != '\t', MaxColumns); line > 0 {
		d.problem(line+d.lineOffset, 0, "", CodeTooManyColumns, msgTooManyColumns(MaxColumns))
		return
	}
	d.cands = make([]candidate, 0, min(strings.Count(text, "\n")+1, MaxRows))
	r := csv.NewReader(strings.NewReader(text))
	r.Comma = delim
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = delim != '\t'
	r.ReuseRecord = true

	header, err := r.Read()
	if err == io.EOF {
		d.fileProblem(CodeEmpty, msgEmpty)
		return
	}
	if err != nil {
		d.csvError(err, len(header))
		return
	}
	headerLine := d.line(r, 0)
	if !d.readHeader(header, headerLine) {
		return
	}
	if d.headerless {
		d.record(r, header)
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if d.records == MaxRows && (err != nil || !blank(rec)) {
			var pe *csv.ParseError
			line := 0
			if errors.As(err, &pe) {
				line = pe.StartLine + d.lineOffset
			} else if len(rec) > 0 {
				line = d.line(r, 0)
			}
			d.problem(line, 0, "", CodeTooManyRows, msgTooManyRows(MaxRows))
			return
		}
		if err != nil {
			d.records++
			if !d.csvError(err, len(rec)) {
				break
			}
			continue
		}
		d.record(r, rec)
	}
	if d.records == 0 {
		d.problem(headerLine, 0, "", CodeNoRows, msgNoRows)
	}
}

// sepLine recognises Excel's "sep=;" first line.
func sepLine(line string) (rune, bool) {
	line = strings.TrimRight(line, "\r")
	if len(line) == 5 && strings.EqualFold(line[:4], "sep=") {
		switch c := rune(line[4]); c {
		case ',', '\t', ';', '|':
			return c, true
		}
	}
	return 0, false
}

func firstNonBlankLine(text string) string {
	for line := range strings.Lines(text) {
		if strings.TrimSpace(line) != "" {
			return line
		}
	}
	return ""
}

// line returns the file line where field i of the last record starts.
func (d *decoder) line(r *csv.Reader, i int) int {
	l, _ := r.FieldPos(i)
	return l + d.lineOffset
}

// csvError records a quoting error. It reports whether reading can go on.
func (d *decoder) csvError(err error, completeFields int) bool {
	var pe *csv.ParseError
	if !errors.As(err, &pe) { // strings.Reader does not fail; kept for safety
		d.fileProblem(CodeQuote, text("The file could not be read.", "無法讀取檔案。"))
		return false
	}
	col := completeFields + 1 // encoding/csv returns the fields before the faulty one
	field := d.fieldAt(col - 1)
	switch {
	case errors.Is(pe.Err, csv.ErrBareQuote):
		d.problem(pe.Line+d.lineOffset, col, field, CodeQuote, msgBareQuote(d.charColumn(pe.Line, pe.Column)))
		return true
	case d.quoteAt(pe.Line, pe.Column):
		// `"abc"x`: the column points at the closing quote.
		d.problem(pe.Line+d.lineOffset, col, field, CodeQuote, msgAfterQuote(d.charColumn(pe.Line, pe.Column)))
		return true
	default:
		// An opened quote ran to the end of the file; the reader is there too.
		d.problem(pe.StartLine+d.lineOffset, col, field, CodeQuote, msgUnterminated(pe.Line+d.lineOffset))
		return false
	}
}

// quoteAt reports whether byte column col (1-based) of line (1-based, as
// the CSV reader counts) is a double quote with more text after it.
func (d *decoder) quoteAt(line, col int) bool {
	l := d.lineText(line)
	return col >= 1 && col < len(l) && l[col-1] == '"'
}

// charColumn turns the CSV reader's 1-based byte column into a 1-based
// character position, which is what a person counts.
func (d *decoder) charColumn(line, col int) int {
	l := d.lineText(line)
	if col < 1 || col > len(l)+1 {
		return col
	}
	return utf8.RuneCountInString(l[:col-1]) + 1
}

// lineText returns line n (1-based) of the text without its line end.
func (d *decoder) lineText(n int) string {
	if d.lineStarts == nil {
		d.lineStarts = []int{0}
		for i := 0; i < len(d.text); i++ {
			if d.text[i] == '\n' {
				d.lineStarts = append(d.lineStarts, i+1)
			}
		}
	}
	if n < 1 || n > len(d.lineStarts) {
		return ""
	}
	l := d.text[d.lineStarts[n-1]:]
	if i := strings.IndexByte(l, '\n'); i >= 0 {
		l = l[:i]
	}
	return strings.TrimSuffix(l, "\r")
}

func (d *decoder) fieldAt(col int) string {
	for f, c := range d.fieldCol {
		if c == col {
			return f
		}
	}
	return ""
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimFunc(f, isTrimmed) != "" {
			return false
		}
	}
	return true
}

// readHeader maps the header's columns to fields or recognises the
// one-column form without a header. It reports whether rows can be read.
func (d *decoder) readHeader(header []string, line int) bool {
	d.fieldCol = make(map[string]int)
	keys := make([]string, len(header))
	known := 0
	for i, h := range header {
		if len(h) <= maxHeaderBytes {
			keys[i] = headerKey(h)
		}
		if _, ok := headerFields[keys[i]]; ok {
			known++
		}
	}
	if known == 0 {
		if len(header) <= 2 && looksOneColumn(header) {
			d.headerless = true
			d.fieldCol[FieldOneColumn] = 0
			d.fieldCol[FieldEmail] = 1
			return true
		}
		d.problem(line, 0, "", CodeNoHeader, msgNoHeader)
		return false
	}
	d.width = len(header)
	d.unnamed = make(map[int]int)
	ok := true
	for i, k := range keys {
		if k == "" && strings.TrimFunc(header[i], isTrimmed) == "" {
			d.unnamed[i] = 0
			continue
		}
		f, known := headerFields[k]
		if !known {
			d.warn(line, i+1, "", CodeUnknownColumn, msgUnknownColumn(cleanValue(prefix(header[i], maxHeaderBytes))))
			continue
		}
		if prev, dup := d.fieldCol[f]; dup {
			d.problem(line, i+1, f, CodeDuplicateColumn, msgDuplicateColumn(labels[f], prev+1))
			ok = false
			continue
		}
		d.fieldCol[f] = i
	}
	_, name := d.fieldCol[FieldName]
	_, zhName := d.fieldCol[FieldChineseName]
	_, one := d.fieldCol[FieldOneColumn]
	_, email := d.fieldCol[FieldEmail]
	if !name && !zhName && !one {
		d.problem(line, 0, FieldName, CodeMissingColumn, msgMissingColumn(msgNameColumns))
		ok = false
	}
	if !email && !one { // the one-column form reports a missing email per row
		d.problem(line, 0, FieldEmail, CodeMissingColumn, msgMissingColumn(msgEmailColumns))
		ok = false
	}
	return ok
}

// looksOneColumn reports whether a first record without a known header is
// a row of the one-column form: 部門-姓名-職級 and optionally an email.
func looksOneColumn(rec []string) bool {
	if len(rec[0]) > maxHeaderBytes {
		return false
	}
	if _, _, _, ok := splitOneColumn(cleanValue(rec[0])); !ok {
		return false
	}
	return len(rec) == 1 || strings.TrimSpace(rec[1]) == "" || strings.Contains(foldWidth(rec[1]), "@")
}

// record validates one data record.
func (d *decoder) record(r *csv.Reader, rec []string) {
	if blank(rec) {
		return
	}
	d.records++
	line := d.line(r, 0)
	if !d.rowWidthOK(rec, line) {
		return
	}
	for i := range d.unnamed {
		if i < len(rec) && d.unnamed[i] == 0 && strings.TrimFunc(rec[i], isTrimmed) != "" {
			d.unnamed[i] = d.line(r, i)
		}
	}

	c := candidate{row: Row{Line: line}}
	row := &c.row
	var reported []string // fields with a problem
	bad := func(f, code string, msg i18n.Text) {
		col := d.fieldCol[f]
		d.problem(d.fieldLine(r, rec, col), col+1, f, code, msg)
		c.bad = true
		reported = append(reported, f)
	}
	// get returns the cleaned value of f, or "" when absent or already
	// reported.
	get := func(f string) string {
		col, ok := d.fieldCol[f]
		if !ok || col >= len(rec) {
			return ""
		}
		raw := rec[col]
		if utf8.RuneCountInString(raw) > MaxFieldChars {
			bad(f, CodeTooLong, msgTooLong(labels[f], MaxFieldChars))
			return ""
		}
		if badCharacter(raw) {
			bad(f, CodeBadCharacter, msgBadCharacter(labels[f]))
			return ""
		}
		return cleanValue(raw)
	}
	name := func(f string) string {
		v := collapseSpace(get(f))
		if v != "" && !hasLetter(v) {
			bad(f, CodeName, msgName(labels[f], v))
			return ""
		}
		return v
	}
	email := func(f string) string {
		v := get(f)
		if v == "" {
			return ""
		}
		e, ok := parseEmail(v)
		if !ok {
			bad(f, CodeEmail, msgEmail(labels[f], v))
		}
		return e
	}
	date := func(f string) *Date {
		v := get(f)
		if v == "" {
			return nil
		}
		t, ok := parseDate(v)
		if !ok {
			bad(f, CodeDate, msgDate(labels[f], v))
			return nil
		}
		return &t
	}

	row.Name = name(FieldName)
	row.ChineseName = name(FieldChineseName)
	row.Title = collapseSpace(get(FieldTitle))
	row.Rank = collapseSpace(get(FieldRank))
	row.Department = splitDepartment(get(FieldDepartment))
	if v := get(FieldOneColumn); v != "" {
		dept, n, rank, ok := splitOneColumn(v)
		if !ok {
			bad(FieldOneColumn, CodeOneColumn, msgOneColumn(v))
		}
		row.Name = cmp.Or(row.Name, n)
		row.Rank = cmp.Or(row.Rank, rank)
		if len(row.Department) == 0 {
			row.Department = dept
		}
	}
	row.Email = email(FieldEmail)
	row.ManagerEmail = email(FieldManagerEmail)
	if v := get(FieldPhone); v != "" {
		p, ok := parsePhone(v)
		if !ok {
			bad(FieldPhone, CodePhone, msgPhone(v))
		}
		row.Phone = p
	}
	row.EmployeeNumber = collapseSpace(foldWidth(get(FieldEmployeeNumber)))
	row.Start = date(FieldStartDate)
	row.Leave = date(FieldLeaveDate)

	d.required(r, rec, &c, reported)
	if row.Start != nil && row.Leave != nil && row.Leave.Before(*row.Start) {
		bad(FieldLeaveDate, CodeLeaveBeforeStart, msgLeaveBeforeStart(*row.Leave, *row.Start))
	}
	if row.ManagerEmail != "" && row.ManagerEmail == row.Email {
		bad(FieldManagerEmail, CodeSelfManager, msgSelfManager)
	}
	if col, ok := d.fieldCol[FieldEmail]; ok {
		c.emailCol = col + 1
	}
	if col, ok := d.fieldCol[FieldEmployeeNumber]; ok {
		c.numCol = col + 1
	}
	d.cands = append(d.cands, c)
}

// required checks that a row has a name and an email, unless a problem
// with them was already reported.
func (d *decoder) required(r *csv.Reader, rec []string, c *candidate, reported []string) {
	if c.row.Name == "" && c.row.ChineseName == "" &&
		!slices.Contains(reported, FieldName) && !slices.Contains(reported, FieldChineseName) && !slices.Contains(reported, FieldOneColumn) {
		f := FieldName
		col, ok := d.fieldCol[f]
		for _, alt := range []string{FieldChineseName, FieldOneColumn} {
			if !ok {
				f = alt
				col, ok = d.fieldCol[f]
			}
		}
		d.problem(d.fieldLine(r, rec, col), col+1, f, CodeRequired, msgRequired(labels[FieldName]))
		c.bad = true
	}
	if c.row.Email == "" && !slices.Contains(reported, FieldEmail) {
		col, ok := d.fieldCol[FieldEmail]
		switch {
		case !ok: // one-column form with a header and no email column
			d.problem(c.row.Line, 0, FieldEmail, CodeRequired, msgNoEmailOneColumn)
		case d.headerless:
			d.problem(c.row.Line, col+1, FieldEmail, CodeRequired, msgNoEmailOneColumn)
		default:
			d.problem(d.fieldLine(r, rec, col), col+1, FieldEmail, CodeRequired, msgRequired(labels[FieldEmail]))
		}
		c.bad = true
	}
}

// fieldLine returns the line where field col (0-based) of the last record
// starts, or the record's line when it has no such field.
func (d *decoder) fieldLine(r *csv.Reader, rec []string, col int) int {
	if col < 0 || col >= len(rec) {
		col = 0
	}
	return d.line(r, col)
}

// rowWidthOK checks a record against the header's width; extra blank
// fields (Excel pads rows with commas) are fine.
func (d *decoder) rowWidthOK(rec []string, line int) bool {
	want := d.width
	if d.headerless {
		want = 2
		if len(rec) <= want {
			return true
		}
	}
	if len(rec) == want || (len(rec) > want && blank(rec[want:])) {
		return true
	}
	d.problem(line, 0, "", CodeColumnCount, msgColumnCount(len(rec), want))
	return false
}

// finish finds duplicates, reports values in unnamed columns, keeps the
// rows without problems and sorts what was found.
func (d *decoder) finish() {
	d.duplicates(FieldEmail, CodeDuplicateEmail, func(c *candidate) (string, int) { return c.row.Email, c.emailCol })
	d.duplicates(FieldEmployeeNumber, CodeDuplicateEmployee, func(c *candidate) (string, int) { return c.row.EmployeeNumber, c.numCol })
	for col, line := range d.unnamed {
		if line > 0 {
			d.warn(line, col+1, "", CodeUnnamedColumn, msgUnnamedColumn)
		}
	}
	if len(d.fieldCol) > 0 {
		d.sheet.Columns = make(map[string]int, len(d.fieldCol))
		for f, c := range d.fieldCol {
			d.sheet.Columns[f] = c + 1
		}
	}
	good := 0
	for i := range d.cands {
		if !d.cands[i].bad {
			good++
		}
	}
	if good > 0 {
		d.sheet.Rows = make([]Row, 0, good)
	}
	for i := range d.cands {
		if !d.cands[i].bad {
			d.sheet.Rows = append(d.sheet.Rows, d.cands[i].row)
		}
	}
	byPlace := func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	}
	slices.SortStableFunc(d.sheet.Problems, byPlace)
	slices.SortStableFunc(d.sheet.Warnings, byPlace)
}

// duplicates reports a key found on several lines, on each of them.
func (d *decoder) duplicates(field, code string, key func(*candidate) (string, int)) {
	lines := make(map[string][]int, len(d.cands))
	for i := range d.cands {
		if k, _ := key(&d.cands[i]); k != "" {
			lines[k] = append(lines[k], d.cands[i].row.Line)
		}
	}
	for i := range d.cands {
		c := &d.cands[i]
		k, col := key(c)
		same := lines[k]
		if k == "" || len(same) < 2 {
			continue
		}
		d.problem(c.row.Line, col, field, code, msgDuplicate(labels[field], k, others(same, c.row.Line)))
		c.bad = true
	}
}

// others returns the first lines of same other than self, enough for a
// message to list them: a value repeated on every line of a large file
// must not cost a copy of the list per line.
func others(same []int, self int) []int {
	out := make([]int, 0, maxListed+1)
	for _, l := range same {
		if l != self {
			out = append(out, l)
			if len(out) > maxListed {
				break
			}
		}
	}
	return out
}

// maxHeaderBytes bounds the header cells worth comparing with known names.
const maxHeaderBytes = 4 * MaxFieldChars

// prefix cuts s to at most n bytes at a character boundary.
func prefix(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
