package auditfn_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/infra/catalog"
	"github.com/lantau-hq/lantau/infra/lambdatest"
	"github.com/lantau-hq/lantau/infra/runner"
	"github.com/lantau-hq/lantau/shared/audit"
	"github.com/lantau-hq/lantau/shared/awsconfig"
	"github.com/lantau-hq/lantau/shared/event"
	"github.com/lantau-hq/lantau/shared/eventbridge"
	"github.com/lantau-hq/lantau/shared/sqlite"
	"github.com/lantau-hq/lantau/shared/table"
)

type stack struct {
	r      *runner.Runner
	issuer *lambdatest.Issuer
	data   string
	pub    *eventbridge.Publisher
}

func startStack(t *testing.T) *stack {
	t.Helper()
	s := &stack{issuer: lambdatest.NewIssuer(t), data: t.TempDir()}
	r, err := runner.New(context.Background(), runner.Config{
		Template: "../../../template.yaml", Constructors: catalog.Constructors(), DataDir: s.data,
		Addr: "127.0.0.1:0", AWSAddr: "127.0.0.1:0", NoSchedules: true, RetryBase: 5 * time.Millisecond,
		Params: map[string]string{"JwtIssuer": s.issuer.URL},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err)
	r.Start()
	t.Cleanup(func() { _ = r.Close() })
	s.r = r
	env := r.Function("health").Env
	getenv := func(k string) string { return env[k] }
	cfg, err := awsconfig.Load(context.Background(), getenv)
	require.NoError(t, err)
	s.pub, err = eventbridge.NewFromEnv(cfg, getenv)
	require.NoError(t, err)
	return s
}

func (s *stack) get(t *testing.T, path string, roles ...string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.r.APIEndpoint()+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+s.issuer.Token(t, func(c jwt.MapClaims) { c["roles"] = roles }))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	return resp.StatusCode, body
}

func TestAuditTrail_EventsFromTheBusAreChainedAndVerified(t *testing.T) {
	s := startStack(t)
	ctx := context.Background()
	var published []event.Envelope
	for i, typ := range []string{"EmployeeJoined", "LeaveRequested", "LeaveApproved", "EmployeeLeft"} {
		e, err := event.New("lantau.directory", typ, "t-acme", "u-admin", time.Now(), map[string]any{"n": i, "name": "陳大文"})
		require.NoError(t, err)
		published = append(published, e)
	}
	other, err := event.New("lantau.directory", "EmployeeJoined", "t-other", "u-9", time.Now(), map[string]any{})
	require.NoError(t, err)
	require.NoError(t, s.pub.Publish(ctx, append(published, other)...))
	require.NoError(t, s.pub.Publish(ctx, published[1])) // a redelivery is not chained twice

	require.Eventually(t, func() bool {
		code, body := s.get(t, "/v1/audit/verify", "auditor")
		return code == http.StatusOK && body["entries"] == float64(4)
	}, 10*time.Second, 20*time.Millisecond)

	code, body := s.get(t, "/v1/audit/verify", "super-admin")
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, true, body["valid"])

	code, body = s.get(t, "/v1/audit/entries?order=oldest", "auditor")
	require.Equal(t, http.StatusOK, code)
	entries := body["entries"].([]any)
	require.Len(t, entries, 4)
	var want, got []string
	for i, e := range entries {
		m := e.(map[string]any)
		got = append(got, m["id"].(string))
		want = append(want, published[i].ID)
		assert.Equal(t, float64(i+1), m["seq"])
		assert.Equal(t, "t-acme", m["tenant"], "only the caller's company")
	}
	assert.ElementsMatch(t, want, got, "each event once (the bus delivers concurrently, so in any order)")

	code, body = s.get(t, "/v1/audit/access", "auditor")
	require.Equal(t, http.StatusOK, code)
	calls := body["calls"].([]any)
	require.NotEmpty(t, calls, "the calls above are in the access log")
	first := calls[0].(map[string]any)
	assert.Equal(t, "GET /v1/audit/verify", first["route"])
	assert.Equal(t, "t-acme", first["tenant"])
	assert.Equal(t, "u-1", first["user"])
	assert.Equal(t, "127.0.0.1", first["sourceIp"])
	assert.Equal(t, float64(200), first["status"])
	assert.NotEmpty(t, first["requestId"])
	assert.NotEmpty(t, first["userAgent"])
	code, _ = s.get(t, "/v1/audit/access?date=yesterday", "auditor")
	assert.Equal(t, http.StatusBadRequest, code)

	code, body = s.get(t, "/v1/audit/verify", "employee")
	assert.Equal(t, http.StatusForbidden, code)
	assert.Equal(t, "https://lantau.dev/problems/not-an-auditor", body["type"])
	code, _ = s.get(t, "/v1/audit/entries?limit=9999", "auditor")
	assert.Equal(t, http.StatusBadRequest, code)
	code, _ = s.get(t, "/v1/audit/entries?cursor=garbage", "auditor")
	assert.Equal(t, http.StatusBadRequest, code, "a malformed cursor is a 400")

	// Someone with access to the table edits entry 2: the API and the command line both name it.
	store, err := sqlite.Open(filepath.Join(s.data, "table.db"), table.Lantau)
	require.NoError(t, err)
	key := table.Key{Tenant: "t-acme", PK: "AUDIT#CHAIN", SK: fmt.Sprintf("%020d", 2)}
	it, err := store.Get(ctx, key)
	require.NoError(t, err)
	var e audit.Entry
	require.NoError(t, json.Unmarshal(it.Data, &e))
	e.Actor = "u-intruder"
	it.Data, _ = json.Marshal(e)
	require.NoError(t, store.Put(ctx, it, table.Always))
	require.NoError(t, store.Close())

	code, body = s.get(t, "/v1/audit/verify", "auditor")
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, false, body["valid"])
	assert.Equal(t, map[string]any{"seq": float64(2), "kind": "altered", "detail": "entry 2's content no longer matches its hash"}, body["firstProblem"])

	var out bytes.Buffer
	cmd := exec.Command("go", "run", "../../../infra/cmd/lantau", "audit", "-data", s.data, "verify", "t-acme")
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	require.Error(t, err, "the command fails on a broken chain")
	assert.Contains(t, out.String(), "broken at entry 2 (altered)")
}
