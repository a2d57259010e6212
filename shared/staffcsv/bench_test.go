package staffcsv_test

import (
	"fmt"
	"strings"
	"testing"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/encoding/unicode"

	"github.com/lantau-hq/lantau/shared/staffcsv"
)

// staffFile builds n realistic rows with every column filled.
func staffFile(n int, sep string) string {
	surnames := []struct{ en, zh string }{{"Chan", "陳"}, {"Wong", "黃"}, {"Lee", "李"}, {"Cheung", "張"}, {"Lau", "劉"}, {"Ho", "何"}, {"Leung", "梁"}, {"Lam", "林"}}
	given := []struct{ en, zh string }{{"Tai Man", "大文"}, {"Mei Ling", "美玲"}, {"Chi Ming", "志明"}, {"Ka Ho", "家豪"}, {"Fung", "峯"}, {"Wing Ki", "詠琪"}}
	depts := []string{"市場部", "技術部/後端組", "技術部/前端組", "行政部/人力資源組", "財務部", "屋邨管理部"}
	ranks := []string{"經理", "主任", "工程師", "高級工程師", "助理"}
	rows := [][]string{{"Name", "中文姓名", "電郵", "電話", "Title", "職級", "員工編號", "部門", "Manager Email", "入職日期", "離職日期"}}
	for i := range n {
		s, g := surnames[i%len(surnames)], given[i/len(surnames)%len(given)]
		rows = append(rows, []string{
			s.en + " " + g.en, s.zh + g.zh,
			fmt.Sprintf("%s.%s.%d@lantau-demo.hk", strings.ToLower(strings.ReplaceAll(g.en, " ", "")), strings.ToLower(s.en), i),
			fmt.Sprintf("%04d %04d", 9000+i%1000, i%10000), "Officer", ranks[i%len(ranks)], fmt.Sprintf("HK%05d", i),
			depts[i%len(depts)], "boss@lantau-demo.hk", fmt.Sprintf("%d/%d/20%02d", 1+i%28, 1+i%12, 10+i%15), "",
		})
	}
	return table(sep, "\r\n", rows...)
}

// BenchmarkDecode10000 decodes a 10,000-row staff list in each encoding an
// upload can come in.
func BenchmarkDecode10000(b *testing.B) {
	for _, c := range []struct {
		name string
		enc  encoding.Encoding
		sep  string
	}{
		{"utf-8", unicode.UTF8BOM, ","},
		{"utf-16le", unicode.UTF16(unicode.LittleEndian, unicode.UseBOM), "\t"},
		{"big5", traditionalchinese.Big5, ","},
	} {
		b.Run(c.name, func(b *testing.B) {
			data, err := c.enc.NewEncoder().Bytes([]byte(staffFile(10_000, c.sep)))
			if err != nil {
				b.Fatal(err)
			}
			s, err := staffcsv.Decode(data, staffcsv.Options{})
			if err != nil || len(s.Problems) > 0 || len(s.Rows) != 10_000 {
				b.Fatalf("setup: err %v, %d problems (%+v), %d rows", err, len(s.Problems), s.Problems[:min(3, len(s.Problems))], len(s.Rows))
			}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := staffcsv.Decode(data, staffcsv.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
