package dynamolocal

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
	assert.Error(t, checkIntegrity(tgz, simulatorIntegrity), "another file's integrity")
}
