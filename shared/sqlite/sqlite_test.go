package sqlite_test

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

	"github.com/lantau-hq/lantau/shared/sqlite"
	"github.com/lantau-hq/lantau/shared/table"
	"github.com/lantau-hq/lantau/shared/table/tabletest"
)

func open(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(path, table.Lantau)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, s.Close()) })
	return s
}

func TestStore_Conformance(t *testing.T) {
	tabletest.Run(t, func(t *testing.T) table.Store {
		return open(t, filepath.Join(t.TempDir(), "lantau.db"))
	})
}

func TestStore_ConformanceInMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("the file-backed run covers the same code")
	}
	tabletest.Run(t, func(t *testing.T) table.Store { return open(t, ":memory:") })
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
		"URI parameters":         {filepath.Join(dir, "e.db") + "?mode=ro", table.Lantau},
		"no path":                {"", table.Lantau},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := sqlite.Open(tc.path, tc.schema)
			assert.ErrorIs(t, err, table.ErrInvalid)
		})
	}
}

func TestPut_RefusesAttributesNoIndexDeclares(t *testing.T) {
	s := open(t, ":memory:")
	ctx := t.Context()
	for name, index := range map[string]map[string]string{
		"typo":        {"GSI1Pk": "x", "GSI1SK": "y"},
		"empty value": {"GSI1PK": "", "GSI1SK": "y"},
	} {
		t.Run(name, func(t *testing.T) {
			err := s.Put(ctx, table.Item{Key: table.Key{Tenant: "t", PK: "p", SK: "s"}, Index: index}, table.Always)
			assert.ErrorIs(t, err, table.ErrInvalid)
		})
	}
	t.Run("sort key longer than DynamoDB allows", func(t *testing.T) {
		err := s.Put(ctx, table.Item{Key: table.Key{Tenant: "t", PK: "p", SK: strings.Repeat("s", 1023)}}, table.Always)
		assert.ErrorIs(t, err, table.ErrInvalid)
	})
}

func TestQuery_CursorOfAnotherShapeIsRefused(t *testing.T) {
	s := open(t, ":memory:")
	ctx := t.Context()
	for i := range 5 {
		require.NoError(t, s.Put(ctx, table.Item{Key: table.Key{Tenant: "t", PK: "p", SK: fmt.Sprint(i)}}, table.Always))
	}
	base := table.Query{Tenant: "t", PK: "p", SortOp: table.SortGE, Value: "1", Limit: 1}
	page, err := s.Query(ctx, base)
	require.NoError(t, err)
	require.NotEmpty(t, page.Cursor)

	q := base
	q.Cursor, q.Limit = page.Cursor, 2
	next, err := s.Query(ctx, q)
	require.NoError(t, err, "another page size is the same query")
	require.Len(t, next.Items, 2)
	assert.Equal(t, "2", next.Items[0].SK)

	for name, change := range map[string]func(*table.Query){
		"reversed":       func(q *table.Query) { q.Reverse = true },
		"other sort op":  func(q *table.Query) { q.SortOp = table.SortGT },
		"other value":    func(q *table.Query) { q.Value = "0" },
		"other tenant":   func(q *table.Query) { q.Tenant = "u" },
		"tampered":       func(q *table.Query) { q.Cursor = strings.ToUpper(q.Cursor) },
		"padded base64":  func(q *table.Query) { q.Cursor += "==" },
		"standard alpha": func(q *table.Query) { q.Cursor = "+/" + q.Cursor },
	} {
		t.Run(name, func(t *testing.T) {
			q := base
			q.Cursor = page.Cursor
			change(&q)
			_, err := s.Query(ctx, q)
			assert.ErrorIs(t, err, table.ErrBadCursor)
		})
	}
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
		ops = append(ops, table.Op{Put: &table.Item{Key: table.Key{Tenant: "t", PK: "p", SK: fmt.Sprintf("%03d", i)}, ExpiresAt: exp}})
	}
	require.NoError(t, s.Transact(ctx, ops))
	require.NoError(t, s.Put(ctx, table.Item{Key: table.Key{Tenant: "t", PK: "p", SK: "forever"}}, table.Always))

	n, err := s.Sweep(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(75), n)
	page, err := s.Query(ctx, table.Query{Tenant: "t", PK: "p", Limit: 1000})
	require.NoError(t, err)
	assert.Len(t, page.Items, 26)
}

func TestOpen_AddsAnIndexToAnExistingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lantau.db")
	ctx := t.Context()
	s1, err := sqlite.Open(path, table.Lantau)
	require.NoError(t, err)
	old := table.Item{Key: table.Key{Tenant: "t", PK: "p", SK: "old"}, Version: 4, Data: []byte(`{"a":1}`),
		Index: map[string]string{"GSI1PK": "g", "GSI1SK": "1"}}
	require.NoError(t, s1.Put(ctx, old, table.Always))
	require.NoError(t, s1.Close())

	wider := table.Lantau
	wider.Indexes = append([]table.IndexSchema{{Name: "GSI2", PK: "GSI2PK", SK: "GSI1SK"}}, wider.Indexes...)
	s2, err := sqlite.Open(path, wider)
	require.NoError(t, err)
	defer s2.Close()
	got, err := s2.Get(ctx, old.Key)
	require.NoError(t, err)
	assert.Equal(t, old, got, "what was written before survives the reopen")
	require.NoError(t, s2.Put(ctx, table.Item{Key: table.Key{Tenant: "t", PK: "p", SK: "new"},
		Index: map[string]string{"GSI2PK": "h", "GSI1SK": "2"}}, table.IfNotExists))
	page, err := s2.Query(ctx, table.Query{Tenant: "t", Index: "GSI2", PK: "h"})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	assert.Equal(t, "new", page.Items[0].SK)
	page, err = s2.Query(ctx, table.Query{Tenant: "t", Index: "GSI1", PK: "g"})
	require.NoError(t, err)
	require.Len(t, page.Items, 1, "GSI1 still works")
}

// TestPut_AcknowledgedWritesSurviveKill9 runs a writer in a child process,
// kills it with SIGKILL mid-stream and checks every write it acknowledged.
func TestPut_AcknowledgedWritesSurviveKill9(t *testing.T) {
	if path := os.Getenv("LANTAU_SQLITE_KILL_CHILD"); path != "" {
		killChild(path)
		return
	}
	if testing.Short() {
		t.Skip("starts a child process")
	}
	path := filepath.Join(t.TempDir(), "lantau.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestPut_AcknowledgedWritesSurviveKill9$")
	cmd.Env = append(os.Environ(), "LANTAU_SQLITE_KILL_CHILD="+path)
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
	s, err := sqlite.Open(path, table.Lantau)
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
