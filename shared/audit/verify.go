package audit

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/table"
)

// Finding is what Verify found wrong, at the first place it went wrong.
type Finding struct {
	Seq    int64  `json:"seq"`
	Kind   string `json:"kind"` // altered, missing, inserted, unreadable
	Detail string `json:"detail"`
}

// Report is the result of verifying a chain.
type Report struct {
	Tenant  string   `json:"tenant"`
	Entries int64    `json:"entries"`
	Head    int64    `json:"head"`
	Valid   bool     `json:"valid"`
	First   *Finding `json:"firstProblem,omitempty"`
}

// Verify recomputes the tenant's chain from the first entry and names the
// first altered, inserted or missing entry.
func (c *Chain) Verify(ctx context.Context, tenant string) (Report, error) {
	h, _, err := c.head(ctx, tenant)
	if err != nil {
		return Report{}, problem.E("audit.Verify", problem.Internal, err)
	}
	rep := Report{Tenant: tenant, Head: h.Seq}
	fail := func(seq int64, kind, format string, args ...any) (Report, error) {
		rep.First = &Finding{Seq: seq, Kind: kind, Detail: fmt.Sprintf(format, args...)}
		return rep, nil
	}
	var prev *Entry
	cursor := ""
	for {
		p, err := c.store.Query(ctx, table.Query{Tenant: tenant, PK: pkEntries, Limit: 500, Cursor: cursor})
		if err != nil {
			return Report{}, problem.E("audit.Verify", problem.Internal, err)
		}
		for _, it := range p.Items {
			skSeq := seqOf(it.SK)
			var e Entry
			if err := json.Unmarshal(it.Data, &e); err != nil {
				return fail(skSeq, "unreadable", "entry %d does not decode: %v", skSeq, err)
			}
			expected := int64(1)
			prevHash := Genesis
			if prev != nil {
				expected, prevHash = prev.Seq+1, prev.Hash
			}
			if e.Seq != skSeq {
				return fail(skSeq, "altered", "entry stored at position %d says it is entry %d", skSeq, e.Seq)
			}
			if skSeq > h.Seq {
				return fail(skSeq, "inserted", "entry %d is beyond the chain's head (%d)", skSeq, h.Seq)
			}
			if skSeq < expected {
				return fail(skSeq, "inserted", "entry %d appears twice", skSeq)
			}
			if skSeq > expected {
				return fail(expected, "missing", "entry %d is missing (next stored entry is %d)", expected, skSeq)
			}
			recomputed := e
			if err := seal(&recomputed); err != nil {
				return fail(skSeq, "altered", "entry %d has content that cannot be hashed: %v", skSeq, err)
			}
			switch {
			case recomputed.ContentHash != e.ContentHash:
				return fail(skSeq, "altered", "entry %d's content no longer matches its hash", skSeq)
			case recomputed.Hash != e.Hash:
				return fail(skSeq, "altered", "entry %d's hash does not match its content and link", skSeq)
			case e.Prev != prevHash:
				if prev != nil {
					// Entry n-1 was rewritten with hashes recomputed: its hash no
					// longer matches the link entry n kept.
					return fail(prev.Seq, "altered", "entry %d was changed: entry %d links to a different hash", prev.Seq, skSeq)
				}
				return fail(skSeq, "altered", "entry %d does not start from the genesis hash", skSeq)
			}
			ent := e
			prev = &ent
			rep.Entries++
		}
		if p.Cursor == "" {
			break
		}
		cursor = p.Cursor
	}
	last := int64(0)
	lastHash := Genesis
	if prev != nil {
		last, lastHash = prev.Seq, prev.Hash
	}
	if last < h.Seq {
		return fail(last+1, "missing", "entries %d to %d are missing", last+1, h.Seq)
	}
	if lastHash != h.Hash {
		return fail(last, "altered", "entry %d does not match the chain's head", last)
	}
	rep.Valid = true
	return rep, nil
}
