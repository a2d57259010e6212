package template

// The SAM and CloudFormation subset Lantau uses. The reader refuses anything
// outside it, so a typo in template.yaml stops `make run` instead of being
// silently ignored (as goformation would).

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

var resourceKeys = set("Type", "Properties", "Metadata", "DependsOn", "Condition", "DeletionPolicy", "UpdateReplacePolicy")

var functionProps = set(
	"CodeUri", "Handler", "Runtime", "Architectures", "MemorySize", "Timeout", "Description",
	"Environment", "Events", "Policies", "Tracing", "LoggingConfig", "DeadLetterQueue",
	"ReservedConcurrentExecutions", "FunctionName", "Role", "EventInvokeConfig", "Tags",
	"EphemeralStorage", "Layers", "AutoPublishAlias", "VpcConfig", "KmsKeyArn", "RuntimeManagementConfig",
)

// propertySchemas lists the properties accepted per resource type. A type
// missing from this map is refused.
var propertySchemas = map[string]map[string]bool{
	"AWS::Serverless::Function": functionProps,
	"AWS::Serverless::HttpApi": set("Auth", "CorsConfiguration", "Description", "StageName", "AccessLogSettings",
		"DefaultRouteSettings", "FailOnWarnings", "Tags", "DisableExecuteApiEndpoint", "Domain", "Name"),
	"AWS::DynamoDB::Table": set("TableName", "BillingMode", "AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes",
		"LocalSecondaryIndexes", "PointInTimeRecoverySpecification", "TimeToLiveSpecification", "SSESpecification",
		"StreamSpecification", "ProvisionedThroughput", "Tags", "DeletionProtectionEnabled", "TableClass"),
	"AWS::S3::Bucket": set("BucketName", "VersioningConfiguration", "PublicAccessBlockConfiguration", "OwnershipControls",
		"BucketEncryption", "LifecycleConfiguration", "ObjectLockEnabled", "ObjectLockConfiguration", "CorsConfiguration",
		"Tags", "LoggingConfiguration", "NotificationConfiguration"),
	"AWS::S3::BucketPolicy":   set("Bucket", "PolicyDocument"),
	"AWS::Events::EventBus":   set("Name", "Description", "Tags", "DeadLetterConfig", "KmsKeyIdentifier"),
	"AWS::SQS::Queue":         set("QueueName", "MessageRetentionPeriod", "SqsManagedSseEnabled", "KmsMasterKeyId", "VisibilityTimeout", "RedrivePolicy", "Tags", "FifoQueue"),
	"AWS::Logs::LogGroup":     set("LogGroupName", "RetentionInDays", "KmsKeyId", "Tags"),
	"AWS::SSM::Parameter":     set("Name", "Type", "Value", "Description", "Tier"),
	"AWS::KMS::Key":           set("Description", "KeySpec", "KeyUsage", "KeyPolicy", "EnableKeyRotation", "PendingWindowInDays"),
	"AWS::KMS::Alias":         set("AliasName", "TargetKeyId"),
	"AWS::SES::EmailIdentity": set("EmailIdentity"),
}

// eventSchemas lists, per SAM event source type, the properties accepted.
var eventSchemas = map[string]map[string]bool{
	"HttpApi":         set("ApiId", "Method", "Path", "Auth", "PayloadFormatVersion", "TimeoutInMillis", "RouteSettings"),
	"EventBridgeRule": set("EventBusName", "Pattern", "Input", "InputPath", "DeadLetterConfig", "RetryPolicy", "RuleName", "State", "Target", "InputTransformer"),
	"S3":              set("Bucket", "Events", "Filter"),
	"Schedule":        set("Schedule", "Name", "Description", "Enabled", "State", "Input", "DeadLetterConfig", "RetryPolicy"),
	"ScheduleV2":      set("ScheduleExpression", "ScheduleExpressionTimezone", "Name", "Description", "State", "Input", "DeadLetterConfig", "RetryPolicy", "FlexibleTimeWindow", "StartDate", "EndDate", "GroupName", "RoleArn"),
	"SQS":             set("Queue", "BatchSize", "Enabled", "MaximumBatchingWindowInSeconds", "FunctionResponseTypes", "ScalingConfig"),
}

// functionGlobals are the Function properties SAM allows in Globals.
var functionGlobals = set("Handler", "Runtime", "CodeUri", "Description", "MemorySize", "Timeout", "Environment",
	"Tracing", "LoggingConfig", "DeadLetterQueue", "Architectures", "Layers", "Tags", "EphemeralStorage",
	"EventInvokeConfig", "ReservedConcurrentExecutions", "VpcConfig", "KmsKeyArn", "RuntimeManagementConfig", "AutoPublishAlias")

var httpAuthKeys = set("Authorizer", "AuthorizationScopes")

// policyTemplates are the SAM policy templates Lantau uses, with their
// parameters (all required). AWS managed policies such as
// AWSXrayWriteOnlyAccess are not templates: they are listed by name.
var policyTemplates = map[string]map[string]bool{
	"DynamoDBCrudPolicy":          set("TableName"),
	"DynamoDBReadPolicy":          set("TableName"),
	"DynamoDBWritePolicy":         set("TableName"),
	"S3CrudPolicy":                set("BucketName"),
	"S3ReadPolicy":                set("BucketName"),
	"S3WritePolicy":               set("BucketName"),
	"EventBridgePutEventsPolicy":  set("EventBusName"),
	"SQSSendMessagePolicy":        set("QueueName"),
	"SSMParameterReadPolicy":      set("ParameterName"),
	"KMSDecryptPolicy":            set("KeyId"),
	"SESCrudPolicy":               set("IdentityName"),
	"TextractDetectAnalyzePolicy": set(),
}

// httpMethods are the methods an HttpApi event may route (SAM accepts any case).
var httpMethods = set("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY", "X-AMAZON-APIGATEWAY-ANY-METHOD")
