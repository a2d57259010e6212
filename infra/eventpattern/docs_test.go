package eventpattern

import "testing"

// The examples in this file come from AWS's EventBridge user guide (event
// patterns, arrays, null values, content filtering, comparison operators)
// and from the README of aws/event-ruler, the matcher EventBridge runs.

// ec2StateChange is the event of the user guide's "Amazon EventBridge event
// patterns" page.
const ec2StateChange = `{
  "version": "0",
  "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
  "detail-type": "EC2 Instance State-change Notification",
  "source": "aws.ec2",
  "account": "111122223333",
  "time": "2017-12-22T18:43:48Z",
  "region": "us-west-1",
  "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
  "detail": {"instance-id": "i-1234567890abcdef0", "state": "terminated"}
}`

// autoScalingLaunch is the event of the "Matching null values and empty
// strings" page.
const autoScalingLaunch = `{
  "version": "0",
  "id": "3e3c153a-8339-4e30-8c35-687ebef853fe",
  "detail-type": "EC2 Instance Launch Successful",
  "source": "aws.autoscaling",
  "account": "123456789012",
  "time": "2015-11-11T21:31:47Z",
  "region": "us-east-1",
  "resources": [],
  "detail": {"eventVersion": "", "responseElements": null}
}`

// macieAlert is the (truncated) Macie Classic event of the "Value matching"
// example.
const macieAlert = `{
  "version": "0",
  "id": "3e355723-fca9-4de3-9fd7-154c289d6b59",
  "detail-type": "Macie Alert",
  "source": "aws.macie",
  "account": "123456789012",
  "time": "2017-04-24T22:28:49Z",
  "region": "us-east-1",
  "resources": [
    "arn:aws:macie:us-east-1:123456789012:trigger/trigger_id/alert/alert_id",
    "arn:aws:macie:us-east-1:123456789012:trigger/trigger_id"
  ],
  "detail": {
    "notification-type": "ALERT_CREATED",
    "name": "Scanning bucket policies",
    "tags": ["Custom_Alert", "Insider"],
    "url": "https://lb00.us-east-1.macie.aws.amazon.com/111122223333/posts/alert_id",
    "alert-arn": "arn:aws:macie:us-east-1:123456789012:trigger/trigger_id/alert/alert_",
    "risk-score": 80,
    "trigger": {
      "rule-arn": "arn:aws:macie:us-east-1:123456789012:trigger/trigger_id",
      "alert-type": "basic",
      "created-at": "2017-01-02 19:54:00.644000",
      "description": "Alerting on failed enumeration of large number of bucket policies",
      "risk": 8
    },
    "created-at": "2017-04-18T00:21:12.059000"
  }
}`

// rulerEvent is the sample event of the event-ruler README, which its
// content-filtering examples are written against.
const rulerEvent = `{
  "version": "0",
  "id": "ddddd4-aaaa-7777-4444-345dd43cc333",
  "detail-type": "EC2 Instance State-change Notification",
  "source": "aws.ec2",
  "account": "012345679012",
  "time": "2017-10-02T16:24:49Z",
  "region": "us-east-1",
  "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
  "detail": {
    "c-count": 5,
    "d-count": 3,
    "x-limit": 301.8,
    "source-ip": "10.0.0.33",
    "instance-id": "i-000000aaaaaa00000",
    "state": "running"
  }
}`

func TestMatch_UserGuideEventPatternExamples(t *testing.T) {
	runMatchCases(t, []matchCase{
		{
			name:    "instance termination pattern matches the EC2 event",
			pattern: `{"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"], "detail": {"state": ["terminated"]}}`,
			event:   ec2StateChange,
			want:    true,
		},
		{
			name:    "instance termination pattern ignores fields it does not name",
			pattern: `{"source": ["aws.ec2"], "detail": {"state": ["running"]}}`,
			event:   ec2StateChange,
			want:    false,
		},
		{
			name:    "source list matches either value",
			pattern: `{"source": ["aws.ec2", "aws.fargate"]}`,
			event:   ec2StateChange,
			want:    true,
		},
		{
			name:    "field matching on a null responseElements",
			pattern: `{"source": ["aws.autoscaling"], "detail-type": ["EC2 Instance Launch Successful"], "detail": {"responseElements": [null]}}`,
			event:   autoScalingLaunch,
			want:    true,
		},
		{
			name:    "Macie alert with risk score 80 and trigger risk 8",
			pattern: `{"source": ["aws.macie"], "detail-type": ["Macie Alert"], "detail": {"risk-score": [80], "trigger": {"risk": [8]}}}`,
			event:   macieAlert,
			want:    true,
		},
		{
			name:    "Macie alert with another trigger risk does not match",
			pattern: `{"source": ["aws.macie"], "detail": {"risk-score": [80], "trigger": {"risk": [9]}}}`,
			event:   macieAlert,
			want:    false,
		},
		{
			name:    "empty string matches eventVersion",
			pattern: `{"detail": {"eventVersion": [""]}}`,
			event:   autoScalingLaunch,
			want:    true,
		},
		{
			name:    "null matches responseElements",
			pattern: `{"detail": {"responseElements": [null]}}`,
			event:   autoScalingLaunch,
			want:    true,
		},
		{
			name:    "empty string does not match null",
			pattern: `{"detail": {"responseElements": [""]}}`,
			event:   autoScalingLaunch,
			want:    false,
		},
		{
			name:    "null does not match the empty string",
			pattern: `{"detail": {"eventVersion": [null]}}`,
			event:   autoScalingLaunch,
			want:    false,
		},
	})
}

func TestMatch_UserGuideArraysExample(t *testing.T) {
	pattern := `{"resources": [
		"arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
		"arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f",
		"arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f"
	]}`
	runMatchCases(t, []matchCase{
		{
			name:    "intersection of pattern and event arrays is not empty",
			pattern: pattern,
			event: `{"resources": [
				"arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate",
				"arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f"
			]}`,
			want: true,
		},
		{
			name:    "intersection is empty",
			pattern: pattern,
			event:   `{"resources": ["arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:x"]}`,
			want:    false,
		},
		{
			name:    "empty event array matches nothing",
			pattern: pattern,
			event:   `{"resources": []}`,
			want:    false,
		},
	})
}

func TestMatch_UserGuideContentFilteringExamples(t *testing.T) {
	runMatchCases(t, []matchCase{
		{"prefix on time", `{"time": [{"prefix": "2017-10-02"}]}`, rulerEvent, true},
		{"prefix on time, another day", `{"time": [{"prefix": "2017-10-03"}]}`, rulerEvent, false},
		{"anything-but a string", `{"detail": {"state": [{"anything-but": "initializing"}]}}`, rulerEvent, true},
		{"anything-but the event's own string", `{"detail": {"state": [{"anything-but": "running"}]}}`, rulerEvent, false},
		{"anything-but a number", `{"detail": {"x-limit": [{"anything-but": 123}]}}`, rulerEvent, true},
		{"anything-but the event's own number", `{"detail": {"c-count": [{"anything-but": 5}]}}`, rulerEvent, false},
		{"anything-but a list of strings", `{"detail": {"state": [{"anything-but": ["stopped", "overloaded"]}]}}`, rulerEvent, true},
		{"anything-but a list with the event's string", `{"detail": {"state": [{"anything-but": ["stopped", "running"]}]}}`, rulerEvent, false},
		{"anything-but a list of numbers", `{"detail": {"x-limit": [{"anything-but": [100, 200, 300]}]}}`, rulerEvent, true},
		{"anything-but a list with the event's number", `{"detail": {"x-limit": [{"anything-but": [100, 301.8]}]}}`, rulerEvent, false},
		{"anything-but prefix init", `{"detail": {"state": [{"anything-but": {"prefix": "init"}}]}}`, rulerEvent, true},
		{"anything-but prefix run", `{"detail": {"state": [{"anything-but": {"prefix": "run"}}]}}`, rulerEvent, false},
		{
			"numeric matching on every field",
			`{"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}], "d-count": [{"numeric": ["<", 10]}], "x-limit": [{"numeric": ["=", 3.018e2]}]}}`,
			rulerEvent, true,
		},
		{
			"numeric matching with one field out of range",
			`{"detail": {"c-count": [{"numeric": [">", 0, "<", 5]}], "d-count": [{"numeric": ["<", 10]}]}}`,
			rulerEvent, false,
		},
		{"IP address in 10.0.0.0/24", `{"detail": {"source-ip": [{"cidr": "10.0.0.0/24"}]}}`, rulerEvent, true},
		{"IP address outside 10.0.1.0/24", `{"detail": {"source-ip": [{"cidr": "10.0.1.0/24"}]}}`, rulerEvent, false},
		{
			"complex example with multiple matching",
			`{
				"time": [{"prefix": "2017-10-02"}],
				"detail": {
					"state": [{"anything-but": "initializing"}],
					"c-count": [{"numeric": [">", 0, "<=", 5]}],
					"d-count": [{"numeric": ["<", 10]}],
					"x-limit": [{"anything-but": [100, 200, 300]}],
					"source-ip": [{"cidr": "10.0.0.0/8"}]
				}
			}`,
			rulerEvent, true,
		},
	})
}

func TestMatch_UserGuideExistsExamples(t *testing.T) {
	pattern := `{"detail": {"c-count": [{"exists": false}]}}`
	runMatchCases(t, []matchCase{
		{
			name:    "exists false matches an event without detail.c-count",
			pattern: pattern,
			event: `{
				"detail-type": ["EC2 Instance State-change Notification"],
				"resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-02ebd4584a2ebd341"],
				"detail": {"state": ["initializing", "running"]}
			}`,
			want: true,
		},
		{
			name:    "exists false matches when c-count is not a leaf",
			pattern: pattern,
			event: `{
				"detail-type": ["EC2 Instance State-change Notification"],
				"resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-02ebd4584a2ebd341"],
				"detail": {"state": ["initializing", "running"], "c-count": {"c1": 100}}
			}`,
			want: true,
		},
		{
			name:    "exists false does not match a present c-count",
			pattern: pattern,
			event:   rulerEvent,
			want:    false,
		},
		{
			name:    "exists true matches a present c-count",
			pattern: `{"detail": {"c-count": [{"exists": true}]}}`,
			event:   rulerEvent,
			want:    true,
		},
		{
			name:    "exists true does not match an intermediate node",
			pattern: `{"detail": {"c-count": [{"exists": true}]}}`,
			event:   `{"detail": {"c-count": {"c1": 100}}}`,
			want:    false,
		},
	})
}

// The comparison operator table of the user guide, each tried on an event
// that should match and one that should not.
func TestMatch_UserGuideComparisonOperators(t *testing.T) {
	runMatchCases(t, []matchCase{
		{"and: both fields", `{"Location": ["New York"], "Day": ["Monday"]}`, `{"Location": "New York", "Day": "Monday"}`, true},
		{"and: one field differs", `{"Location": ["New York"], "Day": ["Monday"]}`, `{"Location": "New York", "Day": "Tuesday"}`, false},
		{"anything-but begins with us-: eu region", `{"Region": [{"anything-but": {"prefix": "us-"}}]}`, `{"Region": "eu-west-1"}`, true},
		{"anything-but begins with us-: us region", `{"Region": [{"anything-but": {"prefix": "us-"}}]}`, `{"Region": "us-east-1"}`, false},
		{"anything-but ends with .png: a jpg", `{"FileName": [{"anything-but": {"suffix": ".png"}}]}`, `{"FileName": "cat.jpg"}`, true},
		{"anything-but ends with .png: a png", `{"FileName": [{"anything-but": {"suffix": ".png"}}]}`, `{"FileName": "cat.png"}`, false},
		{"anything-but ignore case: running", `{"state": [{"anything-but": {"equals-ignore-case": "initializing"}}]}`, `{"state": "running"}`, true},
		{"anything-but ignore case: INITIALIZING", `{"state": [{"anything-but": {"equals-ignore-case": "initializing"}}]}`, `{"state": "INITIALIZING"}`, false},
		{"anything-but wildcard: path without /lib/", `{"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]}`, `{"FilePath": "/usr/bin/tool"}`, true},
		{"anything-but wildcard: path with /lib/", `{"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]}`, `{"FilePath": "/usr/lib/tool"}`, false},
		{"begins with us-", `{"Region": [{"prefix": "us-"}]}`, `{"Region": "us-east-1"}`, true},
		{"begins with us-: eu region", `{"Region": [{"prefix": "us-"}]}`, `{"Region": "eu-west-1"}`, false},
		{"begins with, ignoring case", `{"service": [{"prefix": {"equals-ignore-case": "eventb"}}]}`, `{"service": "EventBridge"}`, true},
		{"begins with, ignoring case: other service", `{"service": [{"prefix": {"equals-ignore-case": "eventb"}}]}`, `{"service": "Lambda"}`, false},
		{"empty LastName", `{"LastName": [""]}`, `{"LastName": ""}`, true},
		{"empty LastName: a name", `{"LastName": [""]}`, `{"LastName": "Doe"}`, false},
		{"equals", `{"Name": ["Alice"]}`, `{"Name": "Alice"}`, true},
		{"equals is case sensitive", `{"Name": ["Alice"]}`, `{"Name": "alice"}`, false},
		{"equals ignore case", `{"Name": [{"equals-ignore-case": "alice"}]}`, `{"Name": "ALICE"}`, true},
		{"ends with .png", `{"FileName": [{"suffix": ".png"}]}`, `{"FileName": "cat.png"}`, true},
		{"ends with .png: a PNG", `{"FileName": [{"suffix": ".png"}]}`, `{"FileName": "cat.PNG"}`, false},
		{"ends with, ignoring case", `{"FileName": [{"suffix": {"equals-ignore-case": ".png"}}]}`, `{"FileName": "cat.PNG"}`, true},
		{"ends with tbridge, ignoring case", `{"service": [{"suffix": {"equals-ignore-case": "tBridge"}}]}`, `{"service": "EVENTBRIDGE"}`, true},
		{"exists", `{"ProductName": [{"exists": true}]}`, `{"ProductName": "Widget"}`, true},
		{"does not exist", `{"ProductName": [{"exists": false}]}`, `{"Price": 5}`, true},
		{"not: Weather is anything but Raining", `{"Weather": [{"anything-but": ["Raining"]}]}`, `{"Weather": "Sunny"}`, true},
		{"null UserID", `{"UserID": [null]}`, `{"UserID": null}`, true},
		{"numeric equals", `{"Price": [{"numeric": ["=", 100]}]}`, `{"Price": 100}`, true},
		{"numeric range", `{"Price": [{"numeric": [">", 10, "<=", 20]}]}`, `{"Price": 20}`, true},
		{"numeric range: below", `{"Price": [{"numeric": [">", 10, "<=", 20]}]}`, `{"Price": 10}`, false},
		{"or: either of two values", `{"PaymentType": ["Credit", "Debit"]}`, `{"PaymentType": "Debit"}`, true},
		{"or across fields", `{"$or": [{"Location": ["New York"]}, {"Day": ["Monday"]}]}`, `{"Location": "Paris", "Day": "Monday"}`, true},
		{"or across fields: neither", `{"$or": [{"Location": ["New York"]}, {"Day": ["Monday"]}]}`, `{"Location": "Paris", "Day": "Friday"}`, false},
		{"wildcard", `{"FilePath": [{"wildcard": "dir/*.png"}]}`, `{"FilePath": "dir/cat.png"}`, true},
		{"wildcard: another directory", `{"FilePath": [{"wildcard": "dir/*.png"}]}`, `{"FilePath": "other/cat.png"}`, false},
	})
}

func TestMatch_EventRulerReadmeExamples(t *testing.T) {
	runMatchCases(t, []matchCase{
		{
			"simple matching",
			`{"detail-type": ["EC2 Instance State-change Notification"], "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"], "detail": {"state": ["initializing", "running"]}}`,
			rulerEvent, true,
		},
		{"suffix matching", `{"source": [{"suffix": "ec2"}]}`, rulerEvent, true},
		{"equals-ignore-case matching", `{"source": [{"equals-ignore-case": "AWS.EC2"}]}`, rulerEvent, true},
		{"wildcard matching", `{"source": [{"wildcard": "Simple*Service"}]}`, `{"source": "SimpleNotificationService"}`, true},
		{"wildcard matching: no match", `{"source": [{"wildcard": "Simple*Service"}]}`, rulerEvent, false},
		{"prefix only works on strings", `{"detail": {"c-count": [{"prefix": "5"}]}}`, rulerEvent, false},
		{"numeric only works on numbers", `{"detail": {"state": [{"numeric": [">", 0]}]}}`, `{"detail": {"state": "5"}}`, false},
	})
}

// The $or examples of the event-ruler README, against events picked to
// take each alternative.
func TestMatch_OrExamples(t *testing.T) {
	normal := `{"source": ["aws.cloudwatch"], "$or": [{"metricName": ["CPUUtilization", "ReadLatency"]}, {"namespace": ["AWS/EC2", "AWS/ES"]}]}`
	parallel := `{
		"$or": [{"metricName": ["CPUUtilization", "ReadLatency"]}, {"namespace": ["AWS/EC2", "AWS/ES"]}],
		"detail": {"$or": [{"source": ["aws.cloudwatch"]}, {"detail-type": ["CloudWatch Alarm State Change"]}]}
	}`
	andInside := `{
		"source": ["aws.cloudwatch"],
		"$or": [
			{"metricName": ["CPUUtilization", "ReadLatency"]},
			{"metricType": ["MetricType"], "namespace": ["AWS/EC2", "AWS/ES"]},
			{"scope": ["Service"]}
		]
	}`
	nested := `{
		"source": ["aws.cloudwatch"],
		"$or": [
			{"metricName": ["CPUUtilization", "ReadLatency"]},
			{"metricType": ["MetricType"], "namespace": ["AWS/EC2", "AWS/ES"], "$or": [{"metricId": [1234]}, {"spaceId": [1000]}]},
			{"scope": ["Service"]}
		]
	}`
	runMatchCases(t, []matchCase{
		{"normal or: first alternative", normal, `{"source": "aws.cloudwatch", "metricName": "ReadLatency"}`, true},
		{"normal or: second alternative", normal, `{"source": "aws.cloudwatch", "namespace": "AWS/ES"}`, true},
		{"normal or: sibling must still match", normal, `{"source": "aws.ec2", "namespace": "AWS/ES"}`, false},
		{"normal or: no alternative", normal, `{"source": "aws.cloudwatch", "namespace": "AWS/S3"}`, false},
		{"parallel or: one of each", parallel, `{"namespace": "AWS/EC2", "detail": {"detail-type": "CloudWatch Alarm State Change"}}`, true},
		{"parallel or: only the top one", parallel, `{"namespace": "AWS/EC2", "detail": {"source": "aws.ec2"}}`, false},
		{"or with an and inside: both of the and", andInside, `{"source": "aws.cloudwatch", "metricType": "MetricType", "namespace": "AWS/EC2"}`, true},
		{"or with an and inside: half of the and", andInside, `{"source": "aws.cloudwatch", "metricType": "MetricType"}`, false},
		{"or with an and inside: third alternative", andInside, `{"source": "aws.cloudwatch", "scope": "Service"}`, true},
		{"nested or: inner second alternative", nested, `{"source": "aws.cloudwatch", "metricType": "MetricType", "namespace": "AWS/ES", "spaceId": 1000}`, true},
		{"nested or: inner alternative missing", nested, `{"source": "aws.cloudwatch", "metricType": "MetricType", "namespace": "AWS/ES"}`, false},
		{"nested or: number written as 1234.0", nested, `{"source": "aws.cloudwatch", "metricType": "MetricType", "namespace": "AWS/ES", "metricId": 1234.0}`, true},
	})
}

// The README's array-consistency example: matches must come from the same
// array element.
func TestMatch_ArrayConsistencyExample(t *testing.T) {
	employees := `{"employees": [
		{"firstName": "John", "lastName": "Doe"},
		{"firstName": "Anna", "lastName": "Smith"},
		{"firstName": "Peter", "lastName": "Jones"}
	]}`
	nested := `{"employees": [
		[{"firstName": "John", "lastName": "Doe"}, {"firstName": "Anna", "lastName": "Smith"}],
		[{"firstName": "Peter", "lastName": "Jones"}]
	]}`
	runMatchCases(t, []matchCase{
		{"field of one element", `{"employees": {"firstName": ["Anna"]}}`, employees, true},
		{"fields of one element", `{"employees": {"firstName": ["Anna"], "lastName": ["Smith"]}}`, employees, true},
		{"fields of two elements do not match", `{"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}}`, employees, false},
		{"multi-level arrays", `{"employees": {"firstName": ["Peter"], "lastName": ["Jones"]}}`, nested, true},
		{"multi-level arrays: two elements", `{"employees": {"firstName": ["John"], "lastName": ["Jones"]}}`, nested, false},
	})
}
