package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/table"
)

// Access is one API call, as the access log keeps it.
type Access struct {
	RequestID string    `json:"requestId"`
	Tenant    string    `json:"tenant"`
	User      string    `json:"user"`
	Method    string    `json:"method"`
	Route     string    `json:"route"` // the route key, e.g. "GET /v1/audit/verify"
	Path      string    `json:"path"`
	Status    int       `json:"status"`
	SourceIP  string    `json:"sourceIp"`
	UserAgent string    `json:"userAgent"`
	LatencyMs float64   `json:"latencyMs"`
	Time      time.Time `json:"time"`
}

// AccessLog stores API calls per tenant and day. A day's partition is split
// in shards so that a busy morning does not write one hot key.
type AccessLog struct {
	store     table.Store
	shards    int
	retention time.Duration
	zone      *time.Location
	// marked remembers the tenant-days this instance has put in the day
	// index, so that an API call costs one extra write per tenant and day
	// per instance, not one per call.
	marked sync.Map
}

// NewAccessLog keeps entries for retention (PDPO: as long as the company's
// policy says; default two years) and names days in zone (default Hong Kong).
func NewAccessLog(store table.Store, retention time.Duration, zone *time.Location) *AccessLog {
	if retention <= 0 {
		retention = 2 * 365 * 24 * time.Hour
	}
	if zone == nil {
		zone = hongKong
	}
	return &AccessLog{store: store, shards: 8, retention: retention, zone: zone}
}

var hongKong = i18n.HongKong

func (l *AccessLog) partition(day string, shard int) string {
	return fmt.Sprintf("ACCESS#%s#%d", day, shard)
}

// Record stores one call. Recording the same request ID twice keeps the first.
func (l *AccessLog) Record(ctx context.Context, a Access) error {
	if a.Tenant == "" || a.RequestID == "" {
		return problem.E("audit.Record", problem.Invalid, errors.New("access needs tenant and request ID"))
	}
	h := fnv.New32a()
	h.Write([]byte(a.RequestID))
	shard := int(h.Sum32() % uint32(l.shards))
	day := a.Time.In(l.zone).Format(time.DateOnly)
	data, err := json.Marshal(a)
	if err != nil {
		return problem.E("audit.Record", problem.Internal, err)
	}
	err = l.store.Put(ctx, table.Item{
		Key:       table.Key{Tenant: a.Tenant, PK: l.partition(day, shard), SK: a.Time.UTC().Format(time.RFC3339Nano) + "#" + a.RequestID},
		Version:   1,
		ExpiresAt: a.Time.Add(l.retention).Unix(),
		Data:      data,
	}, table.IfNotExists)
	if err != nil && !errors.Is(err, table.ErrConditionFailed) {
		return problem.E("audit.Record", problem.Internal, err)
	}
	return l.markDay(ctx, a.Tenant, day, a.Time)
}

// PlatformTenant holds the day index: which companies had API calls on a
// day, for the daily seal. (identity.PlatformTenant; audit does not import
// identity.)
const PlatformTenant = "_lantau"

func dayIndexKey(day, tenant string) table.Key {
	return table.Key{Tenant: PlatformTenant, PK: "ACCESS#DAYS#" + day, SK: tenant}
}

func (l *AccessLog) markDay(ctx context.Context, tenant, day string, at time.Time) error {
	memo := tenant + "|" + day
	if _, ok := l.marked.Load(memo); ok {
		return nil
	}
	err := l.store.Put(ctx, table.Item{Key: dayIndexKey(day, tenant), Version: 1,
		ExpiresAt: at.Add(l.retention).Unix(), Data: []byte("{}")}, table.IfNotExists)
	if err != nil && !errors.Is(err, table.ErrConditionFailed) {
		return problem.E("audit.Record", problem.Internal, err)
	}
	l.marked.Store(memo, struct{}{})
	return nil
}

// Tenants lists the companies that had API calls on day.
func (l *AccessLog) Tenants(ctx context.Context, day string) ([]string, error) {
	var out []string
	cursor := ""
	for {
		p, err := l.store.Query(ctx, table.Query{Tenant: PlatformTenant, PK: "ACCESS#DAYS#" + day, Limit: 1000, Cursor: cursor})
		if err != nil {
			return nil, problem.E("audit.Tenants", problem.Internal, err)
		}
		for _, it := range p.Items {
			out = append(out, it.Key.SK)
		}
		if p.Cursor == "" {
			return out, nil
		}
		cursor = p.Cursor
	}
}

// DayDigest sums up a company's access log of one day: how many calls,
// and a SHA-256 chained over every call in order (time, then request ID),
// each as its JSON encoding. Any call edited, removed or added after the
// digest was taken changes it.
type DayDigest struct {
	Day    string `json:"day"`
	Calls  int    `json:"calls"`
	Digest string `json:"digest"`
}

// Digest computes the DayDigest of tenant's calls on day.
func (l *AccessLog) Digest(ctx context.Context, tenant, day string) (DayDigest, error) {
	calls, err := l.Day(ctx, tenant, day)
	if err != nil {
		return DayDigest{}, err
	}
	h := Genesis
	for _, a := range calls {
		b, err := json.Marshal(a)
		if err != nil {
			return DayDigest{}, problem.E("audit.Digest", problem.Internal, err)
		}
		h = sum(h, string(b))
	}
	return DayDigest{Day: day, Calls: len(calls), Digest: h}, nil
}

// Day lists a tenant's calls on a day (YYYY-MM-DD in the log's zone), oldest first.
func (l *AccessLog) Day(ctx context.Context, tenant, day string) ([]Access, error) {
	if _, err := time.ParseInLocation(time.DateOnly, day, l.zone); err != nil {
		return nil, problem.E("audit.Day", problem.Invalid, problem.Code("bad-date"), err)
	}
	var out []Access
	for shard := range l.shards {
		cursor := ""
		for {
			p, err := l.store.Query(ctx, table.Query{Tenant: tenant, PK: l.partition(day, shard), Limit: 1000, Cursor: cursor})
			if err != nil {
				return nil, problem.E("audit.Day", problem.Internal, err)
			}
			for _, it := range p.Items {
				var a Access
				if err := json.Unmarshal(it.Data, &a); err != nil {
					return nil, problem.E("audit.Day", problem.Internal, err)
				}
				out = append(out, a)
			}
			if p.Cursor == "" {
				break
			}
			cursor = p.Cursor
		}
	}
	slices.SortFunc(out, func(a, b Access) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return strings.Compare(a.RequestID, b.RequestID)
	})
	return out, nil
}
