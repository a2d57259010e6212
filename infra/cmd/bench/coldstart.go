package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lantau-hq/lantau/infra/lambdatest"
	"github.com/lantau-hq/lantau/infra/runner"
	"github.com/lantau-hq/lantau/infra/template"
)

const (
	coldStartRuns = 10
	helloName     = "hello-world"
	helloPackage  = "./infra/cmd/bench/hello"
)

// coldStartReport holds the median time from launching the emulator to the
// first invocation's response, for each function and for hello-world.
type coldStartReport struct {
	Runs      int         `json:"runs"`
	Hello     coldStart   `json:"hello_world"`
	Functions []coldStart `json:"functions"`
}

type coldStart struct {
	Name   string  `json:"name"`
	Median float64 `json:"median_ms"`
	Min    float64 `json:"min_ms"`
	Max    float64 `json:"max_ms"`
	Ratio  float64 `json:"ratio_to_hello_world,omitempty"`
	Note   string  `json:"note,omitempty"` // e.g. the function answered with an error
	// HTTP: measured with an unauthenticated request to its first route,
	// answered without I/O; otherwise with {} as its event, which for
	// scheduled and event functions does real work (not judged).
	HTTP bool `json:"http"`
}

// subject is one binary to start cold, again and again.
type subject struct {
	http      bool
	name      string
	bootstrap string
	env       map[string]string
	payload   []byte
	times     []time.Duration
	note      string
}

func measureColdStarts(ctx context.Context, root string, tmpl *template.Template, workDir string) (coldStartReport, error) {
	subjects, stop, err := coldStartSubjects(ctx, root, tmpl, workDir)
	if err != nil {
		return coldStartReport{}, err
	}
	defer stop()
	// Runs alternate between binaries so that drift in machine load hits all
	// of them alike; run -1 only warms the page cache.
	for run := -1; run < coldStartRuns; run++ {
		for _, s := range subjects {
			d, err := s.coldStart(ctx)
			if err != nil {
				return coldStartReport{}, fmt.Errorf("%s: %w", s.name, err)
			}
			if run >= 0 {
				s.times = append(s.times, d)
			}
		}
	}
	rep := coldStartReport{Runs: coldStartRuns, Hello: subjects[0].summary()}
	for _, s := range subjects[1:] {
		cs := s.summary()
		cs.Ratio = cs.Median / rep.Hello.Median
		rep.Functions = append(rep.Functions, cs)
	}
	return rep, nil
}

// coldStartSubjects builds hello-world and every template function for this
// machine. Each function gets the environment the runner would give it, and
// the runner stays up (until stop) to answer what functions ask AWS at
// init, as identity reads its signing keys from SSM: a cold start on
// Lambda pays that round trip too.
func coldStartSubjects(ctx context.Context, root string, tmpl *template.Template, workDir string) (subjects []*subject, stop func(), err error) {
	envs, r, err := functionEnvs(ctx, tmpl, filepath.Join(workDir, "data"))
	if err != nil {
		return nil, nil, err
	}
	stop = func() { _ = r.Close() }
	defer func() {
		if err != nil {
			stop()
		}
	}()
	httpEvent, err := os.ReadFile(filepath.Join(root, "events", "http-health.json"))
	if err != nil {
		return nil, nil, err
	}
	hello := &subject{name: helloName, env: map[string]string{"AWS_LAMBDA_FUNCTION_NAME": helloName}, payload: []byte("{}")}
	subjects = []*subject{hello}
	for _, fn := range tmpl.Functions {
		payload, err := samplePayload(fn, httpEvent)
		if err != nil {
			return nil, nil, err
		}
		// As on Lambda: the DynamoDB table, not the runner's embedded file
		// (the client is built at start; nothing is called before the first request).
		env := maps.Clone(envs[fn.Name])
		delete(env, "LANTAU_TABLE_PATH")
		env["AWS_ENDPOINT_URL_DYNAMODB"] = "http://127.0.0.1:9"
		subjects = append(subjects, &subject{name: fn.Name, env: env, payload: payload, http: servesHTTP(fn)})
	}
	for _, s := range subjects {
		pkg := "./functions/" + s.name
		if s == hello {
			pkg = helloPackage
		}
		s.bootstrap = filepath.Join(workDir, "host", s.name, "bootstrap")
		// The production build (lantau_lambda: no embedded store), for this machine.
		target := lambdatest.Host
		target.Tags = lambdatest.Lambda.Tags
		if err := lambdatest.Build(ctx, pkg, s.bootstrap, target); err != nil {
			return nil, nil, err
		}
	}
	return subjects, stop, nil
}

// coldStart launches the emulator, invokes once and stops it. The time runs
// from launch to the first response: emulator start, bootstrap start, the
// function's init and the invocation. A function error still ends the cold
// start; it is kept as a note.
func (s *subject) coldStart(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	rie, err := lambdatest.Launch(ctx, s.bootstrap, lambdatest.Options{Env: s.env})
	if err != nil {
		return 0, err
	}
	defer rie.Close()
	_, err = rie.Invoke(ctx, s.payload)
	elapsed := time.Since(start)
	if fe := (*lambdatest.FunctionError)(nil); errors.As(err, &fe) {
		s.note, err = fe.Error(), nil
	}
	return elapsed, err
}

func (s *subject) summary() coldStart {
	sorted := slices.Sorted(slices.Values(s.times))
	return coldStart{
		Name:   s.name,
		Median: millis(percentile(sorted, 50)),
		Min:    millis(sorted[0]),
		Max:    millis(sorted[len(sorted)-1]),
		Note:   s.note,
		HTTP:   s.http,
	}
}

// functionEnvs starts a runner to read the environment it gives each
// function, by folder name; the caller closes the runner.
func functionEnvs(ctx context.Context, tmpl *template.Template, dataDir string) (map[string]map[string]string, *runner.Runner, error) {
	r, err := startRunner(ctx, tmpl.Path, dataDir)
	if err != nil {
		return nil, nil, err
	}
	envs := map[string]map[string]string{}
	for _, fn := range tmpl.Functions {
		envs[fn.Name] = r.Function(fn.LogicalID).Env
	}
	return envs, r, nil
}

var pathParam = regexp.MustCompile(`\{[^}]+\}`)

// samplePayload is the event a function's first trigger would send: for an
// HttpApi route, the sample HTTP event moved to that route; otherwise {}.
func samplePayload(fn *template.Function, httpEvent []byte) ([]byte, error) {
	// A route behind the authorizer first: without claims the function
	// refuses it before any I/O, so the figure is start-up alone (a public
	// route such as SSO's callback would reach the store first).
	evs := slices.Clone(fn.Events)
	slices.SortStableFunc(evs, func(a, b *template.Event) int {
		return cmp.Compare(public(a), public(b))
	})
	for _, ev := range evs {
		method, _ := ev.Properties["Method"].(string)
		path, _ := ev.Properties["Path"].(string)
		if ev.Type != "HttpApi" || method == "" || path == "" {
			continue
		}
		var req events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(httpEvent, &req); err != nil {
			return nil, fmt.Errorf("events/http-health.json: %w", err)
		}
		method = strings.ToUpper(method)
		if method == "ANY" {
			method = "GET"
		}
		req.RouteKey = method + " " + path
		req.RequestContext.RouteKey = req.RouteKey
		req.RawPath = pathParam.ReplaceAllString(path, "bench")
		req.RequestContext.HTTP.Method = method
		req.RequestContext.HTTP.Path = req.RawPath
		return json.Marshal(req)
	}
	return []byte("{}"), nil
}

// public reports whether an HttpApi event opts out of the authorizer: 1 for
// public, 0 otherwise (for sorting).
func public(ev *template.Event) int {
	if auth, ok := ev.Properties["Auth"].(map[string]any); ok && auth["Authorizer"] == "NONE" {
		return 1
	}
	return 0
}
