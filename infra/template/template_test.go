package template_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/infra/template"
)

const realTemplate = "../../template.yaml"

// indent prefixes every non-empty line of s with n spaces.
func indent(n int, s string) string {
	pad := strings.Repeat(" ", n)
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = pad + l
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

const header = "Transform: AWS::Serverless-2016-10-31\n"

// withResources is a valid template with a Bucket, a Table and the given
// extra Resources entries.
func withResources(resources string) string {
	return header + "Resources:\n" + indent(2, "Bucket:\n  Type: AWS::S3::Bucket\nTable:\n  Type: AWS::DynamoDB::Table\n"+resources)
}

// withFunction adds HealthFunction with the given extra properties.
func withFunction(props string) string {
	return withResources("HealthFunction:\n  Type: AWS::Serverless::Function\n  Metadata:\n    BuildMethod: makefile\n  Properties:\n" +
		indent(4, "Runtime: provided.al2023\n"+props))
}

// withEvent gives HealthFunction one event, Health, of the given type.
func withEvent(typ, props string) string {
	return withFunction("Events:\n" + indent(2, "Health:\n  Type: "+typ+"\n  Properties:\n"+indent(4, props)))
}

func requireTemplateError(t *testing.T, err error) *template.Error {
	t.Helper()
	require.Error(t, err)
	var te *template.Error
	require.ErrorAs(t, err, &te, "want a *template.Error, got %T: %v", err, err)
	return te
}

func TestLoad_ReadsTheRealTemplate(t *testing.T) {
	tmpl, err := template.Load(realTemplate)
	require.NoError(t, err)
	assert.Equal(t, realTemplate, tmpl.Path)

	fn := tmpl.Function("HealthFunction")
	require.NotNil(t, fn)
	assert.Same(t, fn, tmpl.Function("health"), "a function is found by its folder name too")
	assert.Equal(t, "health", fn.Name)
	assert.Equal(t, 3*time.Second, fn.Timeout, "the function's Timeout overrides Globals' 10")
	assert.Equal(t, 128, fn.MemoryMB, "the function's MemorySize overrides Globals' 256")
	assert.Equal(t, "provided.al2023", fn.Properties["Runtime"], "Globals' Runtime is merged in")
	assert.Equal(t, []any{"arm64"}, fn.Properties["Architectures"])

	env, _ := fn.Properties["Environment"].(map[string]any)
	vars, _ := env["Variables"].(map[string]any)
	assert.Equal(t, map[string]any{"Ref": "Table"}, vars["TABLE_NAME"])
	for _, k := range []string{"TABLE_NAME", "BUCKET_NAME", "EVENT_BUS_NAME", "LOG_LEVEL"} {
		assert.Contains(t, vars, k)
	}

	require.Len(t, fn.Events, 1)
	ev := fn.Events[0]
	assert.Equal(t, "Health", ev.Name)
	assert.Equal(t, "HttpApi", ev.Type)
	assert.Same(t, fn, ev.Function)
	assert.Equal(t, "GET", ev.Properties["Method"])
	assert.Equal(t, "/v1/health", ev.Properties["Path"])
	assert.Equal(t, map[string]any{"Ref": "HttpApi"}, ev.Properties["ApiId"])

	assert.Equal(t, "AWS::DynamoDB::Table", tmpl.Resources["Table"].Type)
	assert.Equal(t, "makefile", tmpl.Resources["HealthFunction"].Metadata["BuildMethod"])
	assert.Equal(t, int64(365), tmpl.Parameters["LogRetentionDays"].Default)
	assert.Contains(t, tmpl.Outputs, "ApiUrl")
	assert.Nil(t, tmpl.Function("NoSuchFunction"))
}

func TestLoad_ErrorNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "template.yaml")
	require.NoError(t, os.WriteFile(path, []byte(withResources("Broken:\n  Type: AWS::EC2::Instance\n")), 0o600))

	_, err := template.Load(path)

	te := requireTemplateError(t, err)
	assert.Equal(t, path, te.Path)
	assert.Equal(t, path+`: Broken.Type: unsupported resource type "AWS::EC2::Instance"`, te.Error())
}

func TestLoad_MissingFileIsNotATemplateError(t *testing.T) {
	_, err := template.Load(filepath.Join(t.TempDir(), "missing.yaml"))

	require.Error(t, err)
	var te *template.Error
	assert.False(t, errors.As(err, &te))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestError_MessageNamesResourceAndProperty(t *testing.T) {
	tests := []struct {
		err  template.Error
		want string
	}{
		{template.Error{Resource: "HealthFunction", Property: "Events.Health.Type", Reason: `unsupported event type "Sqs"`}, `HealthFunction.Events.Health.Type: unsupported event type "Sqs"`},
		{template.Error{Path: "t.yaml", Resource: "Transform", Reason: "bad"}, "t.yaml: Transform: bad"},
		{template.Error{Reason: "not valid YAML"}, "not valid YAML"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.err.Error())
	}
}

func TestParse_AcceptsTheBuildersOfTheMalformedCases(t *testing.T) {
	// Each malformed case below changes one thing in one of these.
	for _, doc := range []string{
		withResources(""),
		withFunction("Timeout: 5"),
		withEvent("HttpApi", "Method: GET\nPath: /v1/x"),
		withEvent("EventBridgeRule", "Pattern:\n  source: [x]"),
	} {
		_, err := template.Parse([]byte(doc))
		assert.NoError(t, err, doc)
	}
}

type malformedCase struct {
	name     string
	yaml     string
	resource string
	property string
	reason   string // a substring of the message
}

func malformedCases() []malformedCase {
	return []malformedCase{
		// The document.
		{"not YAML", "Resources: [unclosed", "", "", "not valid YAML"},
		{"not a mapping", "- a\n- b\n", "", "", "must be a mapping"},
		{"empty", "", "", "", "must be a mapping"},
		{"missing Transform", "Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n", "Transform", "", "must be AWS::Serverless-2016-10-31"},
		{"wrong Transform", strings.Replace(withResources(""), "2016-10-31", "2015-01-01", 1), "Transform", "", "must be AWS::Serverless-2016-10-31"},
		{"Transform as a list", strings.Replace(withResources(""), "Transform: AWS::Serverless-2016-10-31", "Transform: [AWS::Serverless-2016-10-31]", 1), "Transform", "", "must be"},
		{"unknown top-level section", withResources("") + "Rules: {}\n", "Rules", "", "unknown top-level section"},
		{"no resources", header + "Resources: {}\n", "Resources", "", "no resources"},
		{"Resources not a mapping", header + "Resources: [a]\n", "Resources", "", "must be a mapping"},
		{"unknown tag", withResources("Policy:\n  Type: AWS::S3::BucketPolicy\n  Properties:\n    Bucket: !Foo Bucket\n"), "", "", "unknown tag !Foo"},
		{"duplicate keys", withResources("Queue:\n  Type: AWS::SQS::Queue\n  Type: AWS::SQS::Queue\n"), "", "", `key "Type" appears twice`},
		{"duplicate resources", withResources("Bucket:\n  Type: AWS::S3::Bucket\n"), "", "", `key "Bucket" appears twice`},
		{"YAML merge key", withResources("Queue:\n  <<: {Type: AWS::SQS::Queue}\n"), "", "", "merge keys"},
		{"alias that contains itself", withResources("Queue: &q\n  Type: AWS::SQS::Queue\n  Properties:\n    Tags: [*q]\n"), "", "", "contains it"},
		{"alias bomb", header + "Metadata:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n  b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n  c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n  d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n  e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n  f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n  g: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n", "", "", "too many nodes"},
		{"tagged mapping key", withResources("Queue:\n  !Ref Type: AWS::SQS::Queue\n"), "", "", "mapping keys must be plain strings"},
		{"!GetAtt without attribute", withResources("Policy:\n  Type: AWS::S3::BucketPolicy\n  Properties:\n    Bucket: !GetAtt Bucket\n"), "", "", "needs the form Resource.Attribute"},

		// Resources.
		{"unknown resource type", withResources("Server:\n  Type: AWS::EC2::Instance\n"), "Server", "Type", `unsupported resource type "AWS::EC2::Instance"`},
		{"resource without Type", withResources("Queue:\n  Properties: {}\n"), "Queue", "Type", `unsupported resource type ""`},
		{"resource not a mapping", withResources("Queue: AWS::SQS::Queue\n"), "Queue", "", "must be a mapping"},
		{"unknown property", withResources("Logs:\n  Type: AWS::S3::Bucket\n  Properties:\n    BucketNme: x\n"), "Logs", "Properties.BucketNme", "unknown property for AWS::S3::Bucket"},
		{"Properties not a mapping", withResources("Logs:\n  Type: AWS::S3::Bucket\n  Properties: [x]\n"), "Logs", "Properties", "must be a mapping"},
		{"unknown resource attribute", withResources("Logs:\n  Type: AWS::S3::Bucket\n  DeletionPolcy: Retain\n"), "Logs", "DeletionPolcy", "unknown resource attribute"},
		{"Metadata not a mapping", withResources("Logs:\n  Type: AWS::S3::Bucket\n  Metadata: x\n"), "Logs", "Metadata", "must be a mapping"},
		{"DependsOn on nothing", withResources("Logs:\n  Type: AWS::S3::Bucket\n  DependsOn: Nope\n"), "Logs", "DependsOn", `no resource "Nope"`},
		{"DependsOn not a name", withResources("Logs:\n  Type: AWS::S3::Bucket\n  DependsOn: {a: b}\n"), "Logs", "DependsOn", "logical ID"},
		{"Condition on nothing", withResources("Logs:\n  Type: AWS::S3::Bucket\n  Condition: IsProd\n"), "Logs", "Condition", `no condition "IsProd"`},
		{"logical ID with a dot", withResources("Files.Bucket:\n  Type: AWS::S3::Bucket\n"), "Files.Bucket", "", "ASCII letters and digits"},
		{"parameter name with a dash", withResources("") + "Parameters:\n  Log-Level:\n    Type: String\n    Default: INFO\n", "Parameters", "Log-Level", "ASCII letters and digits"},
		{"resource named like a parameter", withResources("") + "Parameters:\n  Table:\n    Type: String\n    Default: x\n", "Table", "", "same logical ID"},

		// Functions.
		{"function ID not ending in Function", withResources("Health:\n  Type: AWS::Serverless::Function\n  Metadata:\n    BuildMethod: makefile\n  Properties:\n    Runtime: provided.al2023\n"), "Health", "", "must end in Function"},
		{"function ID that is only Function", withResources("Function:\n  Type: AWS::Serverless::Function\n  Metadata:\n    BuildMethod: makefile\n  Properties:\n    Runtime: provided.al2023\n"), "Function", "", "must end in Function"},
		{"function ID with an underscore", withResources("Clock_InFunction:\n  Type: AWS::Serverless::Function\n  Metadata:\n    BuildMethod: makefile\n  Properties:\n    Runtime: provided.al2023\n"), "Clock_InFunction", "", "ASCII letters and digits"},
		{"BuildMethod not makefile", strings.Replace(withFunction(""), "BuildMethod: makefile", "BuildMethod: go1.x", 1), "HealthFunction", "Metadata.BuildMethod", "must be makefile"},
		{"no BuildMethod", strings.Replace(withFunction(""), "    Metadata:\n      BuildMethod: makefile\n", "", 1), "HealthFunction", "Metadata.BuildMethod", "must be makefile"},
		{"Runtime not provided.al2023", strings.Replace(withFunction(""), "provided.al2023", "python3.12", 1), "HealthFunction", "Runtime", "must be provided.al2023"},
		{"Timeout zero", withFunction("Timeout: 0"), "HealthFunction", "Timeout", "from 1 to 900"},
		{"Timeout over 15 minutes", withFunction("Timeout: 901"), "HealthFunction", "Timeout", "from 1 to 900"},
		{"Timeout as a string", withFunction(`Timeout: "3"`), "HealthFunction", "Timeout", "whole number"},
		{"Timeout fractional", withFunction("Timeout: 2.5"), "HealthFunction", "Timeout", "whole number"},
		{"Timeout too large for int64", withFunction("Timeout: 99999999999999999999"), "HealthFunction", "Timeout", "whole number"},
		{"MemorySize too small", withFunction("MemorySize: 64"), "HealthFunction", "MemorySize", "from 128 to 10240"},
		{"MemorySize too large", withFunction("MemorySize: 10241"), "HealthFunction", "MemorySize", "from 128 to 10240"},
		{"Environment not a mapping", withFunction("Environment: [A]"), "HealthFunction", "Environment", "must be a mapping"},
		{"Environment other than Variables", withFunction("Environment:\n  Vars: {A: b}"), "HealthFunction", "Environment.Vars", "only Variables"},
		{"Environment.Variables not a mapping", withFunction("Environment:\n  Variables: [A]"), "HealthFunction", "Environment.Variables", "must be a mapping"},
		{"Events not a mapping", withFunction("Events: [a]"), "HealthFunction", "Events", "must be a mapping"},
		{"unknown function property", withFunction("Handlr: bootstrap"), "HealthFunction", "Properties.Handlr", "unknown property for AWS::Serverless::Function"},

		// Policies.
		{"unknown policy template", withFunction("Policies:\n  - DynamoDBCrudPolicyy:\n      TableName: !Ref Table"), "HealthFunction", "Policies[0]", `unknown SAM policy template "DynamoDBCrudPolicyy"`},
		{"managed policy written as a template", withFunction("Policies:\n  - AWSXrayWriteOnlyAccess: {}"), "HealthFunction", "Policies[0]", `unknown SAM policy template "AWSXrayWriteOnlyAccess"`},
		{"unknown policy template parameter", withFunction("Policies:\n  - S3CrudPolicy: {BucketName: !Ref Bucket}\n  - DynamoDBCrudPolicy:\n      Table: !Ref Table"), "HealthFunction", "Policies[1].DynamoDBCrudPolicy.Table", "unknown policy template parameter"},
		{"missing policy template parameter", withFunction("Policies:\n  - DynamoDBCrudPolicy: {}"), "HealthFunction", "Policies[0].DynamoDBCrudPolicy.TableName", "missing policy template parameter"},
		{"policy template parameters not a mapping", withFunction("Policies:\n  - DynamoDBCrudPolicy: Table"), "HealthFunction", "Policies[0].DynamoDBCrudPolicy", "must be a mapping"},
		{"policy entry with two templates", withFunction("Policies:\n  - S3CrudPolicy: {BucketName: x}\n    S3ReadPolicy: {BucketName: x}"), "HealthFunction", "Policies[0]", "exactly one key"},
		{"policy entry a number", withFunction("Policies: [42]"), "HealthFunction", "Policies[0]", "policy name or a policy template"},

		// Events.
		{"unknown event type", withEvent("Sqs", "Queue: x"), "HealthFunction", "Events.Health.Type", `unsupported event type "Sqs"`},
		{"event without Type", withFunction("Events:\n  Health:\n    Properties: {}"), "HealthFunction", "Events.Health.Type", `unsupported event type ""`},
		{"unknown event attribute", withFunction("Events:\n  Health:\n    Type: HttpApi\n    Condition: IsProd"), "HealthFunction", "Events.Health.Condition", "unknown event attribute"},
		{"event Properties not a mapping", withFunction("Events:\n  Health:\n    Type: SQS\n    Properties: [x]"), "HealthFunction", "Events.Health.Properties", "must be a mapping"},
		{"unknown event property", withEvent("HttpApi", "Method: GET\nPath: /v1/x\nPaths: /v1/y"), "HealthFunction", "Events.Health.Properties.Paths", "unknown property for a HttpApi event"},
		{"HttpApi without Path", withEvent("HttpApi", "Method: GET"), "HealthFunction", "Events.Health.Properties.Path", "needs Method and Path"},
		{"HttpApi without Method", withEvent("HttpApi", "Path: /v1/x"), "HealthFunction", "Events.Health.Properties.Method", "needs Method and Path"},
		{"HttpApi with an unknown method", withEvent("HttpApi", "Method: FETCH\nPath: /v1/x"), "HealthFunction", "Events.Health.Properties.Method", `unsupported HTTP method "FETCH"`},
		{"HttpApi Path without slash", withEvent("HttpApi", "Method: GET\nPath: v1/x"), "HealthFunction", "Events.Health.Properties.Path", "must start with /"},
		{"HttpApi Auth not a mapping", withEvent("HttpApi", "Method: GET\nPath: /v1/x\nAuth: NONE"), "HealthFunction", "Events.Health.Properties.Auth", "must be a mapping"},
		{"HttpApi unknown Auth property", withEvent("HttpApi", "Method: GET\nPath: /v1/x\nAuth:\n  Authoriser: NONE"), "HealthFunction", "Events.Health.Properties.Auth.Authoriser", "unknown HttpApi auth property"},
		{"EventBridgeRule without Pattern", withEvent("EventBridgeRule", "EventBusName: default"), "HealthFunction", "Events.Health.Properties.Pattern", "needs a Pattern"},
		{"EventBridgeRule Pattern not a mapping", withEvent("EventBridgeRule", "Pattern: '{\"source\": [\"x\"]}'"), "HealthFunction", "Events.Health.Properties.Pattern", "needs a Pattern mapping"},
		{"S3 without Bucket", withEvent("S3", "Events: s3:ObjectCreated:*"), "HealthFunction", "Events.Health.Properties.Bucket", "needs Bucket and Events"},
		{"S3 without Events", withEvent("S3", "Bucket: !Ref Bucket"), "HealthFunction", "Events.Health.Properties.Events", "needs Bucket and Events"},
		{"SQS without Queue", withEvent("SQS", "BatchSize: 10"), "HealthFunction", "Events.Health.Properties.Queue", "needs a Queue"},
		{"Schedule without Schedule", withEvent("Schedule", "Enabled: true"), "HealthFunction", "Events.Health.Properties.Schedule", "needs a Schedule"},
		{"ScheduleV2 without ScheduleExpression", withEvent("ScheduleV2", "State: ENABLED"), "HealthFunction", "Events.Health.Properties.ScheduleExpression", "needs a ScheduleExpression"},

		// References.
		{"!Ref to nothing", withResources("Policy:\n  Type: AWS::S3::BucketPolicy\n  Properties:\n    Bucket: !Ref Nope\n"), "Policy", "Properties.Bucket", `refers to "Nope", which is neither a parameter nor a resource`},
		{"!Ref of a non-name", withResources("Policy:\n  Type: AWS::S3::BucketPolicy\n  Properties:\n    Bucket: !Ref [Bucket]\n"), "Policy", "Properties.Bucket", "!Ref takes a name"},
		{"!Ref to nothing in a function's event", withEvent("HttpApi", "ApiId: !Ref Nope\nMethod: GET\nPath: /v1/x"), "HealthFunction", "Properties.Events.Health.Properties.ApiId", `refers to "Nope"`},
		{"!GetAtt of an unknown resource", withResources("Policy:\n  Type: AWS::S3::BucketPolicy\n  Properties:\n    PolicyDocument:\n      Statement:\n        - Resource: !GetAtt Nope.Arn\n"), "Policy", "Properties.PolicyDocument.Statement[0].Resource", `!GetAtt Nope.Arn: no resource "Nope"`},
		{"!GetAtt attribute the runner cannot resolve", withResources("Policy:\n  Type: AWS::S3::BucketPolicy\n  Properties:\n    Bucket: !GetAtt Table.Foo\n"), "Policy", "Properties.Bucket", `AWS::DynamoDB::Table has no attribute "Foo"`},
		{"!GetAtt long form with three items", withResources("Policy:\n  Type: AWS::S3::BucketPolicy\n  Properties:\n    Bucket: {\"Fn::GetAtt\": [Table, Arn, x]}\n"), "Policy", "Properties.Bucket", "!GetAtt takes Resource.Attribute"},
		{"!Sub of an unknown name", withResources("Policy:\n  Type: AWS::S3::BucketPolicy\n  Properties:\n    Bucket: !Sub \"${Nope}\"\n"), "Policy", "Properties.Bucket", `!Sub refers to "Nope"`},
		{"!Sub of an unknown attribute", withResources("Policy:\n  Type: AWS::S3::BucketPolicy\n  Properties:\n    Bucket: !Sub \"${Bucket.Nope}\"\n"), "Policy", "Properties.Bucket", `!Sub !GetAtt Bucket.Nope: AWS::S3::Bucket has no attribute "Nope"`},
		{"!Sub of an unknown name in its variables", withResources("Policy:\n  Type: AWS::S3::BucketPolicy\n  Properties:\n    Bucket: !Sub [\"${B}\", {B: !Ref Nope}]\n"), "Policy", "Properties.Bucket.B", `refers to "Nope"`},
		{"!Sub with a bad argument", withResources("Policy:\n  Type: AWS::S3::BucketPolicy\n  Properties:\n    Bucket: !Sub [a, b, c]\n"), "Policy", "Properties.Bucket", "!Sub takes a string or [string, {variables}]"},
		{"!If of an unknown condition", withResources("Policy:\n  Type: AWS::S3::BucketPolicy\n  Properties:\n    Bucket: !If [IsProd, a, b]\n"), "Policy", "Properties.Bucket", `!If names condition "IsProd"`},
		{"!FindInMap of an unknown mapping", withResources("Policy:\n  Type: AWS::S3::BucketPolicy\n  Properties:\n    Bucket: !FindInMap [Names, dev, bucket]\n"), "Policy", "Properties.Bucket", `!FindInMap names "Names"`},
		{"two buckets whose names refer to each other", header + "Resources:\n  ABucket:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: !Sub \"${BBucket}-a\"\n  BBucket:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: !Ref ABucket\n", "ABucket", "Properties.BucketName", "circular dependency: ABucket -> BBucket -> ABucket"},
		{"a bucket whose name refers to itself", header + "Resources:\n  ABucket:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: !GetAtt ABucket.Arn\n", "ABucket", "Properties.BucketName", "circular dependency: ABucket -> ABucket"},
		{"a DependsOn cycle", header + "Resources:\n  ABucket:\n    Type: AWS::S3::Bucket\n    DependsOn: BBucket\n  BBucket:\n    Type: AWS::S3::Bucket\n    DependsOn: [ABucket]\n", "ABucket", "DependsOn", "circular dependency: ABucket -> BBucket -> ABucket"},

		// Globals.
		{"Globals property SAM does not allow", header + "Globals:\n  Function:\n    Events: {}\n" + strings.TrimPrefix(withFunction(""), header), "Globals", "Function.Events", "not a property SAM allows in Globals"},
		{"Globals FunctionName", header + "Globals:\n  Function:\n    FunctionName: x\n" + strings.TrimPrefix(withFunction(""), header), "Globals", "Function.FunctionName", "not a property SAM allows in Globals"},
		{"Globals section other than Function", header + "Globals:\n  Api:\n    Cors: '*'\n" + strings.TrimPrefix(withFunction(""), header), "Globals", "Api", "only Globals.Function"},
		{"Globals.Function not a mapping", header + "Globals:\n  Function: [x]\n" + strings.TrimPrefix(withFunction(""), header), "Globals", "Function", "must be a mapping"},
		{"Globals not a mapping", header + "Globals: [x]\n" + strings.TrimPrefix(withFunction(""), header), "Globals", "", "must be a mapping"},
		{"Globals with a bad Timeout", header + "Globals:\n  Function:\n    Timeout: 0\n" + strings.TrimPrefix(withFunction(""), header), "HealthFunction", "Timeout", "from 1 to 900"},
		{"Globals with a !Ref to nothing", header + "Globals:\n  Function:\n    Environment:\n      Variables:\n        X: !Ref Nope\n" + strings.TrimPrefix(withFunction(""), header), "HealthFunction", "Properties.Environment.Variables.X", `refers to "Nope"`},

		// Parameters.
		{"Parameters not a mapping", withResources("") + "Parameters: [x]\n", "Parameters", "", "must be a mapping"},
		{"parameter not a mapping", withResources("") + "Parameters:\n  Stage: x\n", "Parameters", "Stage", "must be a mapping"},
		{"unknown parameter type", withResources("") + "Parameters:\n  Vpc:\n    Type: AWS::EC2::VPC::Id\n", "Parameters", "Vpc.Type", `unsupported parameter type "AWS::EC2::VPC::Id"`},
		{"unknown parameter property", withResources("") + "Parameters:\n  Stage:\n    Type: String\n    Defualt: dev\n", "Parameters", "Stage.Defualt", "unknown parameter property"},
		{"AllowedValues not a list", withResources("") + "Parameters:\n  Stage:\n    Type: String\n    AllowedValues: dev\n", "Parameters", "Stage.AllowedValues", "must be a list"},
		{"Default outside AllowedValues", withResources("") + "Parameters:\n  Stage:\n    Type: String\n    Default: test\n    AllowedValues: [dev, prod]\n", "Parameters", "Stage.Default", `"test" is not one of the allowed values (dev, prod)`},
		{"Number Default not a number", withResources("") + "Parameters:\n  Days:\n    Type: Number\n    Default: many\n", "Parameters", "Days.Default", `"many" is not a number`},
		{"Default not matching AllowedPattern", withResources("") + "Parameters:\n  Prefix:\n    Type: String\n    Default: Lantau\n    AllowedPattern: '[a-z]+'\n", "Parameters", "Prefix.Default", "does not match AllowedPattern"},
		{"Default a list", withResources("") + "Parameters:\n  Zones:\n    Type: CommaDelimitedList\n    Default: [a, b]\n", "Parameters", "Zones.Default", "must be a single value"},
		{"AllowedPattern not a regexp", withResources("") + "Parameters:\n  Prefix:\n    Type: String\n    AllowedPattern: '[a-'\n", "Parameters", "Prefix.AllowedPattern", "not a regular expression"},
		{"MinLength not a number", withResources("") + "Parameters:\n  Prefix:\n    Type: String\n    MinLength: two\n", "Parameters", "Prefix.MinLength", "whole number"},

		// Conditions, Mappings, Outputs.
		{"Conditions not a mapping", withResources("") + "Conditions: [x]\n", "Conditions", "", "must be a mapping"},
		{"Mappings not a mapping", withResources("") + "Mappings: [x]\n", "Mappings", "", "must be a mapping"},
		{"condition referring to a resource", withResources("") + "Conditions:\n  HasTable: !Equals [!Ref Table, x]\n", "Conditions", "HasTable.Fn::Equals[0]", `parameters only, not to resource "Table"`},
		{"condition referring to nothing", withResources("") + "Conditions:\n  IsProd: !Equals [!Ref Stage, prod]\n", "Conditions", "IsProd.Fn::Equals[0]", `refers to "Stage"`},
		{"condition naming an unknown condition", withResources("") + "Conditions:\n  IsDev: !Not [!Condition IsProd]\n", "Conditions", "IsDev.Fn::Not[0]", `!Condition names "IsProd"`},
		{"conditions that refer to each other", withResources("") + "Conditions:\n  A: !Not [!Condition B]\n  B: !And [!Condition A, !Condition A]\n", "Conditions", "A", "circular condition: A -> B -> A"},
		{"output not a mapping", withResources("") + "Outputs:\n  Name: x\n", "Outputs", "Name", "must be a mapping"},
		{"output without Value", withResources("") + "Outputs:\n  Name:\n    Description: x\n", "Outputs", "Name.Value", "needs a Value"},
		{"unknown output property", withResources("") + "Outputs:\n  Name:\n    Value: x\n    Exports: {Name: y}\n", "Outputs", "Name.Exports", "unknown output property"},
		{"output !Ref to nothing", withResources("") + "Outputs:\n  Name:\n    Value: !Ref Nope\n", "Outputs", "Name.Value", `refers to "Nope"`},
		{"output Condition on nothing", withResources("") + "Outputs:\n  Name:\n    Value: x\n    Condition: IsProd\n", "Outputs", "Name.Condition", `no condition "IsProd"`},
	}
}

func TestParse_RefusesMalformedTemplates(t *testing.T) {
	for _, tt := range malformedCases() {
		t.Run(tt.name, func(t *testing.T) {
			_, err := template.Parse([]byte(tt.yaml))

			te := requireTemplateError(t, err)
			assert.Equal(t, tt.resource, te.Resource, "resource")
			assert.Equal(t, tt.property, te.Property, "property")
			assert.Contains(t, te.Error(), tt.reason)
		})
	}
}

func TestParse_UnknownEventTypeMessageNamesFunctionEventAndType(t *testing.T) {
	_, err := template.Parse([]byte(withEvent("Sqs", "Queue: x")))

	require.Error(t, err)
	assert.EqualError(t, err, `HealthFunction.Events.Health.Type: unsupported event type "Sqs"`)
}

func TestParse_ReadsEveryEventType(t *testing.T) {
	tmpl, err := template.Load("testdata/events.yaml")
	require.NoError(t, err)
	fn := tmpl.Function("clockin")
	require.NotNil(t, fn)
	assert.Equal(t, "ClockInFunction", fn.LogicalID)
	assert.Equal(t, 3*time.Second, fn.Timeout, "SAM's default Timeout")
	assert.Equal(t, 128, fn.MemoryMB, "SAM's default MemorySize")
	assert.Equal(t, []string{"Table"}, tmpl.Resources["ClockInFunction"].DependsOn)

	got := map[string]string{}
	var names []string
	for _, ev := range fn.Events {
		got[ev.Name] = ev.Type
		names = append(names, ev.Name)
	}
	assert.Equal(t, map[string]string{
		"Post": "HttpApi", "Approved": "EventBridgeRule", "Uploaded": "S3",
		"Nightly": "Schedule", "Monthly": "ScheduleV2", "Queued": "SQS",
	}, got)
	assert.IsNonDecreasing(t, names, "events are sorted by name")
	approved := fn.Events[0]
	require.Equal(t, "Approved", approved.Name)
	assert.Equal(t, map[string]any{"source": []any{"lantau.approvals"}, "detail-type": []any{"ApprovalGranted"}}, approved.Properties["Pattern"])
}

func TestParse_SortsFunctionsByLogicalID(t *testing.T) {
	doc := withResources(`ZuluFunction:
  Type: AWS::Serverless::Function
  Metadata: {BuildMethod: makefile}
  Properties: {Runtime: provided.al2023}
AlphaFunction:
  Type: AWS::Serverless::Function
  Metadata: {BuildMethod: makefile}
  Properties: {Runtime: provided.al2023}
`)
	tmpl, err := template.Parse([]byte(doc))
	require.NoError(t, err)

	require.Len(t, tmpl.Functions, 2)
	assert.Equal(t, "AlphaFunction", tmpl.Functions[0].LogicalID)
	assert.Equal(t, "alpha", tmpl.Functions[0].Name)
	assert.Equal(t, "zulu", tmpl.Functions[1].Name)
}

func TestParse_ExpandsAliases(t *testing.T) {
	doc := withResources(`Logs:
  Type: AWS::S3::Bucket
  Properties:
    Tags: &tags
      - Key: team
        Value: platform
Archive:
  Type: AWS::S3::Bucket
  Properties:
    Tags: *tags
`)
	tmpl, err := template.Parse([]byte(doc))
	require.NoError(t, err)

	assert.Equal(t, tmpl.Resources["Logs"].Properties["Tags"], tmpl.Resources["Archive"].Properties["Tags"])
}

func TestParse_DecodesScalarsAndLongForms(t *testing.T) {
	doc := withResources(`Queue:
  Type: AWS::SQS::Queue
  Properties:
    FifoQueue: true
    VisibilityTimeout: 30
    MessageRetentionPeriod: 1.5e3
    QueueName: {"Fn::Sub": "${AWS::StackName}-jobs"}
    Tags:
      - Key: quoted
        Value: "30"
      - Key: empty
        Value: ~
`)
	tmpl, err := template.Parse([]byte(doc))
	require.NoError(t, err)

	p := tmpl.Resources["Queue"].Properties
	assert.Equal(t, true, p["FifoQueue"])
	assert.Equal(t, int64(30), p["VisibilityTimeout"])
	assert.Equal(t, 1500.0, p["MessageRetentionPeriod"])
	assert.Equal(t, map[string]any{"Fn::Sub": "${AWS::StackName}-jobs"}, p["QueueName"])
	assert.Equal(t, []any{
		map[string]any{"Key": "quoted", "Value": "30"},
		map[string]any{"Key": "empty", "Value": nil},
	}, p["Tags"])
}

func TestParse_MergesGlobalsIntoFunctions(t *testing.T) {
	tmpl, err := template.Load("testdata/globals.yaml")
	require.NoError(t, err)
	plain, own := tmpl.Function("PlainFunction"), tmpl.Function("OwnFunction")
	require.NotNil(t, plain)
	require.NotNil(t, own)
	variables := func(fn *template.Function) map[string]any {
		env, _ := fn.Properties["Environment"].(map[string]any)
		vars, _ := env["Variables"].(map[string]any)
		return vars
	}

	t.Run("a function without the property takes Globals' value", func(t *testing.T) {
		assert.Equal(t, 10*time.Second, plain.Timeout)
		assert.Equal(t, 256, plain.MemoryMB)
		assert.Equal(t, []any{"global-layer"}, plain.Properties["Layers"])
		assert.Equal(t, map[string]any{"SHARED": "from-globals", "OVERRIDDEN": "from-globals"}, variables(plain))
		assert.Equal(t, map[string]any{"Type": "SQS", "TargetArn": map[string]any{"Fn::GetAtt": []any{"Queue", "Arn"}}}, plain.Properties["DeadLetterQueue"])
	})
	t.Run("a scalar of the function overrides Globals", func(t *testing.T) {
		assert.Equal(t, 30*time.Second, own.Timeout)
		assert.Equal(t, 256, own.MemoryMB)
	})
	t.Run("Environment.Variables are merged and the function wins per key", func(t *testing.T) {
		assert.Equal(t, map[string]any{"SHARED": "from-globals", "OVERRIDDEN": "from-function", "OWN": "from-function"}, variables(own))
	})
	t.Run("other maps are merged the same way", func(t *testing.T) {
		assert.Equal(t, map[string]any{"team": "platform", "cost": "own"}, own.Properties["Tags"])
	})
	t.Run("lists are concatenated with Globals' entries first", func(t *testing.T) {
		assert.Equal(t, []any{"global-layer", "own-layer"}, own.Properties["Layers"])
	})
	t.Run("an intrinsic of the function replaces Globals' map whole", func(t *testing.T) {
		dlq, _ := own.Properties["DeadLetterQueue"].(map[string]any)
		assert.Contains(t, dlq, "Fn::If")
		assert.Len(t, dlq, 1)
	})
	t.Run("the raw resource keeps only its own properties", func(t *testing.T) {
		assert.NotContains(t, tmpl.Resources["PlainFunction"].Properties, "Runtime")
	})
	t.Run("functions do not share merged values", func(t *testing.T) {
		variables(plain)["SHARED"] = "changed"
		plain.Properties["Layers"].([]any)[0] = "changed"

		assert.Equal(t, "from-globals", variables(own)["SHARED"])
		assert.Equal(t, "global-layer", own.Properties["Layers"].([]any)[0])
	})
}

// FuzzParse feeds arbitrary bytes to Parse: it must never panic (nor
// overflow its stack), every error must be a *template.Error, and whatever
// parses must resolve without panicking.
func FuzzParse(f *testing.F) {
	for _, path := range append([]string{realTemplate}, mustGlob(f, "testdata/*.yaml")...) {
		data, err := os.ReadFile(path)
		require.NoError(f, err)
		f.Add(data)
	}
	for _, c := range malformedCases() {
		f.Add([]byte(c.yaml))
	}
	ctx := template.Context{Region: "ap-east-1", AccountID: "123456789012", StackName: "lantau"}
	f.Fuzz(func(t *testing.T, data []byte) {
		tmpl, err := template.Parse(data)
		if err != nil {
			var te *template.Error
			require.ErrorAs(t, err, &te)
			return
		}
		r, err := tmpl.NewResolver(ctx)
		if err != nil {
			var te *template.Error
			require.ErrorAs(t, err, &te)
			return
		}
		for _, id := range mapKeys(tmpl.Resources) {
			_, _ = r.Ref(id)
			for _, attr := range []string{"Arn", "Name", "QueueName", "QueueUrl", "Value", "ApiEndpoint", "StreamArn"} {
				_, _ = r.GetAtt(id, attr)
			}
			if _, err := r.Value(tmpl.Resources[id].Properties, id, "Properties"); err != nil {
				var te *template.Error
				require.ErrorAs(t, err, &te)
			}
		}
		for _, fn := range tmpl.Functions {
			_, _ = r.JSON(fn.Properties, fn.LogicalID, "Properties")
		}
		for _, name := range mapKeys(tmpl.Conditions) {
			_, _ = r.Condition(name)
		}
		_, _ = r.Value(tmpl.Outputs, "Outputs", "")
	})
}

func mustGlob(tb testing.TB, pattern string) []string {
	tb.Helper()
	paths, err := filepath.Glob(pattern)
	require.NoError(tb, err)
	require.NotEmpty(tb, paths)
	return paths
}

func mapKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}
