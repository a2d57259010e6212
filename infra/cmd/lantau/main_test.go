package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValidate_AcceptsTheRealTemplate(t *testing.T) {
	var out, errOut bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"validate", "-template", "../../../template.yaml"}, &out, &errOut))
	assert.Contains(t, out.String(), "ok")
}

func TestRun_StopsOnABrokenTemplateNamingTheResource(t *testing.T) {
	real, err := os.ReadFile("../../../template.yaml")
	require.NoError(t, err)
	broken := strings.Replace(string(real), "Type: HttpApi\n", "Type: HttpApiV3\n", 1)
	path := filepath.Join(t.TempDir(), "template.yaml")
	require.NoError(t, os.WriteFile(path, []byte(broken), 0o644))
	var out, errOut bytes.Buffer
	err = run(context.Background(), []string{"run", "-template", path, "-addr", "127.0.0.1:0", "-aws-addr", "127.0.0.1:0", "-data", t.TempDir()}, &out, &errOut)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `HealthFunction.Events.Health.Type: unsupported event type "HttpApiV3"`)
}

func TestInvoke_RunsAFunctionWithASampleEvent(t *testing.T) {
	var out, errOut bytes.Buffer
	t.Setenv("LANTAU_AWS_ADDR", "127.0.0.1:1") // no runner there: invoke in-process
	err := run(context.Background(), []string{"invoke", "-template", "../../../template.yaml", "-data", t.TempDir(), "health", "../../../events/http-health.json"}, &out, &errOut)
	require.NoError(t, err, errOut.String())
	assert.Contains(t, out.String(), `"statusCode": 200`)
}

func TestUnknownCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	require.Error(t, run(context.Background(), []string{"frobnicate"}, &out, &errOut))
	assert.Contains(t, errOut.String(), "usage: lantau")
}
