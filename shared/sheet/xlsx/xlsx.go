// Package xlsx writes shared/sheet tables as XLSX workbooks with excelize.
// It is apart from sheet so that only the functions that offer XLSX
// downloads link the spreadsheet library (about 5 MB).
package xlsx

import (
	"io"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/sheet"
)

// Write writes t as an XLSX workbook of one sheet with headers in lang: the header row bold and frozen, an auto filter, typed cells. It
// streams rows, so a large directory does not build a large document in
// memory.
func Write(w io.Writer, t sheet.Table, lang i18n.Lang) error {
	const op = "xlsx.Write"
	if err := t.Check(); err != nil {
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
		if c.Kind == sheet.Number {
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
			case c.Kind == sheet.Number:
				cells[i] = excelize.Cell{StyleID: numStyles[c.Decimals], Value: v}
			case c.Kind == sheet.Date || c.Kind == sheet.Time:
				tm := v.(time.Time)
				if tm.IsZero() {
					cells[i] = nil
					continue
				}
				style := dateStyle
				if c.Kind == sheet.Time {
					style, tm = timeStyle, tm.In(t.Location())
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
