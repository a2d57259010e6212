package idempotency_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/bolt"
	"github.com/lantau-hq/lantau/shared/httpapi"
	"github.com/lantau-hq/lantau/shared/idempotency"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/table"
)

func newGuard(t *testing.T) *idempotency.Guard {
	t.Helper()
	s, err := bolt.Open(filepath.Join(t.TempDir(), "table.db"), table.Lantau)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return idempotency.New(s)
}

func TestDo_ConcurrentCallsWithOneKeyHaveOneEffect(t *testing.T) {
	g := newGuard(t)
	var effects atomic.Int32
	const n = 20
	results := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := g.Do(context.Background(), "t-acme", "attendance.ClockIn", "key-1", idempotency.Hash([]byte("same")), func(context.Context) ([]byte, error) {
				time.Sleep(20 * time.Millisecond) // long enough for the others to arrive
				return []byte(fmt.Sprintf(`{"punch":%d}`, effects.Add(1))), nil
			})
			require.NoError(t, err)
			results[i] = string(out)
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(1), effects.Load())
	for _, r := range results {
		assert.JSONEq(t, `{"punch":1}`, r)
	}
}

func TestDo_SameKeyDifferentPayloadIsAConflict(t *testing.T) {
	g := newGuard(t)
	ctx := context.Background()
	ok := func(context.Context) ([]byte, error) { return []byte(`{}`), nil }
	_, err := g.Do(ctx, "t-acme", "op", "k", idempotency.Hash([]byte("a")), ok)
	require.NoError(t, err)
	_, err = g.Do(ctx, "t-acme", "op", "k", idempotency.Hash([]byte("b")), ok)
	require.ErrorIs(t, err, idempotency.ErrKeyReused)
	assert.Equal(t, problem.Conflict, problem.KindOf(err))

	// Keys are per tenant and per operation.
	_, err = g.Do(ctx, "t-other", "op", "k", idempotency.Hash([]byte("b")), ok)
	require.NoError(t, err)
	_, err = g.Do(ctx, "t-acme", "other-op", "k", idempotency.Hash([]byte("b")), ok)
	require.NoError(t, err)
}

func TestDo_AFailureReleasesTheKey(t *testing.T) {
	g := newGuard(t)
	ctx := context.Background()
	h := idempotency.Hash([]byte("x"))
	_, err := g.Do(ctx, "t-acme", "op", "k", h, func(context.Context) ([]byte, error) { return nil, errors.New("downstream down") })
	require.EqualError(t, err, "downstream down")
	out, err := g.Do(ctx, "t-acme", "op", "k", h, func(context.Context) ([]byte, error) { return []byte(`"second"`), nil })
	require.NoError(t, err)
	assert.Equal(t, `"second"`, string(out))
}

func TestDo_AnExpiredRecordRunsAgain(t *testing.T) {
	g := newGuard(t)
	ctx := context.Background()
	runs := 0
	fn := func(context.Context) ([]byte, error) { runs++; return []byte(`1`), nil }
	// Records written "two seconds ago" with a one-second TTL are already
	// expired: expiry is checked when reading, not left to TTL deletion.
	g.Now = func() time.Time { return time.Now().Add(-2 * time.Second) }
	g.TTL = time.Second
	_, err := g.Do(ctx, "t-acme", "op", "k", "h", fn)
	require.NoError(t, err)
	_, err = g.Do(ctx, "t-acme", "op", "k", "h", fn)
	require.NoError(t, err)
	assert.Equal(t, 2, runs)

	g.Now, g.TTL = time.Now, time.Hour
	_, err = g.Do(ctx, "t-acme", "op", "k2", "h", fn)
	require.NoError(t, err)
	_, err = g.Do(ctx, "t-acme", "op", "k2", "h", fn)
	require.NoError(t, err)
	assert.Equal(t, 3, runs, "an unexpired record is replayed")
}

func TestDo_TakesOverALockWhoseHolderDied(t *testing.T) {
	g := newGuard(t)
	g.Lock = 50 * time.Millisecond
	ctx := context.Background()
	started, hold := make(chan struct{}), make(chan struct{})
	t.Cleanup(func() { close(hold) })
	go func() {
		_, _ = g.Do(ctx, "t-acme", "op", "k", "h", func(context.Context) ([]byte, error) {
			close(started)
			<-hold // never finishes while the test runs, as if the function crashed
			return nil, errors.New("gave up")
		})
	}()
	<-started
	out, err := g.Do(ctx, "t-acme", "op", "k", "h", func(context.Context) ([]byte, error) { return []byte(`"mine"`), nil })
	require.NoError(t, err)
	assert.Equal(t, `"mine"`, string(out))
}

func TestMiddleware_ReplaysTheFirstAnswer(t *testing.T) {
	g := newGuard(t)
	var effects atomic.Int32
	h := idempotency.Middleware(g, "items.Create", true)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		n := effects.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Location", fmt.Sprintf("/v1/items/%d", n))
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"n":%d,"body":%q}`, n, body)
	}))
	call := func(key, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/v1/items", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set(idempotency.Header, key)
		}
		req = req.WithContext(httpapi.WithActor(req.Context(), httpapi.Actor{Tenant: "t-acme", User: "u-1"}))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	first := call("k1", `{"a":1}`)
	second := call("k1", `{"a":1}`)
	assert.Equal(t, http.StatusCreated, first.Code)
	assert.Equal(t, first.Body.String(), second.Body.String())
	assert.Equal(t, "/v1/items/1", second.Header().Get("Location"))
	assert.Equal(t, "true", second.Header().Get(idempotency.ReplayedHeader))
	assert.Empty(t, first.Header().Get(idempotency.ReplayedHeader))
	assert.Equal(t, int32(1), effects.Load())

	conflict := call("k1", `{"a":2}`)
	assert.Equal(t, http.StatusConflict, conflict.Code)
	assert.Contains(t, conflict.Body.String(), "idempotency-key-reused")

	// A refused request keeps nothing: the client fixes it and retries with the same key.
	bad := idempotency.Middleware(g, "items.Validate", true)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if strings.Contains(string(body), "bad") {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusCreated)
	}))
	for _, step := range []struct {
		body string
		want int
	}{{`{"x":"bad"}`, http.StatusBadRequest}, {`{"x":"good"}`, http.StatusCreated}} {
		body, want := step.body, step.want
		req := httptest.NewRequest(http.MethodPost, "/v1/items", strings.NewReader(body))
		req.Header.Set(idempotency.Header, "k-fix")
		req = req.WithContext(httpapi.WithActor(req.Context(), httpapi.Actor{Tenant: "t-acme", User: "u-1"}))
		rec := httptest.NewRecorder()
		bad.ServeHTTP(rec, req)
		assert.Equal(t, want, rec.Code, body)
	}

	missing := call("", `{"a":1}`)
	assert.Equal(t, http.StatusBadRequest, missing.Code)
	assert.Contains(t, missing.Body.String(), "idempotency-key-missing")
}
