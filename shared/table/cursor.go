package table

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
)

// A cursor is base64url JSON {"f": fingerprint, "k": position}: the
// fingerprint of the query that made it (so that it continues no other
// query, tenant or partition) and the sort position of the last item
// returned, as plain key values without tenant prefixes:
//
//	table:                        [SK]
//	index with a sort key:        [index SK, PK, SK]
//	index without a sort key:     [PK, SK]
//
// which is the order both implementations sort in. A store turns a decoded
// position into its own start key, taking the tenant from the query, so
// that a cursor can never lead into another tenant.
type cursor struct {
	F string   `json:"f"`
	K []string `json:"k"`
}

// EncodeCursor is the cursor continuing q after last, the last item of a
// page. q must be valid (ValidateQuery).
func EncodeCursor(schema Schema, q Query, last Item) string {
	c := cursor{F: fingerprint(q)}
	if q.Index != "" {
		if ix, _ := schema.Index(q.Index); ix.SK != "" {
			c.K = append(c.K, last.Index[ix.SK])
		}
		c.K = append(c.K, last.PK)
	}
	c.K = append(c.K, last.SK)
	raw, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(raw)
}

// DecodeCursor reads q.Cursor, made by EncodeCursor for the same query,
// into the position it holds (see cursor). Any other string is ErrBadCursor.
// q must be valid (ValidateQuery).
func DecodeCursor(schema Schema, q Query) ([]string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(q.Cursor)
	if err != nil {
		return nil, fmt.Errorf("%w: not base64url", ErrBadCursor)
	}
	var c cursor
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("%w: not JSON", ErrBadCursor)
	}
	if c.F != fingerprint(q) {
		return nil, fmt.Errorf("%w: from another query", ErrBadCursor)
	}
	want := 1
	if q.Index != "" {
		want = 2
		if ix, _ := schema.Index(q.Index); ix.SK != "" {
			want = 3
		}
	}
	if len(c.K) != want {
		return nil, fmt.Errorf("%w: wrong position", ErrBadCursor)
	}
	if slices.Contains(c.K, "") { // no stored key is empty (JSON strings decode as UTF-8)
		return nil, fmt.Errorf("%w: wrong position", ErrBadCursor)
	}
	return c.K, nil
}

// fingerprint is what q asks, with the values it ignores cleared, hashed.
func fingerprint(q Query) string {
	v1, v2 := q.Value, q.Value2
	if q.SortOp == SortAny {
		v1 = ""
	}
	if q.SortOp != SortBetween {
		v2 = ""
	}
	raw, _ := json.Marshal([]any{"lantau-cursor-1", q.Tenant, q.Index, q.PK, q.SortOp, v1, v2, q.Reverse})
	sum := sha256.Sum256(raw)
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}
