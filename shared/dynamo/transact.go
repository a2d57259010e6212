package dynamo

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lantau-hq/lantau/shared/table"
)

// Transact applies ops all or nothing with one TransactWriteItems call. The
// request is checked here first (operation count, one action per op,
// distinct keys, item sizes) so that DynamoDB and the embedded store refuse
// the same requests with the same errors. A transaction cancelled by a
// conflicting one in flight is retried with backoff.
func (s *Store) Transact(ctx context.Context, ops []table.Op) error {
	if err := table.ValidateTransact(s.schema, ops); err != nil {
		return fmt.Errorf("dynamo: transact: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("dynamo: transact: %w", err)
	}
	var used consumed
	defer func() { s.reportTotal("Transact", used) }()
	for attempt := 0; ; attempt++ {
		out, err := s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
			TransactItems:          s.transactItems(ops), // conditions compare with the time of this attempt
			ReturnConsumedCapacity: s.capacity(),
		})
		if err == nil {
			for _, c := range out.ConsumedCapacity {
				used.add(&c, true)
			}
			return nil
		}
		err, retry := cancelled(err)
		if !retry || attempt >= maxAttempts {
			return fmt.Errorf("dynamo: transact: %w", mapErr(ctx, err))
		}
		if err := backoff(ctx, attempt+1); err != nil {
			return fmt.Errorf("dynamo: transact: %w", err)
		}
	}
}

func (s *Store) transactItems(ops []table.Op) []types.TransactWriteItem {
	items := make([]types.TransactWriteItem, len(ops))
	for i, op := range ops {
		c := s.condition(op.Condition)
		switch {
		case op.Put != nil:
			items[i].Put = &types.Put{TableName: &s.table, Item: s.encode(*op.Put),
				ConditionExpression: c.expr, ExpressionAttributeNames: c.names, ExpressionAttributeValues: c.values}
		case op.Delete != nil:
			items[i].Delete = &types.Delete{TableName: &s.table, Key: s.key(*op.Delete),
				ConditionExpression: c.expr, ExpressionAttributeNames: c.names, ExpressionAttributeValues: c.values}
		default:
			items[i].ConditionCheck = &types.ConditionCheck{TableName: &s.table, Key: s.key(*op.Check),
				ConditionExpression: c.expr, ExpressionAttributeNames: c.names, ExpressionAttributeValues: c.values}
		}
	}
	return items
}

// cancelled reads a TransactionCanceledException: the first operation whose
// condition failed becomes a *table.TxError; a cancellation due only to
// conflicting transactions may be retried; a validation error names its
// operation. Other errors pass through.
func cancelled(err error) (error, bool) {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		var tip *types.TransactionInProgressException
		return err, errors.As(err, &tip)
	}
	retry := false
	for i, r := range tce.CancellationReasons {
		switch aws.ToString(r.Code) {
		case "ConditionalCheckFailed":
			return &table.TxError{Index: i, Err: fmt.Errorf("%w: %w", table.ErrConditionFailed, err)}, false
		case "ValidationError":
			kind := table.ErrInvalid
			if tooLarge(aws.ToString(r.Message)) {
				kind = table.ErrTooLarge
			}
			return fmt.Errorf("operation %d: %w: %s: %w", i, kind, aws.ToString(r.Message), err), false
		case "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded":
			retry = true
		}
	}
	return err, retry
}
