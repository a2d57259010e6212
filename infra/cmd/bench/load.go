package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// load is a closed-loop load: Clients keep-alive clients each send a request
// as soon as their previous one is answered. Each server first gets Warmup
// unmeasured requests, then Requests measured ones, split into Rounds that
// alternate between the servers so that drift in machine load (other work on
// the same cores) hits them alike. Limit bounds the whole comparison.
type load struct {
	Clients  int
	Requests int
	Rounds   int
	Warmup   int
	Limit    time.Duration
}

// stats summarises the measured requests to one server.
type stats struct {
	Clients    int     `json:"clients"`
	Requests   int     `json:"requests"` // answered with 200
	Errors     int     `json:"errors"`
	Dropped    int     `json:"dropped_connections"` // closed by the server, e.g. after a handler panic
	Seconds    float64 `json:"seconds"`
	Throughput float64 `json:"throughput_rps"`
	P50        float64 `json:"p50_ms"`
	P99        float64 `json:"p99_ms"`
}

// loadTarget is one server under load and what was measured of it.
type loadTarget struct {
	url       string
	client    *http.Client
	dropped   atomic.Int64
	latencies []time.Duration
	errors    int
	elapsed   time.Duration
}

// compareLoad puts the same load on both URLs, in alternating rounds.
func compareLoad(ctx context.Context, l load, urlA, urlB string) (a, b stats, err error) {
	ctx, cancel := context.WithTimeout(ctx, l.Limit)
	defer cancel()
	targets := []*loadTarget{newLoadTarget(urlA, l.Clients), newLoadTarget(urlB, l.Clients)}
	for _, t := range targets {
		defer t.client.CloseIdleConnections()
		if err := t.warm(ctx, l); err != nil {
			return a, b, err
		}
	}
	for round := range l.Rounds {
		for i := range targets {
			targets[(i+round)%2].measure(ctx, l.Clients, l.Requests/l.Rounds)
		}
	}
	if a, err = targets[0].stats(l.Clients); err != nil {
		return a, b, err
	}
	b, err = targets[1].stats(l.Clients)
	return a, b, err
}

func newLoadTarget(url string, clients int) *loadTarget {
	t := &loadTarget{url: url}
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	t.client = &http.Client{
		Transport: &http.Transport{
			Proxy: nil, MaxIdleConns: clients, MaxIdleConnsPerHost: clients,
			IdleConnTimeout: time.Minute, DisableCompression: true,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				conn, err := dialer.DialContext(ctx, network, addr)
				if err != nil {
					return nil, err
				}
				return &watchedConn{Conn: conn, dropped: &t.dropped}, nil
			},
		},
		Timeout: 10 * time.Second,
	}
	return t
}

func (t *loadTarget) warm(ctx context.Context, l load) error {
	if _, errs, _ := drive(ctx, t.client, t.url, l.Clients, l.Warmup); errs > 0 {
		return fmt.Errorf("GET %s: %d of %d warm-up requests failed", t.url, errs, l.Warmup)
	}
	return nil
}

func (t *loadTarget) measure(ctx context.Context, clients, n int) {
	latencies, errs, elapsed := drive(ctx, t.client, t.url, clients, n)
	t.latencies = append(t.latencies, latencies...)
	t.errors += errs
	t.elapsed += elapsed
}

func (t *loadTarget) stats(clients int) (stats, error) {
	if len(t.latencies) == 0 {
		return stats{}, fmt.Errorf("GET %s: no request succeeded (%d errors)", t.url, t.errors)
	}
	slices.Sort(t.latencies)
	return stats{
		Clients: clients, Requests: len(t.latencies), Errors: t.errors, Dropped: int(t.dropped.Load()),
		Seconds:    t.elapsed.Seconds(),
		Throughput: float64(len(t.latencies)) / t.elapsed.Seconds(),
		P50:        millis(percentile(t.latencies, 50)),
		P99:        millis(percentile(t.latencies, 99)),
	}, nil
}

// drive sends n requests from clients concurrent clients and returns the
// latency of each successful one. Requests cut short by ctx are not errors.
func drive(ctx context.Context, client *http.Client, url string, clients, n int) ([]time.Duration, int, time.Duration) {
	o := loop{Workers: clients, Calls: n}.run(ctx, func(ctx context.Context, _, _ int) error {
		return get(ctx, client, url)
	})
	return o.Latencies, o.Failed, o.Elapsed
}

func get(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", resp.Status)
	}
	return err
}

// watchedConn counts connections the server closed. net/http retries a GET
// whose kept-alive connection is closed before any answer, so without this
// a server that drops connections (as net/http does after a handler panic)
// would look healthy.
type watchedConn struct {
	net.Conn
	dropped *atomic.Int64
	once    sync.Once
}

func (c *watchedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if errors.Is(err, io.EOF) {
		c.once.Do(func() { c.dropped.Add(1) })
	}
	return n, err
}

// percentile is the nearest-rank p-th percentile (0 < p <= 100) of sorted
// values: the smallest value with at least p% of the values at or below it.
// It is zero for no values.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p * float64(len(sorted)) / 100))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
