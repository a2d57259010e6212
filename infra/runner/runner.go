// Package runner serves every function in template.yaml on one machine, with
// no AWS account and no Docker: an HTTP API with its JWT authorizer, an
// EventBridge bus that answers PutEvents and delivers by rule pattern, an S3
// endpoint whose uploads notify the subscribed functions, and schedules. It
// reads all wiring from the template; there is no second list.
package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lantau-hq/lantau/infra/template"
	"github.com/lantau-hq/lantau/shared/function"
)

// Local stand-ins for what AWS would know.
const (
	AccountID       = "000000000000"
	AccessKeyID     = "LANTAULOCAL"
	SecretAccessKey = "lantau-local-secret"
)

// GCPercent is the garbage-collector target that `lantau run` sets for its
// process: every request is JSON-encoded and decoded twice (the Lambda
// contract), so the runner allocates a lot of short-lived memory; a laptop
// has memory to spare, and fewer collections keep latency down.
const GCPercent = 400

// Config says what to serve and where.
type Config struct {
	Template     string                          // path of template.yaml
	Constructors map[string]function.Constructor // functions/<name> -> constructor
	DataDir      string                          // objects, dead letters, table data
	Addr         string                          // HTTP API, default 127.0.0.1:3000
	AWSAddr      string                          // S3 + EventBridge + runner admin, default 127.0.0.1:3001
	Region       string                          // default ap-east-1
	StackName    string                          // default lantau
	Params       map[string]string               // template parameter overrides
	Env          map[string]string               // extra variables for every function (e.g. LANTAU_DATA_DIR)
	Logger       *slog.Logger
	// RetryBase is the first async retry delay (doubling after); default 1s.
	RetryBase time.Duration
	// NoSchedules turns off timers (schedules can still be fired by hand).
	NoSchedules bool
	// HTTPClient fetches JWKS documents; default http.DefaultClient.
	HTTPClient *http.Client
	// Now is the clock for schedules and presigned URL checks; default time.Now.
	Now func() time.Time
	// MailEcho gets a plain-text copy of each mail the runner accepts for
	// SES (every mail is also written to <DataDir>/outbox), so that a link
	// in it can be followed at once. Default os.Stderr; io.Discard, or
	// LANTAU_ECHO_MAIL=off in Env, turns it off.
	MailEcho io.Writer
}

// Runner is a running local stack.
type Runner struct {
	cfg       Config
	log       *slog.Logger
	tmpl      *template.Template
	res       *template.Resolver
	functions map[string]*Function // by logical ID
	api       *apiServer
	bus       *bus
	async     *asyncInvoker
	params    *parameterStore
	mail      *mailbox
	objects   *objectStore
	sched     *scheduler
	apiLn     net.Listener
	awsLn     net.Listener
	// started is set by Start: until then the AWS endpoint answers SSM and
	// SES only (the constructors read their keys there) and the API is not
	// served.
	started atomic.Bool
	servers []*http.Server
	// fresh holds the connections that have sent no request yet (a
	// client's spare, such as one the SDK dialled for a parallel call and
	// then did not need, or a browser's pre-connect): Close closes them,
	// where http.Server.Shutdown would wait 5 s for each.
	fresh  sync.Map // net.Conn -> struct{}
	wg     sync.WaitGroup
	cancel context.CancelFunc
	ctx    context.Context
}

// New reads the template, builds every function with its own configuration
// and prepares (but does not start) the servers. Any template problem or a
// function without a constructor (or a constructor without a function) is an
// error naming it.
func New(ctx context.Context, cfg Config) (*Runner, error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:3000"
	}
	if cfg.AWSAddr == "" {
		cfg.AWSAddr = "127.0.0.1:3001"
	}
	if cfg.Region == "" {
		cfg.Region = "ap-east-1"
	}
	if cfg.StackName == "" {
		cfg.StackName = "lantau"
	}
	if cfg.DataDir == "" {
		cfg.DataDir = ".lantau"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if cfg.RetryBase == 0 {
		cfg.RetryBase = time.Second
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	tmpl, err := template.Load(cfg.Template)
	if err != nil {
		return nil, err
	}
	if err := CheckConstructors(tmpl, cfg.Constructors); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	apiLn, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("HTTP API address: %w", err)
	}
	awsLn, err := net.Listen("tcp", cfg.AWSAddr)
	if err != nil {
		apiLn.Close()
		return nil, fmt.Errorf("AWS endpoint address: %w", err)
	}
	r := &Runner{cfg: cfg, log: cfg.Logger, tmpl: tmpl, functions: map[string]*Function{}, apiLn: apiLn, awsLn: awsLn}
	r.ctx, r.cancel = context.WithCancel(context.WithoutCancel(ctx))
	fail := func(err error) (*Runner, error) {
		for _, s := range r.servers {
			_ = s.Close()
		}
		apiLn.Close()
		awsLn.Close()
		r.cancel()
		r.wg.Wait()
		if r.objects != nil {
			r.objects.close()
		}
		return nil, err
	}
	r.res, err = tmpl.NewResolver(template.Context{
		Region: cfg.Region, AccountID: AccountID, StackName: cfg.StackName, Params: cfg.Params,
		APIEndpoint: "http://" + apiLn.Addr().String(), ServiceEndpoint: r.AWSEndpoint(),
	})
	if err != nil {
		return fail(err)
	}
	if r.async, err = newAsyncInvoker(r); err != nil {
		return fail(err)
	}
	if r.params, err = newParameterStore(r); err != nil {
		return fail(err)
	}
	r.mail = newMailbox(r)
	// Constructors may read their parameters (signing keys) as they would
	// on Lambda, at init: the AWS endpoint is served from now on.
	r.serve(r.awsLn, r.awsHandler())
	if r.objects, err = newObjectStore(r); err != nil {
		return fail(err)
	}
	for _, spec := range tmpl.Functions {
		fn, err := r.buildFunction(ctx, spec)
		if err != nil {
			return fail(err)
		}
		r.functions[spec.LogicalID] = fn
	}
	if r.bus, err = newBus(r); err != nil {
		return fail(err)
	}
	if err := r.objects.subscribe(); err != nil {
		return fail(err)
	}
	if r.api, err = newAPIServer(r); err != nil {
		return fail(err)
	}
	if r.sched, err = newScheduler(r); err != nil {
		return fail(err)
	}
	return r, nil
}

// CheckConstructors fails when the template and the code disagree: a
// function in the template with no constructor, or a constructor that no
// template function uses.
func CheckConstructors(tmpl *template.Template, ctors map[string]function.Constructor) error {
	var problems []string
	used := map[string]bool{}
	for _, fn := range tmpl.Functions {
		used[fn.Name] = true
		if ctors[fn.Name] == nil {
			problems = append(problems, fmt.Sprintf("%s: no constructor for functions/%s", fn.LogicalID, fn.Name))
		}
	}
	for name := range ctors {
		if !used[name] {
			problems = append(problems, fmt.Sprintf("functions/%s: has a constructor but no function in the template", name))
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return fmt.Errorf("template and code disagree:\n  %s", strings.Join(problems, "\n  "))
	}
	return nil
}

func (r *Runner) buildFunction(ctx context.Context, spec *template.Function) (*Function, error) {
	name := spec.LogicalID
	if v, ok := spec.Properties["FunctionName"]; ok {
		s, err := r.res.String(v, spec.LogicalID, "FunctionName")
		if err != nil {
			return nil, err
		}
		name = s
	} else {
		name = r.cfg.StackName + "-" + spec.LogicalID
	}
	env := map[string]string{}
	if e, ok := spec.Properties["Environment"].(map[string]any); ok {
		vars, _ := e["Variables"].(map[string]any)
		for _, k := range sortedKeys(vars) {
			s, err := r.res.String(vars[k], spec.LogicalID, "Environment.Variables."+k)
			if err != nil {
				return nil, err
			}
			env[k] = s
		}
	}
	for k, v := range r.cfg.Env {
		env[k] = v
	}
	// What Lambda itself sets, plus where the local AWS endpoints are.
	env["AWS_REGION"] = r.cfg.Region
	env["AWS_DEFAULT_REGION"] = r.cfg.Region
	env["AWS_LAMBDA_FUNCTION_NAME"] = name
	env["AWS_LAMBDA_FUNCTION_VERSION"] = "$LATEST"
	env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = strconv.Itoa(spec.MemoryMB)
	env["AWS_ACCESS_KEY_ID"] = AccessKeyID
	env["AWS_SECRET_ACCESS_KEY"] = SecretAccessKey
	env["AWS_ENDPOINT_URL_S3"] = r.AWSEndpoint()
	env["AWS_ENDPOINT_URL_EVENTBRIDGE"] = r.AWSEndpoint()
	env["AWS_ENDPOINT_URL_SSM"] = r.AWSEndpoint()
	env["AWS_ENDPOINT_URL_SESV2"] = r.AWSEndpoint()
	env["LANTAU_LOCAL"] = "1"
	env["LANTAU_DATA_DIR"] = r.cfg.DataDir
	env["LANTAU_TABLE_PATH"] = r.dataPath("table.db")
	retries := 2
	if eic, ok := spec.Properties["EventInvokeConfig"].(map[string]any); ok {
		if v, ok := eic["MaximumRetryAttempts"]; ok {
			s, err := r.res.String(v, spec.LogicalID, "EventInvokeConfig.MaximumRetryAttempts")
			if err != nil {
				return nil, err
			}
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 || n > 2 {
				return nil, &template.Error{Resource: spec.LogicalID, Property: "EventInvokeConfig.MaximumRetryAttempts", Reason: "must be 0, 1 or 2"}
			}
			retries = n
		}
	}
	ctor := r.cfg.Constructors[spec.Name]
	getenv := function.MapEnv(env)
	h, err := ctor(ctx, getenv)
	if err != nil {
		return nil, fmt.Errorf("%s: constructor failed: %w", spec.LogicalID, err)
	}
	fn := &Function{
		Spec: spec, Name: name, Env: env, retries: retries,
		ARN:   fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", r.cfg.Region, AccountID, name),
		log:   r.log.With("function", spec.LogicalID),
		build: func(ctx context.Context) (lambda.Handler, error) { return ctor(ctx, getenv) },
	}
	limit := maxInstances
	if v, ok := spec.Properties["ReservedConcurrentExecutions"]; ok {
		s, err := r.res.String(v, spec.LogicalID, "ReservedConcurrentExecutions")
		if err != nil {
			return nil, err
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return nil, &template.Error{Resource: spec.LogicalID, Property: "ReservedConcurrentExecutions", Reason: "the runner needs a whole number of at least 1"}
		}
		limit = min(n, maxInstances)
	}
	newInstancePool(fn, h, limit)
	return fn, nil
}

// awsHandler routes the AWS endpoint: SSM and SES from New on, the rest
// (S3, EventBridge, the admin routes) once Start has run.
func (r *Runner) awsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/_lantau/", r.adminHandler())
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		// The JSON APIs check SigV4 as AWS does (S3 checks its own).
		signed := func(service string, h http.Handler) {
			if f := verifySigV4(req, service, r.cfg.Region, r.cfg.Now()); f != nil {
				if service == "ses" { // a REST-JSON API: the type travels in the header only
					w.Header().Set("Content-Type", "application/json")
					w.Header().Set("X-Amzn-Errortype", f.typ)
					w.WriteHeader(f.status)
					_ = json.NewEncoder(w).Encode(map[string]string{"message": f.message})
					return
				}
				awsError(w, f.status, f.typ, f.message)
				return
			}
			h.ServeHTTP(w, req)
		}
		switch {
		case strings.HasPrefix(req.Header.Get("X-Amz-Target"), "AmazonSSM."):
			signed("ssm", r.params)
		case strings.HasPrefix(req.URL.Path, "/v2/email/"):
			signed("ses", r.mail)
		case !r.started.Load():
			awsError(w, http.StatusServiceUnavailable, "ServiceUnavailable",
				"the local runner is still building its functions: it answers SSM and SES only until then")
		case len(req.URL.Path) >= 9 && req.URL.Path[:9] == "/_lantau/":
			mux.ServeHTTP(w, req)
		case req.Header.Get("X-Amz-Target") != "":
			signed("events", r.bus)
		default:
			r.objects.ServeHTTP(w, req)
		}
	})
}

// serve serves h on ln until Close.
func (r *Runner) serve(ln net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ConnState: func(c net.Conn, st http.ConnState) {
		if st == http.StateNew {
			r.fresh.Store(c, struct{}{})
		} else {
			r.fresh.Delete(c)
		}
	}}
	r.servers = append(r.servers, srv)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			r.log.Error("server stopped", "addr", ln.Addr().String(), "error", err)
		}
	}()
}

// Start serves the HTTP API and the whole AWS endpoint and starts the schedules.
func (r *Runner) Start() {
	r.started.Store(true)
	r.serve(r.apiLn, r.api)
	r.async.resume()
	close(r.objects.ready) // S3 notifications kept from the last run may flow now
	if !r.cfg.NoSchedules {
		r.sched.start()
	}
	r.log.Info("lantau is serving", "api", r.APIEndpoint(), "aws", r.AWSEndpoint(), "functions", len(r.functions),
		"routes", len(r.api.routes), "rules", len(r.bus.rules), "schedules", len(r.sched.entries), "data", r.cfg.DataDir)
}

// APIEndpoint is the base URL of the HTTP API.
func (r *Runner) APIEndpoint() string { return "http://" + r.apiLn.Addr().String() }

// AWSEndpoint is the base URL that answers S3, EventBridge, SSM Parameter
// Store and SES v2 SendEmail.
func (r *Runner) AWSEndpoint() string { return "http://" + r.awsLn.Addr().String() }

// Function returns a built function by logical ID or folder name.
func (r *Runner) Function(name string) *Function {
	if f, ok := r.functions[name]; ok {
		return f
	}
	if spec := r.tmpl.Function(name); spec != nil {
		return r.functions[spec.LogicalID]
	}
	return nil
}

// Close stops the servers and schedules, waits for deliveries in flight
// (those still pending stay spooled on disk and are delivered at next start).
func (r *Runner) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var shutdowns sync.WaitGroup
	for _, s := range r.servers {
		shutdowns.Go(func() { _ = s.Shutdown(ctx) })
	}
	r.closeFresh(&shutdowns)
	if !r.started.Load() {
		r.apiLn.Close() // never served
	}
	r.cancel()
	if r.sched != nil {
		r.sched.stop()
	}
	if r.async != nil {
		r.async.wait(ctx)
	}
	r.wg.Wait()
	return r.objects.close()
}

// closeFresh closes the connections without a request until the
// shutdowns are done (requests in flight finish; a connection that has
// sent nothing is not one of them).
func (r *Runner) closeFresh(shutdowns *sync.WaitGroup) {
	done := make(chan struct{})
	go func() { shutdowns.Wait(); close(done) }()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		r.fresh.Range(func(c, _ any) bool {
			_ = c.(net.Conn).Close()
			r.fresh.Delete(c)
			return true
		})
		select {
		case <-done:
			return
		case <-tick.C:
		}
	}
}

func (r *Runner) dataPath(parts ...string) string {
	return filepath.Join(append([]string{r.cfg.DataDir}, parts...)...)
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
