package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/lantau-hq/lantau/shared/table"
)

// key is the stored primary key of k.
func (s *Store) key(k table.Key) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		s.schema.PK: &types.AttributeValueMemberS{Value: table.TenantPrefix(k.Tenant) + k.PK},
		s.schema.SK: &types.AttributeValueMemberS{Value: k.SK},
	}
}

// encode is the stored item.
func (s *Store) encode(it table.Item) map[string]types.AttributeValue {
	prefix := table.TenantPrefix(it.Tenant)
	m := make(map[string]types.AttributeValue, 5+len(it.Index))
	m[s.schema.PK] = &types.AttributeValueMemberS{Value: prefix + it.PK}
	m[s.schema.SK] = &types.AttributeValueMemberS{Value: it.SK}
	m[attrVersion] = &types.AttributeValueMemberN{Value: strconv.FormatInt(it.Version, 10)}
	if it.ExpiresAt != 0 {
		m[s.ttl] = &types.AttributeValueMemberN{Value: strconv.FormatInt(it.ExpiresAt, 10)}
	}
	if len(it.Data) > 0 {
		m[attrData] = &types.AttributeValueMemberB{Value: it.Data}
	}
	for a, v := range it.Index {
		if s.known[a].partition {
			v = prefix + v
		}
		m[a] = &types.AttributeValueMemberS{Value: v}
	}
	return m
}

// decode reads a stored item of tenant, removing the tenant prefixes.
func (s *Store) decode(tenant string, m map[string]types.AttributeValue) (table.Item, error) {
	prefix := table.TenantPrefix(tenant)
	var it table.Item
	it.Tenant = tenant
	var err error
	str := func(name string, partition bool) (string, bool) {
		av, ok := m[name]
		if !ok {
			return "", false
		}
		sv, ok := av.(*types.AttributeValueMemberS)
		if !ok {
			err = errors.Join(err, fmt.Errorf("attribute %s is not a string", name))
			return "", false
		}
		if !partition {
			return sv.Value, true
		}
		v, ok := strings.CutPrefix(sv.Value, prefix)
		if !ok {
			err = errors.Join(err, fmt.Errorf("attribute %s of another tenant", name))
		}
		return v, ok
	}
	num := func(name string) int64 {
		av, ok := m[name]
		if !ok {
			return 0
		}
		nv, ok := av.(*types.AttributeValueMemberN)
		if !ok {
			err = errors.Join(err, fmt.Errorf("attribute %s is not a number", name))
			return 0
		}
		n, perr := strconv.ParseInt(nv.Value, 10, 64)
		if perr != nil {
			err = errors.Join(err, fmt.Errorf("attribute %s: %w", name, perr))
		}
		return n
	}
	it.PK, _ = str(s.schema.PK, true)
	it.SK, _ = str(s.schema.SK, false)
	it.Version = num(attrVersion)
	it.ExpiresAt = num(s.ttl)
	if av, ok := m[attrData]; ok {
		bv, ok := av.(*types.AttributeValueMemberB)
		if !ok {
			err = errors.Join(err, fmt.Errorf("attribute %s is not binary", attrData))
		} else {
			it.Data = bv.Value
		}
	}
	for a, ka := range s.known {
		if v, ok := str(a, ka.partition); ok {
			if it.Index == nil {
				it.Index = make(map[string]string, len(s.known))
			}
			it.Index[a] = v
		}
	}
	if err != nil {
		return table.Item{}, fmt.Errorf("stored item %s/%s: %w", it.PK, it.SK, err)
	}
	return it, nil
}

// physicalKey identifies a stored item by its primary key values.
type physicalKey struct{ pk, sk string }

func (s *Store) physical(m map[string]types.AttributeValue) physicalKey {
	var k physicalKey
	if v, ok := m[s.schema.PK].(*types.AttributeValueMemberS); ok {
		k.pk = v.Value
	}
	if v, ok := m[s.schema.SK].(*types.AttributeValueMemberS); ok {
		k.sk = v.Value
	}
	return k
}

// mapErr turns DynamoDB's errors into the port's kinds, keeping the
// original in the chain.
func mapErr(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		return fmt.Errorf("%w: %w", ctxErr, err)
	}
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return fmt.Errorf("%w: %w", table.ErrConditionFailed, err)
	}
	var api smithy.APIError
	if errors.As(err, &api) && api.ErrorCode() == "ValidationException" {
		if tooLarge(api.ErrorMessage()) {
			return fmt.Errorf("%w: %w", table.ErrTooLarge, err)
		}
		return fmt.Errorf("%w: %w", table.ErrInvalid, err)
	}
	return err
}

// tooLarge recognises DynamoDB's size refusals: "Item size has exceeded the
// maximum allowed size", "Item size to update has exceeded ...",
// "Transaction request cannot be larger than 4 MB".
func tooLarge(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "item size") && strings.Contains(m, "exceeded") ||
		strings.Contains(m, "cannot be larger than")
}
