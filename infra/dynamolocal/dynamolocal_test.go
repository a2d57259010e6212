package dynamolocal_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/infra/dynamolocal"
	"github.com/lantau-hq/lantau/infra/toolbox"
	"github.com/lantau-hq/lantau/shared/table"
)

func templatePath(t *testing.T) string {
	t.Helper()
	root, err := toolbox.RepoRoot()
	require.NoError(t, err)
	return filepath.Join(root, "template.yaml")
}

func TestSchemaFromTemplate_MatchesTableLantau(t *testing.T) {
	s, err := dynamolocal.SchemaFromTemplate(templatePath(t), dynamolocal.TableLogicalID)
	require.NoError(t, err)
	assert.Equal(t, table.Lantau, s)
}

func TestSchemaFromTemplate_RefusesWhatItDoesNotUnderstand(t *testing.T) {
	for name, body := range map[string]string{
		"unknown projection key": `
          Projection: {ProjectionType: ALL, Bogus: 1}`,
		"intrinsic in a key": `
          Projection: {ProjectionType: !Ref AWS::Region}`,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "template.yaml")
			require.NoError(t, os.WriteFile(path, []byte(`AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: PK, AttributeType: S}, {AttributeName: G, AttributeType: S}]
      KeySchema: [{AttributeName: PK, KeyType: HASH}]
      GlobalSecondaryIndexes:
        - IndexName: G
          KeySchema: [{AttributeName: G, KeyType: HASH}]`+body+"\n"), 0o644))
			_, err := dynamolocal.SchemaFromTemplate(path, "Table")
			require.Error(t, err)
			assert.Contains(t, err.Error(), "GlobalSecondaryIndexes[0].Projection")
		})
	}
}

func TestStart_CreatesTheTableAsTheTemplateDeclaresIt(t *testing.T) {
	l := dynamolocal.Start(t)
	t.Logf("DynamoDB Local %s answered after %v", dynamolocal.LocalVersion, l.StartupTime())
	name := l.NewTable(t)
	ctx := context.Background()

	out, err := l.Client().DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	require.NoError(t, err)
	d := out.Table
	assert.Equal(t, types.TableStatusActive, d.TableStatus)
	require.NotNil(t, d.BillingModeSummary)
	assert.Equal(t, types.BillingModePayPerRequest, d.BillingModeSummary.BillingMode)
	assert.Equal(t, []types.KeySchemaElement{
		{AttributeName: aws.String("PK"), KeyType: types.KeyTypeHash},
		{AttributeName: aws.String("SK"), KeyType: types.KeyTypeRange},
	}, d.KeySchema)
	require.Len(t, d.GlobalSecondaryIndexes, 1)
	gsi := d.GlobalSecondaryIndexes[0]
	assert.Equal(t, "GSI1", aws.ToString(gsi.IndexName))
	assert.Equal(t, types.ProjectionTypeAll, gsi.Projection.ProjectionType)
	require.NotNil(t, d.StreamSpecification)
	assert.Equal(t, types.StreamViewTypeNewAndOldImages, d.StreamSpecification.StreamViewType)

	ttl, err := l.Client().DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	require.NoError(t, err)
	assert.Equal(t, types.TimeToLiveStatusEnabled, ttl.TimeToLiveDescription.TimeToLiveStatus)
	assert.Equal(t, "ttl", aws.ToString(ttl.TimeToLiveDescription.AttributeName))
}

func TestStartProcess_AnswersAndStops(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping under -short: needs DynamoDB Local (java)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	l, err := dynamolocal.StartProcess(ctx, "")
	require.NoError(t, err)
	_, err = l.Client().ListTables(ctx, &dynamodb.ListTablesInput{})
	require.NoError(t, err)
	assert.Contains(t, l.Output(), "Version:\t"+dynamolocal.LocalVersion)
	require.NoError(t, l.Close())
	require.NoError(t, l.Close(), "Close twice")

	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err = l.Client().ListTables(short, &dynamodb.ListTablesInput{})
	assert.Error(t, err, "still answering after Close")
}
