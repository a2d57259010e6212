package audit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/audit"
)

func TestAccessLog_KeepsEachCallOnceByDayAndTenant(t *testing.T) {
	log := audit.NewAccessLog(newStore(t), 0, nil)
	ctx := context.Background()
	// 23:30 UTC on the 24th is 07:30 on the 25th in Hong Kong.
	base := time.Date(2026, 11, 24, 23, 30, 0, 0, time.UTC)
	for i := range 40 {
		a := audit.Access{RequestID: fmt.Sprintf("req-%02d", i), Tenant: "t-acme", User: "u-1", Method: "GET",
			Route: "GET /v1/audit/verify", Status: 200, Time: base.Add(time.Duration(i) * time.Second)}
		require.NoError(t, log.Record(ctx, a))
		require.NoError(t, log.Record(ctx, a), "recording a request twice keeps one")
	}
	require.NoError(t, log.Record(ctx, audit.Access{RequestID: "x", Tenant: "t-other", Time: base}))

	calls, err := log.Day(ctx, "t-acme", "2026-11-25")
	require.NoError(t, err)
	require.Len(t, calls, 40)
	for i, c := range calls {
		assert.Equal(t, fmt.Sprintf("req-%02d", i), c.RequestID, "oldest first across shards")
	}
	none, err := log.Day(ctx, "t-acme", "2026-11-24")
	require.NoError(t, err)
	assert.Empty(t, none)

	_, err = log.Day(ctx, "t-acme", "25/11/2026")
	require.Error(t, err)
	require.Error(t, log.Record(ctx, audit.Access{Tenant: "t-acme"}), "a call needs a request ID")
}
