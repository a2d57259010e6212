package directoryfn_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/identity/identitytest"
)

// login signs in with GoodPassword (no second factor: employees of a
// company that does not require one).
func (s api) login(email string) identitytest.Reply {
	s.t.Helper()
	return s.Do(s.t, "POST", "/v1/auth/login", "", map[string]any{"email": email, "password": identitytest.GoodPassword})
}

func TestEmailChangeAPI(t *testing.T) {
	s := api{Stack: identitytest.Start(t), t: t}
	c := s.NewCompany(t, "acme.com.hk")
	boss := c.Access
	sales := s.department(boss, "Sales", "銷售部", "")
	ops := s.department(boss, "Operations", "營運部", "")
	amyID, amyToken := s.employee(c, boss, map[string]any{"nameEn": "Amy Wong", "email": "amy@acme.com.hk", "department": sales, "employeeNumber": "A-7"})
	// Another company on a subdomain: its admin's address is on acme.com.hk too.
	other := s.NewCompany(t, "hk.acme.com.hk")

	t.Run("an admin moves an employee's sign-in address", func(t *testing.T) {
		res := s.must(http.StatusOK, "PATCH", "/employees/"+amyID, boss, map[string]any{"email": "Amy.Wong@acme.com.hk"})
		assert.Equal(t, "amy.wong@acme.com.hk", res.Str("email"))

		// Sessions name the user by ID: Amy's token keeps working, past the
		// session cache, and shows her new address.
		time.Sleep(3 * identitytest.SessionCacheTTL)
		me := s.Do(t, "GET", "/v1/users/me", amyToken, nil)
		require.Equal(t, http.StatusOK, me.Status, "%s", me.Raw)
		assert.Equal(t, "amy.wong@acme.com.hk", me.Str("email"))
		s.must(http.StatusOK, "GET", "/employees/"+amyID, amyToken, nil)

		// The old address fails exactly like an unknown one; the new one signs in.
		old, unknown := s.login("amy@acme.com.hk"), s.login("nobody@acme.com.hk")
		assert.Equal(t, http.StatusUnauthorized, old.Status, "%s", old.Raw)
		assert.Equal(t, unknown.Status, old.Status)
		assert.Equal(t, unknown.Str("type"), old.Str("type"))
		assert.Equal(t, unknown.Str("detail"), old.Str("detail"))
		res = s.login("amy.wong@acme.com.hk")
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
		assert.NotEmpty(t, res.Str("accessToken"))

		// Both addresses are told; the old one who moved it and where.
		notice := s.Mails(t, "amy@acme.com.hk", "email-changed")
		require.Len(t, notice, 1)
		assert.Contains(t, notice[0].Text, "amy.wong@acme.com.hk")
		assert.Contains(t, notice[0].Text, c.Email, "by whom")
		assert.Len(t, s.Mails(t, "amy.wong@acme.com.hk", "email-now-sign-in"), 1)

		// Search follows the new address.
		found := s.must(http.StatusOK, "GET", "/employees?q=amy.wong", boss, nil)
		assert.Equal(t, []string{"Amy Wong"}, names(found, "employees"))
		found = s.must(http.StatusOK, "GET", "/employees?q=amy@acme", boss, nil)
		assert.Empty(t, found.Body["employees"])

		// The same address in another case only normalises: no change.
		before := s.must(http.StatusOK, "GET", "/employees/"+amyID, boss, nil)
		res = s.must(http.StatusOK, "PATCH", "/employees/"+amyID, boss, map[string]any{"email": "AMY.WONG@ACME.COM.HK"})
		assert.Equal(t, "amy.wong@acme.com.hk", res.Str("email"))
		assert.Equal(t, before.Body["version"], res.Body["version"])
	})

	t.Run("refusals leave the address as it was", func(t *testing.T) {
		leeID, _ := s.employee(c, boss, map[string]any{"nameEn": "Lee", "email": "lee@acme.com.hk", "department": ops})
		scoped := s.scopeAdmin(c, leeID, "lee@acme.com.hk", ops)
		maxID, _ := s.employee(c, boss, map[string]any{"nameEn": "Max", "email": "max@acme.com.hk", "department": ops})
		s.scopeAdmin(c, maxID, "max@acme.com.hk", ops)
		newAmy := s.login("amy.wong@acme.com.hk").Str("accessToken")
		goneID := s.must(http.StatusCreated, "POST", "/employees", boss, map[string]any{"nameEn": "Gone", "email": "gone@acme.com.hk", "department": sales}).Str("id")
		s.must(http.StatusOK, "POST", "/employees/"+goneID+"/deactivate", boss, nil)

		for _, tc := range []struct {
			name, bearer, id, email string
			status                  int
			code                    string
		}{
			{"an address of another company", boss, amyID, other.Email, http.StatusConflict, "email-taken"},
			{"an address of this company's admin", boss, amyID, c.Email, http.StatusConflict, "email-taken"},
			{"free mail", boss, amyID, "amy@gmail.com", http.StatusBadRequest, "free-mail-domain"},
			{"off the company's domain", boss, amyID, "amy@rival.com.hk", http.StatusBadRequest, "email-not-on-domain"},
			{"a scoped admin outside their subtree", scoped, amyID, "amy.w@acme.com.hk", http.StatusForbidden, "forbidden"},
			{"an admin's, by an admin who is not a super admin", scoped, maxID, "max.new@acme.com.hk", http.StatusForbidden, "forbidden"},
			{"an employee their own", newAmy, amyID, "amy.w@acme.com.hk", http.StatusForbidden, "own-email"},
			{"a deactivated employee's", boss, goneID, "gone.again@acme.com.hk", http.StatusConflict, "deactivated"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := s.do("PATCH", "/employees/"+tc.id, tc.bearer, map[string]any{"email": tc.email}, "Accept-Language", "zh-HK")
				assert.Equal(t, tc.status, res.Status, "%s", res.Raw)
				assert.Equal(t, identitytest.ProblemType(tc.code), res.Str("type"))
				assert.Regexp(t, `\p{Han}`, res.Str("detail"), "a reason, in Chinese when asked")
			})
		}
		res := s.must(http.StatusOK, "GET", "/employees/"+amyID, boss, nil)
		assert.Equal(t, "amy.wong@acme.com.hk", res.Str("email"))
		assert.Equal(t, http.StatusOK, s.login("amy.wong@acme.com.hk").Status, "the old claim still signs Amy in")
		assert.Len(t, s.Mails(t, "amy.wong@acme.com.hk", "email-changed"), 0)
	})

	t.Run("two people moved to one address at once: exactly one wins", func(t *testing.T) {
		ids := []string{
			s.must(http.StatusCreated, "POST", "/employees", boss, map[string]any{"nameEn": "Bob", "email": "bob@acme.com.hk"}).Str("id"),
			s.must(http.StatusCreated, "POST", "/employees", boss, map[string]any{"nameEn": "Carol", "email": "carol@acme.com.hk"}).Str("id"),
		}
		statuses := make([]int, len(ids))
		var wg sync.WaitGroup
		for i, id := range ids {
			wg.Go(func() {
				statuses[i] = s.do("PATCH", "/employees/"+id, boss, map[string]any{"email": "team@acme.com.hk"}).Status
			})
		}
		wg.Wait()
		assert.ElementsMatch(t, []int{http.StatusOK, http.StatusConflict}, statuses)
		var holders []string
		for _, id := range ids {
			if s.must(http.StatusOK, "GET", "/employees/"+id, boss, nil).Str("email") == "team@acme.com.hk" {
				holders = append(holders, id)
			}
		}
		assert.Len(t, holders, 1)
	})

	t.Run("a pending invitation follows the new address", func(t *testing.T) {
		daveID := s.must(http.StatusCreated, "POST", "/employees", boss, map[string]any{"nameEn": "Dave", "email": "dvae@acme.com.hk"}).Str("id")
		_, oldLink := s.LastLink(t, "dvae@acme.com.hk", "invitation")
		s.must(http.StatusOK, "PATCH", "/employees/"+daveID, boss, map[string]any{"email": "dave@acme.com.hk"})
		s.must(http.StatusAccepted, "POST", "/employees/"+daveID+"/invitation", boss, nil)
		_, newLink := s.LastLink(t, "dave@acme.com.hk", "invitation")

		res := s.Do(t, "POST", "/v1/users/invitations/accept", "", map[string]any{"token": oldLink, "password": identitytest.GoodPassword})
		assert.Equal(t, http.StatusGone, res.Status, "the link mailed to the mistyped address: %s", res.Raw)
		res = s.Do(t, "POST", "/v1/users/invitations/accept", "", map[string]any{"token": newLink, "password": identitytest.GoodPassword})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
		assert.Equal(t, http.StatusOK, s.login("dave@acme.com.hk").Status)
	})

	t.Run("an import moves an address by employee number", func(t *testing.T) {
		file := "Name,Email,Employee Number\nAmy Wong,amy.w@acme.com.hk,A-7\n"
		res := s.upload(boss, "?dryRun=true", file)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
		assert.Empty(t, res.Body["problems"], "%s", res.Raw)
		assert.EqualValues(t, 1, res.Body["updates"])
		assert.Equal(t, []any{map[string]any{"line": 2.0, "employee": amyID, "fields": []any{"email"},
			"emailFrom": "amy.wong@acme.com.hk", "emailTo": "amy.w@acme.com.hk"}}, res.Body["changes"])

		taken := s.upload(boss, "?dryRun=true", strings.Replace(file, "amy.w@acme.com.hk", other.Email, 1))
		require.Equal(t, http.StatusOK, taken.Status, "%s", taken.Raw)
		assert.Equal(t, []string{"2:2:email_taken"}, problemsOf(taken))

		res = s.upload(boss, "", file, "Idempotency-Key", "move-amy-1")
		require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Raw)
		job := s.waitJob(boss, res.Str("id"))
		require.Equal(t, "succeeded", job.Str("status"), "%s", job.Raw)
		assert.EqualValues(t, 1, job.Body["result"].(map[string]any)["updated"])
		assert.Equal(t, "amy.w@acme.com.hk", s.must(http.StatusOK, "GET", "/employees/"+amyID, boss, nil).Str("email"))
		assert.Equal(t, http.StatusOK, s.login("amy.w@acme.com.hk").Status)
		assert.Equal(t, http.StatusUnauthorized, s.login("amy.wong@acme.com.hk").Status)
		assert.Len(t, s.Mails(t, "amy.wong@acme.com.hk", "email-changed"), 1)

		// The same file again changes nothing.
		res = s.upload(boss, "?dryRun=true", file)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
		assert.EqualValues(t, 1, res.Body["unchanged"])
		assert.Empty(t, res.Body["changes"])
	})

	t.Run("the changes reach the audit trail", func(t *testing.T) {
		identitytest.Eventually(t, func() bool {
			res := s.Do(t, "GET", "/v1/audit/entries?limit=200", boss, nil)
			return res.Status == http.StatusOK && containsAll(string(res.Raw), "EmailChanged", "EmployeeUpdated")
		}, "the audit function records the address changes")
	})
}
