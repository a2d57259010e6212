package toolbox

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
)

// lockName is the lock file, inside an install directory, that WithLock
// takes around an install.
const lockName = ".install.lock"

// NPMInstall makes sure the npm package spec (name@version) is installed
// under dir (npm install --prefix dir, so it lands in dir/node_modules/name).
// It does nothing when that version is there already; otherwise it installs
// holding a lock on dir/.install.lock, and whoever comes second finds the
// package installed.
func NPMInstall(ctx context.Context, dir, spec string) error {
	name, version, err := splitSpec(spec)
	if err != nil {
		return err
	}
	if installed(dir, name, version) {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("install %s: %w", spec, err)
	}
	err = WithLock(ctx, filepath.Join(dir, lockName), func() error {
		if installed(dir, name, version) {
			return nil // another process installed it while we waited
		}
		npm, err := npmPath()
		if err != nil {
			return err
		}
		var out bytes.Buffer
		cmd := exec.CommandContext(ctx, npm, "install", "--prefix", dir, "--save-exact",
			"--no-audit", "--no-fund", "--no-update-notifier", spec)
		cmd.Dir = dir
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("npm install: %w\n%s", err, out.Bytes())
		}
		if !installed(dir, name, version) {
			return fmt.Errorf("npm install succeeded but %s is not there\n%s", manifest(dir, name), out.Bytes())
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("install %s: %w", spec, err)
	}
	return nil
}

// NPMPack makes sure the npm package spec (name@version) alone, without its
// dependencies, is unpacked in dir/<spec> and returns that directory. The
// first call fetches it with npm pack, holding a lock on dir/.install.lock,
// checks the tarball against integrity (the registry's sha512-<base64>),
// checks that the package has the file want (a slash-separated path inside
// it), and moves it into place only then, so a half-made installation is
// never used. Later calls find want there and return at once.
func NPMPack(ctx context.Context, dir, spec, integrity, want string) (string, error) {
	final := filepath.Join(dir, spec)
	wantPath := filepath.Join(final, filepath.FromSlash(want))
	if _, err := os.Stat(wantPath); err == nil {
		return final, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	err := WithLock(ctx, filepath.Join(dir, lockName), func() error {
		if _, err := os.Stat(wantPath); err == nil {
			return nil // another process installed it while we waited
		}
		npm, err := npmPath()
		if err != nil {
			return err
		}
		tmp, err := os.MkdirTemp(dir, ".install-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)

		var stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, npm, "pack", "--silent", "--pack-destination", tmp, spec)
		cmd.Dir = tmp
		cmd.Env = append(os.Environ(), "npm_config_update_notifier=false", "npm_config_fund=false", "npm_config_audit=false")
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("npm pack %s: %w\n%s", spec, err, stderr.Bytes())
		}
		tgz := filepath.Join(tmp, filepath.Base(strings.TrimSpace(lastLine(string(out)))))
		if err := checkIntegrity(tgz, integrity); err != nil {
			return err
		}
		unpacked := filepath.Join(tmp, "unpacked")
		if err := untarPackage(tgz, unpacked); err != nil {
			return fmt.Errorf("unpack %s: %w", tgz, err)
		}
		if _, err := os.Stat(filepath.Join(unpacked, filepath.FromSlash(want))); err != nil {
			return fmt.Errorf("%s has no %s", spec, want)
		}
		if err := os.RemoveAll(final); err != nil { // a half-made earlier attempt
			return err
		}
		return os.Rename(unpacked, final)
	})
	if err != nil {
		return "", err
	}
	return final, nil
}

func npmPath() (string, error) {
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", fmt.Errorf("npm is not on PATH (install Node.js and npm, e.g. apt-get install npm, then run make tools; or run go test -short): %w", err)
	}
	return npm, nil
}

// splitSpec splits name@version; name may be scoped (@scope/name).
func splitSpec(spec string) (name, version string, err error) {
	i := strings.LastIndex(spec, "@")
	if i <= 0 || i == len(spec)-1 {
		return "", "", fmt.Errorf("npm package %q: want name@version", spec)
	}
	return spec[:i], spec[i+1:], nil
}

func manifest(dir, name string) string {
	return filepath.Join(dir, "node_modules", filepath.FromSlash(name), "package.json")
}

func installed(dir, name, version string) bool {
	b, err := os.ReadFile(manifest(dir, name))
	if err != nil {
		return false
	}
	var pkg struct{ Version string }
	return json.Unmarshal(b, &pkg) == nil && pkg.Version == version
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
