// Package dynamo is the DynamoDB implementation of the table port. It keeps
// one physical item per table.Item in the single table template.yaml
// declares:
//
//	PK      S  "<tenant>#<PK>"    (the tenant prefix makes other companies' keys unreachable)
//	SK      S  "<SK>"
//	GSI1PK  S  "<tenant>#<value>" (each index's partition key, prefixed the same way)
//	GSI1SK  S  "<value>"
//	v       N  version
//	ttl     N  ExpiresAt, only when set (DynamoDB's TTL deletes the item some time later)
//	data    B  the owner's document, only when not empty
//
// Expired items are treated as absent everywhere (reads, conditions, queries)
// because TTL deletion lags by up to days.
package dynamo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lantau-hq/lantau/shared/table"
)

// API is the part of the DynamoDB client the store calls
// (*dynamodb.Client satisfies it).
type API interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

var _ table.Store = (*Store)(nil)

// Attribute names the schema does not choose.
const (
	attrVersion = "v"
	attrData    = "data"
	defaultTTL  = "ttl"
)

// Store is table.Store on one DynamoDB table. It is safe for concurrent use;
// set its fields before the first call.
type Store struct {
	client API
	table  string
	schema table.Schema
	ttl    string
	known  map[string]keyAttr // index key attributes by name

	// OnConsumed, when set, receives the capacity DynamoDB reports
	// (ReturnConsumedCapacity TOTAL) for each call of the port: op is
	// "Get", "BatchGet", "Put", "Delete", "Query" or "Transact"; retries
	// and follow-up pages are summed into the one call. A write refused by
	// its condition reports nothing (DynamoDB's error does not say).
	OnConsumed func(op string, wcu, rcu float64)
	// Now is the clock that decides expiry (time.Now when nil).
	Now func() time.Time
}

type keyAttr struct {
	partition bool // an index's partition key (stored with the tenant prefix)
}

// New returns a store on tableName, laid out as schema (table.Lantau for
// template.yaml's table).
func New(client API, tableName string, schema table.Schema) *Store {
	s := &Store{
		client: client, table: tableName, schema: schema, ttl: schema.TTL,
		known: map[string]keyAttr{},
	}
	if s.ttl == "" {
		s.ttl = defaultTTL
	}
	for _, ix := range schema.Indexes {
		s.known[ix.PK] = keyAttr{partition: true}
		if ix.SK != "" {
			s.known[ix.SK] = keyAttr{}
		}
	}
	return s
}

// Get reads one unexpired item.
func (s *Store) Get(ctx context.Context, key table.Key) (table.Item, error) {
	if err := table.ValidateKey(key); err != nil {
		return table.Item{}, fmt.Errorf("dynamo: get: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return table.Item{}, fmt.Errorf("dynamo: get: %w", err)
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:              &s.table,
		Key:                    s.key(key),
		ConsistentRead:         aws.Bool(true),
		ReturnConsumedCapacity: s.capacity(),
	})
	if err != nil {
		return table.Item{}, fmt.Errorf("dynamo: get %s: %w", table.KeyString(key), mapErr(ctx, err))
	}
	s.report("Get", out.ConsumedCapacity)
	if out.Item == nil {
		return table.Item{}, fmt.Errorf("dynamo: get %s: %w", table.KeyString(key), table.ErrNotFound)
	}
	it, err := s.decode(key.Tenant, out.Item)
	if err != nil {
		return table.Item{}, fmt.Errorf("dynamo: get %s: %w", table.KeyString(key), err)
	}
	if s.expired(it.ExpiresAt) {
		return table.Item{}, fmt.Errorf("dynamo: get %s: %w", table.KeyString(key), table.ErrNotFound)
	}
	return it, nil
}

// BatchGet reads up to MaxBatchGetKeys items with strongly consistent
// BatchGetItem calls, retrying unprocessed keys with backoff, and returns
// the unexpired ones found in the order of keys.
func (s *Store) BatchGet(ctx context.Context, keys []table.Key) ([]table.Item, error) {
	if err := table.ValidateBatchGet(keys); err != nil {
		return nil, fmt.Errorf("dynamo: batch get: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("dynamo: batch get: %w", err)
	}
	if len(keys) == 0 {
		return nil, nil
	}
	var used consumed
	defer func() { s.reportTotal("BatchGet", used) }()
	found := make(map[physicalKey]table.Item, len(keys))
	for start := 0; start < len(keys); start += table.MaxBatchGetKeys { // one chunk today; kept general
		chunk := keys[start:min(len(keys), start+table.MaxBatchGetKeys)]
		byKey := make(map[physicalKey]table.Key, len(chunk))
		request := make([]map[string]types.AttributeValue, 0, len(chunk))
		for _, k := range chunk {
			pk := s.key(k)
			byKey[s.physical(pk)] = k
			request = append(request, pk)
		}
		pending := map[string]types.KeysAndAttributes{s.table: {Keys: request, ConsistentRead: aws.Bool(true)}}
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt > 0 {
				if err := backoff(ctx, attempt); err != nil {
					return nil, fmt.Errorf("dynamo: batch get: %w", err)
				}
			}
			out, err := s.client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
				RequestItems: pending, ReturnConsumedCapacity: s.capacity(),
			})
			if err != nil {
				return nil, fmt.Errorf("dynamo: batch get: %w", mapErr(ctx, err))
			}
			for _, c := range out.ConsumedCapacity {
				used.add(&c, false)
			}
			for _, av := range out.Responses[s.table] {
				k, ok := byKey[s.physical(av)]
				if !ok {
					return nil, fmt.Errorf("dynamo: batch get: DynamoDB returned a key that was not asked for")
				}
				it, err := s.decode(k.Tenant, av)
				if err != nil {
					return nil, fmt.Errorf("dynamo: batch get: %w", err)
				}
				if !s.expired(it.ExpiresAt) {
					found[s.physical(av)] = it
				}
			}
			pending = out.UnprocessedKeys
			if attempt >= maxAttempts && len(pending) > 0 {
				return nil, fmt.Errorf("dynamo: batch get: keys still unprocessed after %d attempts", attempt+1)
			}
		}
	}
	items := make([]table.Item, 0, len(found))
	for _, k := range keys {
		if it, ok := found[s.physical(s.key(k))]; ok {
			items = append(items, it)
		}
	}
	return items, nil
}

// Put writes item if cond holds.
func (s *Store) Put(ctx context.Context, item table.Item, cond table.Condition) error {
	if err := table.ValidateItem(s.schema, item); err != nil {
		return fmt.Errorf("dynamo: put: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("dynamo: put: %w", err)
	}
	var used consumed
	defer func() { s.reportTotal("Put", used) }()
	err := retryConflicts(ctx, func() error {
		c := s.condition(cond)
		out, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:                 &s.table,
			Item:                      s.encode(item),
			ConditionExpression:       c.expr,
			ExpressionAttributeNames:  c.names,
			ExpressionAttributeValues: c.values,
			ReturnConsumedCapacity:    s.capacity(),
		})
		if err == nil {
			used.add(out.ConsumedCapacity, true)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("dynamo: put %s: %w", table.KeyString(item.Key), mapErr(ctx, err))
	}
	return nil
}

// Delete removes key if cond holds; deleting a missing key is no error.
func (s *Store) Delete(ctx context.Context, key table.Key, cond table.Condition) error {
	if err := table.ValidateKey(key); err != nil {
		return fmt.Errorf("dynamo: delete: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("dynamo: delete: %w", err)
	}
	var used consumed
	defer func() { s.reportTotal("Delete", used) }()
	err := retryConflicts(ctx, func() error {
		c := s.condition(cond)
		out, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName:                 &s.table,
			Key:                       s.key(key),
			ConditionExpression:       c.expr,
			ExpressionAttributeNames:  c.names,
			ExpressionAttributeValues: c.values,
			ReturnConsumedCapacity:    s.capacity(),
		})
		if err == nil {
			used.add(out.ConsumedCapacity, true)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("dynamo: delete %s: %w", table.KeyString(key), mapErr(ctx, err))
	}
	return nil
}

// now is the current Unix time in seconds.
func (s *Store) now() int64 {
	if s.Now != nil {
		return s.Now().Unix()
	}
	return time.Now().Unix()
}

// expired says whether an item with this ExpiresAt is gone: its expiry has
// come (the embedded store's rule: alive while ExpiresAt > now).
func (s *Store) expired(expiresAt int64) bool {
	return expiresAt != 0 && expiresAt <= s.now()
}

// cond is a condition expression with its names and values.
type cond struct {
	expr   *string
	names  map[string]string
	values map[string]types.AttributeValue
}

// condition turns a table.Condition into a ConditionExpression in which an
// expired item counts as absent.
func (s *Store) condition(c table.Condition) cond {
	const alive = "(attribute_not_exists(#ttl) OR #ttl > :now)"
	now := &types.AttributeValueMemberN{Value: strconv.FormatInt(s.now(), 10)}
	switch c.Kind() {
	case "not-exists":
		return cond{
			expr:   aws.String("attribute_not_exists(#pk) OR #ttl <= :now"),
			names:  map[string]string{"#pk": s.schema.PK, "#ttl": s.ttl},
			values: map[string]types.AttributeValue{":now": now},
		}
	case "exists":
		return cond{
			expr:   aws.String("attribute_exists(#pk) AND " + alive),
			names:  map[string]string{"#pk": s.schema.PK, "#ttl": s.ttl},
			values: map[string]types.AttributeValue{":now": now},
		}
	case "version":
		return cond{
			expr:  aws.String("#v = :v AND " + alive),
			names: map[string]string{"#v": attrVersion, "#ttl": s.ttl},
			values: map[string]types.AttributeValue{":now": now,
				":v": &types.AttributeValueMemberN{Value: strconv.FormatInt(c.Version(), 10)}},
		}
	}
	return cond{}
}

// capacity asks for consumed capacity only when someone reads it.
func (s *Store) capacity() types.ReturnConsumedCapacity {
	if s.OnConsumed == nil {
		return types.ReturnConsumedCapacityNone
	}
	return types.ReturnConsumedCapacityTotal
}

// consumed sums the capacity of the calls one port operation makes.
type consumed struct {
	wcu, rcu float64
	any      bool
}

// add counts one call's report. With TOTAL, DynamoDB may give only
// CapacityUnits; write says whether those are write or read units.
func (c *consumed) add(cc *types.ConsumedCapacity, write bool) {
	if cc == nil {
		return
	}
	c.any = true
	w, r := aws.ToFloat64(cc.WriteCapacityUnits), aws.ToFloat64(cc.ReadCapacityUnits)
	if w == 0 && r == 0 {
		if write {
			w = aws.ToFloat64(cc.CapacityUnits)
		} else {
			r = aws.ToFloat64(cc.CapacityUnits)
		}
	}
	c.wcu += w
	c.rcu += r
}

func (s *Store) report(op string, cc *types.ConsumedCapacity) {
	var c consumed
	c.add(cc, false)
	s.reportTotal(op, c)
}

func (s *Store) reportTotal(op string, c consumed) {
	if s.OnConsumed != nil && c.any {
		s.OnConsumed(op, c.wcu, c.rcu)
	}
}

// maxAttempts bounds retries of unprocessed keys and transaction conflicts.
const maxAttempts = 10

// backoff sleeps before retry attempt n (1, 2, ...): 10 ms doubling up to
// 1 s, with full jitter.
func backoff(ctx context.Context, n int) error {
	d := min(time.Second, 10*time.Millisecond<<min(n-1, 10))
	t := time.NewTimer(rand.N(d) + time.Millisecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// retryConflicts retries a single-item write that collided with a
// transaction in flight on the same item (TransactionConflictException).
func retryConflicts(ctx context.Context, call func() error) error {
	for attempt := 0; ; attempt++ {
		err := call()
		var conflict *types.TransactionConflictException
		if err == nil || !errors.As(err, &conflict) || attempt >= maxAttempts {
			return err
		}
		if err := backoff(ctx, attempt+1); err != nil {
			return err
		}
	}
}
