package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"time"

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

var hongKong = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Hong_Kong")
	if err != nil {
		return time.FixedZone("HKT", 8*3600)
	}
	return loc
}()

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
	return nil
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
	slices.SortFunc(out, func(a, b Access) int { return a.Time.Compare(b.Time) })
	return out, nil
}
