package credential_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/bolt"
	"github.com/lantau-hq/lantau/shared/table"
)

func newStore(t testing.TB) table.Store {
	t.Helper()
	s, err := bolt.Open(filepath.Join(t.TempDir(), "lantau.db"), table.Lantau)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, s.Close()) })
	return s
}

// clock is a fixed time (the start of the current minute) near the real
// one: the embedded store applies TTL against its own clock, so records
// stored by a test must not look expired to it.
func clock() time.Time {
	return time.Now().Truncate(time.Minute)
}

const tenant = "t-acme"
