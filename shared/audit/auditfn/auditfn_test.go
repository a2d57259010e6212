package auditfn_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/audit"
	"github.com/lantau-hq/lantau/shared/awsconfig"
	"github.com/lantau-hq/lantau/shared/event"
	"github.com/lantau-hq/lantau/shared/eventbridge"
	"github.com/lantau-hq/lantau/shared/function"
	"github.com/lantau-hq/lantau/shared/identity/identitytest"
	"github.com/lantau-hq/lantau/shared/storage"
	"github.com/lantau-hq/lantau/shared/table"
)

// publisher puts events on the stack's bus as a function would.
func publisher(t *testing.T, s *identitytest.Stack) *eventbridge.Publisher {
	t.Helper()
	env := s.Runner.Function("health").Env
	getenv := func(k string) string { return env[k] }
	cfg, err := awsconfig.Load(context.Background(), getenv)
	require.NoError(t, err)
	pub, err := eventbridge.NewFromEnv(cfg, getenv)
	require.NoError(t, err)
	return pub
}

func TestAuditTrail_EventsFromTheBusAreChainedAndVerified(t *testing.T) {
	s := identitytest.Start(t)
	c := s.NewCompany(t, "acme.hk") // the super admin may read the audit trail
	bob, bobEmail := s.Invite(t, c, "bob")
	res := s.Do(t, "POST", "/v1/auth/login", "", map[string]any{"email": bobEmail, "password": identitytest.GoodPassword})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	employee := res.Str("accessToken")
	ctx := context.Background()
	pub := publisher(t, s)

	var published []event.Envelope
	for i, typ := range []string{"EmployeeJoined", "LeaveRequested", "LeaveApproved", "EmployeeLeft"} {
		e, err := event.New("lantau.directory", typ, c.ID, c.AdminID, time.Now(), map[string]any{"n": i, "name": "陳大文"})
		require.NoError(t, err)
		published = append(published, e)
	}
	other, err := event.New("lantau.directory", "EmployeeJoined", "t-other", "u-9", time.Now(), map[string]any{})
	require.NoError(t, err)
	require.NoError(t, pub.Publish(ctx, append(published, other)...))
	require.NoError(t, pub.Publish(ctx, published[1])) // a redelivery is not chained twice

	// The chain also holds identity's own events (registration, sign-ins,
	// the invitation), which arrive on their own time: look for ours.
	var entries []map[string]any
	directory := func() []map[string]any {
		var out []map[string]any
		for _, m := range entries {
			if m["source"] == "lantau.directory" {
				out = append(out, m)
			}
		}
		return out
	}
	identitytest.Eventually(t, func() bool {
		res := s.Do(t, "GET", "/v1/audit/entries?order=oldest&limit=500", c.Access, nil)
		if res.Status != http.StatusOK {
			return false
		}
		entries = nil
		for _, e := range res.Body["entries"].([]any) {
			entries = append(entries, e.(map[string]any))
		}
		return len(directory()) >= len(published)
	}, "the published events reach the chain")

	var want, got []string
	for i, m := range entries {
		assert.Equal(t, float64(i+1), m["seq"], "no gaps")
		assert.Equal(t, c.ID, m["tenant"], "only the caller's company")
	}
	for i, m := range directory() {
		got = append(got, m["id"].(string))
		want = append(want, published[i].ID)
	}
	assert.ElementsMatch(t, want, got, "each event once (the bus delivers concurrently, so in any order)")

	res = s.Do(t, "GET", "/v1/audit/verify", c.Access, nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	assert.Equal(t, true, res.Body["valid"])
	assert.GreaterOrEqual(t, res.Body["entries"], float64(len(entries)))

	res = s.Do(t, "GET", "/v1/audit/access", c.Access, nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	var first map[string]any // identity's routes are in the access log too: find the first audit call
	for _, call := range res.Body["calls"].([]any) {
		if m := call.(map[string]any); strings.HasPrefix(m["route"].(string), "GET /v1/audit/") {
			first = m
			break
		}
	}
	require.NotNil(t, first, "the calls above are in the access log: %s", res.Raw)
	assert.Equal(t, "GET /v1/audit/entries", first["route"])
	assert.Equal(t, c.ID, first["tenant"])
	assert.Equal(t, c.AdminID, first["user"])
	assert.Equal(t, "127.0.0.1", first["sourceIp"])
	assert.Equal(t, float64(200), first["status"])
	assert.NotEmpty(t, first["requestId"])
	assert.NotEmpty(t, first["userAgent"])
	res = s.Do(t, "GET", "/v1/audit/access?date=yesterday", c.Access, nil)
	assert.Equal(t, http.StatusBadRequest, res.Status)

	res = s.Do(t, "GET", "/v1/audit/verify", employee, nil)
	assert.Equal(t, http.StatusForbidden, res.Status, "%s", res.Raw)
	assert.Equal(t, identitytest.ProblemType("not-an-auditor"), res.Str("type"))
	res = s.Do(t, "GET", "/v1/audit/entries?limit=9999", c.Access, nil)
	assert.Equal(t, http.StatusBadRequest, res.Status)
	res = s.Do(t, "GET", "/v1/audit/entries?cursor=garbage", c.Access, nil)
	assert.Equal(t, http.StatusBadRequest, res.Status, "a malformed cursor is a 400")

	// Someone with access to the table edits one of the events: the API and the command line both name it.
	n := int(directory()[1]["seq"].(float64))
	// The runner holds the embedded table; in this process the same store
	// instance is reached through storage, as the functions reach it.
	store, err := storage.OpenTable(ctx, function.MapEnv(map[string]string{"LANTAU_TABLE_PATH": filepath.Join(s.DataDir, "table.db")}))
	require.NoError(t, err)
	key := table.Key{Tenant: c.ID, PK: "AUDIT#CHAIN", SK: fmt.Sprintf("%020d", n)}
	it, err := store.Get(ctx, key)
	require.NoError(t, err)
	var e audit.Entry
	require.NoError(t, json.Unmarshal(it.Data, &e))
	e.Actor = "u-intruder"
	it.Data, _ = json.Marshal(e)
	require.NoError(t, store.Put(ctx, it, table.Always))

	res = s.Do(t, "GET", "/v1/audit/verify", c.Access, nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	assert.Equal(t, false, res.Body["valid"])
	assert.Equal(t, map[string]any{"seq": float64(n), "kind": "altered", "detail": fmt.Sprintf("entry %d's content no longer matches its hash", n)}, res.Body["firstProblem"])

	var out bytes.Buffer
	cmd := exec.Command("go", "run", "../../../infra/cmd/lantau", "audit", "-data", s.DataDir, "-aws-addr", strings.TrimPrefix(s.Runner.AWSEndpoint(), "http://"), "verify", c.ID)
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	require.Error(t, err, "the command fails on a broken chain")
	assert.Contains(t, out.String(), fmt.Sprintf("broken at entry %d (altered)", n))

	// A deactivated user's unexpired token is refused by the audit API too.
	res = s.Do(t, "POST", "/v1/users/"+bob+"/deactivate", c.Access, nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	identitytest.Eventually(t, func() bool {
		res = s.Do(t, "GET", "/v1/audit/verify", employee, nil)
		return res.Status == http.StatusUnauthorized
	}, "the deactivated user's token is refused")
	assert.Equal(t, identitytest.ProblemType("session-ended"), res.Str("type"), "%s", res.Raw)
}

// The daily seal, fired through the runner, puts the day's access log
// under the chain: the verify route reports a match, and a call removed
// from the table afterwards is found.
func TestAccessSeal_TheScheduledSealMakesTheDayVerifiable(t *testing.T) {
	s := identitytest.Start(t)
	c := s.NewCompany(t, "acme-seal.hk")
	ctx := context.Background()
	for range 3 {
		require.Equal(t, http.StatusOK, s.Do(t, "GET", "/v1/users/me", c.Access, nil).Status)
	}
	today := time.Now().In(hongKongZone(t)).Format(time.DateOnly)

	res := s.Do(t, "GET", "/v1/audit/access/verify?date="+today, c.Access, nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	assert.Equal(t, false, res.Body["sealed"])
	assert.Equal(t, false, res.Body["ok"])

	out, err := s.Runner.Function("AuditSealFunction").Invoke(ctx, "", []byte(`{"day":"`+today+`"}`))
	require.NoError(t, err)
	assert.Contains(t, string(out), `"`+today+`":1`, "%s", out)
	// The scheduled form (a Scheduled Event) seals the days before its own.
	out, err = s.Runner.Function("AuditSealFunction").Invoke(ctx, "",
		[]byte(`{"detail-type":"Scheduled Event","source":"aws.scheduler","time":"`+time.Now().UTC().Format(time.RFC3339)+`","detail":{}}`))
	require.NoError(t, err, "%s", out)
	_, err = s.Runner.Function("AuditSealFunction").Invoke(ctx, "", []byte(`{"day":"25/11/2026"}`))
	require.Error(t, err, "a malformed day is refused")
	_, err = s.Runner.Function("AuditSealFunction").Invoke(ctx, "", []byte(`{}`))
	require.Error(t, err, "neither a scheduled event nor a day")

	res = s.Do(t, "GET", "/v1/audit/access/verify?date="+today, c.Access, nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	assert.Equal(t, true, res.Body["sealed"])
	assert.Equal(t, true, res.Body["ok"], "%s", res.Raw)
	sealedCalls := res.Body["seal"].(map[string]any)["calls"].(float64)
	assert.GreaterOrEqual(t, sealedCalls, float64(3))

	// Remove one of the day's sealed calls (one of the GET /v1/users/me
	// before the seal, not a verify call logged after it) from the table:
	// the check fails.
	store, err := storage.OpenTable(ctx, function.MapEnv(map[string]string{"LANTAU_TABLE_PATH": filepath.Join(s.DataDir, "table.db")}))
	require.NoError(t, err)
	removed := false
	for shard := range 8 {
		p, err := store.Query(ctx, table.Query{Tenant: c.ID, PK: fmt.Sprintf("ACCESS#%s#%d", today, shard)})
		require.NoError(t, err)
		for _, it := range p.Items {
			var a audit.Access
			require.NoError(t, json.Unmarshal(it.Data, &a))
			if a.Route == "GET /v1/users/me" {
				require.NoError(t, store.Delete(ctx, it.Key, table.Always))
				removed = true
				break
			}
		}
		if removed {
			break
		}
	}
	require.True(t, removed)
	res = s.Do(t, "GET", "/v1/audit/access/verify?date="+today, c.Access, nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	assert.Equal(t, false, res.Body["ok"], "%s", res.Raw)
	assert.NotEmpty(t, res.Body["reason"])
}

func hongKongZone(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Asia/Hong_Kong")
	require.NoError(t, err)
	return loc
}
