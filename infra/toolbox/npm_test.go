package toolbox

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha512"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUntarPackage_WritesOnlyFilesInsidePackage(t *testing.T) {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	add := func(name string, typ byte, body string) {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: name, Typeflag: typ, Mode: 0o644, Size: int64(len(body)), Linkname: "/etc/passwd"}))
		_, err := tw.Write([]byte(body))
		require.NoError(t, err)
	}
	add("package/emulator/DynamoDBLocal.jar", tar.TypeReg, "jar")
	add("package/../escape.txt", tar.TypeReg, "no")
	add("package/emulator/../../escape2.txt", tar.TypeReg, "no")
	add("/abs.txt", tar.TypeReg, "no")
	add("package/link", tar.TypeSymlink, "")
	add("other/file.txt", tar.TypeReg, "no")
	require.NoError(t, tw.Close())
	require.NoError(t, gz.Close())

	dir := t.TempDir()
	tgz := filepath.Join(dir, "p.tgz")
	require.NoError(t, os.WriteFile(tgz, buf.Bytes(), 0o644))
	dst := filepath.Join(dir, "out", "unpacked")
	require.NoError(t, untarPackage(tgz, dst))

	jar, err := os.ReadFile(filepath.Join(dst, "emulator", "DynamoDBLocal.jar"))
	require.NoError(t, err)
	assert.Equal(t, "jar", string(jar))
	var files []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, rel)
		}
		return err
	}))
	assert.ElementsMatch(t, []string{"p.tgz", filepath.Join("out", "unpacked", "emulator", "DynamoDBLocal.jar")}, files)

	sum := sha512.Sum512(buf.Bytes())
	assert.NoError(t, checkIntegrity(tgz, "sha512-"+base64.StdEncoding.EncodeToString(sum[:])))
	other := sha512.Sum512([]byte("another file"))
	assert.Error(t, checkIntegrity(tgz, "sha512-"+base64.StdEncoding.EncodeToString(other[:])), "another file's integrity")
	assert.Error(t, checkIntegrity(tgz, "sha1-abc"), "unsupported algorithm")
}

func TestSplitSpec_TakesTheLastAt(t *testing.T) {
	for spec, want := range map[string][2]string{
		"jose@6.2.18":       {"jose", "6.2.18"},
		"@scope/name@1.0.0": {"@scope/name", "1.0.0"},
	} {
		name, version, err := splitSpec(spec)
		require.NoError(t, err, spec)
		assert.Equal(t, want, [2]string{name, version}, spec)
	}
	for _, spec := range []string{"jose", "@scope/name", "jose@"} {
		_, _, err := splitSpec(spec)
		assert.Error(t, err, spec)
	}
}

func TestNPMInstall_DoesNothingWhenTheVersionIsThere(t *testing.T) {
	dir := t.TempDir()
	pkg := filepath.Join(dir, "node_modules", "jose")
	require.NoError(t, os.MkdirAll(pkg, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(pkg, "package.json"), []byte(`{"name":"jose","version":"6.2.18"}`), 0o644))
	t.Setenv("PATH", "") // no npm: it must not be needed
	require.NoError(t, NPMInstall(t.Context(), dir, "jose@6.2.18"))
	err := NPMInstall(t.Context(), dir, "jose@6.2.19")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "npm is not on PATH")
}

func TestNPMPack_DoesNothingWhenTheFileIsThere(t *testing.T) {
	dir := t.TempDir()
	want := filepath.Join(dir, "p@1.0.0", "bin", "tool")
	require.NoError(t, os.MkdirAll(filepath.Dir(want), 0o755))
	require.NoError(t, os.WriteFile(want, nil, 0o644))
	t.Setenv("PATH", "")
	got, err := NPMPack(t.Context(), dir, "p@1.0.0", "sha512-unused", "bin/tool")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "p@1.0.0"), got)
}
