package sheet_test

import (
	"bytes"
	"encoding/csv"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/sheet"
	"github.com/lantau-hq/lantau/shared/sheet/sheettest"
)

func TestWriteCSV_IsWhatExcelInHongKongOpens(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, sheet.WriteCSV(&buf, sheettest.Staff(), i18n.ZHHK))
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
	require.NoError(t, sheet.WriteCSV(&buf, sheettest.Staff(), i18n.EN))
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

func TestServe_OffersXLSXOnlyWithAWriter(t *testing.T) {
	r := httptest.NewRequest("GET", "/x?format=xlsx", nil)
	w := httptest.NewRecorder()
	err := sheet.Serve(w, r, sheet.XLSX, "x", sheettest.Staff(), nil)
	assert.Equal(t, problem.Invalid, problem.KindOf(err))

	r = httptest.NewRequest("GET", "/x?format=csv", nil)
	r.Header.Set("Accept-Language", "zh-HK")
	w = httptest.NewRecorder()
	require.NoError(t, sheet.Serve(w, r, sheet.CSV, "通訊錄", sheettest.Staff(), nil))
	assert.Equal(t, sheet.MediaCSV, w.Header().Get("Content-Type"))
	assert.Contains(t, w.Header().Get("Content-Disposition"), "filename*=utf-8''%E9%80%9A")
	assert.True(t, strings.HasPrefix(w.Body.String(), "\uFEFF姓名,"))
}
