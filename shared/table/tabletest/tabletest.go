// Package tabletest is the conformance suite of the table port. Every
// implementation of table.Store (the embedded SQLite store and DynamoDB)
// runs it from its own tests:
//
//	func TestStore(t *testing.T) {
//		tabletest.Run(t, func(t *testing.T) table.Store { return open(t) })
//	}
//
// The suite asserts only what DynamoDB itself guarantees, so both
// implementations can pass it: a query page may be shorter than its Limit
// (expired items are filtered after the limit) and the last page may be
// empty; items of a secondary index that tie on its sort key come in no
// particular order. Each subtest works in tenants of its own, so a store
// shared between subtests (one DynamoDB Local table) is fine. TTL is
// exercised with expiry times an hour in the past or future, compared with
// the real clock, so no clock hook is needed.
package tabletest

import (
	"crypto/rand"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/table"
)

// Run runs the whole suite. newStore is called once per subtest; it must
// clean up after itself with t.Cleanup.
func Run(t *testing.T, newStore func(t *testing.T) table.Store) {
	t.Helper()
	for _, st := range subtests {
		t.Run(st.name, func(t *testing.T) {
			st.run(t, newStore(t))
		})
	}
}

// subtests is the suite, in the order it runs.
var subtests = []struct {
	name string
	run  func(*testing.T, table.Store)
}{
	{"GetPutDelete_RoundTrip", testRoundTrip},
	{"Put_ReplacesTheWholeItem", testPutReplaces},
	{"Validation_RefusesEmptyKeysAndBadRequests", testValidation},
	{"Put_Conditions", testPutConditions},
	{"Delete_Conditions", testDeleteConditions},
	{"ConcurrentWriters_ExactlyOneWins", testConcurrentWriters},
	{"BatchGet_KeyOrderAndMissingKeys", testBatchGet},
	{"Query_SortOps_Table", func(t *testing.T, s table.Store) { testSortOps(t, s, "") }},
	{"Query_SortOps_GSI1", func(t *testing.T, s table.Store) { testSortOps(t, s, "GSI1") }},
	{"Query_Limit", testQueryLimit},
	{"Query_Paginates1000Items", testPagination},
	{"Query_RefusesBadCursors", testBadCursors},
	{"Transact_FailedConditionWritesNothing", testTransactAtomic},
	{"Transact_ConditionCheck", testTransactCheck},
	{"Transact_100OpsAndNoMore", testTransactLimits},
	{"TTL_ExpiredItemsAreNeverReturned", testTTL},
	{"Tenants_CannotSeeEachOther", testTenantIsolation},
	{"ItemSize_400KBLimit", testItemSize},
	{"Keys_UnicodeAndSeparators", testUnicodeKeys},
	{"Context_CancellationIsRespected", testContextCancelled},
}

// newTenant returns a tenant no other subtest (or earlier run) uses.
func newTenant(t *testing.T) string {
	t.Helper()
	var b [6]byte
	_, err := rand.Read(b[:])
	require.NoError(t, err)
	return "t-" + hex.EncodeToString(b[:])
}

func put(t *testing.T, s table.Store, it table.Item) {
	t.Helper()
	require.NoError(t, s.Put(t.Context(), it, table.Always), "put %v", it.Key)
}

// assertItem compares two items field by field (nil and empty Data or Index
// are the same).
func assertItem(t *testing.T, want, got table.Item, msgAndArgs ...any) {
	t.Helper()
	assert.Equal(t, want.Key, got.Key, msgAndArgs...)
	assert.Equal(t, want.Version, got.Version, msgAndArgs...)
	assert.Equal(t, want.ExpiresAt, got.ExpiresAt, msgAndArgs...)
	assert.Equal(t, string(want.Data), string(got.Data), msgAndArgs...)
	if len(want.Index) == 0 {
		assert.Empty(t, got.Index, msgAndArgs...)
	} else {
		assert.Equal(t, want.Index, got.Index, msgAndArgs...)
	}
}

// assertMissing checks that Get finds nothing under key.
func assertMissing(t *testing.T, s table.Store, key table.Key, msgAndArgs ...any) {
	t.Helper()
	_, err := s.Get(t.Context(), key)
	assert.ErrorIs(t, err, table.ErrNotFound, msgAndArgs...)
}

// assertVersion checks that Get finds key with version v.
func assertVersion(t *testing.T, s table.Store, key table.Key, v int64, msgAndArgs ...any) {
	t.Helper()
	got, err := s.Get(t.Context(), key)
	if assert.NoError(t, err, msgAndArgs...) {
		assert.Equal(t, v, got.Version, msgAndArgs...)
	}
}

// drain reads every page of q, checking each against its limit.
func drain(t *testing.T, s table.Store, q table.Query) []table.Item {
	t.Helper()
	limit := q.PageSize()
	var all []table.Item
	for pages := 0; ; pages++ {
		require.Less(t, pages, 5000, "query never ends")
		p, err := s.Query(t.Context(), q)
		require.NoError(t, err)
		require.LessOrEqual(t, len(p.Items), limit, "page longer than its limit")
		all = append(all, p.Items...)
		if p.Cursor == "" {
			return all
		}
		q.Cursor = p.Cursor
	}
}

func sortKeys(items []table.Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.SK
	}
	return out
}
