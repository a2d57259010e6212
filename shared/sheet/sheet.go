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

var hongKong = i18n.HongKong

// Location is where Time columns are shown: Zone, else Hong Kong.
func (t Table) Location() *time.Location {
	if t.Zone != nil {
		return t.Zone
	}
	return hongKong
}

// Check says what is wrong with t's shape, before anything is written.
func (t Table) Check() error {
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
			return tm.In(t.Location()).Format("2006-01-02 15:04")
		}
		return ""
	}
	return Defuse(v.(string))
}

// WriteCSV writes t as CSV with headers in lang.
func WriteCSV(w io.Writer, t Table, lang i18n.Lang) error {
	if err := t.Check(); err != nil {
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

// Writer writes a table in one format, headers in lang.
type Writer func(w io.Writer, t Table, lang i18n.Lang) error

// Serve writes t to w as CSV or, with f XLSX, by xlsx (shared/sheet/xlsx's
// Write: the spreadsheet library is linked only into the functions that
// pass it), as a download named file (without extension; it may be
// Chinese: RFC 6266 filename* carries it, with an ASCII fallback) and with
// headers in the request's language.
func Serve(w http.ResponseWriter, r *http.Request, f Format, file string, t Table, xlsx Writer) error {
	lang := i18n.FromRequest(r)
	var buf strings.Builder
	var err error
	ext, media := ".csv", MediaCSV
	switch {
	case f == XLSX && xlsx == nil:
		return problem.E("sheet.Serve", problem.Invalid, problem.Code("bad-format"), i18n.Text{
			EN: "This download is available as CSV only.", ZH: "此下載只提供 CSV 格式。",
		})
	case f == XLSX:
		ext, media = ".xlsx", MediaXLSX
		err = xlsx(&buf, t, lang)
	default:
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
