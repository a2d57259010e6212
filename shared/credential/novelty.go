package credential

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/netip"
	"time"

	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/table"
)

// Novelty remembers the devices and networks each user has signed in from,
// so that the login flow can alert on a new one. Device IDs and networks
// are stored only as SHA-256 hashes bound to the tenant and user.
type Novelty struct {
	store table.Store
	// Retention is how long an unused device or network is remembered.
	Retention time.Duration
}

// DefaultRetention forgets a device or network unused for 180 days.
const DefaultRetention = 180 * 24 * time.Hour

// lastSeenEvery bounds the writes of a known fingerprint to one a day.
const lastSeenEvery = 24 * time.Hour

// NewNovelty returns a Novelty storing in store with DefaultRetention.
func NewNovelty(store table.Store) *Novelty {
	return &Novelty{store: store, Retention: DefaultRetention}
}

// NetworkOf returns the network ip belongs to for novelty: its /24 for
// IPv4 (and IPv4-mapped IPv6), its /48 for IPv6, roughly one site each.
// ip may be an address or a prefix ("203.0.113.7", "2001:db8::/64").
func NetworkOf(ip string) (netip.Prefix, error) {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		p, perr := netip.ParsePrefix(ip)
		if perr != nil {
			return netip.Prefix{}, problem.E("credential.NetworkOf", problem.Invalid, problem.Code("bad-ip"), err)
		}
		a = p.Addr()
	}
	a = a.Unmap().WithZone("")
	bits := 48
	if a.Is4() {
		bits = 24
	}
	return netip.PrefixFrom(a, bits).Masked(), nil
}

// Seen records that user signed in from deviceID (an opaque identifier the
// client keeps, e.g. in a cookie) and ip (an address or prefix, reduced by
// NetworkOf), and reports which of the two had not been seen for user in
// the Retention period. An empty deviceID is a new device and is not
// recorded. Of concurrent first sign-ins from one device, one reports it new.
func (n *Novelty) Seen(ctx context.Context, tenant, user, deviceID, ip string, now time.Time) (newDevice, newNetwork bool, err error) {
	const op = "credential.Novelty.Seen"
	if tenant == "" || user == "" {
		return false, false, problem.E(op, problem.Invalid, "tenant and user are required")
	}
	network, err := NetworkOf(ip)
	if err != nil {
		return false, false, problem.Wrap(op, err)
	}
	newDevice = true
	if deviceID != "" {
		if newDevice, err = n.record(ctx, n.key(tenant, user, "D", deviceID), now); err != nil {
			return false, false, problem.E(op, problem.Other, err)
		}
	}
	if newNetwork, err = n.record(ctx, n.key(tenant, user, "N", network.String()), now); err != nil {
		return false, false, problem.E(op, problem.Other, err)
	}
	return newDevice, newNetwork, nil
}

func (n *Novelty) key(tenant, user, kind, value string) table.Key {
	sum := sha256.Sum256([]byte("lantau-novelty\x00" + tenant + "\x00" + user + "\x00" + kind + "\x00" + value))
	return table.Key{Tenant: tenant, PK: "SEEN#" + user, SK: kind + "#" + hex.EncodeToString(sum[:])}
}

type sighting struct {
	First int64 `json:"first"` // Unix seconds
	Last  int64 `json:"last"`
}

// record notes a sighting of key at now and reports whether it is new.
func (n *Novelty) record(ctx context.Context, key table.Key, now time.Time) (bool, error) {
	it, err := n.store.Get(ctx, key)
	switch {
	case err == nil:
		var s sighting
		if json.Unmarshal(it.Data, &s) != nil || now.Sub(time.Unix(s.Last, 0)) >= lastSeenEvery {
			s.Last = now.Unix()
			data, _ := json.Marshal(s)
			// Refresh the expiry; if a concurrent sign-in refreshed it first, fine.
			err := n.store.Put(ctx, table.Item{Key: key, Version: it.Version + 1, ExpiresAt: now.Add(n.Retention).Unix(), Data: data}, table.IfVersion(it.Version))
			if err != nil && !errors.Is(err, table.ErrConditionFailed) {
				return false, err
			}
		}
		return false, nil
	case !errors.Is(err, table.ErrNotFound):
		return false, err
	}
	data, _ := json.Marshal(sighting{First: now.Unix(), Last: now.Unix()})
	err = n.store.Put(ctx, table.Item{Key: key, Version: 1, ExpiresAt: now.Add(n.Retention).Unix(), Data: data}, table.IfNotExists)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, table.ErrConditionFailed):
		return false, nil // a concurrent sign-in from the same place recorded it
	default:
		return false, err
	}
}
