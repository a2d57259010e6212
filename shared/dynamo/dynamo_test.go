package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/infra/dynamolocal"
	"github.com/lantau-hq/lantau/shared/dynamo"
	"github.com/lantau-hq/lantau/shared/table"
	"github.com/lantau-hq/lantau/shared/table/tabletest"
)

// ddb is the package's one DynamoDB Local, started by the first test that needs it.
var ddb dynamolocal.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	if err := ddb.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}

// newStore is a store on a fresh table made from template.yaml.
func newStore(t testing.TB) (*dynamo.Store, *dynamolocal.Local, string) {
	t.Helper()
	l := ddb.Get(t)
	name := l.NewTable(t)
	return dynamo.New(l.Client(), name, table.Lantau), l, name
}

func TestStore_Conformance(t *testing.T) {
	s, _, _ := newStore(t) // one table: every subtest works in tenants of its own
	tabletest.Run(t, func(t *testing.T) table.Store { return s })
}

func TestStore_StoresTenantPrefixedKeys(t *testing.T) {
	s, l, name := newStore(t)
	ctx := t.Context()
	it := table.Item{Key: table.Key{Tenant: "t-acme", PK: "USER#u-1", SK: "PROFILE"}, Version: 3, ExpiresAt: 1893456000,
		Index: map[string]string{"GSI1PK": "EMAIL#chan@acme.com.hk", "GSI1SK": "USER#u-1"}, Data: []byte(`{"a":1}`)}
	require.NoError(t, s.Put(ctx, it, table.Always))

	tricky := table.Item{Key: table.Key{Tenant: "t-acme#USER", PK: "u-1", SK: "PROFILE"}, Version: 1}
	require.NoError(t, s.Put(ctx, tricky, table.IfNotExists), "a separator in the tenant is escaped, not refused")

	out, err := l.Client().Scan(ctx, &dynamodb.ScanInput{TableName: &name})
	require.NoError(t, err)
	byPK := map[string]map[string]types.AttributeValue{}
	for _, av := range out.Items {
		byPK[av["PK"].(*types.AttributeValueMemberS).Value] = av
	}
	require.Contains(t, byPK, "t-acme#USER#u-1")
	require.Contains(t, byPK, "t-acme%23USER#u-1")
	stored := byPK["t-acme#USER#u-1"]
	assert.Equal(t, map[string]types.AttributeValue{
		"PK":     &types.AttributeValueMemberS{Value: "t-acme#USER#u-1"},
		"SK":     &types.AttributeValueMemberS{Value: "PROFILE"},
		"GSI1PK": &types.AttributeValueMemberS{Value: "t-acme#EMAIL#chan@acme.com.hk"},
		"GSI1SK": &types.AttributeValueMemberS{Value: "USER#u-1"},
		"v":      &types.AttributeValueMemberN{Value: "3"},
		"ttl":    &types.AttributeValueMemberN{Value: "1893456000"},
		"data":   &types.AttributeValueMemberB{Value: []byte(`{"a":1}`)},
	}, stored)
}

// capacityLog collects OnConsumed reports.
type capacityLog struct {
	mu  sync.Mutex
	ops []string
	wcu map[string]float64
	rcu map[string]float64
}

func (c *capacityLog) hook(op string, wcu, rcu float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.wcu == nil {
		c.wcu, c.rcu = map[string]float64{}, map[string]float64{}
	}
	c.ops = append(c.ops, op)
	c.wcu[op] += wcu
	c.rcu[op] += rcu
}

func TestStore_ReportsConsumedCapacity(t *testing.T) {
	s, _, _ := newStore(t)
	var log capacityLog
	s.OnConsumed = log.hook
	ctx := t.Context()
	key := table.Key{Tenant: "t-acme", PK: "USER#u-1", SK: "PROFILE"}
	small := table.Item{Key: key, Version: 1, Data: []byte(`{}`)}
	big := table.Item{Key: key, Version: 2, Data: []byte(strings.Repeat("x", 2500))} // 3 KB: 3 WCU

	require.NoError(t, s.Put(ctx, small, table.IfNotExists))
	require.NoError(t, s.Put(ctx, big, table.IfVersion(1)))
	_, err := s.Get(ctx, key)
	require.NoError(t, err)
	_, err = s.Query(ctx, table.Query{Tenant: "t-acme", PK: "USER#u-1"})
	require.NoError(t, err)
	other := table.Item{Key: table.Key{Tenant: "t-acme", PK: "USER#u-1", SK: "OTHER"}, Version: 1}
	require.NoError(t, s.Transact(ctx, []table.Op{{Put: &other, Condition: table.IfNotExists}, {Check: &key, Condition: table.IfVersion(2)}}))
	require.NoError(t, s.Delete(ctx, key, table.Always))

	assert.Equal(t, []string{"Put", "Put", "Get", "Query", "Transact", "Delete"}, log.ops)
	t.Logf("WCU %v RCU %v", log.wcu, log.rcu)
	// DynamoDB's rules: a write costs 1 WCU per KB of the larger of the old
	// and new item; a strongly consistent read 1 RCU per 4 KB; a transaction
	// twice as much per item, its checks included.
	assert.Equal(t, 1.0+3.0, log.wcu["Put"], "a 3 KB put: 3 WCU")
	assert.Equal(t, 1.0, log.rcu["Get"])
	assert.Greater(t, log.wcu["Transact"], 0.0)
	assert.Greater(t, log.wcu["Delete"], 0.0)

	s.OnConsumed = nil
	require.NoError(t, s.Put(ctx, small, table.Always), "no hook: no capacity asked")
}

func TestStore_RefusesClientSideWithoutCallingDynamoDB(t *testing.T) {
	calls := 0
	fake := &fakeAPI{called: func() { calls++ }}
	s := dynamo.New(fake, "unused", table.Lantau)
	ctx := t.Context()
	key := table.Key{Tenant: "t-acme", PK: "P", SK: "S"}
	huge := table.Item{Key: key, Data: make([]byte, table.MaxItemSize)}

	assert.ErrorIs(t, s.Put(ctx, huge, table.Always), table.ErrTooLarge)
	assert.ErrorIs(t, s.Transact(ctx, []table.Op{{Put: &huge}}), table.ErrTooLarge)
	assert.ErrorIs(t, s.Put(ctx, table.Item{Key: key, Index: map[string]string{"GSI9PK": "x"}}, table.Always), table.ErrInvalid)
	assert.ErrorIs(t, s.Put(ctx, table.Item{Key: key, Index: map[string]string{"GSI1PK": ""}}, table.Always), table.ErrInvalid)
	assert.ErrorIs(t, s.Put(ctx, table.Item{Key: table.Key{Tenant: "t", PK: "\xff", SK: "S"}}, table.Always), table.ErrInvalid)
	assert.ErrorIs(t, s.Put(ctx, table.Item{Key: table.Key{Tenant: "t", PK: strings.Repeat("p", 2047), SK: "S"}}, table.Always), table.ErrInvalid)
	ops := make([]table.Op, table.MaxTransactOps+1)
	for i := range ops {
		ops[i] = table.Op{Put: &table.Item{Key: table.Key{Tenant: "t", PK: "P", SK: fmt.Sprint(i)}}}
	}
	assert.ErrorIs(t, s.Transact(ctx, ops), table.ErrInvalid)
	assert.ErrorIs(t, s.Transact(ctx, nil), table.ErrInvalid)
	assert.ErrorIs(t, s.Transact(ctx, []table.Op{{Put: &table.Item{Key: key}}, {Delete: &key}}), table.ErrInvalid)
	_, err := s.Query(ctx, table.Query{Tenant: "t", PK: "P", Cursor: "e30"})
	assert.ErrorIs(t, err, table.ErrBadCursor)
	_, err = s.BatchGet(ctx, []table.Key{key, key})
	assert.ErrorIs(t, err, table.ErrInvalid)
	assert.Zero(t, calls, "nothing was sent")

	// Empty key values that DynamoDB would refuse have a plain meaning.
	for _, q := range []table.Query{
		{Tenant: "t", PK: "P", SortOp: table.SortEq},
		{Tenant: "t", PK: "P", SortOp: table.SortLT},
		{Tenant: "t", PK: "P", SortOp: table.SortBetween},
	} {
		page, err := s.Query(ctx, q)
		require.NoError(t, err)
		assert.Empty(t, page.Items)
	}
	assert.Zero(t, calls, "an empty answer needs no call")
}

func TestStore_MapsDynamoDBErrors(t *testing.T) {
	ctx := t.Context()
	key := table.Key{Tenant: "t-acme", PK: "P", SK: "S"}
	sizeErr := &apiError{code: "ValidationException", msg: "Item size has exceeded the maximum allowed size"}
	s := dynamo.New(&fakeAPI{err: sizeErr}, "t", table.Lantau)
	assert.ErrorIs(t, s.Put(ctx, table.Item{Key: key}, table.Always), table.ErrTooLarge, "DynamoDB's own size check")

	s = dynamo.New(&fakeAPI{err: &apiError{code: "ValidationException", msg: "One or more parameter values were invalid"}}, "t", table.Lantau)
	assert.ErrorIs(t, s.Put(ctx, table.Item{Key: key}, table.Always), table.ErrInvalid)

	s = dynamo.New(&fakeAPI{err: &types.ConditionalCheckFailedException{Message: aws.String("The conditional request failed")}}, "t", table.Lantau)
	assert.ErrorIs(t, s.Delete(ctx, key, table.IfExists), table.ErrConditionFailed)

	calls := 0
	conflictThenOK := &fakeAPI{called: func() { calls++ }, errs: []error{
		&types.TransactionCanceledException{CancellationReasons: []types.CancellationReason{{Code: aws.String("None")}, {Code: aws.String("TransactionConflict")}}},
		&types.TransactionCanceledException{CancellationReasons: []types.CancellationReason{{Code: aws.String("None")}, {Code: aws.String("TransactionConflict")}}},
	}}
	s = dynamo.New(conflictThenOK, "t", table.Lantau)
	other := table.Key{Tenant: "t-acme", PK: "P", SK: "T"}
	require.NoError(t, s.Transact(ctx, []table.Op{{Put: &table.Item{Key: key}}, {Delete: &other}}), "conflicts are retried")
	assert.Equal(t, 3, calls)

	s = dynamo.New(&fakeAPI{err: &types.TransactionCanceledException{CancellationReasons: []types.CancellationReason{
		{Code: aws.String("None")}, {Code: aws.String("ValidationError"), Message: aws.String("Item size has exceeded the maximum allowed size")}}}}, "t", table.Lantau)
	assert.ErrorIs(t, s.Transact(ctx, []table.Op{{Put: &table.Item{Key: key}}, {Delete: &other}}), table.ErrTooLarge)

	s = dynamo.New(&fakeAPI{err: &types.TransactionCanceledException{CancellationReasons: []types.CancellationReason{
		{Code: aws.String("None")}, {Code: aws.String("ConditionalCheckFailed")}}}}, "t", table.Lantau)
	err := s.Transact(ctx, []table.Op{{Put: &table.Item{Key: key}}, {Delete: &other, Condition: table.IfExists}})
	var txErr *table.TxError
	require.True(t, errors.As(err, &txErr))
	assert.Equal(t, 1, txErr.Index)
	assert.ErrorIs(t, err, table.ErrConditionFailed)
}

func TestStore_BatchGetRetriesUnprocessedKeys(t *testing.T) {
	s, l, name := newStore(t)
	ctx := t.Context()
	var keys []table.Key
	for i := range 5 {
		k := table.Key{Tenant: "t-acme", PK: "B", SK: fmt.Sprint(i)}
		keys = append(keys, k)
		require.NoError(t, s.Put(ctx, table.Item{Key: k, Version: int64(i)}, table.Always))
	}
	stingy := &stingyAPI{API: l.Client()}
	got, err := dynamo.New(stingy, name, table.Lantau).BatchGet(ctx, []table.Key{keys[4], keys[0], keys[2], {Tenant: "t-acme", PK: "B", SK: "missing"}})
	require.NoError(t, err)
	var sks []string
	for _, it := range got {
		sks = append(sks, it.SK)
	}
	assert.Equal(t, []string{"4", "0", "2"}, sks, "found items in key order")
	assert.Equal(t, 4, stingy.calls, "one key per call")
}

// stingyAPI lets BatchGetItem process one key per call and returns the
// rest as UnprocessedKeys, as DynamoDB does under load.
type stingyAPI struct {
	dynamo.API
	calls int
}

func (a *stingyAPI) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	a.calls++
	first := map[string]types.KeysAndAttributes{}
	rest := map[string]types.KeysAndAttributes{}
	for name, ka := range in.RequestItems {
		one := ka
		one.Keys = ka.Keys[:1]
		first[name] = one
		if len(ka.Keys) > 1 {
			more := ka
			more.Keys = ka.Keys[1:]
			rest[name] = more
		}
	}
	out, err := a.API.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: first}, opts...)
	if err != nil {
		return nil, err
	}
	out.UnprocessedKeys = rest
	return out, nil
}

// fakeAPI answers every call with err (or the next of errs, then success)
// and counts calls.
type fakeAPI struct {
	called func()
	err    error
	errs   []error
}

func (f *fakeAPI) next() error {
	if f.called != nil {
		f.called()
	}
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		return err
	}
	return f.err
}

func (f *fakeAPI) GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return &dynamodb.GetItemOutput{}, f.next()
}

func (f *fakeAPI) BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	return &dynamodb.BatchGetItemOutput{}, f.next()
}

func (f *fakeAPI) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return &dynamodb.PutItemOutput{}, f.next()
}

func (f *fakeAPI) DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return &dynamodb.DeleteItemOutput{}, f.next()
}

func (f *fakeAPI) Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return &dynamodb.QueryOutput{}, f.next()
}

func (f *fakeAPI) TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return &dynamodb.TransactWriteItemsOutput{}, f.next()
}

// apiError is a generic DynamoDB error such as ValidationException.
type apiError struct{ code, msg string }

func (e *apiError) Error() string                 { return e.code + ": " + e.msg }
func (e *apiError) ErrorCode() string             { return e.code }
func (e *apiError) ErrorMessage() string          { return e.msg }
func (e *apiError) ErrorFault() smithy.ErrorFault { return smithy.FaultClient }
