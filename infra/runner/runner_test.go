package runner

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/lantau-hq/lantau/infra/catalog"
	"github.com/lantau-hq/lantau/infra/lambdatest"
	"github.com/lantau-hq/lantau/shared/function"
	"github.com/lantau-hq/lantau/shared/httpapi"
)

// recorder keeps what reached each probe function.
type recorder struct {
	mu    sync.Mutex
	calls map[string][]json.RawMessage
	// failures is how many more times ProbeFlakyFunction fails.
	failures atomic.Int32
}

func (r *recorder) add(fn string, payload []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls[fn] = append(r.calls[fn], append(json.RawMessage(nil), payload...))
}

func (r *recorder) got(fn string) []json.RawMessage {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]json.RawMessage(nil), r.calls[fn]...)
}

func (r *recorder) reached() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for k, v := range r.calls {
		if len(v) > 0 {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = map[string][]json.RawMessage{}
}

type probeHandler struct {
	name string
	rec  *recorder
}

func (p probeHandler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	p.rec.add(p.name, payload)
	if p.name == "probeflaky" && p.rec.failures.Add(-1) >= 0 {
		return nil, errors.New("flaky target failed")
	}
	return []byte(`{"ok":true}`), nil
}

// probeAPI is the HTTP probe: it decodes JSON like every Lantau handler,
// echoes what API Gateway passed, and can panic or run out of time.
func probeAPI(rec *recorder) lambda.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /v1/probe/items/{id}", httpapi.RequireActor(httpapi.Handle("probe.echo", func(w http.ResponseWriter, r *http.Request) error {
		var in struct {
			Name string `json:"name"`
		}
		if err := httpapi.Decode(w, r, &in); err != nil {
			return err
		}
		actor, _ := httpapi.ActorFrom(r.Context())
		return httpapi.JSON(w, http.StatusCreated, map[string]any{"id": r.PathValue("id"), "name": in.Name, "tenant": actor.Tenant, "user": actor.User})
	})))
	mux.HandleFunc("GET /v1/probe/admin", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "admin") })
	mux.HandleFunc("/v1/probe/files/", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("X-Path", r.URL.Path)
		w.Header().Set("X-Query", r.URL.RawQuery)
		_, _ = w.Write(body)
	})
	mux.HandleFunc("GET /v1/probe/panic", func(http.ResponseWriter, *http.Request) { panic("probe panic") })
	mux.HandleFunc("GET /v1/probe/slow", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	inner := function.HTTP(mux)
	return recordingHandler{rec: rec, inner: inner}
}

type recordingHandler struct {
	rec   *recorder
	inner lambda.Handler
}

func (h recordingHandler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	h.rec.add("probeapi", payload)
	return h.inner.Invoke(ctx, payload)
}

// probeTemplate writes the real template.yaml plus the probe functions.
func probeTemplate(t *testing.T) string {
	t.Helper()
	var doc yaml.Node
	real, err := os.ReadFile("../../template.yaml")
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(real, &doc))
	var probes yaml.Node
	pb, err := os.ReadFile("testdata/probes.yaml")
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(pb, &probes))
	root := doc.Content[0]
	for i := 0; i < len(root.Content); i += 2 {
		if root.Content[i].Value == "Resources" {
			root.Content[i+1].Content = append(root.Content[i+1].Content, probes.Content[0].Content...)
		}
	}
	out, err := yaml.Marshal(&doc)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "template.yaml")
	require.NoError(t, os.WriteFile(path, out, 0o644))
	return path
}

type fixture struct {
	r       *Runner
	rec     *recorder
	cfg     Config
	issuer  *lambdatest.Issuer
	clock   *atomic.Int64 // offset added to time.Now, in ns
	s3      *s3.Client
	bridge  *eventbridge.Client
	busName string
}

func constructors(rec *recorder) map[string]function.Constructor {
	ctors := catalog.Constructors()
	for _, name := range []string{"probeall", "probelarge", "probenotleave", "probeor", "probedefaultbus", "probeflaky", "probeuploads", "probedocs", "probecron"} {
		ctors[name] = func(context.Context, function.Env) (lambda.Handler, error) {
			return probeHandler{name: name, rec: rec}, nil
		}
	}
	ctors["probeapi"] = func(context.Context, function.Env) (lambda.Handler, error) { return probeAPI(rec), nil }
	return ctors
}

func start(t *testing.T, dataDir string) *fixture {
	t.Helper()
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	f := &fixture{rec: &recorder{calls: map[string][]json.RawMessage{}}, issuer: lambdatest.NewIssuer(t), clock: &atomic.Int64{}}
	f.cfg = Config{
		Template:     probeTemplate(t),
		Constructors: constructors(f.rec),
		DataDir:      dataDir,
		Addr:         "127.0.0.1:0",
		AWSAddr:      "127.0.0.1:0",
		Params:       map[string]string{"JwtIssuer": f.issuer.URL, "JwtAudience": "lantau-api"},
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		RetryBase:    5 * time.Millisecond,
		NoSchedules:  true,
		Now:          func() time.Time { return time.Now().Add(time.Duration(f.clock.Load())) },
	}
	f.restart(t)
	return f
}

func (f *fixture) restart(t *testing.T) {
	t.Helper()
	r, err := New(context.Background(), f.cfg)
	require.NoError(t, err)
	r.Start()
	t.Cleanup(func() { _ = r.Close() })
	f.r = r
	awsCfg := aws.Config{
		Region:      "ap-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
	}
	f.s3 = s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(r.AWSEndpoint())
		o.UsePathStyle = true
	})
	f.bridge = eventbridge.NewFromConfig(awsCfg, func(o *eventbridge.Options) { o.BaseEndpoint = aws.String(r.AWSEndpoint()) })
	f.busName = r.functions["HealthFunction"].Env["EVENT_BUS_NAME"]
}

// settle waits until every asynchronous delivery has finished.
func (f *fixture) settle(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	f.r.async.wait(ctx)
	require.NoError(t, ctx.Err(), "deliveries did not finish")
}

func entry(bus, source, detailType, detail string) ebtypes.PutEventsRequestEntry {
	return ebtypes.PutEventsRequestEntry{EventBusName: aws.String(bus), Source: aws.String(source), DetailType: aws.String(detailType), Detail: aws.String(detail)}
}

func TestPutEvents_DeliversToExactlyTheMatchingRules(t *testing.T) {
	f := start(t, "")
	ctx := context.Background()
	cases := []struct {
		name  string
		entry ebtypes.PutEventsRequestEntry
		want  []string
	}{
		{"prefix and anything-but", entry(f.busName, "lantau.approvals", "ExpenseSubmitted", `{"amount": 20}`), []string{"probeall", "probenotleave"}},
		{"numeric range matches", entry(f.busName, "lantau.approvals", "LeaveRequested", `{"amount": 1200.5}`), []string{"probeall", "probelarge"}},
		{"numeric upper bound excludes", entry(f.busName, "lantau.approvals", "LeaveRequested", `{"amount": 60000}`), []string{"probeall"}},
		{"anything-but excludes listed values", entry(f.busName, "lantau.approvals", "LeaveApproved", `{"amount": 5}`), []string{"probeall"}},
		{"$or first branch", entry(f.busName, "lantau.drive", "FileShared", `{"kind": "expense"}`), []string{"probeall", "probeor"}},
		{"$or second branch", entry(f.busName, "lantau.directory", "EmployeeLeft", `{"employee": "e1"}`), []string{"probeall", "probeor"}},
		{"no rule matches another source", entry(f.busName, "acme.crm", "EmployeeLeft", `{"kind": "other"}`), []string{"probeor"}},
		{"default bus has its own rules", entry("default", "lantau.approvals", "ExpenseSubmitted", `{"amount": 2000}`), []string{"probedefaultbus"}},
		{"bus given as an ARN", entry(fmt.Sprintf("arn:aws:events:ap-east-1:%s:event-bus/%s", AccountID, f.busName), "lantau.attendance", "Late", `{}`), []string{"probeall"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f.rec.reset()
			out, err := f.bridge.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{tc.entry}})
			require.NoError(t, err)
			require.Equal(t, int32(0), out.FailedEntryCount)
			require.NotEmpty(t, aws.ToString(out.Entries[0].EventId))
			f.settle(t)
			assert.Equal(t, tc.want, f.rec.reached())
			for _, fn := range tc.want {
				var ev events.EventBridgeEvent
				require.NoError(t, json.Unmarshal(f.rec.got(fn)[0], &ev))
				assert.Equal(t, aws.ToString(out.Entries[0].EventId), ev.ID)
				assert.Equal(t, aws.ToString(tc.entry.DetailType), ev.DetailType)
				assert.Equal(t, AccountID, ev.AccountID)
				assert.JSONEq(t, aws.ToString(tc.entry.Detail), string(ev.Detail))
			}
		})
	}
}

func TestPutEvents_RefusesBadEntriesOneByOne(t *testing.T) {
	f := start(t, "")
	out, err := f.bridge.PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
		entry(f.busName, "lantau.approvals", "Ok", `{"a":1}`),
		entry(f.busName, "lantau.approvals", "Bad", `{not json`),
		entry("no-such-bus", "lantau.approvals", "Lost", `{}`),
		{EventBusName: aws.String(f.busName), DetailType: aws.String("NoSource"), Detail: aws.String(`{}`)},
	}})
	require.NoError(t, err)
	assert.Equal(t, int32(3), out.FailedEntryCount)
	assert.NotEmpty(t, aws.ToString(out.Entries[0].EventId))
	assert.Equal(t, "MalformedDetail", aws.ToString(out.Entries[1].ErrorCode))
	assert.Equal(t, "ResourceNotFoundException", aws.ToString(out.Entries[2].ErrorCode))
	assert.Equal(t, "InvalidArgument", aws.ToString(out.Entries[3].ErrorCode))
	f.settle(t)
	assert.Len(t, f.rec.got("probeall"), 1)

	_, err = f.bridge.PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: make([]ebtypes.PutEventsRequestEntry, 11)})
	require.Error(t, err, "more than 10 entries is a validation error")
}

func TestPutEvents_FailingTargetIsRetriedDeadLetteredAndReplayed(t *testing.T) {
	f := start(t, "")
	f.rec.failures.Store(3) // the first attempt and both retries fail
	_, err := f.bridge.PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
		entry(f.busName, "lantau.test", "Flaky", `{"n":1}`),
	}})
	require.NoError(t, err)
	f.settle(t)
	assert.Len(t, f.rec.got("probeflaky"), 3, "one attempt and two retries")

	var dead []delivery
	getJSON(t, f.r.AWSEndpoint()+"/_lantau/deadletters", &dead)
	require.Len(t, dead, 1)
	assert.Equal(t, "ProbeFlakyFunction", dead[0].Function)
	assert.Equal(t, 3, dead[0].Attempts)
	assert.Contains(t, dead[0].LastError, "flaky target failed")

	// The dead letter survives a restart, then a replay delivers it.
	require.NoError(t, f.r.Close())
	f.restart(t)
	getJSON(t, f.r.AWSEndpoint()+"/_lantau/deadletters", &dead)
	require.Len(t, dead, 1)
	resp, err := http.Post(f.r.AWSEndpoint()+"/_lantau/deadletters/"+dead[0].ID+"/replay", "application/json", nil)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	f.settle(t)
	assert.Len(t, f.rec.got("probeflaky"), 4)
	getJSON(t, f.r.AWSEndpoint()+"/_lantau/deadletters", &dead)
	assert.Empty(t, dead)

	resp, err = http.Post(f.r.AWSEndpoint()+"/_lantau/deadletters/nope/replay", "application/json", nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestPendingDeliveriesSurviveARestart(t *testing.T) {
	dir := t.TempDir()
	f := start(t, dir)
	// A delivery spooled but not yet run, as after a crash.
	d := &delivery{ID: newID(), Function: "ProbeAllFunction", Trigger: "test", Payload: json.RawMessage(`{"left":"behind"}`)}
	require.NoError(t, writeFileSync(filepath.Join(dir, "deliveries", "pending", d.ID+".json"), mustJSON(d)))
	require.NoError(t, f.r.Close())
	f.restart(t)
	f.settle(t)
	require.Len(t, f.rec.got("probeall"), 1)
	assert.JSONEq(t, `{"left":"behind"}`, string(f.rec.got("probeall")[0]))
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
}

func noneToken(claims jwt.MapClaims) string {
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT","kid":"k1"}`))
	p, _ := json.Marshal(claims)
	return h + "." + base64.RawURLEncoding.EncodeToString(p) + "."
}

func do(t *testing.T, method, url, token, contentType, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, b
}

func TestJWTAuthorizer_OnlyAValidTokenReachesTheFunction(t *testing.T) {
	f := start(t, "")
	url := f.r.APIEndpoint() + "/v1/probe/items/42"
	valid := f.issuer.Token(t, nil)
	cases := []struct {
		name   string
		token  string
		status int
	}{
		{"valid", valid, http.StatusCreated},
		{"expired", f.issuer.Token(t, func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Minute).Unix() }), http.StatusUnauthorized},
		{"wrong audience", f.issuer.Token(t, func(c jwt.MapClaims) { c["aud"] = "someone-else" }), http.StatusUnauthorized},
		{"wrong issuer", f.issuer.Token(t, func(c jwt.MapClaims) { c["iss"] = "https://evil.example" }), http.StatusUnauthorized},
		{"alg none", noneToken(jwt.MapClaims{"iss": f.issuer.URL, "aud": "lantau-api", "sub": "u-1", "exp": time.Now().Add(time.Hour).Unix()}), http.StatusUnauthorized},
		{"tampered", valid[:len(valid)-4] + "AAAA", http.StatusUnauthorized},
		{"missing", "", http.StatusUnauthorized},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f.rec.reset()
			resp, body := do(t, http.MethodPost, url, tc.token, "application/json", `{"name":"陳大文"}`)
			require.Equal(t, tc.status, resp.StatusCode, string(body))
			if tc.status != http.StatusCreated {
				assert.JSONEq(t, `{"message":"Unauthorized"}`, string(body))
				assert.Empty(t, f.rec.got("probeapi"), "a refused request never reaches the function")
				return
			}
			assert.JSONEq(t, `{"id":"42","name":"陳大文","tenant":"t-acme","user":"u-1"}`, string(body))
			require.Len(t, f.rec.got("probeapi"), 1)
			var ev events.APIGatewayV2HTTPRequest
			require.NoError(t, json.Unmarshal(f.rec.got("probeapi")[0], &ev))
			assert.Equal(t, "POST /v1/probe/items/{id}", ev.RouteKey)
			assert.Equal(t, "$default", ev.RequestContext.Stage)
			assert.Equal(t, map[string]string{"id": "42"}, ev.PathParameters)
			assert.Equal(t, "127.0.0.1", ev.RequestContext.HTTP.SourceIP)
			assert.Equal(t, "t-acme", ev.RequestContext.Authorizer.JWT.Claims["tenant"])
			assert.Equal(t, "[employee]", ev.RequestContext.Authorizer.JWT.Claims["roles"])
			assert.Equal(t, resp.Header.Get("Apigw-Requestid"), ev.RequestContext.RequestID)
		})
	}
}

func TestJWTAuthorizer_RouteScopes(t *testing.T) {
	f := start(t, "")
	url := f.r.APIEndpoint() + "/v1/probe/admin"
	resp, _ := do(t, http.MethodGet, url, f.issuer.Token(t, nil), "", "")
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	resp, body := do(t, http.MethodGet, url, f.issuer.Token(t, func(c jwt.MapClaims) { c["scope"] = "openid lantau/admin" }), "", "")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "admin", string(body))
}

func TestHTTPAPI_RequestsAndResponses(t *testing.T) {
	f := start(t, "")
	api := f.r.APIEndpoint()
	token := f.issuer.Token(t, nil)

	t.Run("malformed JSON body is a 400 problem, not a 500", func(t *testing.T) {
		resp, body := do(t, http.MethodPost, api+"/v1/probe/items/1", token, "application/json", `{"name": `)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		assert.Equal(t, "application/problem+json", strings.Split(resp.Header.Get("Content-Type"), ";")[0])
		var p map[string]any
		require.NoError(t, json.Unmarshal(body, &p))
		assert.EqualValues(t, 400, p["status"])
		assert.NotEmpty(t, p["type"])
	})
	t.Run("problem titles follow Accept-Language", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, api+"/v1/probe/items/1", strings.NewReader(`[`))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept-Language", "zh-HK,zh;q=0.9,en;q=0.5")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var p map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&p))
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		assert.Equal(t, "zh-HK", resp.Header.Get("Content-Language"))
	})
	t.Run("panicking handler gets 502 and the runner keeps serving", func(t *testing.T) {
		resp, body := do(t, http.MethodGet, api+"/v1/probe/panic", "", "", "")
		assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
		assert.JSONEq(t, `{"message":"Internal Server Error"}`, string(body))
		resp, _ = do(t, http.MethodGet, api+"/v1/health", "", "", "")
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	})
	t.Run("a function past its Timeout gets 503", func(t *testing.T) {
		resp, _ := do(t, http.MethodGet, api+"/v1/probe/slow", "", "", "")
		assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	})
	t.Run("greedy path, query and binary body round-trip", func(t *testing.T) {
		bin := []byte{0, 1, 2, 255, 254}
		req, _ := http.NewRequest(http.MethodPut, api+"/v1/probe/files/a/b/c.bin?x=1&x=2&y=%E4%B8%AD", bytes.NewReader(bin))
		req.Header.Set("Content-Type", "application/octet-stream")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, bin, got)
		assert.Equal(t, "/v1/probe/files/a/b/c.bin", resp.Header.Get("X-Path"))
		var ev events.APIGatewayV2HTTPRequest
		calls := f.rec.got("probeapi")
		require.NoError(t, json.Unmarshal(calls[len(calls)-1], &ev))
		assert.True(t, ev.IsBase64Encoded)
		assert.Equal(t, map[string]string{"proxy": "a/b/c.bin"}, ev.PathParameters)
		assert.Equal(t, "1,2", ev.QueryStringParameters["x"])
		assert.Equal(t, "中", ev.QueryStringParameters["y"])
	})
	t.Run("unknown route and wrong method are 404 as API Gateway answers", func(t *testing.T) {
		resp, body := do(t, http.MethodGet, api+"/v1/nowhere", "", "", "")
		assert.Equal(t, http.StatusNotFound, resp.StatusCode)
		assert.JSONEq(t, `{"message":"Not Found"}`, string(body))
		resp, _ = do(t, http.MethodDelete, api+"/v1/health", "", "", "")
		assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	})
	t.Run("cookies arrive in the cookies field", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, api+"/v1/probe/files/x", nil)
		req.Header.Set("Cookie", "a=1; b=2")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		var ev events.APIGatewayV2HTTPRequest
		calls := f.rec.got("probeapi")
		require.NoError(t, json.Unmarshal(calls[len(calls)-1], &ev))
		assert.Equal(t, []string{"a=1", "b=2"}, ev.Cookies)
		assert.NotContains(t, ev.Headers, "cookie")
	})
}

func TestSchedules_FireByHandWithTheTemplatesInput(t *testing.T) {
	f := start(t, "")
	resp, body := do(t, http.MethodPost, f.r.AWSEndpoint()+"/_lantau/schedules/ProbeCronFunction.Often/fire", "", "", "")
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.Len(t, f.rec.got("probecron"), 1)
	assert.JSONEq(t, `{"job":"often"}`, string(f.rec.got("probecron")[0]))

	resp, _ = do(t, http.MethodPost, f.r.AWSEndpoint()+"/_lantau/schedules/probecron.Weekdays/fire", "", "", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var ev events.EventBridgeEvent
	require.NoError(t, json.Unmarshal(f.rec.got("probecron")[1], &ev))
	assert.Equal(t, "Scheduled Event", ev.DetailType)
	assert.Equal(t, "aws.scheduler", ev.Source)

	resp, _ = do(t, http.MethodPost, f.r.AWSEndpoint()+"/_lantau/schedules/Nope.Nope/fire", "", "", "")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)

	var probes []WiredTrigger // the template's own schedules are listed too
	for _, s := range f.r.Wiring().Schedules {
		if s.Function == "ProbeCronFunction" {
			probes = append(probes, s)
		}
	}
	require.Len(t, probes, 2)
	assert.Contains(t, probes[1].Detail, "cron(0 9 ? * 2-6 *)")
}

func TestNew_RefusesABrokenTemplateNamingTheResource(t *testing.T) {
	base, err := os.ReadFile("../../template.yaml")
	require.NoError(t, err)
	cases := []struct {
		name, from, to, want string
	}{
		{"unknown event type", "Type: HttpApi", "Type: Api", `HealthFunction.Events.Health.Type: unsupported event type "Api"`},
		{"unknown property", "Description: Liveness", "Descripton: Liveness", "HealthFunction.Properties.Descripton"},
		{"GetAtt of an unknown attribute", "!GetAtt AsyncDeadLetterQueue.Arn", "!GetAtt AsyncDeadLetterQueue.Nope", `AsyncDeadLetterQueue.Nope`},
		{"not YAML", "Resources:", "Resources: [", "not valid YAML"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Contains(t, string(base), tc.from)
			path := filepath.Join(t.TempDir(), "template.yaml")
			require.NoError(t, os.WriteFile(path, []byte(strings.Replace(string(base), tc.from, tc.to, 1)), 0o644))
			_, err := New(context.Background(), Config{Template: path, Constructors: catalog.Constructors(), DataDir: t.TempDir(), Addr: "127.0.0.1:0", AWSAddr: "127.0.0.1:0"})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestCheckConstructors_TemplateAndCodeMustAgree(t *testing.T) {
	rec := &recorder{calls: map[string][]json.RawMessage{}}
	path := probeTemplate(t)
	ctors := constructors(rec)
	delete(ctors, "probeor")
	ctors["ghost"] = ctors["probeall"]
	_, err := New(context.Background(), Config{Template: path, Constructors: ctors, DataDir: t.TempDir(), Addr: "127.0.0.1:0", AWSAddr: "127.0.0.1:0"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ProbeOrFunction: no constructor for functions/probeor")
	assert.Contains(t, err.Error(), "functions/ghost: has a constructor but no function in the template")
}

func TestHTTPAPI_ConcurrentRequestsEachGetTheirOwnAnswer(t *testing.T) {
	f := start(t, "")
	token := f.issuer.Token(t, nil)
	const n = 100
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprint(i)
			req, _ := http.NewRequest(http.MethodPost, f.r.APIEndpoint()+"/v1/probe/items/"+id, strings.NewReader(`{"name":"n`+id+`"}`))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				errs <- err.Error()
				return
			}
			defer resp.Body.Close()
			var got map[string]string
			if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || got["id"] != id || got["name"] != "n"+id {
				errs <- fmt.Sprintf("request %s got %v (%v)", id, got, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestSchedules_FireOnTimeThroughTheSpool(t *testing.T) {
	rec := &recorder{calls: map[string][]json.RawMessage{}}
	// The runner's clock is 59.9 s behind, so rate(1 minute) is due 100 ms after start.
	r, err := New(context.Background(), Config{
		Template: probeTemplate(t), Constructors: constructors(rec), DataDir: t.TempDir(),
		Addr: "127.0.0.1:0", AWSAddr: "127.0.0.1:0", RetryBase: 5 * time.Millisecond,
		Params: map[string]string{"JwtIssuer": "http://127.0.0.1:9"},
		Now:    func() time.Time { return time.Now().Add(-59900 * time.Millisecond) },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err)
	r.Start()
	t.Cleanup(func() { _ = r.Close() })
	require.Eventually(t, func() bool { return len(rec.got("probecron")) == 1 }, 5*time.Second, 10*time.Millisecond)
	assert.JSONEq(t, `{"job":"often"}`, string(rec.got("probecron")[0]))
}

func TestAdmin_VerifiesAnAuditChainInTheRunnersOwnTable(t *testing.T) {
	f := start(t, "")
	var rep map[string]any
	getJSON(t, f.r.AWSEndpoint()+"/_lantau/audit/t-nobody/verify", &rep)
	assert.Equal(t, true, rep["valid"])
	assert.Equal(t, float64(0), rep["entries"])
}

// A caller may give any request ID, short ones too (the runner derives the
// trace header from it).
func TestInvoke_AcceptsRequestIDsOfAnyLength(t *testing.T) {
	f := start(t, "")
	fn := f.r.Function("ProbeCronFunction")
	require.NotNil(t, fn)
	for _, id := range []string{"", "x", "a-request-id-that-is-much-longer-than-twenty-four-characters"} {
		_, err := fn.Invoke(context.Background(), id, []byte(`{"job":"by-hand"}`))
		assert.NoError(t, err, "request ID %q", id)
	}
	assert.Regexp(t, `^Root=1-[0-9a-f]+-[0-9a-f]{24}$`, traceID(time.Now(), "x"))
}

// A client's spare connections, dialled and never used (the SDK opens
// them for parallel calls, browsers pre-connect), do not hold Close up:
// http.Server.Shutdown alone waits 5 s for each.
func TestClose_DoesNotWaitForConnectionsThatSentNothing(t *testing.T) {
	f := start(t, "")
	var conns []net.Conn
	for _, addr := range []string{f.r.APIEndpoint(), f.r.AWSEndpoint()} {
		c, err := net.Dial("tcp", strings.TrimPrefix(addr, "http://"))
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close() })
		conns = append(conns, c)
	}
	closed := make(chan error, 1)
	go func() { closed <- f.r.Close() }()
	select {
	case err := <-closed:
		require.NoError(t, err)
	case <-time.After(4 * time.Second):
		t.Fatal("Close waited for connections that never sent a request")
	}
	for _, c := range conns {
		require.NoError(t, c.SetReadDeadline(time.Now().Add(time.Second)))
		_, err := c.Read(make([]byte, 1))
		assert.ErrorIs(t, err, io.EOF, "the server closed the spare connection")
	}
}
