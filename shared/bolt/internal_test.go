package bolt

import (
	"bytes"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestKeys_OrderAsTuplesAndDecode checks the key encoding against tuple
// order, with NUL bytes and prefixes that a naive separator would confuse.
func TestKeys_OrderAsTuplesAndDecode(t *testing.T) {
	parts := []string{"a", "a\x00", "a\x00b", "a\x01", "ab", "\x00", "b", "中", "z"}
	var tuples [][]string
	for _, x := range parts {
		for _, y := range parts {
			for _, z := range parts {
				tuples = append(tuples, []string{x, y, z})
			}
		}
	}
	for _, a := range tuples {
		ka := position(partition("t", "p"), a)
		for _, b := range tuples {
			kb := position(partition("t", "p"), b)
			require.Equal(t, slices.Compare(a, b), bytes.Compare(ka, kb), "%q vs %q", a, b)
		}
		key, err := indexedKey("t", ka[len(partition("t", "p")):], true)
		require.NoError(t, err)
		assert.Equal(t, []string{a[1], a[2]}, []string{key.PK, key.SK})
	}
	for _, x := range parts {
		for _, y := range parts {
			tenant, pk, sk, ok := splitItemKey(append(partition(x, y), "s\x00"...))
			require.True(t, ok)
			assert.Equal(t, []string{x, y, "s\x00"}, []string{tenant, pk, sk})
			// A partition prefix never matches another partition's keys.
			for _, z := range parts {
				if z != y {
					assert.False(t, bytes.HasPrefix(append(partition(x, z), "s"...), partition(x, y)))
				}
			}
		}
	}
}
