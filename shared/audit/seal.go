package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/table"
)

// The access log is write-once but not itself a chain (it takes a write per
// API call, spread over shards, and must not serialise them). Once a day
// each company's calls of the day before are summed up in a DayDigest that
// is appended to the company's audit chain as an AccessLogSealed entry. From
// then on a call edited, removed or slipped in is found by VerifyDay, and
// the seal itself is protected by the chain.

// Seal entries in the chain.
const (
	SealSource = "lantau.audit"
	SealType   = "AccessLogSealed"
	SealKind   = "access-seal"
)

func sealID(day string) string { return "access-day:" + day }

// SealDay appends tenant's DayDigest of day to its chain. Sealing a day
// again returns the first seal unchanged (the chain keeps one per day).
func SealDay(ctx context.Context, c *Chain, l *AccessLog, tenant, day string) (Entry, error) {
	d, err := l.Digest(ctx, tenant, day)
	if err != nil {
		return Entry{}, err
	}
	end, err := time.ParseInLocation(time.DateOnly, day, l.zone)
	if err != nil {
		return Entry{}, problem.E("audit.SealDay", problem.Invalid, problem.Code("bad-date"), err)
	}
	data, err := json.Marshal(d)
	if err != nil {
		return Entry{}, problem.E("audit.SealDay", problem.Internal, err)
	}
	return c.Append(ctx, tenant, Record{ID: sealID(day), Kind: SealKind, Source: SealSource, Type: SealType,
		Actor: "lantau", Time: end.AddDate(0, 0, 1), Data: data})
}

// SealDays seals day for every company that had calls on it, and reports
// how many it sealed. A failure for one company does not stop the others;
// the errors are joined.
func SealDays(ctx context.Context, c *Chain, l *AccessLog, day string) (int, error) {
	tenants, err := l.Tenants(ctx, day)
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, t := range tenants {
		if _, err := SealDay(ctx, c, l, t, day); err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// DayCheck is what VerifyDay found.
type DayCheck struct {
	Day    string     `json:"day"`
	Sealed bool       `json:"sealed"`
	OK     bool       `json:"ok"` // sealed and the log still matches the seal
	Seal   *DayDigest `json:"seal,omitempty"`
	Now    DayDigest  `json:"now"`
	SealAt int64      `json:"sealSeq,omitempty"` // the seal's place in the chain
	Reason string     `json:"reason,omitempty"`
}

// VerifyDay recomputes tenant's DayDigest of day and compares it with the
// seal in the chain. An unsealed day is reported, not an error.
func VerifyDay(ctx context.Context, c *Chain, l *AccessLog, tenant, day string) (DayCheck, error) {
	now, err := l.Digest(ctx, tenant, day)
	if err != nil {
		return DayCheck{}, err
	}
	out := DayCheck{Day: day, Now: now}
	e, err := c.ByRecordID(ctx, tenant, sealID(day))
	if errors.Is(err, table.ErrNotFound) {
		out.Reason = "not sealed yet: days are sealed after midnight, Hong Kong time"
		return out, nil
	} else if err != nil {
		return DayCheck{}, err
	}
	var sealed DayDigest
	if err := json.Unmarshal(e.Data, &sealed); err != nil {
		return DayCheck{}, problem.E("audit.VerifyDay", problem.Internal, err)
	}
	out.Sealed, out.Seal, out.SealAt = true, &sealed, e.Seq
	switch {
	case sealed.Calls != now.Calls:
		out.Reason = fmt.Sprintf("the day had %d calls when sealed and has %d now", sealed.Calls, now.Calls)
	case sealed.Digest != now.Digest:
		out.Reason = "a call of the day was changed after it was sealed"
	default:
		out.OK = true
	}
	return out, nil
}
