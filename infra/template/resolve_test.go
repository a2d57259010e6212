package template_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/infra/template"
)

var localContext = template.Context{
	Region:          "ap-east-1",
	AccountID:       "123456789012",
	StackName:       "Lantau-Dev",
	APIEndpoint:     "http://127.0.0.1:3000",
	ServiceEndpoint: "http://127.0.0.1:4566/",
}

func withParams(params map[string]string) template.Context {
	ctx := localContext
	ctx.Params = params
	return ctx
}

func loadResolver(t *testing.T, path string, ctx template.Context) (*template.Template, *template.Resolver) {
	t.Helper()
	tmpl, err := template.Load(path)
	require.NoError(t, err)
	r, err := tmpl.NewResolver(ctx)
	require.NoError(t, err)
	return tmpl, r
}

// output resolves the Value of one of the fixture's Outputs.
func output(t *testing.T, tmpl *template.Template, r *template.Resolver, name string) any {
	t.Helper()
	out, ok := tmpl.Outputs[name].(map[string]any)
	require.True(t, ok, "no output %s", name)
	v, err := r.Value(out["Value"], "Outputs", name+".Value")
	require.NoError(t, err)
	return v
}

func TestResolver_ResolvesIntrinsicsWithLocalValues(t *testing.T) {
	tmpl, r := loadResolver(t, "testdata/resolve.yaml", localContext)
	tests := []struct {
		output string
		want   any
	}{
		// Parameters: their defaults.
		{"StageRef", "dev"},
		{"RetentionRef", "30"},
		{"ZonesRef", []any{"a", "b", "c"}},
		{"PrefixRef", "lantau"},
		// Pseudo parameters.
		{"Region", "ap-east-1"},
		{"AccountId", "123456789012"},
		{"StackName", "Lantau-Dev"},
		{"StackId", "arn:aws:cloudformation:ap-east-1:123456789012:stack/Lantau-Dev/local"},
		{"Partition", "aws"},
		{"URLSuffix", "amazonaws.com"},
		// Physical IDs.
		{"FilesBucketName", "lantau-files-123456789012-ap-east-1"},
		{"LogsBucketName", "lantau-dev-logsbucket"},
		{"TableName", "Lantau-Dev-Table"},
		{"NamedTableName", "Lantau-Dev-NamedTable"},
		{"EventBusName", "Lantau-Dev-bus"},
		{"QueueUrl", "http://127.0.0.1:4566/123456789012/Lantau-Dev-Queue"},
		{"NamedQueueUrl", "http://127.0.0.1:4566/123456789012/jobs"},
		{"FunctionName", "Lantau-Dev-WorkerFunction"},
		{"LogGroupName", "/aws/lambda/Lantau-Dev-WorkerFunction"},
		{"ApiId", "local"},
		// Attributes.
		{"TableArn", "arn:aws:dynamodb:ap-east-1:123456789012:table/Lantau-Dev-Table"},
		{"TableStreamArn", "arn:aws:dynamodb:ap-east-1:123456789012:table/Lantau-Dev-Table/stream/local"},
		{"BucketArn", "arn:aws:s3:::lantau-files-123456789012-ap-east-1"},
		{"BucketDomainName", "lantau-files-123456789012-ap-east-1.s3.amazonaws.com"},
		{"BucketRegionalDomainName", "lantau-files-123456789012-ap-east-1.s3.ap-east-1.amazonaws.com"},
		{"EventBusArn", "arn:aws:events:ap-east-1:123456789012:event-bus/Lantau-Dev-bus"},
		{"EventBusAttrName", "Lantau-Dev-bus"},
		{"QueueArn", "arn:aws:sqs:ap-east-1:123456789012:jobs"},
		{"QueueAttrName", "Lantau-Dev-Queue"},
		{"QueueAttrUrl", "http://127.0.0.1:4566/123456789012/jobs"},
		{"FunctionArn", "arn:aws:lambda:ap-east-1:123456789012:function:Lantau-Dev-WorkerFunction"},
		{"LogGroupArn", "arn:aws:logs:ap-east-1:123456789012:log-group:/aws/lambda/Lantau-Dev-WorkerFunction:*"},
		{"SettingValue", "dev-value"},
		{"ApiEndpoint", "http://127.0.0.1:3000"},
		{"LongFormGetAtt", "arn:aws:dynamodb:ap-east-1:123456789012:table/Lantau-Dev-Table"},
		// Functions.
		{"SubAttribute", "arn:aws:s3:::lantau-files-123456789012-ap-east-1/*"},
		{"SubEscaped", "${Literal}-dev-${AWS::Region}"},
		{"SubList", "Lantau-Dev-Table.dev.example.com"},
		{"SubNoVariables", "plain text"},
		{"Join", "a:dev:ap-east-1"},
		{"JoinDropsNoValue", "a-b"},
		{"JoinOfRefList", "a+b+c"},
		{"Select", "y"},
		{"SelectFromRefList", "c"},
		{"Split", []any{"a", "b", "", "c"}},
		{"IfProd", "small"},
		{"FindInMap", "DEBUG"},
		{"FindInMapList", []any{"dev1", "dev2"}},
		{"Base64", "aGVsbG8="},
		{"NoValueKey", map[string]any{"Keep": int64(1), "List": []any{"one", "three"}}},
	}
	for _, tt := range tests {
		t.Run(tt.output, func(t *testing.T) {
			assert.Equal(t, tt.want, output(t, tmpl, r, tt.output))
		})
	}
}

func TestResolver_ParameterOverridesWin(t *testing.T) {
	tmpl, r := loadResolver(t, "testdata/resolve.yaml", withParams(map[string]string{
		"Stage": "prod", "Retention": "90", "Zones": "x,y", "Prefix": "hk",
	}))
	tests := []struct {
		output string
		want   any
	}{
		{"StageRef", "prod"},
		{"RetentionRef", "90"},
		{"ZonesRef", []any{"x", "y"}},
		{"FilesBucketName", "hk-files-123456789012-ap-east-1"},
		{"NamedTableName", "lantau-prod"},
		{"IfProd", "big"},
		{"FindInMap", "WARN"},
		{"SettingValue", "prod-value"},
		{"NoValueKey", map[string]any{"Keep": int64(1), "MaybeDrop": "here", "List": []any{"one", "three"}}},
	}
	for _, tt := range tests {
		t.Run(tt.output, func(t *testing.T) {
			assert.Equal(t, tt.want, output(t, tmpl, r, tt.output))
		})
	}
}

func TestNewResolver_RefusesBadOverrides(t *testing.T) {
	tmpl, err := template.Load("testdata/resolve.yaml")
	require.NoError(t, err)
	tests := []struct {
		name     string
		params   map[string]string
		property string
		reason   string
	}{
		{"undeclared parameter", map[string]string{"Stag": "dev"}, "Stag", "does not declare"},
		{"value outside AllowedValues", map[string]string{"Stage": "test"}, "Stage", `"test" is not one of the allowed values (dev, prod)`},
		{"Number outside AllowedValues", map[string]string{"Retention": "60"}, "Retention", "not one of the allowed values"},
		{"AllowedPattern", map[string]string{"Prefix": "Lantau"}, "Prefix", "does not match AllowedPattern [a-z]+ (lower-case letters only)"},
		{"MinLength", map[string]string{"Prefix": "l"}, "Prefix", "shorter than MinLength 2"},
		{"MaxLength", map[string]string{"Prefix": "lantauworkplace"}, "Prefix", "longer than MaxLength 10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tmpl.NewResolver(withParams(tt.params))

			te := requireTemplateError(t, err)
			assert.Equal(t, "Parameters", te.Resource)
			assert.Equal(t, tt.property, te.Property)
			assert.Contains(t, te.Error(), tt.reason)
		})
	}
}

func TestNewResolver_ChecksNumberParameters(t *testing.T) {
	tmpl, err := template.Parse([]byte(withResources("") + `Parameters:
  Days:
    Type: Number
    Default: 7
    MinValue: 1
    MaxValue: 35
`))
	require.NoError(t, err)
	for value, reason := range map[string]string{"many": "not a number", "0": "less than MinValue 1", "36": "more than MaxValue 35", "NaN": "not a number"} {
		_, err := tmpl.NewResolver(withParams(map[string]string{"Days": value}))

		te := requireTemplateError(t, err)
		assert.Equal(t, "Days", te.Property)
		assert.Contains(t, te.Reason, reason, value)
	}
	r, err := tmpl.NewResolver(withParams(map[string]string{"Days": "35"}))
	require.NoError(t, err)
	v, err := r.Ref("Days")
	require.NoError(t, err)
	assert.Equal(t, "35", v)
}

func TestNewResolver_RefusesParameterWithoutDefaultOrOverride(t *testing.T) {
	tmpl, err := template.Parse([]byte(withResources("") + "Parameters:\n  Domain:\n    Type: String\n"))
	require.NoError(t, err)

	_, err = tmpl.NewResolver(localContext)
	te := requireTemplateError(t, err)
	assert.Equal(t, "Parameters", te.Resource)
	assert.Equal(t, "Domain", te.Property)
	assert.Contains(t, te.Reason, "no Default and no override")

	r, err := tmpl.NewResolver(withParams(map[string]string{"Domain": "lantau.hk"}))
	require.NoError(t, err)
	v, err := r.Ref("Domain")
	require.NoError(t, err)
	assert.Equal(t, "lantau.hk", v)
}

func TestNewResolver_KeepsItsOwnCopyOfTheOverrides(t *testing.T) {
	tmpl, err := template.Load("testdata/resolve.yaml")
	require.NoError(t, err)
	params := map[string]string{"Stage": "prod"}
	r, err := tmpl.NewResolver(withParams(params))
	require.NoError(t, err)

	params["Stage"] = "not-allowed"

	v, err := r.Ref("Stage")
	require.NoError(t, err)
	assert.Equal(t, "prod", v)
}

func TestResolver_EvaluatesConditions(t *testing.T) {
	tmpl, err := template.Load("testdata/resolve.yaml")
	require.NoError(t, err)
	tests := []struct {
		name   string
		region string
		params map[string]string
		want   map[string]bool
	}{
		{"defaults", "ap-east-1", nil, map[string]bool{"IsProd": false, "IsDev": true, "ProdInHongKong": false, "DevOrHongKong": true, "LongRetention": false}},
		{"prod in Hong Kong", "ap-east-1", map[string]string{"Stage": "prod", "Retention": "90"}, map[string]bool{"IsProd": true, "IsDev": false, "ProdInHongKong": true, "DevOrHongKong": true, "LongRetention": true}},
		{"prod elsewhere", "eu-west-1", map[string]string{"Stage": "prod"}, map[string]bool{"IsProd": true, "IsDev": false, "ProdInHongKong": false, "DevOrHongKong": false, "LongRetention": false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := withParams(tt.params)
			ctx.Region = tt.region
			r, err := tmpl.NewResolver(ctx)
			require.NoError(t, err)
			for name, want := range tt.want {
				got, err := r.Condition(name)
				require.NoError(t, err, name)
				assert.Equal(t, want, got, name)
			}
		})
	}
}

func TestResolver_UnknownConditionIsATemplateError(t *testing.T) {
	_, r := loadResolver(t, "testdata/resolve.yaml", localContext)

	_, err := r.Condition("IsStaging")

	te := requireTemplateError(t, err)
	assert.Equal(t, "Conditions", te.Resource)
	assert.Equal(t, "IsStaging", te.Property)
}

func TestResolver_RefusesMalformedConditions(t *testing.T) {
	tmpl, err := template.Load("testdata/resolve.yaml")
	require.NoError(t, err)
	tests := []struct {
		name      string
		condition any
		reason    string
	}{
		{"And of one", map[string]any{"Fn::And": []any{map[string]any{"Condition": "IsProd"}}}, "2 to 10 conditions"},
		{"Or of nothing", map[string]any{"Fn::Or": "IsProd"}, "2 to 10 conditions"},
		{"Not of two", map[string]any{"Fn::Not": []any{map[string]any{"Condition": "IsProd"}, map[string]any{"Condition": "IsDev"}}}, "one condition"},
		{"Equals of one", map[string]any{"Fn::Equals": []any{"a"}}, "two values"},
		{"Equals of a list", map[string]any{"Fn::Equals": []any{[]any{"a"}, "a"}}, "single value"},
		{"a plain value", "true", "must be one of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl.Conditions["Broken"] = tt.condition
			t.Cleanup(func() { delete(tmpl.Conditions, "Broken") })
			r, err := tmpl.NewResolver(localContext)
			require.NoError(t, err)

			_, err = r.Condition("Broken")

			te := requireTemplateError(t, err)
			assert.Contains(t, te.Error(), tt.reason)
		})
	}
}

func TestResolver_NoValueDropsTheKeyAndResolvesToNothing(t *testing.T) {
	_, r := loadResolver(t, "testdata/resolve.yaml", localContext)
	noValue := map[string]any{"Ref": "AWS::NoValue"}

	v, err := r.Value(noValue, "Res", "Prop")
	require.NoError(t, err)
	assert.Nil(t, v)

	s, err := r.String(noValue, "Res", "Prop")
	require.NoError(t, err)
	assert.Empty(t, s)

	ref, err := r.Ref("AWS::NoValue")
	require.NoError(t, err)
	assert.Nil(t, ref)

	v, err = r.Value(map[string]any{"A": noValue, "B": []any{noValue}}, "Res", "Prop")
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"B": []any{}}, v)
}

func TestResolver_FunctionEnvironmentDropsNoValueVariables(t *testing.T) {
	tmpl, r := loadResolver(t, "testdata/resolve.yaml", localContext)
	fn := tmpl.Function("worker")
	require.NotNil(t, fn)

	env, err := r.Value(fn.Properties["Environment"], fn.LogicalID, "Environment")

	require.NoError(t, err)
	assert.Equal(t, map[string]any{"Variables": map[string]any{"TABLE_NAME": "Lantau-Dev-Table"}}, env)
}

func TestResolver_JSONEncodesTheResolvedValue(t *testing.T) {
	_, r := loadResolver(t, "testdata/resolve.yaml", localContext)
	pattern := map[string]any{
		"source": []any{"lantau.approvals"},
		"detail": map[string]any{"table": []any{map[string]any{"Ref": "Table"}}, "gone": map[string]any{"Ref": "AWS::NoValue"}},
	}

	b, err := r.JSON(pattern, "ApproveFunction", "Events.Approved.Properties.Pattern")

	require.NoError(t, err)
	assert.JSONEq(t, `{"source":["lantau.approvals"],"detail":{"table":["Lantau-Dev-Table"]}}`, string(b))
}

func TestResolver_SubstitutedValuesAreNotReadAgain(t *testing.T) {
	tmpl, err := template.Parse([]byte(withResources("") + "Parameters:\n  Free:\n    Type: String\n    Default: x\n"))
	require.NoError(t, err)
	r, err := tmpl.NewResolver(withParams(map[string]string{"Free": "${!kept}"}))
	require.NoError(t, err)

	s, err := r.String(map[string]any{"Fn::Sub": "${Free}/${!AWS::Region}"}, "Res", "Prop")

	require.NoError(t, err)
	assert.Equal(t, "${!kept}/${AWS::Region}", s)
}

func TestResolver_RefusesWhatItCannotResolve(t *testing.T) {
	_, r := loadResolver(t, "testdata/resolve.yaml", localContext)
	tests := []struct {
		name   string
		value  any
		reason string
	}{
		{"!Ref to nothing", map[string]any{"Ref": "Nope"}, "no such parameter or resource"},
		{"!GetAtt attribute it cannot resolve", map[string]any{"Fn::GetAtt": []any{"Table", "Foo"}}, `has no attribute "Foo"`},
		{"!Sub of an unknown name", map[string]any{"Fn::Sub": "${Nope}"}, "no such parameter or resource"},
		{"!Sub of an unknown attribute", map[string]any{"Fn::Sub": "${FilesBucket.Nope}"}, `has no attribute "Nope"`},
		{"!Sub of AWS::NoValue", map[string]any{"Fn::Sub": "${AWS::NoValue}"}, "cannot use ${AWS::NoValue}"},
		{"!Sub of a list parameter", map[string]any{"Fn::Sub": "${Zones}"}, "is a list"},
		{"!Select out of range", map[string]any{"Fn::Select": []any{int64(3), []any{"a"}}}, "out of range"},
		{"!Select with a word for index", map[string]any{"Fn::Select": []any{"first", []any{"a"}}}, "not a number"},
		{"!Select of a string", map[string]any{"Fn::Select": []any{int64(0), "a"}}, "must be a list"},
		{"!Join of a string", map[string]any{"Fn::Join": []any{",", "a"}}, "must be a list"},
		{"!Join of a map", map[string]any{"Fn::Join": []any{",", []any{map[string]any{"a": "b"}}}}, "not a single value"},
		{"!Join with a number for delimiter", map[string]any{"Fn::Join": []any{int64(1), []any{"a"}}}, "delimiter must be a string"},
		{"!Split with an empty delimiter", map[string]any{"Fn::Split": []any{"", "abc"}}, "non-empty"},
		{"!FindInMap of a missing entry", map[string]any{"Fn::FindInMap": []any{"StageConfig", "staging", "LogLevel"}}, "no such entry"},
		{"!If of an unknown condition", map[string]any{"Fn::If": []any{"IsStaging", "a", "b"}}, `no condition "IsStaging"`},
		{"!GetAZs", map[string]any{"Fn::GetAZs": ""}, "does not support Fn::GetAZs"},
		{"!ImportValue", map[string]any{"Fn::ImportValue": "x"}, "does not support Fn::ImportValue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.Value(map[string]any{"Key": tt.value}, "SomeFunction", "Properties")

			te := requireTemplateError(t, err)
			assert.Equal(t, "SomeFunction", te.Resource)
			assert.Equal(t, "Properties.Key", te.Property)
			assert.Contains(t, te.Reason, tt.reason)
		})
	}
}

func TestResolver_StringRefusesAList(t *testing.T) {
	_, r := loadResolver(t, "testdata/resolve.yaml", localContext)

	_, err := r.String(map[string]any{"Ref": "Zones"}, "SomeFunction", "Environment.Variables.ZONES")

	te := requireTemplateError(t, err)
	assert.Equal(t, "Environment.Variables.ZONES", te.Property)
	assert.Contains(t, te.Reason, "single value")
}

func TestResolver_ResolvesTheRealTemplate(t *testing.T) {
	ctx := template.Context{Region: "ap-east-1", AccountID: "123456789012", StackName: "lantau", ServiceEndpoint: "http://127.0.0.1:4566"}
	tmpl, r := loadResolver(t, realTemplate, ctx)
	fn := tmpl.Function("health")
	require.NotNil(t, fn)

	env, err := r.Value(fn.Properties["Environment"], fn.LogicalID, "Environment")
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"Variables": map[string]any{
		"TABLE_NAME":     "lantau-Table",
		"BUCKET_NAME":    "lantau-files-123456789012-ap-east-1",
		"EVENT_BUS_NAME": "lantau-bus",
		"LOG_LEVEL":      "INFO",
	}}, env)

	dlq, err := r.String(fn.Properties["DeadLetterQueue"].(map[string]any)["TargetArn"], fn.LogicalID, "DeadLetterQueue.TargetArn")
	require.NoError(t, err)
	assert.Equal(t, "arn:aws:sqs:ap-east-1:123456789012:lantau-AsyncDeadLetterQueue", dlq)

	outputs, err := r.Value(tmpl.Outputs, "Outputs", "")
	require.NoError(t, err)
	assert.Equal(t, map[string]any{
		"ApiUrl":       map[string]any{"Description": "Base URL of the HTTP API.", "Value": "https://local.execute-api.ap-east-1.amazonaws.com"},
		"TableName":    map[string]any{"Value": "lantau-Table"},
		"BucketName":   map[string]any{"Value": "lantau-files-123456789012-ap-east-1"},
		"EventBusName": map[string]any{"Value": "lantau-bus"},
		"EventBusArn":  map[string]any{"Value": "arn:aws:events:ap-east-1:123456789012:event-bus/lantau-bus"},
	}, outputs)

	logs, err := r.Value(tmpl.Resources["HealthFunctionLogs"].Properties, "HealthFunctionLogs", "Properties")
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"LogGroupName": "/aws/lambda/lantau-HealthFunction", "RetentionInDays": "365"}, logs)

	auth, err := r.Value(tmpl.Resources["HttpApi"].Properties["Auth"], "HttpApi", "Auth")
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:3000/v1/auth", auth.(map[string]any)["Authorizers"].(map[string]any)["LantauJwt"].(map[string]any)["JwtConfiguration"].(map[string]any)["issuer"])
}

// A template whose resources refer to each other is refused by Parse; the
// resolver still guards against a cycle introduced afterwards (the
// Template's maps are exported), so a cycle is an error, not a stack
// overflow.
func TestResolver_CircularReferenceIsAnError(t *testing.T) {
	const doc = header + `Resources:
  ABucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "${BBucket}-a"
  BBucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: b
  Setting:
    Type: AWS::SSM::Parameter
    Properties:
      Value: x
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: q
Conditions:
  A: !Equals [a, a]
  B: !Not [!Condition A]
`
	tests := []struct {
		name   string
		mutate func(tmpl *template.Template)
		check  func(r *template.Resolver) error
		reason string
	}{
		{
			"two buckets whose names refer to each other through !Sub and !Ref",
			func(tmpl *template.Template) {
				tmpl.Resources["BBucket"].Properties["BucketName"] = map[string]any{"Ref": "ABucket"}
			},
			func(r *template.Resolver) error { _, err := r.Ref("ABucket"); return err },
			"circular reference: ABucket -> BBucket -> ABucket",
		},
		{
			"a bucket whose name is its own ARN",
			func(tmpl *template.Template) {
				tmpl.Resources["BBucket"].Properties["BucketName"] = map[string]any{"Fn::Sub": "${BBucket.Arn}"}
			},
			func(r *template.Resolver) error { _, err := r.GetAtt("BBucket", "Arn"); return err },
			"circular reference: BBucket -> BBucket",
		},
		{
			"a parameter whose value is its own value",
			func(tmpl *template.Template) {
				tmpl.Resources["Setting"].Properties["Value"] = map[string]any{"Fn::GetAtt": []any{"Setting", "Value"}}
			},
			func(r *template.Resolver) error { _, err := r.GetAtt("Setting", "Value"); return err },
			"circular reference: Setting -> Setting",
		},
		{
			"a queue whose name is its own name",
			func(tmpl *template.Template) {
				tmpl.Resources["Queue"].Properties["QueueName"] = map[string]any{"Fn::GetAtt": []any{"Queue", "QueueName"}}
			},
			func(r *template.Resolver) error { _, err := r.Ref("Queue"); return err },
			"circular reference: Queue -> Queue",
		},
		{
			"conditions that refer to each other",
			func(tmpl *template.Template) {
				tmpl.Conditions["A"] = map[string]any{"Fn::Not": []any{map[string]any{"Condition": "B"}}}
			},
			func(r *template.Resolver) error { _, err := r.Condition("A"); return err },
			"circular condition: A -> B -> A",
		},
		{
			"a condition that refers to itself through !If",
			func(tmpl *template.Template) {
				tmpl.Conditions["A"] = map[string]any{"Fn::Equals": []any{map[string]any{"Fn::If": []any{"A", "x", "y"}}, "x"}}
			},
			func(r *template.Resolver) error { _, err := r.Condition("A"); return err },
			"circular condition: A -> A",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := template.Parse([]byte(doc))
			require.NoError(t, err)
			tt.mutate(tmpl)
			r, err := tmpl.NewResolver(localContext)
			require.NoError(t, err)

			err = tt.check(r)

			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.reason)
		})
	}
}

func TestResolver_IsSafeForConcurrentUse(t *testing.T) {
	tmpl, r := loadResolver(t, "testdata/resolve.yaml", localContext)
	want, err := r.Value(tmpl.Outputs, "Outputs", "")
	require.NoError(t, err)

	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for range 20 {
				got, err := r.Value(tmpl.Outputs, "Outputs", "")
				if err != nil {
					errs <- err
					return
				}
				if !assert.ObjectsAreEqual(want, got) {
					errs <- assert.AnError
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
}

func TestResolver_UsesThePartitionOfTheRegion(t *testing.T) {
	ctx := localContext
	ctx.Region = "cn-north-1"
	tmpl, r := loadResolver(t, "testdata/resolve.yaml", ctx)

	assert.Equal(t, "aws-cn", output(t, tmpl, r, "Partition"))
	assert.Equal(t, "amazonaws.com.cn", output(t, tmpl, r, "URLSuffix"))
	assert.True(t, strings.HasPrefix(output(t, tmpl, r, "TableArn").(string), "arn:aws-cn:dynamodb:cn-north-1:"))
}

// Each bucket's name uses the previous bucket's twice: without remembering
// what it has resolved the resolver would take 2^n steps, and the names
// double in length at every step.
func TestResolver_ChainOfDoublingNamesStopsAtALimit(t *testing.T) {
	var b strings.Builder
	b.WriteString(header + "Resources:\n  B0:\n    Type: AWS::S3::Bucket\n")
	for i := 1; i <= 40; i++ {
		fmt.Fprintf(&b, "  B%d:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: !Sub \"${B%d}${B%d.Arn}\"\n", i, i-1, i-1)
	}
	tmpl, err := template.Parse([]byte(b.String()))
	require.NoError(t, err)
	r, err := tmpl.NewResolver(localContext)
	require.NoError(t, err)

	name, err := r.Ref("B8")
	require.NoError(t, err)
	assert.Len(t, name, 1<<8*len("lantau-dev-b0")+(1<<8-1)*len("arn:aws:s3:::"))

	_, err = r.Ref("B40")
	te := requireTemplateError(t, err)
	assert.Contains(t, te.Reason, "!Sub builds a string of more than")
}

func TestResolver_ChainOfConditionsIsEvaluatedOnce(t *testing.T) {
	var b strings.Builder
	b.WriteString(withResources("") + "Conditions:\n  C0: !Equals [a, a]\n")
	for i := 1; i <= 60; i++ {
		fmt.Fprintf(&b, "  C%d: !And [!Condition C%d, !Not [!Not [!Condition C%d]]]\n", i, i-1, i-1)
	}
	tmpl, err := template.Parse([]byte(b.String()))
	require.NoError(t, err)
	r, err := tmpl.NewResolver(localContext)
	require.NoError(t, err)

	ok, err := r.Condition("C60")

	require.NoError(t, err)
	assert.True(t, ok)
}
