package credential_test

import (
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/credential"
	"github.com/lantau-hq/lantau/shared/table"
)

func TestRecoveryCodes_AreSingleUse(t *testing.T) {
	store := newStore(t)
	rc := credential.NewRecoveryCodes(store)
	ctx := t.Context()

	codes, err := rc.Replace(ctx, tenant, "u1")
	require.NoError(t, err)
	require.Len(t, codes, credential.RecoveryCodeCount)
	shape := regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$`)
	seen := map[string]bool{}
	for _, c := range codes {
		assert.Regexp(t, shape, c)
		assert.False(t, seen[c], "duplicate %s", c)
		seen[c] = true
	}

	// Only hashes are stored.
	page, err := store.Query(ctx, table.Query{Tenant: tenant, PK: "RECOVERY#u1"})
	require.NoError(t, err)
	require.Len(t, page.Items, 10)
	for _, it := range page.Items {
		for _, c := range codes {
			assert.NotContains(t, it.SK+string(it.Data), c)
			assert.NotContains(t, it.SK+string(it.Data), strings.ReplaceAll(c, "-", ""))
		}
	}

	tests := []struct {
		name, code string
		ok         bool
	}{
		{"as shown", codes[0], true},
		{"again", codes[0], false},
		{"lower case, spaces, no dashes", strings.ToLower(strings.ReplaceAll(codes[1], "-", " ")), true},
		{"another user's", codes[2], true}, // consumed for u1 below: checks it is not u2's
		{"wrong", "0000-0000-0000-0000", false},
		{"too short", codes[3][:9], false},
		{"too long", codes[3] + "0", false},
		{"garbage", "not a code at all!", false},
	}
	for _, tt := range tests {
		user := "u1"
		if tt.name == "another user's" {
			ok, err := rc.Consume(ctx, tenant, "u2", tt.code)
			require.NoError(t, err)
			assert.False(t, ok, "u2 has no codes")
		}
		ok, err := rc.Consume(ctx, tenant, user, tt.code)
		require.NoError(t, err)
		assert.Equal(t, tt.ok, ok, tt.name)
	}
	n, err := rc.Remaining(ctx, tenant, "u1")
	require.NoError(t, err)
	assert.Equal(t, 7, n)

	// Replacing voids every earlier code.
	fresh, err := rc.Replace(ctx, tenant, "u1")
	require.NoError(t, err)
	ok, err := rc.Consume(ctx, tenant, "u1", codes[5])
	require.NoError(t, err)
	assert.False(t, ok, "old code after Replace")
	ok, err = rc.Consume(ctx, tenant, "u1", fresh[5])
	require.NoError(t, err)
	assert.True(t, ok)
	n, err = rc.Remaining(ctx, tenant, "u1")
	require.NoError(t, err)
	assert.Equal(t, 9, n)
}

func TestRecoveryCodes_ReadsConfusableLetters(t *testing.T) {
	rc := credential.NewRecoveryCodes(newStore(t))
	codes, err := rc.Replace(t.Context(), tenant, "u1")
	require.NoError(t, err)
	// Find a code with a 0 or 1 and type it with O, I or L.
	for _, c := range codes {
		if strings.ContainsAny(c, "01") {
			typed := strings.NewReplacer("0", "o", "1", "l").Replace(c)
			ok, err := rc.Consume(t.Context(), tenant, "u1", typed)
			require.NoError(t, err)
			assert.True(t, ok, "%s typed as %s", c, typed)
			return
		}
	}
	t.Skip("no 0 or 1 in this set (probability about 0.6%)")
}

func TestRecoveryCodes_ConcurrentUseOfOneCode_OneSucceeds(t *testing.T) {
	rc := credential.NewRecoveryCodes(newStore(t))
	codes, err := rc.Replace(t.Context(), tenant, "u1")
	require.NoError(t, err)

	var wins atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 20 {
		wg.Go(func() {
			<-start
			ok, err := rc.Consume(t.Context(), tenant, "u1", codes[0])
			assert.NoError(t, err)
			if ok {
				wins.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	assert.Equal(t, int32(1), wins.Load())
}

func TestRecoveryCodes_ClearRemovesEveryCode(t *testing.T) {
	rc := credential.NewRecoveryCodes(newStore(t))
	ctx := t.Context()
	codes, err := rc.Replace(ctx, tenant, "u-1")
	require.NoError(t, err)
	other, err := rc.Replace(ctx, tenant, "u-2")
	require.NoError(t, err)
	n, err := rc.Clear(ctx, tenant, "u-1")
	require.NoError(t, err)
	assert.Equal(t, len(codes), n)
	left, err := rc.Remaining(ctx, tenant, "u-1")
	require.NoError(t, err)
	assert.Zero(t, left)
	ok, err := rc.Consume(ctx, tenant, "u-1", codes[0])
	require.NoError(t, err)
	assert.False(t, ok, "a cleared code no longer works")
	ok, err = rc.Consume(ctx, tenant, "u-2", other[0])
	require.NoError(t, err)
	assert.True(t, ok, "another user's codes stay")
	n, err = rc.Clear(ctx, tenant, "u-1")
	require.NoError(t, err)
	assert.Zero(t, n)
}
