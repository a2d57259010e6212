package directoryfn_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/identity/identitytest"
)

// signIn signs email in with the good password: access and refresh tokens.
func signIn(t *testing.T, s *identitytest.Stack, email string) (access, refresh string) {
	t.Helper()
	res := s.Do(t, "POST", "/v1/auth/login", "", map[string]any{"email": email, "password": identitytest.GoodPassword})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	return res.Str("accessToken"), res.Str("refreshToken")
}

// fireOffboarding fires the off-boarding schedule by hand, as the runner's
// scheduler would at 00:05.
func fireOffboarding(t *testing.T, s *identitytest.Stack) string {
	t.Helper()
	resp, err := http.Post(s.Runner.AWSEndpoint()+"/_lantau/schedules/OffboardingFunction.Daily/fire", "application/json", nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	return string(body)
}

// leftEvents are the directory's EmployeeLeft entries in c's audit trail.
func leftEvents(t *testing.T, s *identitytest.Stack, bearer string) []map[string]any {
	t.Helper()
	res := s.Do(t, "GET", "/v1/audit/entries?order=oldest&limit=500", bearer, nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	var body struct {
		Entries []struct {
			Source, Type, Actor string
			Data                map[string]any
		}
	}
	require.NoError(t, json.Unmarshal(res.Raw, &body))
	var out []map[string]any
	for _, e := range body.Entries {
		if e.Source == "lantau.directory" && e.Type == "EmployeeLeft" {
			e.Data["actor"] = e.Actor
			out = append(out, e.Data)
		}
	}
	return out
}

// An employee whose leave date was yesterday is off-boarded by the
// scheduled function: their account stops, their access and refresh
// tokens stop working, EmployeeLeft names their manager for the hand-over
// and is in the audit trail once, however often the job runs. Someone
// leaving tomorrow is left alone; someone an admin deactivates through
// identity's route is off-boarded at once.
func TestOffboarding_ScheduledAndImmediate(t *testing.T) {
	s := api{Stack: identitytest.Start(t), t: t}
	c := s.NewCompany(t, "acme-leave.com.hk")
	boss := c.Access
	hk, err := time.LoadLocation("Asia/Hong_Kong")
	require.NoError(t, err)
	now := time.Now().In(hk)
	yesterday, tomorrow := now.AddDate(0, 0, -1).Format("2006-01-02"), now.AddDate(0, 0, 1).Format("2006-01-02")
	lastMonth := now.AddDate(0, 0, -30).Format("2006-01-02")

	sales := s.department(boss, "Sales", "銷售部", "")
	headID, _ := s.employee(c, boss, map[string]any{"nameEn": "Ho Ka Yan", "email": "ho@acme-leave.com.hk", "department": sales})
	s.must(http.StatusOK, "PATCH", "/departments/"+sales, boss, map[string]any{"head": headID})
	leaverID, _ := s.employee(c, boss, map[string]any{"nameEn": "Lee Siu Ming", "nameZh": "李小明", "email": "lee@acme-leave.com.hk",
		"department": sales, "startDate": lastMonth, "leaveDate": yesterday})
	stayerID, _ := s.employee(c, boss, map[string]any{"nameEn": "Chan Mei", "email": "mei@acme-leave.com.hk",
		"department": sales, "leaveDate": tomorrow})
	access, refresh := signIn(t, s.Stack, "lee@acme-leave.com.hk")
	stayerAccess, _ := signIn(t, s.Stack, "mei@acme-leave.com.hk")
	require.Equal(t, http.StatusOK, s.Do(t, "GET", "/v1/users/me", access, nil).Status)

	// The leave-date index follows the directory's events; the schedule
	// off-boards once the index has it.
	identitytest.Eventually(t, func() bool {
		fireOffboarding(t, s.Stack)
		return s.must(http.StatusOK, "GET", "/employees/"+leaverID, boss, nil).Str("status") == "deactivated"
	}, "the leaver is off-boarded by the scheduled run")

	identitytest.Eventually(t, func() bool { return s.Do(t, "GET", "/v1/users/me", access, nil).Status == http.StatusUnauthorized },
		"their still-valid access token is refused (after the session cache's %s)", identitytest.SessionCacheTTL)
	res := s.Do(t, "POST", "/v1/auth/refresh", "", map[string]any{"refreshToken": refresh})
	assert.Equal(t, http.StatusUnauthorized, res.Status, "their refresh token is revoked: %s", res.Raw)
	res = s.Do(t, "POST", "/v1/auth/login", "", map[string]any{"email": "lee@acme-leave.com.hk", "password": identitytest.GoodPassword})
	assert.Equal(t, http.StatusUnauthorized, res.Status, "they cannot sign in again")
	emp := s.must(http.StatusOK, "GET", "/employees/"+leaverID, boss, nil)
	assert.Equal(t, yesterday, emp.Str("leaveDate"))

	identitytest.Eventually(t, func() bool { return len(leftEvents(t, s.Stack, boss)) == 1 }, "EmployeeLeft in the audit trail")
	left := leftEvents(t, s.Stack, boss)[0]
	assert.Equal(t, leaverID, left["employee"])
	assert.Equal(t, headID, left["manager"], "the department head takes over")
	assert.Equal(t, "leave-date", left["reason"])
	assert.Equal(t, yesterday, left["leaveDate"])
	assert.Equal(t, "system:offboarding", left["actor"])

	// Running again changes nothing; tomorrow's leaver is still here.
	out := fireOffboarding(t, s.Stack)
	assert.Contains(t, out, `"offboarded":null`, "nothing left to do: %s", out)
	time.Sleep(200 * time.Millisecond) // let any (wrong) event reach the trail
	assert.Len(t, leftEvents(t, s.Stack, boss), 1, "one EmployeeLeft, however often the job runs")
	assert.Equal(t, http.StatusOK, s.Do(t, "GET", "/v1/users/me", stayerAccess, nil).Status)
	assert.NotEqual(t, "deactivated", s.must(http.StatusOK, "GET", "/employees/"+stayerID, boss, nil).Str("status"))

	// A run by hand as if on an earlier day off-boards no one whose leave
	// date had not passed then.
	_, err = s.Runner.Function("OffboardingFunction").Invoke(context.Background(), "", []byte(`{"today":"`+lastMonth+`"}`))
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, s.Do(t, "GET", "/v1/users/me", stayerAccess, nil).Status)

	// An admin deactivates the account through identity's route: the
	// directory record follows and EmployeeLeft is announced at once.
	require.Equal(t, http.StatusOK, s.Do(t, "POST", "/v1/users/"+stayerID+"/deactivate", boss, nil).Status)
	identitytest.Eventually(t, func() bool {
		return s.must(http.StatusOK, "GET", "/employees/"+stayerID, boss, nil).Str("status") == "deactivated" &&
			len(leftEvents(t, s.Stack, boss)) == 2
	}, "the record and EmployeeLeft follow the account's deactivation")
	assert.Equal(t, "account-deactivated", leftEvents(t, s.Stack, boss)[1]["reason"])
}
