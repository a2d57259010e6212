package audit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/audit"
	"github.com/lantau-hq/lantau/shared/bolt"
	"github.com/lantau-hq/lantau/shared/table"
)

func newStore(t *testing.T) table.Store {
	t.Helper()
	s, err := bolt.Open(filepath.Join(t.TempDir(), "table.db"), table.Lantau)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func record(i int) audit.Record {
	return audit.Record{
		ID: fmt.Sprintf("ev-%03d", i), Kind: "event", Source: "lantau.directory", Type: "EmployeeJoined",
		Actor: "u-admin", Time: time.Date(2026, 11, 25, 9, 0, i, 0, time.UTC),
		Data: json.RawMessage(fmt.Sprintf(`{"employee":"e-%d","name":"陳大文"}`, i)),
	}
}

func appendN(t *testing.T, c *audit.Chain, tenant string, n int) {
	t.Helper()
	for i := 1; i <= n; i++ {
		_, err := c.Append(context.Background(), tenant, record(i))
		require.NoError(t, err)
	}
}

func TestAppend_BuildsAValidChainAndIgnoresRepeats(t *testing.T) {
	c := audit.New(newStore(t), nil)
	ctx := context.Background()
	appendN(t, c, "t-acme", 5)
	again, err := c.Append(ctx, "t-acme", record(3))
	require.NoError(t, err)
	assert.Equal(t, int64(3), again.Seq, "a redelivered event returns its first entry")

	rep, err := c.Verify(ctx, "t-acme")
	require.NoError(t, err)
	assert.True(t, rep.Valid)
	assert.Equal(t, int64(5), rep.Entries)

	first, err := c.Entry(ctx, "t-acme", 1)
	require.NoError(t, err)
	assert.Equal(t, audit.Genesis, first.Prev)
	second, err := c.Entry(ctx, "t-acme", 2)
	require.NoError(t, err)
	assert.Equal(t, first.Hash, second.Prev)

	other, err := c.Verify(ctx, "t-other")
	require.NoError(t, err)
	assert.True(t, other.Valid)
	assert.Zero(t, other.Entries, "each company has its own chain")
}

func TestAppend_ConcurrentWritersLeaveALinearChain(t *testing.T) {
	c := audit.New(newStore(t), nil)
	ctx := context.Background()
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 1; i <= n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Append(ctx, "t-acme", record(i))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	rep, err := c.Verify(ctx, "t-acme")
	require.NoError(t, err)
	assert.True(t, rep.Valid, "%+v", rep.First)
	assert.Equal(t, int64(n), rep.Entries)
	entries, _, err := c.Page(ctx, "t-acme", 100, "", false)
	require.NoError(t, err)
	ids := map[string]bool{}
	for i, e := range entries {
		assert.Equal(t, int64(i+1), e.Seq)
		ids[e.ID] = true
	}
	assert.Len(t, ids, n, "every record appended exactly once")
}

// tamper rewrites the stored item of one entry, as someone with direct
// access to the table could.
func tamper(t *testing.T, s table.Store, tenant string, seq int64, edit func(*audit.Entry) bool) {
	t.Helper()
	key := table.Key{Tenant: tenant, PK: "AUDIT#CHAIN", SK: fmt.Sprintf("%020d", seq)}
	it, err := s.Get(context.Background(), key)
	require.NoError(t, err)
	var e audit.Entry
	require.NoError(t, json.Unmarshal(it.Data, &e))
	if !edit(&e) {
		require.NoError(t, s.Delete(context.Background(), key, table.Always))
		return
	}
	it.Data, err = json.Marshal(e)
	require.NoError(t, err)
	it.SK = fmt.Sprintf("%020d", e.Seq)
	require.NoError(t, s.Put(context.Background(), it, table.Always))
}

func TestVerify_NamesTheFirstTamperedEntry(t *testing.T) {
	cases := []struct {
		name     string
		seq      int64
		edit     func(*audit.Entry) bool
		wantSeq  int64
		wantKind string
	}{
		{"edited data", 4, func(e *audit.Entry) bool { e.Data = json.RawMessage(`{"employee":"e-999"}`); return true }, 4, "altered"},
		{"edited actor", 2, func(e *audit.Entry) bool { e.Actor = "u-someone-else"; return true }, 2, "altered"},
		{"edited with its hashes recomputed", 3, func(e *audit.Entry) bool {
			e.Actor = "u-forger"
			forged := reseal(t, *e)
			*e = forged
			return true
		}, 3, "altered"},
		{"deleted in the middle", 5, func(*audit.Entry) bool { return false }, 5, "missing"},
		{"deleted at the end", 8, func(*audit.Entry) bool { return false }, 8, "missing"},
		{"inserted after the head", 8, func(e *audit.Entry) bool { e.Seq = 9; return true }, 9, "inserted"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			c := audit.New(s, nil)
			appendN(t, c, "t-acme", 8)
			tamper(t, s, "t-acme", tc.seq, tc.edit)
			rep, err := c.Verify(context.Background(), "t-acme")
			require.NoError(t, err)
			require.False(t, rep.Valid)
			require.NotNil(t, rep.First)
			assert.Equal(t, tc.wantSeq, rep.First.Seq, rep.First.Detail)
			assert.Equal(t, tc.wantKind, rep.First.Kind, rep.First.Detail)
		})
	}
}

// reseal recomputes an entry's hashes the way a forger who knows the scheme would.
func reseal(t *testing.T, e audit.Entry) audit.Entry {
	t.Helper()
	forged, err := audit.Reseal(e)
	require.NoError(t, err)
	return forged
}

func TestAppend_RefusesIncompleteRecords(t *testing.T) {
	c := audit.New(newStore(t), nil)
	_, err := c.Append(context.Background(), "", record(1))
	require.Error(t, err)
	bad := record(1)
	bad.Data = json.RawMessage(`{oops`)
	_, err = c.Append(context.Background(), "t-acme", bad)
	require.Error(t, err)
}
