package audit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/audit"
	"github.com/lantau-hq/lantau/shared/table"
)

// A sealed day's access log is checked against its seal in the chain: it
// matches as written, and an edited, removed or slipped-in call is found;
// sealing again changes nothing, and only companies with calls are sealed.
func TestSealDay_FindsCallsChangedAfterTheSeal(t *testing.T) {
	store := newStore(t)
	ctx := context.Background()
	log := audit.NewAccessLog(store, 0, nil)
	chain := audit.New(store, nil)
	base := time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC) // 10:00 on the 24th in Hong Kong
	for i := range 30 {
		require.NoError(t, log.Record(ctx, audit.Access{RequestID: fmt.Sprintf("req-%02d", i), Tenant: "t-acme", User: "u-1",
			Method: "GET", Route: "GET /v1/users/me", Status: 200, Time: base.Add(time.Duration(i) * time.Minute)}))
	}
	require.NoError(t, log.Record(ctx, audit.Access{RequestID: "b-1", Tenant: "t-bravo", Time: base}))
	require.NoError(t, log.Record(ctx, audit.Access{RequestID: "c-1", Tenant: "t-carrot", Time: base.Add(24 * time.Hour)}))

	tenants, err := log.Tenants(ctx, "2026-11-24")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"t-acme", "t-bravo"}, tenants)

	before, err := audit.VerifyDay(ctx, chain, log, "t-acme", "2026-11-24")
	require.NoError(t, err)
	assert.False(t, before.Sealed)
	assert.False(t, before.OK)
	assert.Equal(t, 30, before.Now.Calls)

	n, err := audit.SealDays(ctx, chain, log, "2026-11-24")
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	again, err := audit.SealDays(ctx, chain, log, "2026-11-24")
	require.NoError(t, err)
	assert.Equal(t, 2, again)
	page, _, err := chain.Page(ctx, "t-acme", 10, "", false)
	require.NoError(t, err)
	require.Len(t, page, 1, "one seal per day, however often sealed")
	assert.Equal(t, audit.SealType, page[0].Type)
	rep, err := chain.Verify(ctx, "t-acme")
	require.NoError(t, err)
	assert.True(t, rep.Valid, "%+v", rep)

	ok, err := audit.VerifyDay(ctx, chain, log, "t-acme", "2026-11-24")
	require.NoError(t, err)
	assert.True(t, ok.OK, ok.Reason)
	assert.Equal(t, 30, ok.Seal.Calls)

	// Find one stored call to tamper with.
	q, err := store.Query(ctx, table.Query{Tenant: "t-acme", PK: "ACCESS#2026-11-24#0"})
	require.NoError(t, err)
	require.NotEmpty(t, q.Items)
	victim := q.Items[0]

	tampers := []struct {
		name   string
		tamper func(t *testing.T) (undo func())
	}{
		{"a call's status edited", func(t *testing.T) func() {
			var a audit.Access
			require.NoError(t, json.Unmarshal(victim.Data, &a))
			a.Status = 404
			edited := victim
			edited.Data, _ = json.Marshal(a)
			edited.Version = victim.Version + 1
			require.NoError(t, store.Put(ctx, edited, table.Always))
			return func() { require.NoError(t, store.Put(ctx, victim, table.Always)) }
		}},
		{"a call removed", func(t *testing.T) func() {
			require.NoError(t, store.Delete(ctx, victim.Key, table.Always))
			return func() { require.NoError(t, store.Put(ctx, victim, table.Always)) }
		}},
		{"a call slipped in", func(t *testing.T) func() {
			require.NoError(t, log.Record(ctx, audit.Access{RequestID: "forged", Tenant: "t-acme", Time: base.Add(time.Hour)}))
			return nil
		}},
	}
	for _, tc := range tampers {
		t.Run(tc.name, func(t *testing.T) {
			undo := tc.tamper(t)
			got, err := audit.VerifyDay(ctx, chain, log, "t-acme", "2026-11-24")
			require.NoError(t, err)
			assert.True(t, got.Sealed)
			assert.False(t, got.OK)
			assert.NotEmpty(t, got.Reason)
			if undo != nil {
				undo()
			}
		})
	}
}
