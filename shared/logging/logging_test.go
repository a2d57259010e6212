package logging_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/logging"
)

func lines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m), l)
		out = append(out, m)
	}
	return out
}

func TestNew_AddsContextAttributes(t *testing.T) {
	lambdaCtx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "aws-1"})
	tests := []struct {
		name string
		ctx  context.Context
		want map[string]any // expected keys; nil value = must be absent
	}{
		{"no context values", context.Background(),
			map[string]any{"request_id": nil, "aws_request_id": nil, "tenant": nil}},
		{"lambda request ID", lambdaCtx,
			map[string]any{"request_id": "aws-1", "aws_request_id": nil}},
		{"explicit request ID beside lambda's", logging.WithRequestID(lambdaCtx, "gw-1"),
			map[string]any{"request_id": "gw-1", "aws_request_id": "aws-1"}},
		{"explicit request ID without lambda", logging.WithRequestID(context.Background(), "gw-2"),
			map[string]any{"request_id": "gw-2", "aws_request_id": nil}},
		{"tenant", logging.WithTenant(context.Background(), "acme"),
			map[string]any{"tenant": "acme"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := logging.New(&buf, "clock-in", slog.LevelInfo)
			log.InfoContext(tt.ctx, "hello", "n", 1)
			got := lines(t, &buf)
			require.Len(t, got, 1)
			assert.Equal(t, "clock-in", got[0]["function"])
			assert.Equal(t, "hello", got[0]["message"])
			assert.Equal(t, "INFO", got[0]["level"])
			assert.Contains(t, got[0], "timestamp")
			for k, v := range tt.want {
				if v == nil {
					assert.NotContains(t, got[0], k)
				} else {
					assert.Equal(t, v, got[0][k], k)
				}
			}
		})
	}
}

func TestNew_RespectsLevel(t *testing.T) {
	var buf bytes.Buffer
	log := logging.New(&buf, "f", slog.LevelWarn)
	log.Info("hidden")
	log.With("a", 1).WithGroup("g").Warn("shown", "b", 2)
	got := lines(t, &buf)
	require.Len(t, got, 1)
	assert.Equal(t, map[string]any{"b": float64(2)}, got[0]["g"])
}

func TestNewHandler_IsIdempotent(t *testing.T) {
	h := logging.NewHandler(slog.NewJSONHandler(&bytes.Buffer{}, nil))
	assert.Same(t, h, logging.NewHandler(h))
}

func TestFromContext(t *testing.T) {
	assert.Same(t, slog.Default(), logging.FromContext(context.Background()))
	l := slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))
	assert.Same(t, l, logging.FromContext(logging.WithContext(context.Background(), l)))
}

func TestRequestIDAndTenant(t *testing.T) {
	ctx := context.Background()
	assert.Empty(t, logging.RequestID(ctx))
	assert.Empty(t, logging.Tenant(ctx))
	lc := lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: "aws-9"})
	assert.Equal(t, "aws-9", logging.RequestID(lc))
	assert.Equal(t, "gw-9", logging.RequestID(logging.WithRequestID(lc, "gw-9")))
	assert.Equal(t, "t1", logging.Tenant(logging.WithTenant(ctx, "t1")))
}

func TestMetric_WritesEmbeddedMetricFormat(t *testing.T) {
	var buf bytes.Buffer
	// Level Error: a metric must still be written.
	log := logging.New(&buf, "clock-in", slog.LevelError)
	ctx := logging.WithTenant(context.Background(), "acme")
	logging.Metric(ctx, log, "Lantau", "ClockIns", 2, "Count", map[string]string{"Service": "attendance", "Env": "dev"})

	got := lines(t, &buf)
	require.Len(t, got, 1)
	m := got[0]
	aws, ok := m["_aws"].(map[string]any)
	require.True(t, ok, "has _aws")
	assert.Greater(t, aws["Timestamp"], float64(1.7e12))
	delete(aws, "Timestamp")
	b, _ := json.Marshal(aws)
	assert.JSONEq(t, `{"CloudWatchMetrics":[{"Namespace":"Lantau","Dimensions":[["Env","Service"]],"Metrics":[{"Name":"ClockIns","Unit":"Count"}]}]}`, string(b))
	assert.Equal(t, float64(2), m["ClockIns"])
	assert.Equal(t, "attendance", m["Service"])
	assert.Equal(t, "dev", m["Env"])
	assert.Equal(t, "acme", m["tenant"])
	assert.Equal(t, "clock-in", m["function"])
}

func TestMetric_DefaultsAndNonFinite(t *testing.T) {
	var buf bytes.Buffer
	log := logging.New(&buf, "f", slog.LevelInfo)
	logging.Metric(context.Background(), log, "Lantau", "Latency", 1.5, "", nil)
	logging.Metric(context.Background(), log, "Lantau", "Bad", math.NaN(), "Count", nil)
	got := lines(t, &buf)
	require.Len(t, got, 2)
	b, _ := json.Marshal(got[0]["_aws"].(map[string]any)["CloudWatchMetrics"])
	assert.JSONEq(t, `[{"Namespace":"Lantau","Dimensions":[[]],"Metrics":[{"Name":"Latency","Unit":"None"}]}]`, string(b))
	assert.Equal(t, "WARN", got[1]["level"])
	assert.NotContains(t, got[1], "_aws")
}
