package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/lantau-hq/lantau/infra/catalog"
	"github.com/lantau-hq/lantau/infra/runner"
	"github.com/lantau-hq/lantau/shared/function"
	"github.com/lantau-hq/lantau/shared/health"
)

const healthPath = "/v1/health"

var (
	concurrentLoad = load{Clients: 16, Requests: 20_000, Rounds: 4, Warmup: 2_000, Limit: time.Minute}
	sequentialLoad = load{Clients: 1, Requests: 4_000, Rounds: 4, Warmup: 400, Limit: 30 * time.Second}
)

// overheadReport compares the runner with a plain net/http server serving
// the same health handler, both in this process.
type overheadReport struct {
	Concurrent comparison `json:"concurrent"`
	Sequential comparison `json:"sequential"`
}

type comparison struct {
	Plain           stats   `json:"plain"`
	Runner          stats   `json:"runner"`
	P50Overhead     float64 `json:"p50_overhead_ms"`
	P99Overhead     float64 `json:"p99_overhead_ms"`
	ThroughputRatio float64 `json:"throughput_ratio"` // runner / plain
}

func measureOverhead(ctx context.Context, templatePath, dataDir string) (overheadReport, error) {
	r, err := startRunner(ctx, templatePath, dataDir)
	if err != nil {
		return overheadReport{}, err
	}
	defer r.Close()
	fn := r.Function("health")
	if fn == nil {
		return overheadReport{}, errors.New("template.yaml has no function in functions/health")
	}
	plainURL, stopPlain, err := startPlain(function.Base{FunctionName: fn.Name, Region: fn.Env["AWS_REGION"]})
	if err != nil {
		return overheadReport{}, err
	}
	defer stopPlain()
	runnerURL := r.APIEndpoint() + healthPath

	var rep overheadReport
	if rep.Concurrent, err = compare(ctx, concurrentLoad, plainURL, runnerURL); err != nil {
		return rep, err
	}
	rep.Sequential, err = compare(ctx, sequentialLoad, plainURL, runnerURL)
	return rep, err
}

func compare(ctx context.Context, l load, plainURL, runnerURL string) (comparison, error) {
	plain, viaRunner, err := compareLoad(ctx, l, plainURL, runnerURL)
	if err != nil {
		return comparison{}, err
	}
	return comparison{
		Plain: plain, Runner: viaRunner,
		P50Overhead:     viaRunner.P50 - plain.P50,
		P99Overhead:     viaRunner.P99 - plain.P99,
		ThroughputRatio: viaRunner.Throughput / plain.Throughput,
	}, nil
}

// startRunner serves template.yaml the way `make run` does, minus timers and logs.
func startRunner(ctx context.Context, templatePath, dataDir string) (*runner.Runner, error) {
	r, err := runner.New(ctx, runner.Config{
		Template:     templatePath,
		Constructors: catalog.Constructors(),
		DataDir:      dataDir,
		Addr:         "127.0.0.1:0",
		AWSAddr:      "127.0.0.1:0",
		NoSchedules:  true,
		Logger:       slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return nil, fmt.Errorf("runner: %w", err)
	}
	r.Start()
	return r, nil
}

// startPlain serves the health handler directly, with nothing in between.
func startPlain(base function.Base) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("plain server: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+healthPath, health.NewHandler(base, time.Now))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	stop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
	return "http://" + ln.Addr().String() + healthPath, stop, nil
}
