package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/lantau-hq/lantau/shared/table"
)

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
		if after, err = table.DecodeCursor(s.schema, q); err != nil {
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
	limit := q.PageSize()
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
		page.Cursor = table.EncodeCursor(s.schema, q, page.Items[limit-1])
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

// queryPlan is the columns a query reads.
type queryPlan struct {
	gsi            bool
	pkCol, sortCol string
	order          []string // the columns of the sort order: a cursor's position
}

func (s *Store) plan(q table.Query) (queryPlan, error) {
	if err := table.ValidateQuery(s.schema, q); err != nil {
		return queryPlan{}, err
	}
	p := queryPlan{pkCol: "pk", sortCol: "sk", order: []string{"sk"}}
	if q.Index != "" {
		g := s.index[q.Index]
		p.gsi, p.pkCol, p.sortCol, p.order = true, g.pkCol, g.skCol, []string{g.skCol, "pk", "sk"}
		if g.skCol == "" {
			p.order = []string{"pk", "sk"}
		}
	}
	return p, nil
}
