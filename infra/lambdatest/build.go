// Package lambdatest runs Lantau's real function binaries the way Lambda
// does, on one machine: it builds a package as a `bootstrap` and serves it
// with the AWS Lambda Runtime Interface Emulator (installed by `make tools`).
//
// BuildFunction and StartRIE are for tests; Build and Launch are the same
// steps for programs such as infra/cmd/bench, which have no testing.TB.
package lambdatest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/lantau-hq/lantau/infra/toolbox"
)

// Target is the platform a bootstrap is built for.
type Target struct {
	GOOS, GOARCH string
	Tags         string
}

var (
	// Host runs on this machine (under the emulator), with the embedded
	// store kept so a function can run with the runner's environment.
	Host = Target{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, Tags: "lambda.norpc"}
	// Lambda is what template.yaml deploys: provided.al2023 on arm64,
	// without the embedded store (the Makefile's LAMBDA_FLAGS).
	Lambda = Target{GOOS: "linux", GOARCH: "arm64", Tags: "lambda.norpc,lantau_lambda"}
)

// buildFlags are the rest of the Makefile's LAMBDA_FLAGS: reproducible paths, stripped.
var buildFlags = []string{"-trimpath", "-ldflags=-s -w -buildid="}

// Build compiles the package pkg (a directory such as "./functions/health",
// relative to the repository root) into the static executable out for target,
// with the production flags.
func Build(ctx context.Context, pkg, out string, target Target) error {
	root, err := toolbox.RepoRoot()
	if err != nil {
		return err
	}
	args := append([]string{"build", "-tags", target.Tags}, buildFlags...)
	args = append(args, "-o", out, pkg)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+target.GOOS, "GOARCH="+target.GOARCH)
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s for %s/%s: %w\n%s", pkg, target.GOOS, target.GOARCH, err, output.Bytes())
	}
	return nil
}

// BuildFunction builds functions/<name> for this machine into a temporary
// directory and returns the path of its bootstrap.
func BuildFunction(t testing.TB, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out := filepath.Join(t.TempDir(), "bootstrap")
	if err := Build(ctx, "./functions/"+name, out, Host); err != nil {
		t.Fatal(err)
	}
	return out
}

// RepoRoot is toolbox.RepoRoot, kept for callers outside infra/lambdatest
// (infra/cmd/bench).
func RepoRoot() (string, error) { return toolbox.RepoRoot() }
