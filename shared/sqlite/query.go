package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/lantau-hq/lantau/shared/table"
)

// defaultLimit is the page size of a query without a Limit.
const defaultLimit = 100

// Query reads one page of a partition of the table or of an index, in sort
// key order (for an index: index sort key, then the table's keys, so that
// ties page correctly). Expired items are filtered in SQL, so pages are full
// whenever more items follow.
func (s *Store) Query(ctx context.Context, q table.Query) (table.Page, error) {
	page, err := s.query(ctx, q)
	if err != nil {
		return table.Page{}, fmt.Errorf("sqlite: query %q/%q/%q: %w", q.Tenant, q.Index, q.PK, err)
	}
	return page, nil
}

func (s *Store) query(ctx context.Context, q table.Query) (table.Page, error) {
	plan, err := s.plan(q)
	if err != nil {
		return table.Page{}, err
	}
	var after []string
	if q.Cursor != "" {
		if after, err = plan.decodeCursor(q.Cursor); err != nil {
			return table.Page{}, err
		}
	}
	if err := ctx.Err(); err != nil {
		return table.Page{}, err
	}

	var (
		where strings.Builder
		args  = []any{q.Tenant, q.PK, s.now()}
	)
	fmt.Fprintf(&where, "tenant = ? AND %s = ? AND (expires_at = 0 OR expires_at > ?)", plan.pkCol)
	if plan.gsi && plan.sortCol != "" {
		where.WriteString(" AND " + plan.sortCol + " IS NOT NULL") // lets SQLite use the partial index
	}
	lo, hi := sortBounds(q)
	cmp, dir := ">", ""
	if q.Reverse {
		cmp, dir = "<", " DESC"
	}
	if after != nil {
		// The cursor bounds the scan on the side it moves from; the sort
		// condition's bound on that side goes when the cursor implies it,
		// so that SQLite seeks to the cursor rather than filtering up to it.
		if !q.Reverse && lo != nil && (after[0] > lo.v || after[0] == lo.v && lo.incl) {
			lo = nil
		}
		if q.Reverse && hi != nil && (after[0] < hi.v || after[0] == hi.v && hi.incl) {
			hi = nil
		}
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(after)), ", ")
		fmt.Fprintf(&where, " AND (%s) %s (%s)", strings.Join(plan.order, ", "), cmp, marks)
		for _, v := range after {
			args = append(args, v)
		}
	}
	if lo != nil {
		op := " > ?"
		if lo.incl {
			op = " >= ?"
		}
		where.WriteString(" AND " + plan.sortCol + op)
		args = append(args, lo.v)
	}
	if hi != nil {
		op := " < ?"
		if hi.incl {
			op = " <= ?"
		}
		where.WriteString(" AND " + plan.sortCol + op)
		args = append(args, hi.v)
	}
	order := make([]string, len(plan.order))
	for i, c := range plan.order {
		order[i] = c + dir
	}
	limit := q.Limit
	if limit == 0 {
		limit = defaultLimit
	}
	args = append(args, limit+1) // one more tells whether another page follows
	query := "SELECT " + s.selectCols() + " FROM items WHERE " + where.String() +
		" ORDER BY " + strings.Join(order, ", ") + " LIMIT ?"

	stmt, err := s.stmt(query)
	if err != nil {
		return table.Page{}, err
	}
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return table.Page{}, ctxErr(ctx, err)
	}
	defer rows.Close()
	var page table.Page
	sc := s.newScanner()
	for rows.Next() {
		it, err := sc.scan(rows, q.Tenant)
		if err != nil {
			return table.Page{}, ctxErr(ctx, err)
		}
		page.Items = append(page.Items, it)
	}
	if err := rows.Err(); err != nil {
		return table.Page{}, ctxErr(ctx, err)
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		page.Cursor = plan.encodeCursor(page.Items[limit-1])
	}
	return page, nil
}

// bound is one end of a sort-key range.
type bound struct {
	v    string
	incl bool
}

// sortBounds turns a sort condition into a range (nil: unbounded).
func sortBounds(q table.Query) (lo, hi *bound) {
	switch q.SortOp {
	case table.SortEq:
		return &bound{q.Value, true}, &bound{q.Value, true}
	case table.SortBeginsWith:
		if q.Value == "" {
			return nil, nil
		}
		// Stored keys are UTF-8, whose bytes never reach 0xF5: every key with
		// the prefix, and only those, lies in [prefix, prefix+"\xF5").
		return &bound{q.Value, true}, &bound{q.Value + "\xf5", false}
	case table.SortBetween:
		return &bound{q.Value, true}, &bound{q.Value2, true}
	case table.SortLT:
		return nil, &bound{q.Value, false}
	case table.SortLE:
		return nil, &bound{q.Value, true}
	case table.SortGT:
		return &bound{q.Value, false}, nil
	case table.SortGE:
		return &bound{q.Value, true}, nil
	}
	return nil, nil
}

// stmt prepares query on the read pool once.
func (s *Store) stmt(query string) (*sql.Stmt, error) {
	if st, ok := s.queries.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := s.r.Prepare(query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := s.queries.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// queryPlan is what a query reads and the fingerprint its cursors carry.
type queryPlan struct {
	s              *Store
	gsi            bool
	pkCol, sortCol string
	order          []string // the columns of the sort order, which a cursor holds
	fingerprint    string
}

func (s *Store) plan(q table.Query) (queryPlan, error) {
	switch {
	case q.Tenant == "" || q.PK == "":
		return queryPlan{}, fmt.Errorf("tenant and PK are required: %w", table.ErrInvalid)
	case q.Limit < 0 || q.Limit > table.MaxQueryLimit:
		return queryPlan{}, fmt.Errorf("limit %d, want 0 to %d: %w", q.Limit, table.MaxQueryLimit, table.ErrInvalid)
	case q.SortOp > table.SortGE:
		return queryPlan{}, fmt.Errorf("sort op %d: %w", q.SortOp, table.ErrInvalid)
	case q.SortOp == table.SortBetween && q.Value > q.Value2:
		return queryPlan{}, fmt.Errorf("between %q and %q: %w", q.Value, q.Value2, table.ErrInvalid)
	}
	p := queryPlan{s: s, pkCol: "pk", sortCol: "sk", order: []string{"sk"}}
	if q.Index != "" {
		g, ok := s.index[q.Index]
		if !ok {
			return queryPlan{}, fmt.Errorf("no index %q: %w", q.Index, table.ErrInvalid)
		}
		p.gsi, p.pkCol, p.sortCol, p.order = true, g.pkCol, g.skCol, []string{g.skCol, "pk", "sk"}
		if g.skCol == "" {
			if q.SortOp != table.SortAny {
				return queryPlan{}, fmt.Errorf("index %q has no sort key: %w", q.Index, table.ErrInvalid)
			}
			p.order = []string{"pk", "sk"}
		}
	}
	// The fingerprint: what the query asks, with values it ignores cleared.
	v1, v2 := q.Value, q.Value2
	if q.SortOp == table.SortAny {
		v1 = ""
	}
	if q.SortOp != table.SortBetween {
		v2 = ""
	}
	raw, _ := json.Marshal([]any{"lantau-cursor-1", q.Tenant, q.Index, q.PK, q.SortOp, v1, v2, q.Reverse})
	sum := sha256.Sum256(raw)
	p.fingerprint = base64.RawURLEncoding.EncodeToString(sum[:12])
	return p, nil
}

// cursor is the JSON inside a cursor: the query's fingerprint and the sort
// position of the last item returned.
type cursor struct {
	F string   `json:"f"`
	K []string `json:"k"`
}

func (p queryPlan) encodeCursor(last table.Item) string {
	c := cursor{F: p.fingerprint}
	for _, col := range p.order {
		switch col {
		case "pk":
			c.K = append(c.K, last.PK)
		case "sk":
			c.K = append(c.K, last.SK)
		default:
			c.K = append(c.K, last.Index[p.s.attrOf(col)])
		}
	}
	raw, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(raw)
}

func (p queryPlan) decodeCursor(s string) ([]string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: not base64url", table.ErrBadCursor)
	}
	var c cursor
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("%w: not JSON", table.ErrBadCursor)
	}
	if c.F != p.fingerprint {
		return nil, fmt.Errorf("%w: from another query", table.ErrBadCursor)
	}
	if len(c.K) != len(p.order) {
		return nil, fmt.Errorf("%w: wrong position", table.ErrBadCursor)
	}
	return c.K, nil
}

// attrOf is the attribute name of a column.
func (s *Store) attrOf(col string) string {
	for a, c := range s.known {
		if c == col {
			return a
		}
	}
	return ""
}
