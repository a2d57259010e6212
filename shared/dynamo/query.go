package dynamo

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lantau-hq/lantau/shared/table"
)

// defaultLimit is the page size of a query without a Limit.
const defaultLimit = 100

// Query reads one page of a partition of the table or of an index. Expired
// items are filtered out by DynamoDB (FilterExpression), which applies the
// filter after its Limit; Query asks again until the page is full, and asks
// for one item more than the page holds so that the last page carries no
// cursor (as the embedded store's pages).
func (s *Store) Query(ctx context.Context, q table.Query) (table.Page, error) {
	page, err := s.query(ctx, q)
	if err != nil {
		return table.Page{}, fmt.Errorf("dynamo: query %q/%q/%q: %w", q.Tenant, q.Index, q.PK, err)
	}
	return page, nil
}

func (s *Store) query(ctx context.Context, q table.Query) (table.Page, error) {
	p, err := s.plan(q)
	if err != nil {
		return table.Page{}, err
	}
	var start map[string]types.AttributeValue
	if q.Cursor != "" {
		if start, err = p.decodeCursor(q.Cursor); err != nil {
			return table.Page{}, err
		}
	}
	if err := ctx.Err(); err != nil {
		return table.Page{}, err
	}
	if p.empty {
		return table.Page{}, nil
	}
	limit := q.Limit
	if limit == 0 {
		limit = defaultLimit
	}
	want := limit + 1

	names := map[string]string{"#pk": p.pkAttr, "#ttl": s.ttl}
	values := map[string]types.AttributeValue{
		":pk":  &types.AttributeValueMemberS{Value: tenantPrefix(q.Tenant) + q.PK},
		":now": &types.AttributeValueMemberN{Value: fmt.Sprint(s.now())},
	}
	keyCond := "#pk = :pk"
	if p.sortOp != table.SortAny {
		names["#sk"] = p.skAttr
		values[":a"] = &types.AttributeValueMemberS{Value: p.value}
		switch p.sortOp {
		case table.SortEq:
			keyCond += " AND #sk = :a"
		case table.SortBeginsWith:
			keyCond += " AND begins_with(#sk, :a)"
		case table.SortBetween:
			keyCond += " AND #sk BETWEEN :a AND :b"
			values[":b"] = &types.AttributeValueMemberS{Value: p.value2}
		case table.SortLT:
			keyCond += " AND #sk < :a"
		case table.SortLE:
			keyCond += " AND #sk <= :a"
		case table.SortGT:
			keyCond += " AND #sk > :a"
		case table.SortGE:
			keyCond += " AND #sk >= :a"
		}
	}
	in := &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String(keyCond),
		FilterExpression:          aws.String("attribute_not_exists(#ttl) OR #ttl > :now"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
		ScanIndexForward:          aws.Bool(!q.Reverse),
		ReturnConsumedCapacity:    s.capacity(),
	}
	if q.Index != "" {
		in.IndexName = aws.String(q.Index) // index reads are eventually consistent
	} else {
		in.ConsistentRead = aws.Bool(true)
	}

	var (
		items []table.Item
		used  consumed
	)
	defer func() { s.reportTotal("Query", used) }()
	for {
		in.Limit = aws.Int32(int32(want - len(items)))
		in.ExclusiveStartKey = start
		out, err := s.client.Query(ctx, in)
		if err != nil {
			return table.Page{}, mapErr(ctx, err)
		}
		used.add(out.ConsumedCapacity, false)
		for _, av := range out.Items {
			it, err := s.decode(q.Tenant, av)
			if err != nil {
				return table.Page{}, err
			}
			items = append(items, it)
		}
		if len(items) >= want || out.LastEvaluatedKey == nil {
			break
		}
		start = out.LastEvaluatedKey
	}
	page := table.Page{Items: items}
	if len(items) > limit {
		page.Items = items[:limit]
		page.Cursor = p.encodeCursor(page.Items[limit-1])
	}
	return page, nil
}

// queryPlan is what a query reads and the fingerprint its cursors carry.
type queryPlan struct {
	s              *Store
	tenant, pk     string
	index          bool
	pkAttr, skAttr string
	sortOp         table.SortOp
	value, value2  string
	empty          bool // the condition matches nothing: no need to ask
	fingerprint    string
}

func (s *Store) plan(q table.Query) (queryPlan, error) {
	switch {
	case q.Tenant == "" || q.PK == "":
		return queryPlan{}, fmt.Errorf("tenant and PK are required: %w", table.ErrInvalid)
	case !utf8.ValidString(q.Tenant) || !utf8.ValidString(q.PK) || !utf8.ValidString(q.Value) || !utf8.ValidString(q.Value2):
		return queryPlan{}, fmt.Errorf("not UTF-8: %w", table.ErrInvalid)
	case q.Limit < 0 || q.Limit > table.MaxQueryLimit:
		return queryPlan{}, fmt.Errorf("limit %d, want 0 to %d: %w", q.Limit, table.MaxQueryLimit, table.ErrInvalid)
	case q.SortOp > table.SortGE:
		return queryPlan{}, fmt.Errorf("sort op %d: %w", q.SortOp, table.ErrInvalid)
	case q.SortOp == table.SortBetween && q.Value > q.Value2:
		return queryPlan{}, fmt.Errorf("between %q and %q: %w", q.Value, q.Value2, table.ErrInvalid)
	}
	p := queryPlan{s: s, tenant: q.Tenant, pk: q.PK, pkAttr: s.schema.PK, skAttr: s.schema.SK,
		sortOp: q.SortOp, value: q.Value, value2: q.Value2}
	if q.Index != "" {
		ix, ok := s.index[q.Index]
		if !ok {
			return queryPlan{}, fmt.Errorf("no index %q: %w", q.Index, table.ErrInvalid)
		}
		p.index, p.pkAttr, p.skAttr = true, ix.PK, ix.SK
		if ix.SK == "" && q.SortOp != table.SortAny {
			return queryPlan{}, fmt.Errorf("index %q has no sort key: %w", q.Index, table.ErrInvalid)
		}
	}
	// DynamoDB refuses empty strings in key conditions; every stored sort
	// key is non-empty, so an empty value has a plain meaning.
	switch {
	case p.sortOp == table.SortAny:
	case p.sortOp == table.SortBetween && p.value == "" && p.value2 == "":
		p.empty = true
	case p.sortOp == table.SortBetween && p.value == "":
		p.sortOp, p.value = table.SortLE, p.value2
	case p.value != "":
	case p.sortOp == table.SortBeginsWith || p.sortOp == table.SortGT || p.sortOp == table.SortGE:
		p.sortOp = table.SortAny
	default: // Eq, LT, LE ""
		p.empty = true
	}
	// The fingerprint: what the query asks, with values it ignores cleared.
	v1, v2 := q.Value, q.Value2
	if q.SortOp == table.SortAny {
		v1 = ""
	}
	if q.SortOp != table.SortBetween {
		v2 = ""
	}
	raw, _ := json.Marshal([]any{"lantau-dynamo-cursor-1", q.Tenant, q.Index, q.PK, q.SortOp, v1, v2, q.Reverse})
	sum := sha256.Sum256(raw)
	p.fingerprint = base64.RawURLEncoding.EncodeToString(sum[:12])
	return p, nil
}

// cursor is the JSON inside a cursor: the query's fingerprint and the last
// returned item's LastEvaluatedKey as plain strings without tenant prefixes
// (table: [SK]; index: [index SK, PK, SK]). Decoding puts the prefixes back
// from the query itself, so a cursor can never lead into another tenant.
type cursor struct {
	F string   `json:"f"`
	K []string `json:"k"`
}

func (p queryPlan) encodeCursor(last table.Item) string {
	c := cursor{F: p.fingerprint}
	if p.index {
		if p.skAttr != "" {
			c.K = append(c.K, last.Index[p.skAttr])
		}
		c.K = append(c.K, last.PK)
	}
	c.K = append(c.K, last.SK)
	raw, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(raw)
}

func (p queryPlan) decodeCursor(s string) (map[string]types.AttributeValue, error) {
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
	want := 1
	if p.index {
		want = 2
		if p.skAttr != "" {
			want = 3
		}
	}
	if len(c.K) != want {
		return nil, fmt.Errorf("%w: wrong position", table.ErrBadCursor)
	}
	for _, v := range c.K {
		if v == "" || !utf8.ValidString(v) {
			return nil, fmt.Errorf("%w: wrong position", table.ErrBadCursor)
		}
	}
	s2 := p.s.schema
	prefix := tenantPrefix(p.tenant)
	str := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	key := map[string]types.AttributeValue{s2.SK: str(c.K[want-1])}
	if !p.index {
		key[s2.PK] = str(prefix + p.pk)
		return key, nil
	}
	key[s2.PK] = str(prefix + c.K[want-2])
	key[p.pkAttr] = str(prefix + p.pk)
	if p.skAttr != "" {
		key[p.skAttr] = str(c.K[0])
	}
	return key, nil
}
