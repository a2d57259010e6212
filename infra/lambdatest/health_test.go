package lambdatest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/infra/lambdatest"
	"github.com/lantau-hq/lantau/infra/toolbox"
	"github.com/lantau-hq/lantau/shared/health"
)

func TestHealthBinaryUnderRIE(t *testing.T) {
	const functionName = "lantau-HealthFunction-test"
	bootstrap := lambdatest.BuildFunction(t, "health")
	rie := lambdatest.StartRIE(t, bootstrap, map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME": functionName,
		"AWS_REGION":               "ap-east-1",
		"LOG_LEVEL":                "ERROR",
	})
	event := readEvent(t, "http-health.json")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := rie.Invoke(ctx, event)
	require.NoError(t, err, "response: %s", out)

	var resp events.APIGatewayV2HTTPResponse
	require.NoError(t, json.Unmarshal(out, &resp), "response: %s", out)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Headers["Content-Type"])
	var status health.Status
	require.NoError(t, json.Unmarshal([]byte(resp.Body), &status), "body: %s", resp.Body)
	assert.Equal(t, "ok", status.Status)
	assert.Equal(t, functionName, status.Function)
	assert.Equal(t, "ap-east-1", status.Region)
}

func readEvent(t *testing.T, name string) []byte {
	t.Helper()
	root, err := toolbox.RepoRoot()
	require.NoError(t, err)
	data, err := os.ReadFile(filepath.Join(root, "events", name))
	require.NoError(t, err)
	return data
}
