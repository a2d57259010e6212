// Package sheettest holds the table the sheet writers are tested with.
package sheettest

import (
	"time"

	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/sheet"
)

// Staff is a small directory with every kind of cell: Chinese text,
// numbers with decimals, dates, times in Hong Kong, empty cells and text a
// spreadsheet would take for a formula.
func Staff() sheet.Table {
	hk, _ := time.LoadLocation("Asia/Hong_Kong")
	return sheet.Table{
		Name: i18n.Text{EN: "Directory", ZH: "通訊錄"},
		Columns: []sheet.Column{
			{Header: i18n.Text{EN: "Name", ZH: "姓名"}},
			{Header: i18n.Text{EN: "Hours", ZH: "工時"}, Kind: sheet.Number, Decimals: 2},
			{Header: i18n.Text{EN: "Start date", ZH: "入職日期"}, Kind: sheet.Date},
			{Header: i18n.Text{EN: "Last sign-in", ZH: "最後登入"}, Kind: sheet.Time},
			{Header: i18n.Text{EN: "Count", ZH: "次數"}, Kind: sheet.Number},
		},
		Rows: [][]any{
			{"陳大文", 162.5, time.Date(2025, 11, 3, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 25, 1, 30, 0, 0, time.UTC), 3},
			{"=HYPERLINK(\"http://evil\")", nil, time.Time{}, nil, int64(0)},
			{"-2+3", 0.125, nil, time.Date(2026, 11, 24, 23, 0, 0, 0, hk), nil},
			{"@SUM(A1)", 1.0, nil, nil, nil},
		},
	}
}
