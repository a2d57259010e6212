package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"text/tabwriter"
	"time"
)

// Targets.
const (
	maxOverheadP50   = 1.0 // ms, one client
	minThroughput    = 0.5 // runner / plain, concurrent clients
	maxColdStartRate = 1.5 // function / hello-world
	maxSizeMB        = 12.0
)

// report is everything the bench measured, as printed and as saved.
type report struct {
	Date      time.Time       `json:"date"`
	Go        string          `json:"go"`
	Platform  string          `json:"platform"`
	CPUs      int             `json:"cpus"`
	Overhead  overheadReport  `json:"runner_overhead"`
	ColdStart coldStartReport `json:"cold_start"`
	Sizes     sizeReport      `json:"binary_sizes"`
	Targets   []target        `json:"targets"`
}

type target struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Want  string  `json:"want"`
	Pass  bool    `json:"pass"`
}

func newReport() *report {
	return &report{
		Date: time.Now().UTC().Truncate(time.Second), Go: runtime.Version(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH, CPUs: runtime.NumCPU(),
	}
}

// judge checks the figures against the targets.
func (r *report) judge() {
	seq, conc := r.Overhead.Sequential, r.Overhead.Concurrent
	failures := float64(seq.Runner.Errors + seq.Runner.Dropped + conc.Runner.Errors + conc.Runner.Dropped)
	r.Targets = []target{
		{"runner errors + dropped connections", failures, "= 0", failures == 0},
		{"runner overhead p50, 1 client (ms)", seq.P50Overhead, fmt.Sprintf("< %g", maxOverheadP50), seq.P50Overhead < maxOverheadP50},
		{fmt.Sprintf("runner throughput / plain, %d clients", conc.Runner.Clients), conc.ThroughputRatio,
			fmt.Sprintf(">= %g", minThroughput), conc.ThroughputRatio >= minThroughput},
	}
	for _, cs := range r.ColdStart.Functions {
		r.Targets = append(r.Targets, target{"cold start " + cs.Name + " / hello-world", cs.Ratio,
			fmt.Sprintf("<= %g", maxColdStartRate), cs.Ratio <= maxColdStartRate})
	}
	for _, s := range r.Sizes.Functions {
		r.Targets = append(r.Targets, target{"size " + s.Name + " linux/arm64 (MB)", s.MB,
			fmt.Sprintf("< %g", maxSizeMB), s.MB < maxSizeMB})
	}
}

func (r *report) print(out io.Writer) {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	defer w.Flush()
	fmt.Fprintf(w, "Lantau bench  %s  %s %s, %d CPUs\n", r.Date.Format(time.DateTime+" MST"), r.Go, r.Platform, r.CPUs)
	r.printOverhead(w)
	r.printColdStarts(w)
	r.printSizes(w)
	r.printTargets(w)
}

// Lines without a tab do not take part in the tabwriter's columns.

func (r *report) printOverhead(w io.Writer) {
	fmt.Fprintf(w, "\nRunner overhead: GET %s, runner vs plain net/http serving the same handler\n", healthPath)
	fmt.Fprintln(w, "  server\tclients\trequests\terrors\tdropped\treq/s\tp50 ms\tp99 ms\t")
	both := []comparison{r.Overhead.Concurrent, r.Overhead.Sequential}
	for _, c := range both {
		for _, row := range []struct {
			name string
			s    stats
		}{{"plain", c.Plain}, {"runner", c.Runner}} {
			fmt.Fprintf(w, "  %s\t%d\t%d\t%d\t%d\t%.0f\t%.3f\t%.3f\t\n", row.name, row.s.Clients, row.s.Requests,
				row.s.Errors, row.s.Dropped, row.s.Throughput, row.s.P50, row.s.P99)
		}
	}
	for _, c := range both {
		fmt.Fprintf(w, "  overhead at %d client(s): p50 %+.3f ms, p99 %+.3f ms, throughput %.2fx plain\n",
			c.Runner.Clients, c.P50Overhead, c.P99Overhead, c.ThroughputRatio)
	}
}

func (r *report) printColdStarts(w io.Writer) {
	fmt.Fprintf(w, "\nCold start under aws-lambda-rie: launch -> first response, %d runs\n", r.ColdStart.Runs)
	fmt.Fprintln(w, "  binary\tmedian ms\tmin ms\tmax ms\tvs hello-world\t")
	for _, cs := range append([]coldStart{r.ColdStart.Hello}, r.ColdStart.Functions...) {
		ratio := "-"
		if cs.Ratio != 0 {
			ratio = fmt.Sprintf("%.2fx", cs.Ratio)
		}
		fmt.Fprintf(w, "  %s\t%.1f\t%.1f\t%.1f\t%s\t%s\n", cs.Name, cs.Median, cs.Min, cs.Max, ratio, cs.Note)
	}
}

func (r *report) printSizes(w io.Writer) {
	fmt.Fprintln(w, "\nBinary size: linux/arm64, CGO_ENABLED=0 -tags lambda.norpc -trimpath -ldflags='-s -w -buildid='")
	for _, s := range append(r.Sizes.Functions, r.Sizes.Hello) {
		fmt.Fprintf(w, "  %s\t%.2f MB\t\n", s.Name, s.MB)
	}
}

func (r *report) printTargets(w io.Writer) {
	fmt.Fprintln(w, "\nTargets")
	for _, t := range r.Targets {
		verdict := "FAIL"
		if t.Pass {
			verdict = "PASS"
		}
		fmt.Fprintf(w, "  %s\t%s\t%.3f\twant %s\t\n", verdict, t.Name, t.Value, t.Want)
	}
}

func (r *report) save(path string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}
