package eventpattern

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// matchCase is one pattern tried against one event.
type matchCase struct {
	name    string
	pattern string
	event   string
	want    bool
}

// runMatchCases checks each case through both Match and MatchValue, which
// must always agree.
func runMatchCases(t *testing.T, cases []matchCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, matchBoth(t, tc.pattern, tc.event))
		})
	}
}

func matchBoth(t *testing.T, pattern, event string) bool {
	t.Helper()
	p, err := Compile([]byte(pattern))
	require.NoError(t, err, "pattern: %s", pattern)
	got, err := p.Match([]byte(event))
	require.NoError(t, err, "event: %s", event)
	assert.Equal(t, got, p.MatchValue(decodeEvent(t, event)), "Match and MatchValue disagree")
	return got
}

func decodeEvent(t testing.TB, event string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(event))
	dec.UseNumber()
	var v any
	require.NoError(t, dec.Decode(&v))
	return v
}
