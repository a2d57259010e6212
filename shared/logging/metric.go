package logging

import (
	"context"
	"log/slog"
	"maps"
	"math"
	"slices"
	"time"
)

// Metric writes one CloudWatch Embedded Metric Format record through logger,
// whatever the logger's level: CloudWatch turns it into a metric value in
// namespace with the given dimensions (dimension names should not clash with
// other keys of the line, such as function or tenant; use Capitalized names).
// unit is a CloudWatch unit ("Count", "Milliseconds", ...); "" means "None".
// A NaN or infinite value cannot be encoded and is logged as a warning instead.
func Metric(ctx context.Context, logger *slog.Logger, namespace, name string, value float64, unit string, dims map[string]string) {
	if logger == nil {
		logger = FromContext(ctx)
	}
	if math.IsNaN(value) || math.IsInf(value, 0) {
		logger.WarnContext(ctx, "metric value not finite", "metric", name, "value", value)
		return
	}
	if unit == "" {
		unit = "None"
	}
	names := slices.Sorted(maps.Keys(dims))
	now := time.Now()
	attrs := []slog.Attr{
		slog.Any("_aws", emf{
			Timestamp: now.UnixMilli(),
			CloudWatchMetrics: []emfDirective{{
				Namespace:  namespace,
				Dimensions: [][]string{append([]string{}, names...)},
				Metrics:    []emfMetric{{Name: name, Unit: unit}},
			}},
		}),
	}
	for _, k := range names {
		attrs = append(attrs, slog.String(k, dims[k]))
	}
	attrs = append(attrs, slog.Float64(name, value))

	r := slog.NewRecord(now, slog.LevelInfo, "metric", 0)
	r.AddAttrs(attrs...)
	// Handle directly: a metric is data, not chatter, and must not be
	// filtered out by the log level.
	_ = logger.Handler().Handle(ctx, r)
}

type emf struct {
	Timestamp         int64          `json:"Timestamp"`
	CloudWatchMetrics []emfDirective `json:"CloudWatchMetrics"`
}

type emfDirective struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []emfMetric `json:"Metrics"`
}

type emfMetric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}
