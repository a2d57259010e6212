package xlsx_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/sheet"
	"github.com/lantau-hq/lantau/shared/sheet/sheettest"
	"github.com/lantau-hq/lantau/shared/sheet/xlsx"
)

func TestWriteXLSX_TypedCellsAndLocalisedHeaders(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, xlsx.Write(&buf, sheettest.Staff(), i18n.ZHHK))
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
	var buf bytes.Buffer
	bad := sheet.Table{Columns: []sheet.Column{{Header: i18n.Text{EN: "A"}, Kind: sheet.Number}}, Rows: [][]any{{"12"}}}
	assert.Error(t, xlsx.Write(&buf, bad, i18n.EN))
	assert.Empty(t, buf.String(), "nothing half-written")
}

func TestServe_NamesTheDownloadInItsLanguage(t *testing.T) {
	r := httptest.NewRequest("GET", "/x?format=xlsx", nil)
	r.Header.Set("Accept-Language", "zh-HK")
	w := httptest.NewRecorder()
	require.NoError(t, sheet.Serve(w, r, sheet.XLSX, "通訊錄-2026-11", sheettest.Staff(), xlsx.Write))
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
