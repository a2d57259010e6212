package staffcsv_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"

	"github.com/lantau-hq/lantau/shared/staffcsv"
)

// writeFixture writes content to a file in the given encoding, as a
// spreadsheet program would save it, and returns the file's bytes.
func writeFixture(t *testing.T, enc encoding.Encoding, content string) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "staff.csv")
	f, err := os.Create(path)
	require.NoError(t, err)
	w := transform.NewWriter(f, enc.NewEncoder())
	_, err = w.Write([]byte(content))
	require.NoError(t, err, "the fixture must be encodable")
	require.NoError(t, w.Close())
	require.NoError(t, f.Close())
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return data
}

// table joins cells with sep and lines with eol.
func table(sep, eol string, rows ...[]string) string {
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(strings.Join(r, sep))
		b.WriteString(eol)
	}
	return b.String()
}

func decode(t *testing.T, data []byte) *staffcsv.Sheet {
	t.Helper()
	s, err := staffcsv.Decode(data, staffcsv.Options{})
	require.NoError(t, err)
	requireWellFormed(t, s)
	return s
}

// requireWellFormed checks what every Sheet must satisfy.
func requireWellFormed(t testing.TB, s *staffcsv.Sheet) {
	t.Helper()
	for _, p := range slicesConcat(s.Problems, s.Warnings) {
		require.NotEmpty(t, p.Code, "%+v", p)
		require.NotEmpty(t, p.Message.EN, "%+v", p)
		require.NotEmpty(t, p.Message.ZH, "%+v", p)
		require.GreaterOrEqual(t, p.Line, 0)
		require.GreaterOrEqual(t, p.Column, 0)
	}
}

func slicesConcat(a, b []staffcsv.Problem) []staffcsv.Problem {
	return append(append([]staffcsv.Problem(nil), a...), b...)
}

type at struct {
	Line, Column int
	Code         string
}

func places(ps []staffcsv.Problem) []at {
	out := []at{}
	for _, p := range ps {
		out = append(out, at{p.Line, p.Column, p.Code})
	}
	return out
}

func date(y int, m time.Month, d int) *staffcsv.Date {
	return &staffcsv.Date{Year: y, Month: m, Day: d}
}

var hkStaff = [][]string{
	{"Name", "中文姓名", "Email", "Phone", "Department", "Rank", "Start Date"},
	{"Chan Tai Man", "陳大文", "taiman.chan@lantau-demo.hk", "9123 4567", "市場部", "經理", "3/11/2025"},
	{"Lee Fung", "李峯", "Fung.Lee@lantau-demo.hk", "+852 6234 5678", "技術部/後端組", "工程師", "2025-01-02"},
	{"Wong Lip", "黃𨋢", "lip.wong@lantau-demo.hk", "5123 4567", "屋邨管理部", "主任", "3-Nov-2025"},
}

var hkRows = []staffcsv.Row{
	{Line: 2, Name: "Chan Tai Man", ChineseName: "陳大文", Email: "taiman.chan@lantau-demo.hk", Phone: "+85291234567",
		Department: []string{"市場部"}, Rank: "經理", Start: date(2025, time.November, 3)},
	{Line: 3, Name: "Lee Fung", ChineseName: "李峯", Email: "fung.lee@lantau-demo.hk", Phone: "+85262345678",
		Department: []string{"技術部", "後端組"}, Rank: "工程師", Start: date(2025, time.January, 2)},
	{Line: 4, Name: "Wong Lip", ChineseName: "黃𨋢", Email: "lip.wong@lantau-demo.hk", Phone: "+85251234567",
		Department: []string{"屋邨管理部"}, Rank: "主任", Start: date(2025, time.November, 3)},
}

func TestDecode_ReadsEveryEncodingAsSaved(t *testing.T) {
	tests := []struct {
		name      string
		enc       encoding.Encoding
		sep, eol  string
		wantEnc   string
		wantDelim rune
	}{
		{"UTF-8 with BOM (Excel CSV UTF-8)", unicode.UTF8BOM, ",", "\r\n", staffcsv.UTF8, ','},
		{"UTF-8 without BOM", unicode.UTF8, ",", "\n", staffcsv.UTF8, ','},
		{"UTF-16LE with BOM, TAB, CRLF (Excel Unicode Text)", unicode.UTF16(unicode.LittleEndian, unicode.UseBOM), "\t", "\r\n", staffcsv.UTF16LE, '\t'},
		{"UTF-16BE with BOM", unicode.UTF16(unicode.BigEndian, unicode.UseBOM), "\t", "\n", staffcsv.UTF16BE, '\t'},
		{"Big5-HKSCS (older Excel)", traditionalchinese.Big5, ",", "\r\n", staffcsv.Big5HKSCS, ','},
		{"Big5-HKSCS with semicolons", traditionalchinese.Big5, ";", "\r\n", staffcsv.Big5HKSCS, ';'},
		{"UTF-16LE without BOM (guessed)", unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), "\t", "\r\n", staffcsv.UTF16LE, '\t'},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := writeFixture(t, tt.enc, table(tt.sep, tt.eol, hkStaff...))
			s := decode(t, data)
			assert.Empty(t, s.Problems)
			assert.Equal(t, tt.wantEnc, s.Encoding)
			assert.Equal(t, tt.wantDelim, s.Delimiter)
			assert.Equal(t, hkRows, s.Rows)
			if strings.Contains(tt.name, "guessed") {
				assert.Equal(t, []at{{0, 0, staffcsv.CodeEncodingGuessed}}, places(s.Warnings))
			} else {
				assert.Empty(t, s.Warnings)
			}
		})
	}
}

func TestDecode_Big5HoldsHKSCSBytes(t *testing.T) {
	data := writeFixture(t, traditionalchinese.Big5, "黃𨋢")
	assert.Len(t, data, 4, "two Big5 pairs, the second from HKSCS")
	s := decode(t, writeFixture(t, traditionalchinese.Big5, "姓名,電郵\n黃𨋢,wong@lantau-demo.hk\n李峯,lee@lantau-demo.hk\n"))
	require.Empty(t, s.Problems)
	assert.Equal(t, "黃𨋢", s.Rows[0].Name)
	assert.Equal(t, "李峯", s.Rows[1].Name)
}

func TestDecode_Big5UnmappedPairIsAProblemOnItsField(t *testing.T) {
	data := writeFixture(t, traditionalchinese.Big5, "姓名,電郵\n陳大文,chan@lantau-demo.hk\n李,lee@lantau-demo.hk\n")
	i := bytes.Index(data, []byte("lee@"))
	bad := slicesInsert(data, i-1, 0x81, 0x40) // after 李: well-formed, not in the table
	s := decode(t, bad)
	assert.Equal(t, staffcsv.Big5HKSCS, s.Encoding)
	assert.Equal(t, []at{{3, 1, staffcsv.CodeBadCharacter}}, places(s.Problems))
	assert.Len(t, s.Rows, 1)
}

func slicesInsert(b []byte, i int, v ...byte) []byte {
	out := append([]byte(nil), b[:i]...)
	return append(append(out, v...), b[i:]...)
}

func TestDecode_ChineseHeaders(t *testing.T) {
	content := table(",", "\r\n",
		[]string{"英文姓名", "中文姓名", "電郵", "手機", "職銜", "職級", "工號", "部門", "上司", "入職日期", "離職日期"},
		[]string{"Cheung Chi Ming", "張志明", "ＣＨＩＭＩＮＧ＠lantau-demo.hk", "９８７６ ５４３２", "Head of Engineering", "總監", "ＨＫ００３", "技術部", "", "2019年3月4日", ""},
		[]string{"Lam Fung", "林峯", "fung.lam@lantau-demo.hk", "6123-0987", "Senior  Backend\u3000Engineer", "高級工程師", "HK004", "技術部 > 後端組", "chiming@lantau-demo.hk", "3-Nov-2021", "31/12/2025"},
	)
	s := decode(t, writeFixture(t, unicode.UTF8BOM, content))
	require.Empty(t, s.Problems)
	assert.Empty(t, s.Warnings)
	assert.Equal(t, []staffcsv.Row{
		{Line: 2, Name: "Cheung Chi Ming", ChineseName: "張志明", Email: "chiming@lantau-demo.hk", Phone: "+85298765432",
			Title: "Head of Engineering", Rank: "總監", EmployeeNumber: "HK003", Department: []string{"技術部"}, Start: date(2019, time.March, 4)},
		{Line: 3, Name: "Lam Fung", ChineseName: "林峯", Email: "fung.lam@lantau-demo.hk", Phone: "+85261230987",
			Title: "Senior Backend Engineer", Rank: "高級工程師", EmployeeNumber: "HK004", Department: []string{"技術部", "後端組"},
			ManagerEmail: "chiming@lantau-demo.hk", Start: date(2021, time.November, 3), Leave: date(2025, time.December, 31)},
	}, s.Rows)
}

func TestDecode_OneColumnForm(t *testing.T) {
	tests := []struct {
		name         string
		content      string
		wantRows     []staffcsv.Row
		wantProblems []at
	}{
		{
			name:    "no header, email in a second column",
			content: "市場部-陳大文-經理,chan@lantau-demo.hk\r\n技術部/後端組-Lee Tsz-fung-工程師,lee@lantau-demo.hk\r\n",
			wantRows: []staffcsv.Row{
				{Line: 1, Name: "陳大文", Rank: "經理", Department: []string{"市場部"}, Email: "chan@lantau-demo.hk"},
				{Line: 2, Name: "Lee Tsz-fung", Rank: "工程師", Department: []string{"技術部", "後端組"}, Email: "lee@lantau-demo.hk"},
			},
			wantProblems: []at{},
		},
		{
			name:    "with a header",
			content: "部門-姓名-職級,電郵\n市場部－陳大文－經理,chan@lantau-demo.hk\n",
			wantRows: []staffcsv.Row{
				{Line: 2, Name: "陳大文", Rank: "經理", Department: []string{"市場部"}, Email: "chan@lantau-demo.hk"},
			},
			wantProblems: []at{},
		},
		{
			name:         "no email is a row problem",
			content:      "市場部-陳大文-經理\n技術部-李峯-工程師,lee@lantau-demo.hk\n",
			wantRows:     []staffcsv.Row{{Line: 2, Name: "李峯", Rank: "工程師", Department: []string{"技術部"}, Email: "lee@lantau-demo.hk"}},
			wantProblems: []at{{1, 2, staffcsv.CodeRequired}},
		},
		{
			name:         "header without an email column",
			content:      "部門-姓名-職級\n市場部-陳大文-經理\n",
			wantProblems: []at{{2, 0, staffcsv.CodeRequired}},
		},
		{
			name:         "a value that does not split",
			content:      "部門-姓名-職級,電郵\n陳大文,chan@lantau-demo.hk\n",
			wantProblems: []at{{2, 1, staffcsv.CodeOneColumn}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := decode(t, []byte(tt.content))
			assert.Equal(t, tt.wantProblems, places(s.Problems))
			assert.Equal(t, tt.wantRows, s.Rows)
		})
	}
}

func TestDecode_Problems(t *testing.T) {
	const head = "name,email,phone,employee number,start date,leave date\n"
	long := strings.Repeat("長", staffcsv.MaxFieldChars+1)
	tests := []struct {
		name    string
		content string
		want    []at
		rows    int
	}{
		{"unterminated quote names line and column", head + "Chan,chan@x.hk,,,,\nLee,\"lee@x.hk,,,,\nHo,ho@x.hk,,,,\n",
			[]at{{3, 2, staffcsv.CodeQuote}}, 1},
		{"quote inside an unquoted value", head + "Chan \"Tai Man\",chan@x.hk,,,,\nLee,lee@x.hk,,,,\n",
			[]at{{2, 1, staffcsv.CodeQuote}}, 1},
		{"text after a closing quote", head + "Chan,\"chan@x.hk\"x,,,,\nLee,lee@x.hk,,,,\n",
			[]at{{2, 2, staffcsv.CodeQuote}}, 1},
		{"too few columns", head + "Chan,chan@x.hk,9123 4567\nLee,lee@x.hk,,,,\n",
			[]at{{2, 0, staffcsv.CodeColumnCount}}, 1},
		{"too many columns", head + "Chan,chan@x.hk,,,,,extra\n", []at{{2, 0, staffcsv.CodeColumnCount}}, 0},
		{"blank padding columns are fine", head + "Chan,chan@x.hk,,,,,,,\n", []at{}, 1},
		{"duplicate email names both lines", head + "Chan,chan@x.hk,,,,\nLee,lee@x.hk,,,,\nChan T M,CHAN@x.hk,,,,\n",
			[]at{{2, 2, staffcsv.CodeDuplicateEmail}, {4, 2, staffcsv.CodeDuplicateEmail}}, 1},
		{"duplicate employee number", head + "Chan,chan@x.hk,,E1,,\nLee,lee@x.hk,,E1,,\n",
			[]at{{2, 4, staffcsv.CodeDuplicateEmployee}, {3, 4, staffcsv.CodeDuplicateEmployee}}, 0},
		{"bad email", head + "Chan,chan at x.hk,,,,\n", []at{{2, 2, staffcsv.CodeEmail}}, 0},
		{"email with a display name", head + "Chan,Chan <chan@x.hk>,,,,\n", []at{{2, 2, staffcsv.CodeEmail}}, 0},
		{"bad date", head + "Chan,chan@x.hk,,,31/4/2025,\n", []at{{2, 5, staffcsv.CodeDate}}, 0},
		{"US month-first date", head + "Chan,chan@x.hk,,,11/30/2025,\n", []at{{2, 5, staffcsv.CodeDate}}, 0},
		{"leave before start", head + "Chan,chan@x.hk,,,3/11/2025,2/11/2025\n", []at{{2, 6, staffcsv.CodeLeaveBeforeStart}}, 0},
		{"leave on the start day is fine", head + "Chan,chan@x.hk,,,3/11/2025,3/11/2025\n", []at{}, 1},
		{"bad phone", head + "Chan,chan@x.hk,1234 5678,,,\n", []at{{2, 3, staffcsv.CodePhone}}, 0},
		{"missing name", head + ",chan@x.hk,,,,\n", []at{{2, 1, staffcsv.CodeRequired}}, 0},
		{"missing email", head + "Chan,,9123 4567,,,\n", []at{{2, 2, staffcsv.CodeRequired}}, 0},
		{"name without letters", head + "123,chan@x.hk,,,,\n", []at{{2, 1, staffcsv.CodeName}}, 0},
		{"field too long", head + "Chan,chan@x.hk,,," + long + ",\n", []at{{2, 5, staffcsv.CodeTooLong}}, 0},
		{"control character", head + "Ch\x07an,chan@x.hk,,,,\n", []at{{2, 1, staffcsv.CodeBadCharacter}}, 0},
		{"own manager", "name,email,manager\nChan,chan@x.hk,Chan@x.hk\n", []at{{2, 3, staffcsv.CodeSelfManager}}, 0},
		{"several problems in one row", head + "Chan,bad,9,,x,\n",
			[]at{{2, 2, staffcsv.CodeEmail}, {2, 3, staffcsv.CodePhone}, {2, 5, staffcsv.CodeDate}}, 0},
		{"empty file", "", []at{{0, 0, staffcsv.CodeEmpty}}, 0},
		{"only white space", " \r\n\u3000\r\n", []at{{0, 0, staffcsv.CodeEmpty}}, 0},
		{"only a header", head, []at{{1, 0, staffcsv.CodeNoRows}}, 0},
		{"header and blank rows", head + ",,,,,\n\n", []at{{1, 0, staffcsv.CodeNoRows}}, 0},
		{"no header", "Chan,chan@x.hk\n", []at{{1, 0, staffcsv.CodeNoHeader}}, 0},
		{"no email column", "name,phone\nChan,9123 4567\n", []at{{1, 0, staffcsv.CodeMissingColumn}}, 0},
		{"no name column", "email\nchan@x.hk\n", []at{{1, 0, staffcsv.CodeMissingColumn}}, 0},
		{"two email columns", "name,email,電郵\nChan,chan@x.hk,chan@x.hk\n", []at{{1, 3, staffcsv.CodeDuplicateColumn}}, 0},
		{"unterminated quote in the header", "name,\"email\n", []at{{1, 2, staffcsv.CodeQuote}}, 0},
		{"an xlsx workbook", "PK\x03\x04\x14\x00\x06\x00", []at{{0, 0, staffcsv.CodeNotText}}, 0},
		{"binary", "name,email\x00\x00\x00\x01\x00\x00\x00", []at{{0, 0, staffcsv.CodeNotText}}, 0},
		{"neither UTF-8 nor Big5", "name,email\nJos\xe9,jose@x.hk\n", []at{{2, 0, staffcsv.CodeEncoding}}, 0},
		{"UTF-8 with a stray byte", "name,email\n陳大文,chan@x.hk\n李\xff,lee@x.hk\n", []at{{3, 0, staffcsv.CodeEncoding}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := decode(t, []byte(tt.content))
			assert.Equal(t, tt.want, places(s.Problems))
			assert.Len(t, s.Rows, tt.rows)
		})
	}
}

func TestDecode_ProblemMessagesNameTheOtherLines(t *testing.T) {
	s := decode(t, []byte("name,email\nChan,chan@x.hk\nLee,lee@x.hk\nChan T M,chan@x.hk\n"))
	require.Len(t, s.Problems, 2)
	assert.Equal(t, `The email "chan@x.hk" is also on line 4.`, s.Problems[0].Message.EN)
	assert.Equal(t, "電郵「chan@x.hk」亦出現在第 2 行。", s.Problems[1].Message.ZH)
	assert.Equal(t, staffcsv.FieldEmail, s.Problems[0].Field)
}

func TestDecode_Limits(t *testing.T) {
	t.Run("too large", func(t *testing.T) {
		s := decode(t, bytes.Repeat([]byte("a"), staffcsv.MaxBytes+1))
		assert.Equal(t, []at{{0, 0, staffcsv.CodeTooLarge}}, places(s.Problems))
	})
	t.Run("too many rows", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("name,email\n")
		for i := range staffcsv.MaxRows + 1 {
			fmt.Fprintf(&b, "n%d,e%d@x.hk\n", i, i)
		}
		s := decode(t, []byte(b.String()))
		assert.Equal(t, []at{{staffcsv.MaxRows + 2, 0, staffcsv.CodeTooManyRows}}, places(s.Problems))
	})
	t.Run("too many columns", func(t *testing.T) {
		s := decode(t, []byte("name,email"+strings.Repeat(",x", staffcsv.MaxColumns)+"\n"))
		assert.Equal(t, []at{{1, 0, staffcsv.CodeTooManyColumns}}, places(s.Problems))
	})
}

func TestDecode_Warnings(t *testing.T) {
	s := decode(t, []byte("name,email,Favourite Food,,\nChan,chan@x.hk,點心,,\nLee,lee@x.hk,,,note\n"))
	assert.Empty(t, s.Problems)
	assert.Len(t, s.Rows, 2)
	assert.Equal(t, []at{{1, 3, staffcsv.CodeUnknownColumn}, {3, 5, staffcsv.CodeUnnamedColumn}}, places(s.Warnings))
	assert.Equal(t, "無法識別「Favourite Food」欄，已略過。", s.Warnings[0].Message.ZH)
}

func TestDecode_Delimiters(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    rune
	}{
		{"semicolon", "name;email\nChan;chan@x.hk\n", ';'},
		{"tab", "name\temail\nChan\tchan@x.hk\n", '\t'},
		{"comma inside a quoted header does not count", "\"name;x\",\"email;y\";\nChan,chan@x.hk\n", ','},
		{"Excel sep= line", "sep=;\nname;email\nChan;chan@x.hk\n", ';'},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := staffcsv.Decode([]byte(tt.content), staffcsv.Options{})
			require.NoError(t, err)
			assert.Equal(t, tt.want, s.Delimiter)
		})
	}
	t.Run("line numbers count the sep= line", func(t *testing.T) {
		s := decode(t, []byte("sep=;\nname;email\nChan;bad\n"))
		assert.Equal(t, []at{{3, 2, staffcsv.CodeEmail}}, places(s.Problems))
	})
}

func TestDecode_CROnlyLineEnds(t *testing.T) {
	s := decode(t, []byte("name,email\rChan,chan@x.hk\rLee,bad\r"))
	assert.Equal(t, []at{{3, 2, staffcsv.CodeEmail}}, places(s.Problems))
	assert.Len(t, s.Rows, 1)
}

func TestDecode_NormalizesValues(t *testing.T) {
	content := "name,email,title,department\n" +
		"\u3000Jose\u0301 Chan\u200b ,\u00a0ＪＯＳＥ＠Lantau-Demo.HK , Project  Lead ,技術部／／後端組/\n"
	s := decode(t, []byte(content))
	require.Empty(t, s.Problems)
	assert.Equal(t, staffcsv.Row{Line: 2, Name: "José Chan", Email: "jose@lantau-demo.hk", Title: "Project Lead",
		Department: []string{"技術部", "後端組"}}, s.Rows[0])
}

func TestDecode_MultiLineFieldKeepsItsLine(t *testing.T) {
	s := decode(t, []byte("name,title,email\nChan,\"Head of\nEngineering\",bad\n"))
	assert.Equal(t, []at{{3, 3, staffcsv.CodeEmail}}, places(s.Problems))
	s = decode(t, []byte("name,title,email\nChan,\"Head of\nEngineering\",chan@x.hk\n"))
	require.Len(t, s.Rows, 1)
	assert.Equal(t, 2, s.Rows[0].Line)
	assert.Equal(t, "Head of Engineering", s.Rows[0].Title)
}

func TestDecode_Options(t *testing.T) {
	t.Run("forced Big5 reads what would pass as UTF-8", func(t *testing.T) {
		big5 := writeFixture(t, traditionalchinese.Big5, "姓名,電郵\n陳大文,chan@x.hk\n")
		s, err := staffcsv.Decode(big5, staffcsv.Options{Encoding: "big5-hkscs"})
		require.NoError(t, err)
		require.Empty(t, s.Problems)
		assert.Equal(t, "陳大文", s.Rows[0].Name)
	})
	t.Run("forced UTF-8 reports bad bytes on their field", func(t *testing.T) {
		s, err := staffcsv.Decode([]byte("name,email\nJos\xe9,jose@x.hk\n"), staffcsv.Options{Encoding: "utf-8"})
		require.NoError(t, err)
		assert.Equal(t, []at{{2, 1, staffcsv.CodeBadCharacter}}, places(s.Problems))
	})
	t.Run("forced UTF-16 without a BOM", func(t *testing.T) {
		data := writeFixture(t, unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), "name\temail\nChan\tchan@x.hk\n")
		s, err := staffcsv.Decode(data, staffcsv.Options{Encoding: "UTF-16BE"})
		require.NoError(t, err)
		require.Empty(t, s.Problems)
		assert.Empty(t, s.Warnings)
		assert.Equal(t, staffcsv.UTF16BE, s.Encoding)
	})
	t.Run("forced delimiter", func(t *testing.T) {
		s, err := staffcsv.Decode([]byte("name|email\nChan, Tai Man|chan@x.hk\n"), staffcsv.Options{Delimiter: '|'})
		require.NoError(t, err)
		require.Empty(t, s.Problems)
		assert.Equal(t, "Chan, Tai Man", s.Rows[0].Name)
	})
	t.Run("unknown encoding is the caller's error", func(t *testing.T) {
		_, err := staffcsv.Decode(nil, staffcsv.Options{Encoding: "shift_jis"})
		assert.ErrorContains(t, err, "unknown encoding")
	})
	t.Run("unsupported delimiter is the caller's error", func(t *testing.T) {
		_, err := staffcsv.Decode(nil, staffcsv.Options{Delimiter: '"'})
		assert.Error(t, err)
	})
}

// TestDecode_SampleFile checks the sample published for customers. It lives
// in testdata and, once copied there, in docs/.
func TestDecode_SampleFile(t *testing.T) {
	for _, path := range []string{"testdata/staff-sample.csv", "../../docs/staff-sample.csv"} {
		t.Run(path, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if os.IsNotExist(err) && strings.HasPrefix(path, "../") {
				t.Skip("not copied to docs/ yet")
			}
			require.NoError(t, err)
			s := decode(t, data)
			assert.Empty(t, s.Problems)
			assert.Empty(t, s.Warnings)
			require.Len(t, s.Rows, 10)
			assert.Equal(t, staffcsv.Row{Line: 5, Name: "Lam Fung", ChineseName: "林峯", Email: "fung.lam@acme.com.hk",
				Phone: "+85261230987", Title: "Senior Backend Engineer", Rank: "高級工程師", EmployeeNumber: "HK0004",
				Department: []string{"技術部", "後端組"}, ManagerEmail: "chiming.cheung@acme.com.hk",
				Start: date(2021, time.November, 3)}, s.Rows[3])
			assert.Equal(t, date(2025, time.June, 30), s.Rows[9].Leave)
		})
	}
}

func TestDecode_QuoteProblemsCountCharactersNotBytes(t *testing.T) {
	s := decode(t, []byte("姓名,電郵\n陳\"大文,chan@x.hk\n"))
	require.Len(t, s.Problems, 1)
	assert.Equal(t, at{2, 1, staffcsv.CodeQuote}, places(s.Problems)[0])
	assert.Contains(t, s.Problems[0].Message.EN, "character 2 of the line")
	assert.Contains(t, s.Problems[0].Message.ZH, "該行第 2 個字元")
}

// TestDecode_ReadsBackCellsAnExportDefused reads the quote that
// shared/sheet puts before a formula character (CSV injection) as the
// guard it is, so an exported staff list imports back.
func TestDecode_ReadsBackCellsAnExportDefused(t *testing.T) {
	s := decode(t, []byte("Name,Email,Phone,Title\r\nChan,chan@x.hk,'+85291234567,'=SUM(A1)\r\nLee,lee@x.hk,9123 4567,'Quoted\r\n"))
	require.Empty(t, s.Problems)
	require.Len(t, s.Rows, 2)
	assert.Equal(t, "+85291234567", s.Rows[0].Phone)
	assert.Equal(t, "=SUM(A1)", s.Rows[0].Title, "kept as text; an export defuses it again")
	assert.Equal(t, "'Quoted", s.Rows[1].Title, "a quote before anything else is the value's")
	assert.Equal(t, map[string]int{staffcsv.FieldName: 1, staffcsv.FieldEmail: 2, staffcsv.FieldPhone: 3, staffcsv.FieldTitle: 4}, s.Columns)
}
