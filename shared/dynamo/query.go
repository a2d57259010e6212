package dynamo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lantau-hq/lantau/shared/table"
)

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
		pos, err := table.DecodeCursor(s.schema, q)
		if err != nil {
			return table.Page{}, err
		}
		start = p.startKey(pos)
	}
	if err := ctx.Err(); err != nil {
		return table.Page{}, err
	}
	if p.empty {
		return table.Page{}, nil
	}
	limit := q.PageSize()
	want := limit + 1

	names := map[string]string{"#pk": p.pkAttr, "#ttl": s.ttl}
	values := map[string]types.AttributeValue{
		":pk":  &types.AttributeValueMemberS{Value: table.TenantPrefix(q.Tenant) + q.PK},
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
		page.Cursor = table.EncodeCursor(s.schema, q, page.Items[limit-1])
	}
	return page, nil
}

// queryPlan is what a query reads.
type queryPlan struct {
	s              *Store
	tenant, pk     string
	index          bool
	pkAttr, skAttr string
	sortOp         table.SortOp
	value, value2  string
	empty          bool // the condition matches nothing: no need to ask
}

func (s *Store) plan(q table.Query) (queryPlan, error) {
	if err := table.ValidateQuery(s.schema, q); err != nil {
		return queryPlan{}, err
	}
	p := queryPlan{s: s, tenant: q.Tenant, pk: q.PK, pkAttr: s.schema.PK, skAttr: s.schema.SK,
		sortOp: q.SortOp, value: q.Value, value2: q.Value2}
	if q.Index != "" {
		ix, _ := s.schema.Index(q.Index)
		p.index, p.pkAttr, p.skAttr = true, ix.PK, ix.SK
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
	return p, nil
}

// startKey is the ExclusiveStartKey of a cursor's position (table.DecodeCursor),
// with the tenant prefixes put back from the query itself.
func (p queryPlan) startKey(pos []string) map[string]types.AttributeValue {
	sc := p.s.schema
	prefix := table.TenantPrefix(p.tenant)
	str := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	n := len(pos)
	key := map[string]types.AttributeValue{sc.SK: str(pos[n-1])}
	if !p.index {
		key[sc.PK] = str(prefix + p.pk)
		return key
	}
	key[sc.PK] = str(prefix + pos[n-2])
	key[p.pkAttr] = str(prefix + p.pk)
	if p.skAttr != "" {
		key[p.skAttr] = str(pos[0])
	}
	return key
}
