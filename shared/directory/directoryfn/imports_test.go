package directoryfn_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/encoding/unicode"

	"github.com/lantau-hq/lantau/shared/identity/identitytest"
)

// staffList is a staff list of acme.com.hk with Chinese names (峯 and 邨
// are Big5-HKSCS characters), a department path and a manager.
func staffList(sep string) string {
	rows := [][]string{
		{"姓名", "中文姓名", "電郵", "電話", "職級", "員工編號", "部門", "上司電郵", "入職日期"},
		{"Chan Tai Man", "陳大文", "taiman.chan@acme.com.hk", "9123 4567", "總監", "HK0001", "技術部", "", "1/4/2018"},
		{"Lam Fung", "林峯", "fung.lam@acme.com.hk", "+852 6123 0987", "工程師", "HK0002", "技術部/後端組", "taiman.chan@acme.com.hk", "3/11/2021"},
		{"Lee Chuen", "李邨", "chuen.lee@acme.com.hk", "", "主任", "HK0003", "行政部", "", "2022年6月1日"},
	}
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(strings.Join(r, sep) + "\r\n")
	}
	return b.String()
}

func encoded(t *testing.T, enc string) string {
	t.Helper()
	switch enc {
	case "UTF-8 with BOM":
		return "\uFEFF" + staffList(",")
	case "UTF-16LE":
		s, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String(staffList("\t"))
		require.NoError(t, err)
		return s
	case "Big5-HKSCS":
		s, err := traditionalchinese.Big5.NewEncoder().String(staffList(","))
		require.NoError(t, err)
		return s
	}
	t.Fatalf("no encoding %s", enc)
	return ""
}

func (s api) upload(bearer, query, body string, headers ...string) identitytest.Reply {
	s.t.Helper()
	return s.do("POST", "/imports"+query, bearer, body, append([]string{"Content-Type", "application/octet-stream"}, headers...)...)
}

// waitJob polls the job until it ends.
func (s api) waitJob(bearer, id string) identitytest.Reply {
	s.t.Helper()
	var res identitytest.Reply
	identitytest.Eventually(s.t, func() bool {
		res = s.do("GET", "/imports/"+id, bearer, nil)
		require.Equal(s.t, http.StatusOK, res.Status, "%s", res.Raw)
		st := res.Str("status")
		return st == "succeeded" || st == "failed"
	}, "job %s did not end", id)
	return res
}

func problemsOf(res identitytest.Reply) []string {
	var out []string
	list, _ := res.Body["problems"].([]any)
	for _, x := range list {
		p := x.(map[string]any)
		out = append(out, fmt.Sprintf("%v:%v:%v", p["line"], p["column"], p["code"]))
	}
	return out
}

func TestImportAPI(t *testing.T) {
	s := api{Stack: identitytest.Start(t), t: t}
	c := s.NewCompany(t, "acme.com.hk")
	boss := c.Access

	t.Run("a dry run reads UTF-8 with BOM, UTF-16LE and Big5 alike and writes nothing", func(t *testing.T) {
		for _, enc := range []string{"UTF-8 with BOM", "UTF-16LE", "Big5-HKSCS"} {
			res := s.upload(boss, "?dryRun=true", encoded(t, enc))
			require.Equal(t, http.StatusOK, res.Status, "%s: %s", enc, res.Raw)
			assert.Empty(t, res.Body["problems"], enc)
			assert.EqualValues(t, 3, res.Body["rows"], enc)
			assert.EqualValues(t, 3, res.Body["creates"], enc)
			assert.ElementsMatch(t, []any{"技術部", "技術部/後端組", "行政部"}, res.Body["departmentsToCreate"], enc)
		}
		res := s.must(http.StatusOK, "GET", "/employees", boss, nil)
		assert.Empty(t, res.Body["employees"])
	})

	t.Run("the README's sample file is fit to import", func(t *testing.T) {
		data, err := os.ReadFile("../../../docs/staff-sample.csv")
		require.NoError(t, err)
		res := s.upload(boss, "?dryRun=true", string(data))
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
		assert.Empty(t, res.Body["problems"], "%s", res.Raw)
		assert.EqualValues(t, 10, res.Body["creates"])
		assert.Contains(t, res.Body["departmentsToCreate"], "技術部/後端組")
	})

	t.Run("a malformed file's dry run names the line and column of each problem", func(t *testing.T) {
		file := "Name,Email,Phone\r\nChan,chan@acme.com.hk,9123 4567\r\nLee,not-an-address,12\r\nHo,\"ho@acme.com.hk,\r\n"
		res := s.upload(boss, "?dryRun=true", file, "Accept-Language", "zh-HK")
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
		got := problemsOf(res)
		require.NotEmpty(t, got)
		assert.Contains(t, got, "3:2:email")
		assert.Contains(t, got, "3:3:phone")
		assert.Contains(t, strings.Join(got, " "), "4:", "the unterminated quote on line 4")
		first := res.Body["problems"].([]any)[0].(map[string]any)
		assert.Regexp(t, `\p{Han}`, first["message"], "in Chinese when asked")
	})

	t.Run("a file with the same address twice has a problem on both lines", func(t *testing.T) {
		file := "Name,Email\nChan,chan2@acme.com.hk\nLee,lee@acme.com.hk\nChan,CHAN2@acme.com.hk\n"
		res := s.upload(boss, "?dryRun=true", file)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
		assert.Equal(t, []string{"2:2:duplicate_email", "4:2:duplicate_email"}, problemsOf(res))

		// The real run fails its job with the same problems.
		res = s.upload(boss, "", file, "Idempotency-Key", "dup-1")
		require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Raw)
		job := s.waitJob(boss, res.Str("id"))
		assert.Equal(t, "failed", job.Str("status"))
		assert.Equal(t, []string{"2:2:duplicate_email", "4:2:duplicate_email"}, problemsOf(job))
	})

	var jobID string
	t.Run("the real run is a job polled to success, with invitations mailed", func(t *testing.T) {
		file := encoded(t, "UTF-16LE")
		res := s.upload(boss, "", file, "Idempotency-Key", "import-1")
		require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Raw)
		jobID = res.Str("id")
		assert.Equal(t, "/v1/directory/imports/"+jobID, res.Header.Get("Location"))
		assert.Contains(t, []string{"queued", "running", "succeeded"}, res.Str("status"))

		job := s.waitJob(boss, jobID)
		require.Equal(t, "succeeded", job.Str("status"), "%s", job.Raw)
		assert.EqualValues(t, 100, job.Body["percent"])
		result := job.Body["result"].(map[string]any)
		assert.EqualValues(t, 3, result["created"])
		assert.EqualValues(t, 3, result["departmentsCreated"])

		invited := map[string]bool{}
		for _, m := range s.Outbox(t) {
			if m.Kind == "invitation" {
				invited[m.To] = true
			}
		}
		for _, to := range []string{"taiman.chan@acme.com.hk", "fung.lam@acme.com.hk", "chuen.lee@acme.com.hk"} {
			assert.True(t, invited[to], "invitation to %s", to)
		}
		emps := s.must(http.StatusOK, "GET", "/employees?q=林峯", boss, nil)
		list := emps.Body["employees"].([]any)
		require.Len(t, list, 1)
		assert.Equal(t, "後端組-林峯-工程師", list[0].(map[string]any)["displayName"])

		// The same key again: the same job.
		again := s.upload(boss, "", file, "Idempotency-Key", "import-1")
		require.Equal(t, http.StatusAccepted, again.Status, "%s", again.Raw)
		assert.Equal(t, jobID, again.Str("id"))
		assert.Equal(t, "succeeded", again.Str("status"))
		// The same key with another file: refused.
		other := s.upload(boss, "", staffList(","), "Idempotency-Key", "import-1")
		assert.Equal(t, http.StatusConflict, other.Status, "%s", other.Raw)
	})

	t.Run("the upload's notification delivered again after success changes nothing", func(t *testing.T) {
		before := s.must(http.StatusOK, "GET", "/imports/"+jobID, boss, nil)
		event := map[string]any{"Records": []any{map[string]any{
			"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "awsRegion": "ap-east-1",
			"s3": map[string]any{"bucket": map[string]any{"name": "lantau-files-000000000000-ap-east-1"},
				"object": map[string]any{"key": "imports/" + c.ID + "/" + jobID + ".csv"}},
		}}}
		payload, err := json.Marshal(event)
		require.NoError(t, err)
		fn := s.Runner.Function("DirectoryImportFunction")
		require.NotNil(t, fn)
		_, err = fn.Invoke(context.Background(), "", payload)
		require.NoError(t, err)
		after := s.must(http.StatusOK, "GET", "/imports/"+jobID, boss, nil)
		assert.Equal(t, before.Raw, after.Raw, "the job has ended")
		emps := s.must(http.StatusOK, "GET", "/employees", boss, nil)
		assert.Len(t, emps.Body["employees"], 3)
	})

	t.Run("importing the same file again changes nothing", func(t *testing.T) {
		before := len(s.Outbox(t))
		res := s.upload(boss, "", encoded(t, "Big5-HKSCS"), "Idempotency-Key", "import-2")
		require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Raw)
		job := s.waitJob(boss, res.Str("id"))
		require.Equal(t, "succeeded", job.Str("status"), "%s", job.Raw)
		result := job.Body["result"].(map[string]any)
		assert.EqualValues(t, 0, result["created"])
		assert.EqualValues(t, 0, result["updated"])
		assert.EqualValues(t, 3, result["unchanged"])
		assert.EqualValues(t, 0, result["departmentsCreated"])
		assert.Len(t, s.Outbox(t), before, "no mail")
	})

	t.Run("another company's admin cannot see the job", func(t *testing.T) {
		other := s.NewCompany(t, "other.com.hk")
		res := s.do("GET", "/imports/"+jobID, other.Access, nil)
		assert.Equal(t, http.StatusNotFound, res.Status, "%s", res.Raw)
	})

	t.Run("employees may neither import nor export", func(t *testing.T) {
		_, email := s.Invite(t, c, "clerk")
		login := s.Do(t, "POST", "/v1/auth/login", "", map[string]any{"email": email, "password": identitytest.GoodPassword})
		require.Equal(t, http.StatusOK, login.Status, "%s", login.Raw)
		tok := login.Str("accessToken")
		assert.Equal(t, http.StatusForbidden, s.upload(tok, "?dryRun=true", staffList(",")).Status)
		assert.Equal(t, http.StatusForbidden, s.do("GET", "/export", tok, nil).Status)
	})

	t.Run("a file over 6 MB is refused as too large", func(t *testing.T) {
		res := s.upload(boss, "?dryRun=true", strings.Repeat("a", 6<<20+10))
		assert.Equal(t, http.StatusRequestEntityTooLarge, res.Status)
	})

	t.Run("the export in CSV has Chinese headers when asked and imports back unchanged", func(t *testing.T) {
		res := s.do("GET", "/export?format=csv", boss, nil, "Accept-Language", "zh-HK")
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
		assert.Contains(t, res.Header.Get("Content-Type"), "text/csv")
		require.True(t, bytes.HasPrefix(res.Raw, []byte("\xEF\xBB\xBF")), "UTF-8 with a BOM for Excel")
		rows, err := csv.NewReader(bytes.NewReader(res.Raw[3:])).ReadAll()
		require.NoError(t, err)
		require.Len(t, rows, 4)
		assert.Equal(t, []string{"姓名", "中文姓名", "顯示名稱", "電郵"}, rows[0][:4])
		byEmail := map[string][]string{}
		for _, r := range rows[1:] {
			byEmail[r[3]] = r
		}
		lam := byEmail["fung.lam@acme.com.hk"]
		require.NotNil(t, lam)
		assert.Equal(t, "林峯", lam[1])
		assert.Equal(t, "技術部/後端組", lam[8])
		assert.Equal(t, "taiman.chan@acme.com.hk", lam[9])
		assert.Equal(t, "2021-11-03", lam[10])
		assert.Equal(t, "'+85261230987", lam[4], "defused against CSV injection")

		dry := s.upload(boss, "?dryRun=true", string(res.Raw))
		require.Equal(t, http.StatusOK, dry.Status, "%s", dry.Raw)
		assert.Empty(t, dry.Body["problems"], "%s", dry.Raw)
		assert.EqualValues(t, 3, dry.Body["unchanged"], "%s", dry.Raw)
	})

	t.Run("the export in XLSX has English headers by default", func(t *testing.T) {
		res := s.do("GET", "/export?format=xlsx", boss, nil)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
		f, err := excelize.OpenReader(bytes.NewReader(res.Raw))
		require.NoError(t, err)
		defer f.Close()
		rows, err := f.GetRows(f.GetSheetName(0))
		require.NoError(t, err)
		require.Len(t, rows, 4)
		assert.Equal(t, []string{"Name", "Chinese Name", "Display Name", "Email"}, rows[0][:4])
		var names []string
		for _, r := range rows[1:] {
			names = append(names, r[1])
		}
		assert.ElementsMatch(t, []string{"陳大文", "林峯", "李邨"}, names)

		zh := s.do("GET", "/export?format=xlsx", boss, nil, "Accept-Language", "zh-HK")
		require.Equal(t, http.StatusOK, zh.Status)
		f2, err := excelize.OpenReader(bytes.NewReader(zh.Raw))
		require.NoError(t, err)
		defer f2.Close()
		rows, err = f2.GetRows(f2.GetSheetName(0))
		require.NoError(t, err)
		assert.Equal(t, "部門", rows[0][8])
		assert.Equal(t, "上司電郵", rows[0][9])
	})
}
