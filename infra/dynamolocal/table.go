package dynamolocal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lantau-hq/lantau/infra/template"
	"github.com/lantau-hq/lantau/infra/toolbox"
	"github.com/lantau-hq/lantau/shared/table"
)

// TableAPI is what CreateTableFromTemplate calls.
type TableAPI interface {
	CreateTable(context.Context, *dynamodb.CreateTableInput, ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	UpdateTimeToLive(context.Context, *dynamodb.UpdateTimeToLiveInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error)
}

// TableLogicalID is the logical ID of Lantau's table in template.yaml.
const TableLogicalID = "Table"

// Table properties that describe the deployed service rather than the
// table's shape; CreateTableFromTemplate leaves them to CloudFormation.
// (DeletionProtectionEnabled is left out so that tests can drop tables.)
var deployOnlyProps = []string{"TableName", "PointInTimeRecoverySpecification", "SSESpecification", "Tags",
	"DeletionProtectionEnabled", "TableClass"}

// tableSpec is an AWS::DynamoDB::Table read from the template.
type tableSpec struct {
	create *dynamodb.CreateTableInput
	ttl    *types.TimeToLiveSpecification
}

// CreateTableFromTemplate creates tableName with the AttributeDefinitions,
// KeySchema, indexes, BillingMode (and throughput) and StreamSpecification
// of the AWS::DynamoDB::Table logicalID in the template at templatePath,
// waits until it is ACTIVE, then applies its TimeToLiveSpecification, so that
// tests run against the table as deployed. A property it does not
// understand is an error.
func CreateTableFromTemplate(ctx context.Context, client TableAPI, templatePath, logicalID, tableName string) error {
	spec, err := readTable(templatePath, logicalID)
	if err != nil {
		return err
	}
	in := *spec.create
	in.TableName = aws.String(tableName)
	if _, err := client.CreateTable(ctx, &in); err != nil {
		return fmt.Errorf("create table %s: %w", tableName, err)
	}
	for {
		out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(tableName)})
		if err != nil {
			return fmt.Errorf("describe table %s: %w", tableName, err)
		}
		if out.Table.TableStatus == types.TableStatusActive {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("table %s not active: %w", tableName, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	if spec.ttl != nil {
		if _, err := client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
			TableName: aws.String(tableName), TimeToLiveSpecification: spec.ttl,
		}); err != nil {
			return fmt.Errorf("update time to live of %s: %w", tableName, err)
		}
	}
	return nil
}

// SchemaFromTemplate is the table.Schema of the AWS::DynamoDB::Table
// logicalID: its key attributes, its global secondary indexes in template
// order and its TTL attribute (when enabled).
func SchemaFromTemplate(templatePath, logicalID string) (table.Schema, error) {
	spec, err := readTable(templatePath, logicalID)
	if err != nil {
		return table.Schema{}, err
	}
	var s table.Schema
	s.PK, s.SK = keyNames(spec.create.KeySchema)
	for _, g := range spec.create.GlobalSecondaryIndexes {
		pk, sk := keyNames(g.KeySchema)
		s.Indexes = append(s.Indexes, table.IndexSchema{Name: aws.ToString(g.IndexName), PK: pk, SK: sk})
	}
	if spec.ttl != nil && aws.ToBool(spec.ttl.Enabled) {
		s.TTL = aws.ToString(spec.ttl.AttributeName)
	}
	return s, nil
}

// NewTable creates a table with a unique name from the repository's
// template.yaml (logical ID Table) in l, and deletes it when the test ends.
func (l *Local) NewTable(t testing.TB) string {
	t.Helper()
	root, err := toolbox.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "lantau-test-" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := CreateTableFromTemplate(ctx, l.Client(), filepath.Join(root, "template.yaml"), TableLogicalID, name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := l.Client().DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)}); err != nil {
			t.Errorf("delete table %s: %v", name, err)
		}
	})
	return name
}

func keyNames(ks []types.KeySchemaElement) (hash, rng string) {
	for _, k := range ks {
		switch k.KeyType {
		case types.KeyTypeHash:
			hash = aws.ToString(k.AttributeName)
		case types.KeyTypeRange:
			rng = aws.ToString(k.AttributeName)
		}
	}
	return hash, rng
}

// readTable reads the resource strictly with the repository's template reader.
func readTable(templatePath, logicalID string) (*tableSpec, error) {
	tmpl, err := template.Load(templatePath)
	if err != nil {
		return nil, err
	}
	res, ok := tmpl.Resources[logicalID]
	if !ok {
		return nil, fmt.Errorf("%s: no resource %q", templatePath, logicalID)
	}
	if res.Type != "AWS::DynamoDB::Table" {
		return nil, fmt.Errorf("%s: %s is a %s, not an AWS::DynamoDB::Table", templatePath, logicalID, res.Type)
	}
	r := &reader{where: templatePath + ": " + logicalID}
	spec := r.table(res.Properties)
	if r.err != nil {
		return nil, r.err
	}
	return spec, nil
}

// reader converts template values into SDK types; the first problem sticks
// in err, naming the property.
type reader struct {
	where string
	err   error
}

func (r *reader) fail(path, format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%s.%s: %s", r.where, path, fmt.Sprintf(format, args...))
	}
}

func (r *reader) table(props map[string]any) *tableSpec {
	in := &dynamodb.CreateTableInput{}
	spec := &tableSpec{create: in}
	for _, k := range sortedKeys(props) {
		v := props[k]
		switch k {
		case "BillingMode":
			in.BillingMode = types.BillingMode(r.str(k, v))
		case "AttributeDefinitions":
			for i, e := range r.list(k, v) {
				p := fmt.Sprintf("%s[%d]", k, i)
				m := r.obj(p, e, "AttributeName", "AttributeType")
				in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
					AttributeName: aws.String(r.str(p+".AttributeName", m["AttributeName"])),
					AttributeType: types.ScalarAttributeType(r.str(p+".AttributeType", m["AttributeType"])),
				})
			}
		case "KeySchema":
			in.KeySchema = r.keySchema(k, v)
		case "GlobalSecondaryIndexes":
			for i, e := range r.list(k, v) {
				p := fmt.Sprintf("%s[%d]", k, i)
				m := r.obj(p, e, "IndexName", "KeySchema", "Projection", "ProvisionedThroughput")
				in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
					IndexName:             aws.String(r.str(p+".IndexName", m["IndexName"])),
					KeySchema:             r.keySchema(p+".KeySchema", m["KeySchema"]),
					Projection:            r.projection(p+".Projection", m["Projection"]),
					ProvisionedThroughput: r.throughput(p+".ProvisionedThroughput", m["ProvisionedThroughput"]),
				})
			}
		case "LocalSecondaryIndexes":
			for i, e := range r.list(k, v) {
				p := fmt.Sprintf("%s[%d]", k, i)
				m := r.obj(p, e, "IndexName", "KeySchema", "Projection")
				in.LocalSecondaryIndexes = append(in.LocalSecondaryIndexes, types.LocalSecondaryIndex{
					IndexName:  aws.String(r.str(p+".IndexName", m["IndexName"])),
					KeySchema:  r.keySchema(p+".KeySchema", m["KeySchema"]),
					Projection: r.projection(p+".Projection", m["Projection"]),
				})
			}
		case "ProvisionedThroughput":
			in.ProvisionedThroughput = r.throughput(k, v)
		case "StreamSpecification":
			m := r.obj(k, v, "StreamViewType")
			in.StreamSpecification = &types.StreamSpecification{
				StreamEnabled:  aws.Bool(true),
				StreamViewType: types.StreamViewType(r.str(k+".StreamViewType", m["StreamViewType"])),
			}
		case "TimeToLiveSpecification":
			m := r.obj(k, v, "AttributeName", "Enabled")
			spec.ttl = &types.TimeToLiveSpecification{
				AttributeName: aws.String(r.str(k+".AttributeName", m["AttributeName"])),
				Enabled:       aws.Bool(r.boolean(k+".Enabled", m["Enabled"])),
			}
		default:
			if !slices.Contains(deployOnlyProps, k) {
				r.fail(k, "property not understood by dynamolocal")
			}
		}
	}
	if len(in.KeySchema) == 0 {
		r.fail("KeySchema", "missing")
	}
	return spec
}

func (r *reader) keySchema(path string, v any) []types.KeySchemaElement {
	var ks []types.KeySchemaElement
	for i, e := range r.list(path, v) {
		p := fmt.Sprintf("%s[%d]", path, i)
		m := r.obj(p, e, "AttributeName", "KeyType")
		ks = append(ks, types.KeySchemaElement{
			AttributeName: aws.String(r.str(p+".AttributeName", m["AttributeName"])),
			KeyType:       types.KeyType(r.str(p+".KeyType", m["KeyType"])),
		})
	}
	return ks
}

func (r *reader) projection(path string, v any) *types.Projection {
	m := r.obj(path, v, "ProjectionType", "NonKeyAttributes")
	p := &types.Projection{ProjectionType: types.ProjectionType(r.str(path+".ProjectionType", m["ProjectionType"]))}
	if nk, ok := m["NonKeyAttributes"]; ok {
		for i, a := range r.list(path+".NonKeyAttributes", nk) {
			p.NonKeyAttributes = append(p.NonKeyAttributes, r.str(fmt.Sprintf("%s.NonKeyAttributes[%d]", path, i), a))
		}
	}
	return p
}

func (r *reader) throughput(path string, v any) *types.ProvisionedThroughput {
	if v == nil {
		return nil
	}
	m := r.obj(path, v, "ReadCapacityUnits", "WriteCapacityUnits")
	return &types.ProvisionedThroughput{
		ReadCapacityUnits:  aws.Int64(r.integer(path+".ReadCapacityUnits", m["ReadCapacityUnits"])),
		WriteCapacityUnits: aws.Int64(r.integer(path+".WriteCapacityUnits", m["WriteCapacityUnits"])),
	}
}

func (r *reader) obj(path string, v any, allowed ...string) map[string]any {
	m, ok := v.(map[string]any)
	if !ok {
		r.fail(path, "want a mapping, got %T", v)
		return nil
	}
	for _, k := range sortedKeys(m) {
		if !slices.Contains(allowed, k) {
			r.fail(path+"."+k, "property not understood by dynamolocal")
		}
	}
	return m
}

func (r *reader) list(path string, v any) []any {
	l, ok := v.([]any)
	if !ok {
		r.fail(path, "want a list, got %T", v)
	}
	return l
}

func (r *reader) str(path string, v any) string {
	s, ok := v.(string)
	if !ok || s == "" {
		r.fail(path, "want a plain string, got %T %v", v, v)
	}
	return s
}

func (r *reader) boolean(path string, v any) bool {
	switch b := v.(type) {
	case bool:
		return b
	case string:
		if p, err := strconv.ParseBool(b); err == nil {
			return p
		}
	}
	r.fail(path, "want true or false, got %v", v)
	return false
}

func (r *reader) integer(path string, v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case string:
		if p, err := strconv.ParseInt(n, 10, 64); err == nil {
			return p
		}
	}
	r.fail(path, "want an integer, got %v", v)
	return 0
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
