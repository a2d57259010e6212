package eventpattern

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An event whose array elements each hold further arrays lets a naive
// array-consistent search try every combination of inner elements before it
// finds out a later field fails; the search must stay fast anyway.
func TestMatch_StaysFastOnEventsBuiltToDefeatTheSearch(t *testing.T) {
	const n, m = 80, 80
	var b strings.Builder
	b.WriteString(`{"a": [`)
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"b": [`)
		b.WriteString(strings.TrimSuffix(strings.Repeat(`{"x": "1"},`, m), ","))
		b.WriteString(`], "c": [`)
		b.WriteString(strings.TrimSuffix(strings.Repeat(`{"y": "2"},`, m), ","))
		b.WriteString(`], "z": "r"}`)
	}
	b.WriteString(`]}`)
	event := []byte(b.String())

	for _, tc := range []struct {
		pattern string
		want    bool
	}{
		{`{"a": {"b": {"x": ["1"]}, "c": {"y": ["2"]}, "z": ["q"]}}`, false},
		{`{"a": {"b": {"x": ["1"]}, "c": {"y": ["2"]}, "z": ["r"]}}`, true},
		{`{"a": {"b": {"x": ["1"]}, "c": {"y": ["2"]}, "zz": [{"exists": true}]}}`, false},
	} {
		p := MustCompile(tc.pattern)
		start := time.Now()
		got, err := p.Match(event)
		elapsed := time.Since(start)
		require.NoError(t, err)
		assert.Equal(t, tc.want, got, tc.pattern)
		assert.Less(t, elapsed, 500*time.Millisecond, tc.pattern)
		assert.Equal(t, tc.want, p.MatchValue(decodeEvent(t, string(event))), tc.pattern)
	}
}
