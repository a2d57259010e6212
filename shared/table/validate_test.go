package table

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCursor_RoundTripsThePositionOfEachQueryShape(t *testing.T) {
	schema := Schema{PK: "PK", SK: "SK", Indexes: []IndexSchema{
		{Name: "GSI1", PK: "GSI1PK", SK: "GSI1SK"}, {Name: "BYPK", PK: "GSI2PK"}}}
	last := Item{Key: Key{Tenant: "t", PK: "p", SK: "s"}, Index: map[string]string{"GSI1PK": "g", "GSI1SK": "gs", "GSI2PK": "h"}}
	for _, tc := range []struct {
		q    Query
		want []string
	}{
		{Query{Tenant: "t", PK: "p"}, []string{"s"}},
		{Query{Tenant: "t", Index: "GSI1", PK: "g", SortOp: SortGT, Value: "a"}, []string{"gs", "p", "s"}},
		{Query{Tenant: "t", Index: "BYPK", PK: "h", Reverse: true}, []string{"p", "s"}},
	} {
		require.NoError(t, ValidateQuery(schema, tc.q))
		tc.q.Cursor = EncodeCursor(schema, tc.q, last)
		pos, err := DecodeCursor(schema, tc.q)
		require.NoError(t, err)
		assert.Equal(t, tc.want, pos)
	}
}

func TestDecodeCursor_RefusesForgedPositions(t *testing.T) {
	q := Query{Tenant: "t", PK: "p", SortOp: SortBeginsWith, Value: "a"}
	for _, k := range [][]string{{""}, {"a", "b"}, nil} {
		raw, err := json.Marshal(cursor{F: fingerprint(q), K: k})
		require.NoError(t, err)
		q.Cursor = base64.RawURLEncoding.EncodeToString(raw)
		_, err = DecodeCursor(Lantau, q)
		assert.ErrorIs(t, err, ErrBadCursor, "%q", k)
	}
}

func TestFingerprint_IgnoresValuesTheSortOpDoesNotRead(t *testing.T) {
	q := Query{Tenant: "t", PK: "p"}
	assert.Equal(t, fingerprint(q), fingerprint(Query{Tenant: "t", PK: "p", Value: "x", Value2: "y"}))
	q.SortOp, q.Value = SortGE, "a"
	assert.Equal(t, fingerprint(q), fingerprint(Query{Tenant: "t", PK: "p", SortOp: SortGE, Value: "a", Value2: "y"}))
	assert.NotEqual(t, fingerprint(q), fingerprint(Query{Tenant: "t", PK: "p", SortOp: SortGE, Value: "b"}))
}

func TestValidateKey_CountsTheEscapedTenant(t *testing.T) {
	fits := Key{Tenant: "a#b", PK: strings.Repeat("p", MaxPartitionKey-len(TenantPrefix("a#b"))), SK: "s"}
	assert.NoError(t, ValidateKey(fits))
	fits.PK += "p"
	assert.ErrorIs(t, ValidateKey(fits), ErrInvalid)
	assert.Equal(t, "a%23b%2525#", TenantPrefix("a#b%25"))
}

func TestValidateItem_UsesTheSortKeyLimitForAnyIndexSortAttribute(t *testing.T) {
	schema := Schema{PK: "PK", SK: "SK", Indexes: []IndexSchema{{Name: "A", PK: "X", SK: "Y"}, {Name: "B", PK: "Y"}}}
	it := Item{Key: Key{Tenant: "t", PK: "p", SK: "s"}, Index: map[string]string{"Y": strings.Repeat("y", MaxSortKey)}}
	assert.ErrorIs(t, ValidateItem(schema, it), ErrInvalid)
	it.Index["Y"] = strings.Repeat("y", MaxSortKey-len("t#"))
	assert.NoError(t, ValidateItem(schema, it))
	it.Index["Z"] = "z"
	assert.ErrorIs(t, ValidateItem(schema, it), ErrInvalid, "not an index attribute")
}
