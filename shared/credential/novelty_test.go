package credential_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/credential"
	"github.com/lantau-hq/lantau/shared/table"
)

func TestNetworkOf(t *testing.T) {
	tests := []struct{ in, want string }{
		{"203.0.113.77", "203.0.113.0/24"},
		{"::ffff:203.0.113.77", "203.0.113.0/24"},
		{"2001:db8:abcd:12:34::1", "2001:db8:abcd::/48"},
		{"fe80::1%eth0", "fe80::/48"},
		{"2001:db8:abcd:12::/64", "2001:db8:abcd::/48"},
		{"203.0.113.0/24", "203.0.113.0/24"},
	}
	for _, tt := range tests {
		p, err := credential.NetworkOf(tt.in)
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, p.String(), tt.in)
	}
	_, err := credential.NetworkOf("not an ip")
	assert.Error(t, err)
}

func TestNovelty_ReportsNewDevicesAndNetworks(t *testing.T) {
	store := newStore(t)
	nv := credential.NewNovelty(store)
	ctx := t.Context()
	now := clock()

	steps := []struct {
		name                  string
		user, device, ip      string
		newDevice, newNetwork bool
	}{
		{"first sign-in", "u1", "dev-laptop", "203.0.113.7", true, true},
		{"same place", "u1", "dev-laptop", "203.0.113.7", false, false},
		{"same /24", "u1", "dev-laptop", "203.0.113.200", false, false},
		{"new network", "u1", "dev-laptop", "198.51.100.4", false, true},
		{"new device, known network", "u1", "dev-phone", "203.0.113.9", true, false},
		{"IPv6 same /48", "u1", "dev-phone", "2001:db8:1:2::1", false, true},
		{"IPv6 other host, same /48", "u1", "dev-phone", "2001:db8:1:ffff::9", false, false},
		{"another user", "u2", "dev-laptop", "203.0.113.7", true, true},
		{"no device ID", "u1", "", "203.0.113.7", true, false},
	}
	for _, s := range steps {
		nd, nn, err := nv.Seen(ctx, tenant, s.user, s.device, s.ip, now)
		require.NoError(t, err, s.name)
		assert.Equal(t, s.newDevice, nd, "%s: device", s.name)
		assert.Equal(t, s.newNetwork, nn, "%s: network", s.name)
	}

	// Only hashes are stored.
	page, err := store.Query(ctx, table.Query{Tenant: tenant, PK: "SEEN#u1"})
	require.NoError(t, err)
	require.NotEmpty(t, page.Items)
	for _, it := range page.Items {
		for _, s := range []string{"dev-laptop", "dev-phone", "203.0.113", "2001:db8"} {
			assert.NotContains(t, it.SK+string(it.Data), s)
		}
		assert.Greater(t, it.ExpiresAt, now.Add(179*24*time.Hour).Unix(), "remembered for the retention period")
	}

	_, _, err = nv.Seen(ctx, tenant, "u1", "dev-laptop", "garbage", now)
	assert.Error(t, err)
}

func TestNovelty_ForgetsAfterRetention(t *testing.T) {
	if testing.Short() {
		t.Skip("waits 2 s for the store's TTL")
	}
	nv := credential.NewNovelty(newStore(t))
	nv.Retention = time.Second
	now := time.Now()
	_, _, err := nv.Seen(t.Context(), tenant, "u1", "dev", "203.0.113.7", now)
	require.NoError(t, err)
	time.Sleep(2100 * time.Millisecond) // the store applies TTL by its own clock, in seconds
	nd, nn, err := nv.Seen(t.Context(), tenant, "u1", "dev", "203.0.113.7", time.Now())
	require.NoError(t, err)
	assert.True(t, nd)
	assert.True(t, nn)
}

func TestNovelty_ConcurrentFirstSignIns_OneIsNew(t *testing.T) {
	nv := credential.NewNovelty(newStore(t))
	now := clock()
	var newDevices atomic.Int32
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			nd, _, err := nv.Seen(t.Context(), tenant, "u1", "dev", "203.0.113.7", now)
			assert.NoError(t, err)
			if nd {
				newDevices.Add(1)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int32(1), newDevices.Load())
}
