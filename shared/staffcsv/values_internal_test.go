package staffcsv

import (
	"encoding/csv"
	"io"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/stretchr/testify/assert"
)

func TestParseDate(t *testing.T) {
	nov3 := Date{2025, time.November, 3}
	tests := []struct {
		in   string
		want Date
		ok   bool
	}{
		{"2025-11-03", nov3, true},
		{"2025/11/3", nov3, true},
		{"3/11/2025", nov3, true}, // day first, as Hong Kong Excel writes
		{"03/11/2025", nov3, true},
		{"3-11-2025", nov3, true},
		{"3.11.2025", nov3, true},
		{"3-Nov-2025", nov3, true},
		{"03-NOV-25", nov3, true},
		{"3 November 2025", nov3, true},
		{"2025年11月3日", nov3, true},
		{"2025 年 11 月 3 日", nov3, true},
		{"２０２５－１１－０３", nov3, true},
		{"3/11/2025 0:00", nov3, true},
		{"2025-11-03T00:00:00", nov3, true},
		{"29/2/2024", Date{2024, time.February, 29}, true},
		{"1/1/30", Date{1930, time.January, 1}, true}, // Excel's two-digit year rule
		{"1/1/29", Date{2029, time.January, 1}, true},
		{"", Date{}, false},
		{"2025-13-01", Date{}, false},
		{"31/4/2025", Date{}, false},
		{"29/2/2025", Date{}, false},
		{"11/30/2025", Date{}, false}, // month first is refused, not guessed
		{"11/3", Date{}, false},
		{"2025-11-03 10:30", Date{}, false},
		{"Nov 3, 2025", Date{}, false},
		{"3/11/202", Date{}, false},
		{"45964", Date{}, false},
		{"3/Foo/2025", Date{}, false},
		{"3/11-2025", Date{}, false},
		{"1899-12-31", Date{}, false},
		{"2025年13月1日", Date{}, false},
		{"2025年11月", Date{}, false},
		{"3、11、2025", Date{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := parseDate(tt.in)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParsePhone(t *testing.T) {
	tests := []struct{ in, want string }{
		{"9123 4567", "+85291234567"},
		{"9123-4567", "+85291234567"},
		{"2123 4567", "+85221234567"},
		{"+852 9123 4567", "+85291234567"},
		{"(852) 9123 4567", "+85291234567"},
		{"(+852) 9123-4567", "+85291234567"},
		{"852-9123-4567", "+85291234567"},
		{"00852 9123 4567", "+85291234567"},
		{"＋８５２ ９１２３ ４５６７", "+85291234567"},
		{"+86 138 0013 8000", "+8613800138000"},
		{"0044 20 7946 0958", "+442079460958"},
		{"+853 6612 3456", "+85366123456"},
		{"1234 5678", ""},     // no Hong Kong number starts with 1
		{"0123 4567", ""},     // nor 0
		{"9123 456", ""},      // 7 digits
		{"+852 9123 456", ""}, // 852 with 7 digits
		{"13800138000", ""},   // mainland mobile without +86
		{"9123 4567 ext 12", ""},
		{"+", ""},
		{"++85291234567", ""},
		{"+0 1234 5678", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := parsePhone(tt.in)
			assert.Equal(t, tt.want != "", ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseEmail(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Chan@Example.HK", "chan@example.hk"},
		{"ｃｈａｎ＠ｅｘａｍｐｌｅ．ｈｋ", "chan@example.hk"},
		{"tai.man+hr@example.com.hk", "tai.man+hr@example.com.hk"},
		{"chan", ""},
		{"chan@", ""},
		{"chan@example", ""},
		{"Chan <chan@example.hk>", ""},
		{"chan@@example.hk", ""},
		{"chan @example.hk", ""},
		{"chan@example.hk.", ""},
		{"chan@[1.2.3.4]", ""},
		{"a..b@example.hk", ""},
		{`"a b"@example.hk`, ""},
		{"chan@example.hk, lee@example.hk", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := parseEmail(tt.in)
			assert.Equal(t, tt.want != "", ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestHeaderKey_RecognisesHowPeopleWriteHeaders(t *testing.T) {
	tests := map[string]string{
		"E-mail":                  FieldEmail,
		"ＥＭＡＩＬ":                   FieldEmail,
		"電郵（公司）":                  FieldEmail,
		"Email Address":           FieldEmail,
		"Manager (email)":         FieldManagerEmail,
		"Employee No.":            FieldEmployeeNumber,
		" Start Date (d/m/yyyy) ": FieldStartDate,
		"部門-姓名-職級":                FieldOneColumn,
		"Department-Name-Rank":    FieldOneColumn,
		"姓名*":                     FieldName,
		"\ufeff姓名":                FieldName,
		"工號":                      FieldEmployeeNumber,
		"离职日期":                    FieldLeaveDate,
	}
	for in, want := range tests {
		t.Run(in, func(t *testing.T) {
			assert.Equal(t, want, headerFields[headerKey(in)])
		})
	}
	assert.NotContains(t, headerFields, headerKey("Favourite food"))
}

func TestHeaderNames_EveryFieldHasEnglishAndChineseNamesOfItsOwn(t *testing.T) {
	for f := range labels {
		names := HeaderNames(f)
		assert.NotEmpty(t, names, f)
		han := false
		for _, n := range names {
			assert.Equal(t, f, headerFields[headerKey(n)], "%q is claimed by two fields", n)
			han = han || strings.IndexFunc(n, func(r rune) bool { return unicode.Is(unicode.Han, r) }) >= 0
		}
		assert.True(t, han, "%s has no Chinese header", f)
		assert.Regexp(t, `^[a-z]`, names[0], "%s lists an English name first", f)
	}
}

func TestDetectDelimiter(t *testing.T) {
	tests := map[string]rune{
		"name,email":    ',',
		"name\temail":   '\t',
		"name;email":    ';',
		"name":          ',',
		`"a,b";"c,d";e`: ';',
		"a,b\tc":        '\t', // ties go to TAB
		"a;b,c":         ',',
		"a;b;c,d":       ';',
		"姓名\t電郵\t部門,職級": '\t',
	}
	for in, want := range tests {
		assert.Equal(t, want, detectDelimiter(in), in)
	}
}

func TestSplitOneColumn(t *testing.T) {
	tests := []struct {
		in         string
		dept       []string
		name, rank string
		ok         bool
	}{
		{"市場部-陳大文-經理", []string{"市場部"}, "陳大文", "經理", true},
		{"技術部/後端組-李峯-高級工程師", []string{"技術部", "後端組"}, "李峯", "高級工程師", true},
		{"Sales-Chan Tai-man-Manager", []string{"Sales"}, "Chan Tai-man", "Manager", true},
		{"市場部 - 陳大文 - 經理", []string{"市場部"}, "陳大文", "經理", true},
		{"市場部-陳大文", nil, "", "", false},
		{"市場部--經理", nil, "", "", false},
		{"2025-11-03", nil, "", "", false},
		{"-陳大文-經理", nil, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			dept, name, rank, ok := splitOneColumn(tt.in)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.dept, dept)
			assert.Equal(t, tt.name, name)
			assert.Equal(t, tt.rank, rank)
		})
	}
}

func TestWellFormedBig5(t *testing.T) {
	assert.True(t, wellFormedBig5([]byte("ascii only")))
	assert.True(t, wellFormedBig5([]byte{0xB3, 0xAF, 0x87, 0x40})) // 陳 and an HKSCS pair
	assert.False(t, wellFormedBig5([]byte("陳大文")))                 // UTF-8
	assert.False(t, wellFormedBig5([]byte{0xB3}))                  // cut short
	assert.False(t, wellFormedBig5([]byte{0xB3, 0x20}))            // trail below 0x40
	assert.False(t, wellFormedBig5([]byte{0x80, 0x41}))
}

func TestDate_Text(t *testing.T) {
	d := Date{2025, time.November, 3}
	b, err := d.MarshalText()
	assert.NoError(t, err)
	assert.Equal(t, "2025-11-03", string(b))
	var back Date
	assert.NoError(t, back.UnmarshalText(b))
	assert.Equal(t, d, back)
	assert.Error(t, back.UnmarshalText([]byte("3/11/2025")))
	assert.True(t, d.Before(Date{2025, time.November, 4}))
	assert.Equal(t, 0, d.Compare(back))
	hk := time.FixedZone("HKT", 8*3600)
	assert.Equal(t, time.Date(2025, 11, 3, 0, 0, 0, 0, hk), d.In(hk))
}

func TestWidestRecord_CountsFieldsAsCSVDoes(t *testing.T) {
	wide := strings.Repeat(",", MaxColumns)
	tests := []struct {
		name string
		text string
		want int
	}{
		{"narrow", "a,b\nc,d\n", 0},
		{"exactly the limit", strings.Repeat(",", MaxColumns-1) + "\n", 0},
		{"one over", "a,b\n" + wide + "\n", 2},
		{"commas inside quotes do not count", "a,\"" + wide + "\"\n", 0},
		{"text after a closing quote drops the rest of the line", "a,\"x\ny\"z" + wide + "\n", 0},
		{"a quoted newline keeps the record's first line", "a,\"x\ny\"" + wide + "\n", 1},
		{"stray quote drops the rest of the line", "a\"" + wide + "\nb\n", 0},
		{"after a stray quote the next line counts", "a\"b\n" + wide + "\n", 2},
		{"ideographic space before a quote", "a,\u3000\"x\n\"" + wide + "\n", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, widestRecord(tt.text, ',', true, MaxColumns))
		})
	}
}

// FuzzWidestRecord checks the field count against encoding/csv itself, with
// a small limit: whenever csv reads a record wider than the limit,
// widestRecord must have found one no later.
func FuzzWidestRecord(f *testing.F) {
	for _, s := range []string{"a,b,c,d\n", "a,\"b,c,d\"\n", "a\"b,c,d,e\n", "\"a\"b,c,d,e\nf,g,h,i\n", "a,\u3000\"x\n\",b,c,d\n"} {
		f.Add(s)
	}
	const max = 3
	f.Fuzz(func(t *testing.T, text string) {
		got := widestRecord(text, ',', true, max)
		r := csv.NewReader(strings.NewReader(text))
		r.FieldsPerRecord, r.TrimLeadingSpace = -1, true
		for {
			rec, err := r.Read()
			if err == io.EOF {
				return
			}
			if err == nil && len(rec) > max {
				line, _ := r.FieldPos(0)
				if got == 0 || got > line {
					t.Fatalf("csv reads %d fields on line %d, widestRecord says %d", len(rec), line, got)
				}
				return
			}
		}
	})
}
