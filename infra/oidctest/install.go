package oidctest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// The npm package the harness runs, pinned. oidc-provider 9 declares no
// engines; on Node 20 it runs (Node prints an experimental warning or two).
const (
	PackageName    = "oidc-provider"
	PackageVersion = "9.13.3"
)

// ToolsDir is where Install puts the package: .tools/oidc-provider under
// the repository root (the folder holding go.mod above the working directory).
func ToolsDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, ".tools", "oidc-provider"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("oidctest: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Install makes sure PackageVersion of oidc-provider is installed under dir
// (npm install --prefix dir) and returns dir. Test binaries of several
// packages may call it at once: an flock on dir/.install.lock serialises
// them, and whoever comes second finds the package installed.
func Install(ctx context.Context, dir string) (string, error) {
	if installed(dir) {
		return dir, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("install %s: %w", PackageName, err)
	}
	unlock, err := lockFile(ctx, filepath.Join(dir, ".install.lock"))
	if err != nil {
		return "", fmt.Errorf("install %s: %w", PackageName, err)
	}
	defer unlock()
	if installed(dir) {
		return dir, nil // another process installed it while we waited
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", fmt.Errorf("install %s: npm is not on PATH (apt-get install npm, or run go test -short): %w", PackageName, err)
	}
	spec := PackageName + "@" + PackageVersion
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, npm, "install", "--prefix", dir, "--save-exact",
		"--no-audit", "--no-fund", "--no-update-notifier", spec)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("install %s: npm install: %w\n%s", spec, err, out.Bytes())
	}
	if !installed(dir) {
		return "", fmt.Errorf("install %s: npm install succeeded but %s is not there\n%s", spec, manifest(dir), out.Bytes())
	}
	return dir, nil
}

func manifest(dir string) string {
	return filepath.Join(dir, "node_modules", PackageName, "package.json")
}

func installed(dir string) bool {
	b, err := os.ReadFile(manifest(dir))
	if err != nil {
		return false
	}
	var pkg struct{ Version string }
	return json.Unmarshal(b, &pkg) == nil && pkg.Version == PackageVersion
}
