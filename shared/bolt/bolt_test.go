package bolt_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/bolt"
	"github.com/lantau-hq/lantau/shared/table"
	"github.com/lantau-hq/lantau/shared/table/tabletest"
)

func open(t testing.TB, path string) *bolt.Store {
	t.Helper()
	s, err := bolt.Open(path, table.Lantau)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, s.Close()) })
	return s
}

func TestStore_Conformance(t *testing.T) {
	tabletest.Run(t, func(t *testing.T) table.Store {
		return open(t, filepath.Join(t.TempDir(), "lantau.db"))
	})
}

func BenchmarkStore(b *testing.B) {
	tabletest.Bench(b, func(b *testing.B) table.Store {
		return open(b, filepath.Join(b.TempDir(), "bench.db"))
	})
}

func TestOpen_RefusesBadSchemasAndPaths(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]struct {
		path   string
		schema table.Schema
	}{
		"no sort key":            {filepath.Join(dir, "a.db"), table.Schema{PK: "PK"}},
		"index name to quote":    {filepath.Join(dir, "b.db"), table.Schema{PK: "PK", SK: "SK", Indexes: []table.IndexSchema{{Name: `G"1`, PK: "G1PK"}}}},
		"index twice":            {filepath.Join(dir, "c.db"), table.Schema{PK: "PK", SK: "SK", Indexes: []table.IndexSchema{{Name: "G", PK: "X"}, {Name: "G", PK: "Y"}}}},
		"index on the table key": {filepath.Join(dir, "d.db"), table.Schema{PK: "PK", SK: "SK", Indexes: []table.IndexSchema{{Name: "G", PK: "PK"}}}},
		"no path":                {"", table.Lantau},
		"index name too long":    {filepath.Join(dir, "e.db"), table.Schema{PK: "PK", SK: "SK", Indexes: []table.IndexSchema{{Name: strings.Repeat("G", 256), PK: "X"}}}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := bolt.Open(tc.path, tc.schema)
			assert.ErrorIs(t, err, table.ErrInvalid)
		})
	}
}

func TestOpen_SecondOpenerFailsFast(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lantau.db")
	open(t, path)
	start := time.Now()
	_, err := bolt.Open(path, table.Lantau)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "locked by another process")
	assert.Less(t, time.Since(start), 5*time.Second)
}

func TestPut_AcknowledgedWriteSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lantau.db")
	ctx := t.Context()
	s1, err := bolt.Open(path, table.Lantau)
	require.NoError(t, err)
	it := table.Item{Key: table.Key{Tenant: "t", PK: "p\x00q", SK: "s\x00"}, Version: 3, Data: []byte(`{"a":1}`),
		Index: map[string]string{"GSI1PK": "g", "GSI1SK": "1"}}
	require.NoError(t, s1.Put(ctx, it, table.IfNotExists))
	require.NoError(t, s1.Close())

	s2 := open(t, path)
	got, err := s2.Get(ctx, it.Key)
	require.NoError(t, err)
	assert.Equal(t, it, got)
	page, err := s2.Query(ctx, table.Query{Tenant: "t", Index: "GSI1", PK: "g"})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	assert.Equal(t, it, page.Items[0])
}

func TestPut_IndexEntryFollowsTheItem(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "lantau.db"))
	ctx := t.Context()
	key := table.Key{Tenant: "t", PK: "p", SK: "s"}
	gsi := func(pk string) []table.Item {
		page, err := s.Query(ctx, table.Query{Tenant: "t", Index: "GSI1", PK: pk})
		require.NoError(t, err)
		return page.Items
	}
	require.NoError(t, s.Put(ctx, table.Item{Key: key, Index: map[string]string{"GSI1PK": "a", "GSI1SK": "1"}}, table.Always))
	assert.Len(t, gsi("a"), 1)
	require.NoError(t, s.Put(ctx, table.Item{Key: key, Index: map[string]string{"GSI1PK": "b", "GSI1SK": "1"}}, table.Always))
	assert.Empty(t, gsi("a"), "moved out of the old partition")
	assert.Len(t, gsi("b"), 1)
	require.NoError(t, s.Put(ctx, table.Item{Key: key, Index: map[string]string{"GSI1PK": "b"}}, table.Always))
	assert.Empty(t, gsi("b"), "lost its index sort key")
	require.NoError(t, s.Put(ctx, table.Item{Key: key, Index: map[string]string{"GSI1PK": "b", "GSI1SK": "2"}}, table.Always))
	require.NoError(t, s.Delete(ctx, key, table.Always))
	assert.Empty(t, gsi("b"), "deleted with the item")
}

func TestSweep_RemovesExpiredItemsOnly(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "lantau.db"))
	ctx := t.Context()
	past, future := time.Now().Add(-time.Minute).Unix(), time.Now().Add(time.Hour).Unix()
	var ops []table.Op
	for i := range 100 {
		exp := past
		if i%4 == 0 {
			exp = future
		}
		ops = append(ops, table.Op{Put: &table.Item{Key: table.Key{Tenant: "t", PK: "p", SK: fmt.Sprintf("%03d", i)}, ExpiresAt: exp,
			Index: map[string]string{"GSI1PK": "g", "GSI1SK": fmt.Sprint(i)}}})
	}
	require.NoError(t, s.Transact(ctx, ops))
	require.NoError(t, s.Put(ctx, table.Item{Key: table.Key{Tenant: "t", PK: "p", SK: "forever"}}, table.Always))

	n, err := s.Sweep(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(75), n)
	page, err := s.Query(ctx, table.Query{Tenant: "t", PK: "p", Limit: 1000})
	require.NoError(t, err)
	assert.Len(t, page.Items, 26)
	page, err = s.Query(ctx, table.Query{Tenant: "t", Index: "GSI1", PK: "g", Limit: 1000})
	require.NoError(t, err)
	assert.Len(t, page.Items, 25)
}

func TestOpen_AddsAnIndexToAnExistingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lantau.db")
	ctx := t.Context()
	s1, err := bolt.Open(path, table.Lantau)
	require.NoError(t, err)
	old := table.Item{Key: table.Key{Tenant: "t", PK: "p", SK: "old"}, Version: 4, Data: []byte(`{"a":1}`),
		Index: map[string]string{"GSI1PK": "g", "GSI1SK": "1", "GSI2PK": "h"}}
	wider := table.Lantau
	wider.Indexes = append([]table.IndexSchema{{Name: "GSI2", PK: "GSI2PK", SK: "GSI1SK"}}, wider.Indexes...)
	require.Error(t, s1.Put(ctx, old, table.Always), "GSI2PK is unknown yet")
	delete(old.Index, "GSI2PK")
	require.NoError(t, s1.Put(ctx, old, table.Always))
	require.NoError(t, s1.Close())

	s2, err := bolt.Open(path, wider)
	require.NoError(t, err)
	defer s2.Close()
	old.Index["GSI2PK"] = "h"
	require.NoError(t, s2.Put(ctx, old, table.Always))
	page, err := s2.Query(ctx, table.Query{Tenant: "t", Index: "GSI2", PK: "h"})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	page, err = s2.Query(ctx, table.Query{Tenant: "t", Index: "GSI1", PK: "g"})
	require.NoError(t, err)
	require.Len(t, page.Items, 1, "GSI1 still works")
}

// TestPut_AcknowledgedWritesSurviveKill9 runs a writer in a child process,
// kills it with SIGKILL mid-stream and checks every write it acknowledged.
func TestPut_AcknowledgedWritesSurviveKill9(t *testing.T) {
	if path := os.Getenv("LANTAU_BOLT_KILL_CHILD"); path != "" {
		killChild(path)
		return
	}
	if testing.Short() {
		t.Skip("starts a child process")
	}
	path := filepath.Join(t.TempDir(), "lantau.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestPut_AcknowledgedWritesSurviveKill9$")
	cmd.Env = append(os.Environ(), "LANTAU_BOLT_KILL_CHILD="+path)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	acked := -1
	lines := bufio.NewScanner(out)
	deadline := time.Now().Add(30 * time.Second)
	for acked < 300 && time.Now().Before(deadline) && lines.Scan() {
		if n, ok := strings.CutPrefix(lines.Text(), "ack "); ok {
			acked, err = strconv.Atoi(n)
			require.NoError(t, err)
		}
	}
	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	require.GreaterOrEqual(t, acked, 300, "the child acknowledged too few writes")

	s := open(t, path)
	for i := 0; i <= acked; i++ {
		_, err := s.Get(t.Context(), table.Key{Tenant: "t", PK: "kill", SK: fmt.Sprintf("%06d", i)})
		require.NoError(t, err, "acknowledged write %d lost", i)
	}
}

func killChild(path string) {
	s, err := bolt.Open(path, table.Lantau)
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	for i := 0; ; i++ {
		err := s.Put(context.Background(), table.Item{Key: table.Key{Tenant: "t", PK: "kill", SK: fmt.Sprintf("%06d", i)},
			Data: []byte(`{"x":1}`)}, table.IfNotExists)
		if err != nil {
			fmt.Println("put:", err)
			os.Exit(2)
		}
		fmt.Printf("ack %d\n", i)
	}
}
