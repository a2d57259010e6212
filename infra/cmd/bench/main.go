// Command bench measures what Lantau promises about running locally and on
// Lambda: the runner's per-request overhead over a plain net/http server,
// cold starts of the real binaries under the Lambda Runtime Interface
// Emulator against a hello-world aws-lambda-go function, the size of each
// deployed binary, and the throughput and latency of the table store and of
// audit appends on SQLite and on AWS's DynamoDB Local (with the capacity
// units each operation would consume on DynamoDB), and identity's logins
// (password + TOTP) and token verifications per second. `make bench` runs it; it
// prints a report, writes it to .lantau/bench.json and marks each target
// PASS or FAIL.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/lantau-hq/lantau/infra/lambdatest"
	"github.com/lantau-hq/lantau/infra/runner"
	"github.com/lantau-hq/lantau/infra/template"
)

// budget bounds the whole run, builds included.
const budget = 6 * time.Minute // attendance adds about a minute (200 sign-ins, DynamoDB Local, 20,000 punches seeded)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	// The runner is measured in this process as `lantau run` configures its own.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(runner.GCPercent)
	}
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	root, err := lambdatest.RepoRoot()
	if err != nil {
		return err
	}
	tmpl, err := template.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		return err
	}
	workDir, err := os.MkdirTemp("", "lantau-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(workDir)

	rep := newReport()
	if rep.Overhead, err = measureOverhead(ctx, tmpl.Path, filepath.Join(workDir, "runner")); err != nil {
		return fmt.Errorf("runner overhead: %w", err)
	}
	if rep.ColdStart, err = measureColdStarts(ctx, root, tmpl, workDir); err != nil {
		return fmt.Errorf("cold start: %w", err)
	}
	if rep.Sizes, err = measureSizes(ctx, tmpl, workDir); err != nil {
		return fmt.Errorf("binary size: %w", err)
	}
	if rep.Table, rep.Audit, err = measureStorage(ctx, root, tmpl.Path, workDir); err != nil {
		return fmt.Errorf("table store and audit: %w", err)
	}
	if rep.Identity, err = measureIdentity(ctx, tmpl.Path, filepath.Join(workDir, "identity")); err != nil {
		return fmt.Errorf("identity: %w", err)
	}
	att, err := measureAttendance(ctx, root, tmpl.Path, workDir)
	if err != nil {
		return fmt.Errorf("attendance: %w", err)
	}
	rep.judge()
	if err := measureDirectoryImport(ctx, tmpl.Path, filepath.Join(workDir, "directory"), rep); err != nil {
		return fmt.Errorf("directory import: %w", err)
	}
	rep.print(os.Stdout)
	att.print(os.Stdout)
	if err := saveJSON(filepath.Join(root, ".lantau", "bench-attendance.json"), att); err != nil {
		return err
	}
	return rep.save(filepath.Join(root, ".lantau", "bench.json"))
}
