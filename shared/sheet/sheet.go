// Package sheet writes tables for people who open them in Excel: the
// directory export and the monthly timesheets, as CSV or XLSX, with
// headers in English or Traditional Chinese.
//
// CSV is written the way Excel in Hong Kong reads it without a wizard:
// UTF-8 with a byte order mark (else Chinese turns to mojibake), CRLF line
// ends, and every cell that a spreadsheet would take for a formula
// (starting with =, +, -, @, tab or carriage return) prefixed with a single
// quote, as OWASP advises against CSV injection: an employee named
// "=HYPERLINK(...)" stays text. XLSX cells are typed (numbers, dates) and
// text cells are written as strings, which Excel never evaluates.
package sheet

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/problem"
)

// Kind is how a column's values are written.
type Kind int

// Kinds of column.
const (
	Text   Kind = iota // string
	Number             // int, int64 or float64; Decimals places shown
	Date               // time.Time shown as yyyy-mm-dd (its calendar day as stored)
	Time               // time.Time shown as yyyy-mm-dd hh:mm in Zone
)

// Column is one column of a Table.
type Column struct {
	Header   i18n.Text
	Kind     Kind
	Decimals int     // Number: places after the point
	Width    float64 // XLSX column width in characters; 0 picks one from the header
}

// Table is a sheet of rows. Each row has one value per column: string for
// Text; int, int64 or float64 for Number; time.Time for Date and Time
// (zero: empty cell); nil is an empty cell in any column.
type Table struct {
	Name    i18n.Text // the sheet's name (XLSX); at most 31 characters
	Columns []Column
	Rows    [][]any
	// Zone is where Time columns are shown; Hong Kong when nil.
	Zone *time.Location
}

var hongKong = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Hong_Kong")
	if err != nil {
		return time.FixedZone("HKT", 8*3600)
	}
	return loc
}()

func (t Table) zone() *time.Location {
	if t.Zone != nil {
		return t.Zone
	}
	return hongKong
}

// check says what is wrong with t's shape, before anything is written.
func (t Table) check() error {
	for i, row := range t.Rows {
		if len(row) != len(t.Columns) {
			return fmt.Errorf("row %d has %d values for %d columns", i+1, len(row), len(t.Columns))
		}
		for j, v := range row {
			if !fits(t.Columns[j].Kind, v) {
				return fmt.Errorf("row %d column %d: %T does not fit a column of kind %d", i+1, j+1, v, t.Columns[j].Kind)
			}
		}
	}
	return nil
}

func fits(k Kind, v any) bool {
	if v == nil {
		return true
	}
	switch k {
	case Text:
		_, ok := v.(string)
		return ok
	case Number:
		switch x := v.(type) {
		case int, int64:
			return true
		case float64:
			return !math.IsNaN(x) && !math.IsInf(x, 0)
		}
		return false
	case Date, Time:
		_, ok := v.(time.Time)
		return ok
	}
	return false
}

// formulaStart are the first characters that make a spreadsheet read a
// cell as a formula (OWASP CSV injection).
const formulaStart = "=+-@\t\r"

// Defuse makes s safe to put in a CSV cell that a spreadsheet will open.
func Defuse(s string) string {
	if s != "" && strings.ContainsRune(formulaStart, rune(s[0])) {
		return "'" + s
	}
	return s
}

// text is the cell's text in a CSV file.
func (t Table) text(c Column, v any) string {
	if v == nil {
		return ""
	}
	switch c.Kind {
	case Number:
		switch x := v.(type) {
		case int:
			return fmt.Sprint(x)
		case int64:
			return fmt.Sprint(x)
		case float64:
			// Half away from zero, as Excel shows it (fmt would round
			// 0.125 to 0.12).
			p := math.Pow10(c.Decimals)
			return fmt.Sprintf("%.*f", c.Decimals, math.Round(x*p)/p)
		}
	case Date:
		if tm := v.(time.Time); !tm.IsZero() {
			return tm.Format(time.DateOnly)
		}
		return ""
	case Time:
		if tm := v.(time.Time); !tm.IsZero() {
			return tm.In(t.zone()).Format("2006-01-02 15:04")
		}
		return ""
	}
	return Defuse(v.(string))
}

// WriteCSV writes t as CSV with headers in lang.
func WriteCSV(w io.Writer, t Table, lang i18n.Lang) error {
	if err := t.check(); err != nil {
		return problem.E("sheet.WriteCSV", problem.Internal, err)
	}
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	header := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		header[i] = c.Header.T(lang)
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	record := make([]string, len(t.Columns))
	for _, row := range t.Rows {
		for i, v := range row {
			record[i] = t.text(t.Columns[i], v)
		}
		if err := cw.Write(record); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteXLSX writes t as an XLSX workbook of one sheet with headers in
// lang: the header row bold and frozen, an auto filter, typed cells. It
// streams rows, so a large directory does not build a large document in
// memory.
func WriteXLSX(w io.Writer, t Table, lang i18n.Lang) error {
	const op = "sheet.WriteXLSX"
	if err := t.check(); err != nil {
		return problem.E(op, problem.Internal, err)
	}
	f := excelize.NewFile()
	defer f.Close()
	name := sheetName(t.Name.T(lang))
	if err := f.SetSheetName("Sheet1", name); err != nil {
		return problem.E(op, problem.Internal, err)
	}
	sw, err := f.NewStreamWriter(name)
	if err != nil {
		return problem.E(op, problem.Internal, err)
	}
	bold, err1 := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	dateStyle, err2 := f.NewStyle(&excelize.Style{CustomNumFmt: ptr("yyyy-mm-dd")})
	timeStyle, err3 := f.NewStyle(&excelize.Style{CustomNumFmt: ptr("yyyy-mm-dd hh:mm")})
	numStyles := map[int]int{}
	for _, c := range t.Columns {
		if c.Kind == Number {
			if _, ok := numStyles[c.Decimals]; !ok {
				format := "0"
				if c.Decimals > 0 {
					format += "." + strings.Repeat("0", c.Decimals)
				}
				id, err := f.NewStyle(&excelize.Style{CustomNumFmt: &format})
				if err != nil {
					return problem.E(op, problem.Internal, err)
				}
				numStyles[c.Decimals] = id
			}
		}
	}
	if err := firstErr(err1, err2, err3); err != nil {
		return problem.E(op, problem.Internal, err)
	}
	for i, c := range t.Columns {
		width := c.Width
		if width == 0 {
			width = max(12, float64(displayWidth(c.Header.T(lang)))+2)
		}
		if err := sw.SetColWidth(i+1, i+1, width); err != nil {
			return problem.E(op, problem.Internal, err)
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return problem.E(op, problem.Internal, err)
	}
	header := make([]any, len(t.Columns))
	for i, c := range t.Columns {
		header[i] = excelize.Cell{StyleID: bold, Value: c.Header.T(lang)}
	}
	if err := sw.SetRow("A1", header); err != nil {
		return problem.E(op, problem.Internal, err)
	}
	cells := make([]any, len(t.Columns))
	for r, row := range t.Rows {
		for i, v := range row {
			c := t.Columns[i]
			switch {
			case v == nil:
				cells[i] = nil
			case c.Kind == Number:
				cells[i] = excelize.Cell{StyleID: numStyles[c.Decimals], Value: v}
			case c.Kind == Date || c.Kind == Time:
				tm := v.(time.Time)
				if tm.IsZero() {
					cells[i] = nil
					continue
				}
				style := dateStyle
				if c.Kind == Time {
					style, tm = timeStyle, tm.In(t.zone())
				}
				// Excel has no zones: write the wall-clock time as shown.
				cells[i] = excelize.Cell{StyleID: style, Value: time.Date(tm.Year(), tm.Month(), tm.Day(), tm.Hour(), tm.Minute(), tm.Second(), 0, time.UTC)}
			default:
				cells[i] = excelize.Cell{Value: v.(string)}
			}
		}
		cell, err := excelize.CoordinatesToCellName(1, r+2)
		if err != nil {
			return problem.E(op, problem.Internal, err)
		}
		if err := sw.SetRow(cell, cells); err != nil {
			return problem.E(op, problem.Internal, err)
		}
	}
	if err := sw.Flush(); err != nil {
		return problem.E(op, problem.Internal, err)
	}
	if len(t.Columns) > 0 {
		last, _ := excelize.CoordinatesToCellName(len(t.Columns), len(t.Rows)+1)
		if err := f.AutoFilter(name, "A1:"+last, nil); err != nil {
			return problem.E(op, problem.Internal, err)
		}
	}
	_, err = f.WriteTo(w)
	return err
}

func ptr[T any](v T) *T { return &v }

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// sheetName fits s to Excel's rules for sheet names: 1 to 31 characters,
// none of : \ / ? * [ ].
func sheetName(s string) string {
	s = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`:\/?*[]`, r) {
			return '-'
		}
		return r
	}, strings.TrimSpace(s))
	if rs := []rune(s); len(rs) > 31 {
		s = string(rs[:31])
	}
	if s == "" {
		s = "Sheet1"
	}
	return s
}

// displayWidth counts East Asian wide characters twice, as a column of
// Chinese headers needs.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x1100 && (r <= 0x115F || (r >= 0x2E80 && r <= 0xA4CF) || (r >= 0xAC00 && r <= 0xD7A3) ||
			(r >= 0xF900 && r <= 0xFAFF) || (r >= 0xFE30 && r <= 0xFE4F) || (r >= 0xFF00 && r <= 0xFF60) ||
			(r >= 0xFFE0 && r <= 0xFFE6) || r >= 0x20000) {
			n += 2
			continue
		}
		n++
	}
	return n
}

// Format is an export format.
type Format string

// Formats.
const (
	CSV  Format = "csv"
	XLSX Format = "xlsx"
	JSON Format = "json"
)

// Media types of the formats.
const (
	MediaCSV  = "text/csv; charset=utf-8"
	MediaXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
)

// FormatOf reads the format a request asks for: ?format=csv|xlsx|json, else
// its Accept header, else def. An unknown ?format is a 400 naming the
// choices.
func FormatOf(r *http.Request, def Format) (Format, error) {
	if v := r.URL.Query().Get("format"); v != "" {
		switch f := Format(strings.ToLower(v)); f {
		case CSV, XLSX, JSON:
			return f, nil
		}
		return "", problem.E("sheet.FormatOf", problem.Invalid, problem.Code("bad-format"), i18n.Text{
			EN: "format must be csv, xlsx or json.", ZH: "format 必須為 csv、xlsx 或 json。",
		})
	}
	for part := range strings.SplitSeq(r.Header.Get("Accept"), ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "text/csv":
			return CSV, nil
		case MediaXLSX:
			return XLSX, nil
		case "application/json":
			return JSON, nil
		}
	}
	return def, nil
}

// Serve writes t to w as CSV or XLSX, as a download named file (without
// extension; it may be Chinese: RFC 6266 filename* carries it, with an
// ASCII fallback) and with headers in the request's language.
func Serve(w http.ResponseWriter, r *http.Request, f Format, file string, t Table) error {
	lang := i18n.FromRequest(r)
	var buf strings.Builder
	var err error
	ext, media := ".csv", MediaCSV
	if f == XLSX {
		ext, media = ".xlsx", MediaXLSX
		err = WriteXLSX(&buf, t, lang)
	} else {
		err = WriteCSV(&buf, t, lang)
	}
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", media)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": file + ext}))
	w.Header().Set("Content-Language", lang.String())
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, err = io.WriteString(w, buf.String())
	return err
}
