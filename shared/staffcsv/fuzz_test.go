package staffcsv_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/encoding/unicode"

	"github.com/lantau-hq/lantau/shared/staffcsv"
)

// FuzzDecode feeds arbitrary bytes to Decode under each encoding choice. It
// must never panic nor fail for valid options; every problem and warning
// must carry a code and a reason in both languages; every row it returns
// must hold a name and a valid email and nothing undecodable.
func FuzzDecode(f *testing.F) {
	seeds := []string{
		"",
		table(",", "\r\n", hkStaff...),
		table("\t", "\r\n", hkStaff...),
		"市場部-陳大文-經理,chan@x.hk\n技術部/後端組-李峯-工程師\n",
		"部門-姓名-職級,電郵\n市場部-陳大文-經理,chan@x.hk\n",
		"name,email\n\"unterminated,x@y.hk\n",
		"name,email\na\"b,x@y.hk\nc,\"d\"e\n",
		"sep=;\nname;email;start date;leave date\nChan;chan@x.hk;3/11/2025;1/1/2025\n",
		"name,email,email\nChan,chan@x.hk,chan@x.hk\n",
		"name,email,,\nChan,chan@x.hk,,x\nChan,chan@x.hk,\n",
		"PK\x03\x04",
		"name\x00,\x00email\x00",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	if b, err := traditionalchinese.Big5.NewEncoder().String(table(",", "\r\n", hkStaff...)); err == nil {
		f.Add([]byte(b))
	}
	if b, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String(table("\t", "\r\n", hkStaff...)); err == nil {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, enc := range []string{"", staffcsv.UTF8, staffcsv.Big5HKSCS, "utf-16"} {
			s, err := staffcsv.Decode(data, staffcsv.Options{Encoding: enc})
			if err != nil {
				t.Fatalf("Decode(%q) with encoding %q: %v", data, enc, err)
			}
			requireWellFormed(t, s)
			prev := 0
			for _, r := range s.Rows {
				if r.Line <= prev {
					t.Fatalf("rows out of order: line %d after %d", r.Line, prev)
				}
				prev = r.Line
				if r.Email == "" || !strings.Contains(r.Email, "@") || (r.Name == "" && r.ChineseName == "") {
					t.Fatalf("row without name or email: %+v", r)
				}
				if r.Start != nil && r.Leave != nil && r.Leave.Before(*r.Start) {
					t.Fatalf("leave before start accepted: %+v", r)
				}
				for _, v := range append([]string{r.Name, r.ChineseName, r.Email, r.Phone, r.Title, r.Rank, r.EmployeeNumber, r.ManagerEmail}, r.Department...) {
					if !utf8.ValidString(v) || strings.ContainsRune(v, utf8.RuneError) || utf8.RuneCountInString(v) > staffcsv.MaxFieldChars {
						t.Fatalf("row keeps an unreadable or oversized value %q: %+v", v, r)
					}
				}
			}
			if len(s.Problems) == 0 && len(s.Rows) == 0 {
				t.Fatalf("no rows and no problem for %q", data)
			}
		}
	})
}
