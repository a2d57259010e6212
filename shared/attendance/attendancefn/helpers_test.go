package attendancefn_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/infra/catalog"
	"github.com/lantau-hq/lantau/infra/runner"
	"github.com/lantau-hq/lantau/shared/attendance"
	"github.com/lantau-hq/lantau/shared/attendance/attendancefn"
	"github.com/lantau-hq/lantau/shared/attendance/rootsfn"
	"github.com/lantau-hq/lantau/shared/function"
	"github.com/lantau-hq/lantau/shared/identity/identitytest"
	"github.com/lantau-hq/lantau/shared/identity/session"
	"github.com/lantau-hq/lantau/shared/sheet/xlsx"
	"github.com/lantau-hq/lantau/shared/storage"
	"github.com/lantau-hq/lantau/shared/table"
)

// clock is the attendance functions' clock in these tests: punches are
// made at chosen Hong Kong times (identity keeps the real clock).
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// set moves the clock to a Hong Kong wall time, "2026-10-14 08:55".
func (c *clock) set(t *testing.T, hkt string) {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", hkt, hongKong)
	require.NoError(t, err)
	c.mu.Lock()
	c.t = v
	c.mu.Unlock()
}

var hongKong, _ = time.LoadLocation("Asia/Hong_Kong")

// stack is the whole template on the real runner, with the attendance
// functions built on a test clock and without the rules cache.
type stack struct {
	*identitytest.Stack
	t     *testing.T
	clock *clock
}

func start(t *testing.T) *stack {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	clk := &clock{t: time.Now()}
	b := attendancefn.Builder{Now: clk.Now, RulesTTL: -1, XLSX: xlsx.Write, Roots: rootsfn.Adapters}
	ctors := catalog.Constructors()
	ctors["clockin"], ctors["attendance"] = b.ClockIn, b.API
	ctors["attendanceroot"], ctors["attendancemissing"] = b.DailyRoot, b.MissingCheck
	ctors["attendancesheet"] = b.Timesheets
	s := &identitytest.Stack{API: "http://" + addr, DataDir: t.TempDir()}
	r, err := runner.New(context.Background(), runner.Config{
		Template: "../../../template.yaml", Constructors: ctors, DataDir: s.DataDir,
		Addr: addr, AWSAddr: "127.0.0.1:0", NoSchedules: true, RetryBase: 5 * time.Millisecond,
		Params: map[string]string{"JwtIssuer": s.API + "/v1/auth"},
		Env:    map[string]string{session.CacheTTLVariable: identitytest.SessionCacheTTL.String(), "LANTAU_ECHO_MAIL": "off"},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err)
	r.Start()
	t.Cleanup(func() { _ = r.Close() })
	s.Runner = r
	return &stack{Stack: s, t: t, clock: clk}
}

// table is the stack's own table (the embedded store is shared in-process).
func (s *stack) table() table.Store {
	st, err := storage.OpenTable(context.Background(), function.MapEnv(map[string]string{"LANTAU_TABLE_PATH": filepath.Join(s.DataDir, "table.db")}))
	require.NoError(s.t, err)
	return st
}

func (s *stack) must(status int, method, path, bearer string, body any, headers ...string) identitytest.Reply {
	s.t.Helper()
	res := s.Do(s.t, method, path, bearer, body, headers...)
	require.Equal(s.t, status, res.Status, "%s %s: %s", method, path, res.Raw)
	return res
}

// employee creates a directory employee, accepts the invitation and signs
// them in: their ID and access token.
func (s *stack) employee(boss string, body map[string]any) (id, access string) {
	s.t.Helper()
	id = s.must(http.StatusCreated, "POST", "/v1/directory/employees", boss, body).Str("id")
	_, tok := s.LastLink(s.t, body["email"].(string), "invitation")
	s.must(http.StatusOK, "POST", "/v1/users/invitations/accept", "", map[string]any{"token": tok, "password": identitytest.GoodPassword})
	res := s.must(http.StatusOK, "POST", "/v1/auth/login", "", map[string]any{"email": body["email"], "password": identitytest.GoodPassword})
	return id, res.Str("accessToken")
}

// invoke calls a function of the template directly, as its schedule would.
func (s *stack) invoke(fn string, payload any) map[string]any {
	s.t.Helper()
	raw, err := json.Marshal(payload)
	require.NoError(s.t, err)
	out, err := s.Runner.Function(fn).Invoke(context.Background(), "test-"+fn, raw)
	require.NoError(s.t, err)
	var v map[string]any
	require.NoError(s.t, json.Unmarshal(out, &v), "%s", out)
	return v
}

// punchBody is a punch at the clock's time.
func (s *stack) punchBody(kind, device string, loc *attendance.Fix, wifi ...string) map[string]any {
	b := map[string]any{"kind": kind, "deviceId": device, "clientTime": s.clock.Now().Format(time.RFC3339)}
	if loc != nil {
		b["location"] = map[string]any{"lat": loc.Lat, "lng": loc.Lng, "accuracyM": loc.AccuracyM}
	}
	var aps []map[string]any
	for _, bssid := range wifi {
		aps = append(aps, map[string]any{"ssid": "Acme-Office", "bssid": bssid})
	}
	if aps != nil {
		b["wifi"] = aps
	}
	return b
}

func (s *stack) punch(token, key string, body map[string]any, headers ...string) identitytest.Reply {
	s.t.Helper()
	if key != "" {
		headers = append(headers, "Idempotency-Key", key)
	}
	return s.Do(s.t, "POST", "/v1/attendance/punches", token, body, headers...)
}

// rawPunch is a punch from another goroutine (no testing.T there).
func rawPunch(api, token, key string, body map[string]any) (int, map[string]any, error) {
	raw, _ := json.Marshal(body)
	req, err := http.NewRequest("POST", api+"/v1/attendance/punches", bytes.NewReader(raw))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Idempotency-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var v map[string]any
	err = json.NewDecoder(resp.Body).Decode(&v)
	return resp.StatusCode, v, err
}

func codes(res identitytest.Reply) []string {
	var out []string
	list, _ := res.Body["reasons"].([]any)
	for _, r := range list {
		out = append(out, r.(map[string]any)["code"].(string))
	}
	return out
}

func reasonMessage(res identitytest.Reply, code string) map[string]any {
	list, _ := res.Body["reasons"].([]any)
	for _, r := range list {
		m := r.(map[string]any)
		if m["code"] == code {
			return m
		}
	}
	return nil
}

func fix(p attendance.LatLng, acc float64) *attendance.Fix {
	return &attendance.Fix{LatLng: p, AccuracyM: acc}
}
