package sheet_test

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/sheet"
)

func staff() sheet.Table {
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

func TestWriteCSV_IsWhatExcelInHongKongOpens(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, sheet.WriteCSV(&buf, staff(), i18n.ZHHK))
	raw := buf.String()
	require.True(t, strings.HasPrefix(raw, "\uFEFF"), "UTF-8 byte order mark")
	assert.Contains(t, raw, "\r\n", "CRLF line ends")
	records, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(raw, "\uFEFF"))).ReadAll()
	require.NoError(t, err)
	assert.Equal(t, [][]string{
		{"姓名", "工時", "入職日期", "最後登入", "次數"},
		{"陳大文", "162.50", "2025-11-03", "2026-11-25 09:30", "3"},
		{`'=HYPERLINK("http://evil")`, "", "", "", "0"},
		{"'-2+3", "0.13", "", "2026-11-24 23:00", ""},
		{"'@SUM(A1)", "1.00", "", "", ""},
	}, records)

	buf.Reset()
	require.NoError(t, sheet.WriteCSV(&buf, staff(), i18n.EN))
	assert.True(t, strings.HasPrefix(buf.String(), "\uFEFFName,Hours,Start date,Last sign-in,Count\r\n"))
}

func TestDefuse(t *testing.T) {
	cases := map[string]string{
		"":             "",
		"Chan":         "Chan",
		"=1+1":         "'=1+1",
		"+85291234567": "'+85291234567",
		"-":            "'-",
		"@x":           "'@x",
		"\tx":          "'\tx",
		"a=b":          "a=b",
		"陳=":           "陳=",
	}
	for in, want := range cases {
		assert.Equal(t, want, sheet.Defuse(in), "%q", in)
	}
}

func TestWriteXLSX_TypedCellsAndLocalisedHeaders(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, sheet.WriteXLSX(&buf, staff(), i18n.ZHHK))
	f, err := excelize.OpenReader(&buf)
	require.NoError(t, err)
	defer f.Close()
	assert.Equal(t, []string{"通訊錄"}, f.GetSheetList())
	rows, err := f.GetRows("通訊錄")
	require.NoError(t, err)
	require.Len(t, rows, 5)
	assert.Equal(t, []string{"姓名", "工時", "入職日期", "最後登入", "次數"}, rows[0])
	assert.Equal(t, []string{"陳大文", "162.50", "2025-11-03", "2026-11-25 09:30", "3"}, rows[1])
	// Text is text: the formula-looking name is stored as a string, not a formula.
	formula, err := f.GetCellFormula("通訊錄", "A3")
	require.NoError(t, err)
	assert.Empty(t, formula)
	assert.Equal(t, `=HYPERLINK("http://evil")`, rows[2][0])
	raw, err := f.GetCellValue("通訊錄", "B2", excelize.Options{RawCellValue: true})
	require.NoError(t, err)
	assert.Equal(t, "162.5", raw, "numbers are stored as numbers")
	raw, err = f.GetCellValue("通訊錄", "C2", excelize.Options{RawCellValue: true})
	require.NoError(t, err)
	assert.Equal(t, "45964", raw, "dates are Excel serial dates (2025-11-03)")
	panes, err := f.GetPanes("通訊錄")
	require.NoError(t, err)
	assert.True(t, panes.Freeze, "the header row stays in view")
}

func TestWrite_RefusesRowsThatDoNotFitTheColumns(t *testing.T) {
	bad := []sheet.Table{
		{Columns: []sheet.Column{{Header: i18n.Text{EN: "A"}}}, Rows: [][]any{{"x", "y"}}},
		{Columns: []sheet.Column{{Header: i18n.Text{EN: "A"}, Kind: sheet.Number}}, Rows: [][]any{{"12"}}},
		{Columns: []sheet.Column{{Header: i18n.Text{EN: "A"}, Kind: sheet.Date}}, Rows: [][]any{{"2026-01-01"}}},
	}
	for _, tb := range bad {
		var buf bytes.Buffer
		assert.Error(t, sheet.WriteCSV(&buf, tb, i18n.EN))
		assert.Empty(t, buf.String(), "nothing half-written")
		assert.Error(t, sheet.WriteXLSX(&buf, tb, i18n.EN))
		assert.Empty(t, buf.String())
	}
}

func TestFormatOf(t *testing.T) {
	cases := []struct {
		url, accept string
		want        sheet.Format
		bad         bool
	}{
		{"/x", "", sheet.JSON, false},
		{"/x?format=csv", "", sheet.CSV, false},
		{"/x?format=XLSX", "application/json", sheet.XLSX, false},
		{"/x", "text/csv", sheet.CSV, false},
		{"/x", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", sheet.XLSX, false},
		{"/x?format=pdf", "", "", true},
	}
	for _, tc := range cases {
		r := httptest.NewRequest("GET", tc.url, nil)
		r.Header.Set("Accept", tc.accept)
		got, err := sheet.FormatOf(r, sheet.JSON)
		if tc.bad {
			assert.Equal(t, problem.Invalid, problem.KindOf(err), tc.url)
			continue
		}
		require.NoError(t, err, tc.url)
		assert.Equal(t, tc.want, got, tc.url)
	}
}

func TestServe_NamesTheDownloadInItsLanguage(t *testing.T) {
	r := httptest.NewRequest("GET", "/x?format=xlsx", nil)
	r.Header.Set("Accept-Language", "zh-HK")
	w := httptest.NewRecorder()
	require.NoError(t, sheet.Serve(w, r, sheet.XLSX, "通訊錄-2026-11", staff()))
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, sheet.MediaXLSX, w.Header().Get("Content-Type"))
	assert.Equal(t, "zh-HK", w.Header().Get("Content-Language"))
	assert.Contains(t, w.Header().Get("Content-Disposition"), "attachment")
	assert.Contains(t, w.Header().Get("Content-Disposition"), "filename*=utf-8''%E9%80%9A")
	f, err := excelize.OpenReader(w.Body)
	require.NoError(t, err)
	defer f.Close()
	v, err := f.GetCellValue("通訊錄", "A1")
	require.NoError(t, err)
	assert.Equal(t, "姓名", v)
}
