package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestPercentile_IsNearestRank(t *testing.T) {
	hundred := make([]time.Duration, 100) // 1ms .. 100ms
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	ms := time.Millisecond
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"no values", nil, 50, 0},
		{"one value, any percentile", []time.Duration{7 * ms}, 99, 7 * ms},
		{"median of an even count is the lower middle", []time.Duration{1 * ms, 2 * ms, 3 * ms, 4 * ms}, 50, 2 * ms},
		{"median of an odd count is the middle", []time.Duration{1 * ms, 2 * ms, 3 * ms}, 50, 2 * ms},
		{"p50 of 1..100", hundred, 50, 50 * ms},
		{"p99 of 1..100 is not rounded up to the max", hundred, 99, 99 * ms},
		{"p99.9 of 1..100 is the max", hundred, 99.9, 100 * ms},
		{"p100 is the max", hundred, 100, 100 * ms},
		{"a tiny percentile is the min", hundred, 0.1, 1 * ms},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, percentile(tt.sorted, tt.p))
		})
	}
}
