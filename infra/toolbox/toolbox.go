// Package toolbox installs the tools that tests and local runs need under
// <repo>/.tools (npm packages, with a lock across test binaries) and runs
// them as child processes that stop cleanly and leave nothing behind.
package toolbox

import (
	"context"
	"errors"
	"os"
	"path/filepath"
)

// RepoRoot is the directory holding go.mod, found by walking up from the
// working directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("toolbox: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Dir is <repo>/.tools/name, where a tool called name is installed.
func Dir(name string) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, ".tools", name), nil
}

// WithLock runs fn holding an exclusive lock on the file path (created if
// missing), so that test binaries of several packages installing the same
// tool at once take turns. ctx ends the wait for the lock, not fn. The lock
// goes with the process, so a killed installer never leaves it held. Where
// flock is missing (not unix) it does not lock.
func WithLock(ctx context.Context, path string, fn func() error) error {
	unlock, err := lockFile(ctx, path)
	if err != nil {
		return err
	}
	defer unlock()
	return fn()
}
