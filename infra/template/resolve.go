package template

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// getAttrs lists the attributes !GetAtt may read per resource type.
var getAttrs = map[string]map[string]bool{
	"AWS::Serverless::Function": set("Arn"),
	"AWS::Serverless::HttpApi":  set("ApiEndpoint", "ApiId"),
	"AWS::DynamoDB::Table":      set("Arn", "StreamArn"),
	"AWS::S3::Bucket":           set("Arn", "DomainName", "RegionalDomainName"),
	"AWS::S3::BucketPolicy":     set(),
	"AWS::Events::EventBus":     set("Arn", "Name"),
	"AWS::SQS::Queue":           set("Arn", "QueueName", "QueueUrl"),
	"AWS::Logs::LogGroup":       set("Arn"),
	"AWS::SSM::Parameter":       set("Type", "Value"),
	"AWS::KMS::Key":             set("Arn", "KeyId"),
	"AWS::KMS::Alias":           set(),
	"AWS::SES::EmailIdentity":   set(),
}

var pseudoParams = set("AWS::Region", "AWS::AccountId", "AWS::StackName", "AWS::StackId", "AWS::Partition", "AWS::URLSuffix", "AWS::NoValue")

// subPattern finds ${...} in a !Sub template: ${Name}, ${Resource.Attribute},
// or ${!Literal}, which stands for the text ${Literal}.
var subPattern = regexp.MustCompile(`\$\{([^}]*)\}`)

// subNames lists the variables a !Sub template refers to.
func subNames(tmpl string) []string {
	var names []string
	for _, m := range subPattern.FindAllStringSubmatch(tmpl, -1) {
		if m[1] != "" && !strings.HasPrefix(m[1], "!") {
			names = append(names, m[1])
		}
	}
	return names
}

// substitute replaces each ${Name} with lookup(Name) and each ${!Literal}
// with ${Literal} in a single pass, so a substituted value is never read as
// a template again.
func substitute(tmpl string, lookup func(string) (string, error)) (string, error) {
	var firstErr error
	out := subPattern.ReplaceAllStringFunc(tmpl, func(m string) string {
		name := m[2 : len(m)-1]
		switch {
		case name == "":
			return m
		case strings.HasPrefix(name, "!"):
			return "${" + name[1:] + "}"
		case firstErr != nil:
			return "" // the result is thrown away: resolve nothing more
		}
		s, err := lookup(name)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return s
	})
	return out, firstErr
}

// cutAttr splits a !Sub variable of the form Resource.Attribute.
func cutAttr(name string) (resource, attr string, ok bool) {
	if strings.HasPrefix(name, "AWS::") {
		return "", "", false
	}
	return strings.Cut(name, ".")
}

func subArgs(arg any) (string, map[string]any, error) {
	switch a := arg.(type) {
	case string:
		return a, nil, nil
	case []any:
		if len(a) == 2 {
			s, ok1 := a[0].(string)
			m, ok2 := a[1].(map[string]any)
			if ok1 && ok2 {
				return s, m, nil
			}
		}
	}
	return "", nil, errors.New("!Sub takes a string or [string, {variables}]")
}

// getAttArgs reads !GetAtt's argument: [Resource, Attribute], or the
// "Resource.Attribute" string the long form also accepts.
func getAttArgs(arg any) (name, attr string, err error) {
	switch a := arg.(type) {
	case string:
		if name, attr, ok := strings.Cut(a, "."); ok {
			return name, attr, nil
		}
	case []any:
		if len(a) == 2 {
			name, ok1 := a[0].(string)
			attr, ok2 := a[1].(string)
			if ok1 && ok2 {
				return name, attr, nil
			}
		}
	}
	return "", "", errors.New("!GetAtt takes Resource.Attribute")
}

// Context holds the local stand-ins for what CloudFormation knows at deploy time.
type Context struct {
	Region    string
	AccountID string
	StackName string
	Params    map[string]string // parameter overrides
	// APIEndpoint is the local HTTP API base URL (for HttpApi.ApiEndpoint).
	APIEndpoint string
	// ServiceEndpoint is the local AWS endpoint (for queue URLs).
	ServiceEndpoint string
}

// Resolver evaluates intrinsic functions with local values. It is safe for
// concurrent use: each call keeps its own record of what it is resolving.
type Resolver struct {
	t   *Template
	ctx Context
}

// NewResolver checks parameter overrides against the template and returns a resolver.
func (t *Template) NewResolver(ctx Context) (*Resolver, error) {
	ctx.Params = maps.Clone(ctx.Params)
	for _, k := range sortedKeys(ctx.Params) {
		p, ok := t.Parameters[k]
		if !ok {
			return nil, &Error{Resource: "Parameters", Property: k, Reason: "override for a parameter the template does not declare"}
		}
		if err := p.check(ctx.Params[k]); err != nil {
			return nil, &Error{Resource: "Parameters", Property: k, Reason: err.Error()}
		}
	}
	for _, k := range sortedKeys(t.Parameters) {
		if _, ok := ctx.Params[k]; !ok && t.Parameters[k].Default == nil {
			return nil, &Error{Resource: "Parameters", Property: k, Reason: "has no Default and no override was given"}
		}
	}
	return &Resolver{t: t, ctx: ctx}, nil
}

// Value resolves every intrinsic in v. res and where name the place, for
// errors. A key whose value is !Ref AWS::NoValue is dropped, and so is such
// a list item; v itself being AWS::NoValue gives nil.
func (r *Resolver) Value(v any, res, where string) (any, error) {
	out, err := r.eval().value(v, res, where)
	if err != nil {
		return nil, err
	}
	if out == noValue {
		return nil, nil
	}
	return out, nil
}

// String resolves v and requires a single value (AWS::NoValue gives "").
func (r *Resolver) String(v any, res, where string) (string, error) {
	return r.eval().string(v, res, where)
}

// JSON resolves v and encodes it as JSON (EventBridge patterns, inputs).
func (r *Resolver) JSON(v any, res, where string) ([]byte, error) {
	rv, err := r.Value(v, res, where)
	if err != nil {
		return nil, err
	}
	return json.Marshal(rv)
}

// Condition evaluates a named condition from the Conditions section.
func (r *Resolver) Condition(name string) (bool, error) {
	ok, err := r.eval().condition(name)
	if err != nil {
		var te *Error
		if errors.As(err, &te) {
			return false, err
		}
		return false, &Error{Resource: "Conditions", Property: name, Reason: err.Error()}
	}
	return ok, nil
}

// Ref returns what !Ref gives for a parameter, pseudo parameter or resource:
// a string, or a list of strings for a CommaDelimitedList parameter.
func (r *Resolver) Ref(name string) (any, error) {
	v, err := r.eval().ref(name)
	if err != nil {
		return nil, err
	}
	if v == noValue {
		return nil, nil
	}
	return v, nil
}

// GetAtt returns the local value of a resource attribute.
func (r *Resolver) GetAtt(name, attr string) (string, error) {
	return r.eval().getAtt(name, attr)
}

func (r *Resolver) eval() *eval {
	return &eval{t: r.t, ctx: &r.ctx}
}

// eval is one resolution. It remembers the resources and conditions it is in
// the middle of resolving, so a circular reference is an error rather than
// a stack overflow.
type eval struct {
	t          *Template
	ctx        *Context
	resources  []string
	conditions []string
	// done remembers physical IDs and attributes already resolved in this
	// call, so a chain of resources that each refer to the previous one
	// twice costs linear, not exponential, time.
	done      map[string]string
	doneConds map[string]bool
}

// maxStringLen caps what !Sub, !Join and !Base64 may build: 256 KiB, the
// largest EventBridge or SQS message. Without a cap a short template could
// double a string at every step of a chain of resources.
const maxStringLen = 256 << 10

func checkLen(s string, fn string) (string, error) {
	if len(s) > maxStringLen {
		return "", fmt.Errorf("%s builds a string of more than %d bytes", fn, maxStringLen)
	}
	return s, nil
}

// remember returns the value of key computed by f, computing it once per call.
func (e *eval) remember(key string, f func() (string, error)) (string, error) {
	if s, ok := e.done[key]; ok {
		return s, nil
	}
	s, err := f()
	if err != nil {
		return "", err
	}
	if e.done == nil {
		e.done = map[string]string{}
	}
	e.done[key] = s
	return s, nil
}

type noValueT struct{}

// noValue is what !Ref AWS::NoValue resolves to: the enclosing key or list
// item is dropped.
var noValue = noValueT{}

func (e *eval) value(v any, res, where string) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 1 {
			for k, arg := range v {
				if k == "Ref" || strings.HasPrefix(k, "Fn::") {
					out, err := e.intrinsic(k, arg, res, where)
					if err != nil {
						var te *Error
						if errors.As(err, &te) {
							return nil, err
						}
						return nil, &Error{Resource: res, Property: where, Reason: err.Error()}
					}
					return out, nil
				}
			}
		}
		out := make(map[string]any, len(v))
		for _, k := range sortedKeys(v) {
			rv, err := e.value(v[k], res, where+"."+k)
			if err != nil {
				return nil, err
			}
			if rv == noValue {
				continue
			}
			out[k] = rv
		}
		return out, nil
	case []any:
		out := make([]any, 0, len(v))
		for i, item := range v {
			rv, err := e.value(item, res, fmt.Sprintf("%s[%d]", where, i))
			if err != nil {
				return nil, err
			}
			if rv == noValue {
				continue
			}
			out = append(out, rv)
		}
		return out, nil
	}
	return v, nil
}

func (e *eval) string(v any, res, where string) (string, error) {
	rv, err := e.value(v, res, where)
	if err != nil {
		return "", err
	}
	if rv == noValue {
		return "", nil
	}
	if !isScalar(rv) {
		return "", &Error{Resource: res, Property: where, Reason: "must resolve to a single value"}
	}
	return scalarString(rv), nil
}

func (e *eval) intrinsic(fn string, arg any, res, where string) (any, error) {
	switch fn {
	case "Ref":
		name, ok := arg.(string)
		if !ok {
			return nil, errors.New("!Ref takes a name")
		}
		return e.ref(name)
	case "Fn::GetAtt":
		name, attr, err := getAttArgs(arg)
		if err != nil {
			return nil, err
		}
		return e.getAtt(name, attr)
	case "Fn::Sub":
		tmpl, vars, err := subArgs(arg)
		if err != nil {
			return nil, err
		}
		resolved := map[string]string{}
		for _, k := range sortedKeys(vars) {
			s, err := e.string(vars[k], res, where+"."+k)
			if err != nil {
				return nil, err
			}
			resolved[k] = s
		}
		out, err := substitute(tmpl, func(name string) (string, error) {
			if s, ok := resolved[name]; ok {
				return s, nil
			}
			return e.subValue(name)
		})
		if err != nil {
			return nil, err
		}
		return checkLen(out, "!Sub")
	case "Fn::Join":
		l, ok := arg.([]any)
		if !ok || len(l) != 2 {
			return nil, errors.New("!Join takes [delimiter, [values]]")
		}
		sep, ok := l[0].(string)
		if !ok {
			return nil, errors.New("!Join's delimiter must be a string")
		}
		vals, err := e.value(l[1], res, where)
		if err != nil {
			return nil, err
		}
		items, ok := vals.([]any)
		if !ok {
			return nil, errors.New("!Join's second argument must be a list")
		}
		parts := make([]string, len(items))
		for i, it := range items {
			if !isScalar(it) {
				return nil, fmt.Errorf("!Join's item %d is not a single value", i)
			}
			parts[i] = scalarString(it)
		}
		return checkLen(strings.Join(parts, sep), "!Join")
	case "Fn::Select":
		l, ok := arg.([]any)
		if !ok || len(l) != 2 {
			return nil, errors.New("!Select takes [index, list]")
		}
		is, err := e.string(l[0], res, where)
		if err != nil {
			return nil, err
		}
		idx, err := strconv.Atoi(is)
		if err != nil {
			return nil, fmt.Errorf("!Select index %q is not a number", is)
		}
		vals, err := e.value(l[1], res, where)
		if err != nil {
			return nil, err
		}
		items, ok := vals.([]any)
		if !ok {
			return nil, errors.New("!Select's second argument must be a list")
		}
		if idx < 0 || idx >= len(items) {
			return nil, fmt.Errorf("!Select index %d out of range (the list has %d items)", idx, len(items))
		}
		return items[idx], nil
	case "Fn::Split":
		l, ok := arg.([]any)
		if !ok || len(l) != 2 {
			return nil, errors.New("!Split takes [delimiter, string]")
		}
		sep, ok := l[0].(string)
		if !ok || sep == "" {
			return nil, errors.New("!Split's delimiter must be a non-empty string")
		}
		s, err := e.string(l[1], res, where)
		if err != nil {
			return nil, err
		}
		parts := strings.Split(s, sep)
		out := make([]any, len(parts))
		for i, p := range parts {
			out[i] = p
		}
		return out, nil
	case "Fn::If":
		l, ok := arg.([]any)
		if !ok || len(l) != 3 {
			return nil, errors.New("!If takes [condition, value if true, value if false]")
		}
		name, _ := l[0].(string)
		ok, err := e.condition(name)
		if err != nil {
			return nil, err
		}
		if ok {
			return e.value(l[1], res, where)
		}
		return e.value(l[2], res, where)
	case "Fn::FindInMap":
		l, ok := arg.([]any)
		if !ok || len(l) != 3 {
			return nil, errors.New("!FindInMap takes [map, key, key]")
		}
		keys := make([]string, 3)
		for i, k := range l {
			s, err := e.string(k, res, where)
			if err != nil {
				return nil, err
			}
			keys[i] = s
		}
		m1, _ := e.t.Mappings[keys[0]].(map[string]any)
		m2, _ := m1[keys[1]].(map[string]any)
		v, ok := m2[keys[2]]
		if !ok {
			return nil, fmt.Errorf("!FindInMap %s/%s/%s: no such entry", keys[0], keys[1], keys[2])
		}
		return deepCopy(v), nil
	case "Fn::Base64":
		s, err := e.string(arg, res, where)
		if err != nil {
			return nil, err
		}
		return checkLen(base64.StdEncoding.EncodeToString([]byte(s)), "!Base64")
	}
	return nil, fmt.Errorf("the runner does not support %s", fn)
}

// subValue is what ${name} stands for in a !Sub template.
func (e *eval) subValue(name string) (string, error) {
	if rn, attr, ok := cutAttr(name); ok {
		return e.getAtt(rn, attr)
	}
	v, err := e.ref(name)
	if err != nil {
		return "", err
	}
	if v == noValue {
		return "", errors.New("!Sub cannot use ${AWS::NoValue}")
	}
	if !isScalar(v) {
		return "", fmt.Errorf("!Sub: ${%s} is a list, not a single value", name)
	}
	return scalarString(v), nil
}

func (e *eval) condition(name string) (bool, error) {
	c, ok := e.t.Conditions[name]
	if !ok {
		return false, fmt.Errorf("no condition %q", name)
	}
	if v, ok := e.doneConds[name]; ok {
		return v, nil
	}
	if slices.Contains(e.conditions, name) {
		return false, fmt.Errorf("circular condition: %s", strings.Join(append(slices.Clone(e.conditions), name), " -> "))
	}
	e.conditions = append(e.conditions, name)
	v, err := e.evalCondition(name, c)
	e.conditions = e.conditions[:len(e.conditions)-1]
	if err != nil {
		return false, err
	}
	if e.doneConds == nil {
		e.doneConds = map[string]bool{}
	}
	e.doneConds[name] = v
	return v, nil
}

func (e *eval) evalCondition(name string, c any) (bool, error) {
	m, ok := c.(map[string]any)
	if !ok || len(m) != 1 {
		return false, errors.New("a condition must be one of !Equals, !Not, !And, !Or, !Condition")
	}
	for k, arg := range m {
		l, _ := arg.([]any)
		switch k {
		case "Condition":
			ref, ok := arg.(string)
			if !ok {
				return false, errors.New("!Condition takes a condition name")
			}
			return e.condition(ref)
		case "Fn::Equals":
			if len(l) != 2 {
				return false, errors.New("!Equals takes two values")
			}
			a, err := e.string(l[0], "Conditions", name)
			if err != nil {
				return false, err
			}
			b, err := e.string(l[1], "Conditions", name)
			if err != nil {
				return false, err
			}
			return a == b, nil
		case "Fn::Not", "Fn::And", "Fn::Or":
			switch {
			case k == "Fn::Not" && len(l) != 1:
				return false, errors.New("!Not takes a list of one condition")
			case k != "Fn::Not" && (len(l) < 2 || len(l) > 10):
				return false, fmt.Errorf("!%s takes a list of 2 to 10 conditions", strings.TrimPrefix(k, "Fn::"))
			}
			results := make([]bool, len(l))
			for i, sub := range l {
				v, err := e.evalCondition(name, sub)
				if err != nil {
					return false, err
				}
				results[i] = v
			}
			switch k {
			case "Fn::Not":
				return !results[0], nil
			case "Fn::And":
				return !slices.Contains(results, false), nil
			default:
				return slices.Contains(results, true), nil
			}
		}
	}
	return false, errors.New("a condition must be one of !Equals, !Not, !And, !Or, !Condition")
}

// partition gives the ARN partition and URL suffix of a region.
func partition(region string) (string, string) {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn", "amazonaws.com.cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov", "amazonaws.com"
	}
	return "aws", "amazonaws.com"
}

func (e *eval) ref(name string) (any, error) {
	part, suffix := partition(e.ctx.Region)
	switch name {
	case "AWS::Region":
		return e.ctx.Region, nil
	case "AWS::AccountId":
		return e.ctx.AccountID, nil
	case "AWS::StackName":
		return e.ctx.StackName, nil
	case "AWS::StackId":
		return fmt.Sprintf("arn:%s:cloudformation:%s:%s:stack/%s/local", part, e.ctx.Region, e.ctx.AccountID, e.ctx.StackName), nil
	case "AWS::Partition":
		return part, nil
	case "AWS::URLSuffix":
		return suffix, nil
	case "AWS::NoValue":
		return noValue, nil
	}
	if p, ok := e.t.Parameters[name]; ok {
		v, ok := e.ctx.Params[name]
		if !ok {
			v = scalarString(p.Default)
		}
		if p.Type == "CommaDelimitedList" {
			parts := splitList(v)
			out := make([]any, len(parts))
			for i, s := range parts {
				out[i] = s
			}
			return out, nil
		}
		return v, nil
	}
	res, ok := e.t.Resources[name]
	if !ok {
		return nil, fmt.Errorf("!Ref %s: no such parameter or resource", name)
	}
	return e.remember(name, func() (string, error) {
		leave, err := e.enter(res.LogicalID)
		if err != nil {
			return "", err
		}
		defer leave()
		return e.physicalID(res)
	})
}

func (e *eval) getAtt(name, attr string) (string, error) {
	if err := e.t.checkGetAtt(name, attr); err != nil {
		return "", err
	}
	return e.remember(name+"."+attr, func() (string, error) { return e.attribute(e.t.Resources[name], attr) })
}

func (e *eval) attribute(res *Resource, attr string) (string, error) {
	name := res.LogicalID
	leave, err := e.enter(res.LogicalID)
	if err != nil {
		return "", err
	}
	defer leave()
	part, suffix := partition(e.ctx.Region)
	arn := func(service, resource string) string {
		return fmt.Sprintf("arn:%s:%s:%s:%s:%s", part, service, e.ctx.Region, e.ctx.AccountID, resource)
	}
	switch res.Type + "." + attr {
	case "AWS::SQS::Queue.Arn", "AWS::SQS::Queue.QueueName":
		qn, err := e.queueName(res)
		if err != nil {
			return "", err
		}
		if attr == "QueueName" {
			return qn, nil
		}
		return arn("sqs", qn), nil
	case "AWS::SSM::Parameter.Type":
		return e.string(res.Properties["Type"], name, "Properties.Type")
	case "AWS::SSM::Parameter.Value":
		return e.string(res.Properties["Value"], name, "Properties.Value")
	case "AWS::Serverless::HttpApi.ApiEndpoint":
		if e.ctx.APIEndpoint != "" {
			return e.ctx.APIEndpoint, nil
		}
		return "https://local.execute-api." + e.ctx.Region + "." + suffix, nil
	}
	id, err := e.physicalID(res)
	if err != nil {
		return "", err
	}
	switch res.Type + "." + attr {
	case "AWS::Serverless::Function.Arn":
		return arn("lambda", "function:"+id), nil
	case "AWS::Serverless::HttpApi.ApiId":
		return id, nil
	case "AWS::DynamoDB::Table.Arn":
		return arn("dynamodb", "table/"+id), nil
	case "AWS::DynamoDB::Table.StreamArn":
		return arn("dynamodb", "table/"+id+"/stream/local"), nil
	case "AWS::S3::Bucket.Arn":
		return "arn:" + part + ":s3:::" + id, nil
	case "AWS::S3::Bucket.DomainName":
		return id + ".s3." + suffix, nil
	case "AWS::S3::Bucket.RegionalDomainName":
		return id + ".s3." + e.ctx.Region + "." + suffix, nil
	case "AWS::Events::EventBus.Arn":
		return arn("events", "event-bus/"+id), nil
	case "AWS::Events::EventBus.Name":
		return id, nil
	case "AWS::SQS::Queue.QueueUrl":
		return id, nil
	case "AWS::Logs::LogGroup.Arn":
		return arn("logs", "log-group:"+id+":*"), nil
	case "AWS::KMS::Key.Arn":
		return arn("kms", "key/"+id), nil
	case "AWS::KMS::Key.KeyId":
		return id, nil
	}
	return "", fmt.Errorf("!GetAtt %s.%s is not supported by the runner", name, attr)
}

// enter marks a resource as being resolved; leave unmarks it.
func (e *eval) enter(id string) (leave func(), err error) {
	if slices.Contains(e.resources, id) {
		return nil, fmt.Errorf("circular reference: %s", strings.Join(append(slices.Clone(e.resources), id), " -> "))
	}
	e.resources = append(e.resources, id)
	return func() { e.resources = e.resources[:len(e.resources)-1] }, nil
}

func (e *eval) queueName(res *Resource) (string, error) {
	if v, ok := res.Properties["QueueName"]; ok {
		n, err := e.string(v, res.LogicalID, "Properties.QueueName")
		if err != nil || n != "" {
			return n, err
		}
	}
	return e.ctx.StackName + "-" + res.LogicalID, nil
}

// physicalID is the local stand-in for the name CloudFormation would give a
// resource: its name property when set, otherwise <stack>-<LogicalID>
// (lower case for buckets). The caller has entered res.
func (e *eval) physicalID(res *Resource) (string, error) {
	named := func(prop string) (string, error) {
		if v, ok := res.Properties[prop]; ok {
			return e.string(v, res.LogicalID, "Properties."+prop)
		}
		return "", nil
	}
	generated := e.ctx.StackName + "-" + res.LogicalID
	var name string
	var err error
	switch res.Type {
	case "AWS::Serverless::Function":
		name, err = named("FunctionName")
	case "AWS::Serverless::HttpApi":
		return "local", nil
	case "AWS::DynamoDB::Table":
		name, err = named("TableName")
	case "AWS::S3::Bucket":
		name, err = named("BucketName")
		generated = strings.ToLower(generated)
	case "AWS::Events::EventBus":
		name, err = named("Name")
	case "AWS::SQS::Queue":
		qn, err := e.queueName(res)
		if err != nil {
			return "", err
		}
		endpoint := strings.TrimRight(e.ctx.ServiceEndpoint, "/")
		if endpoint == "" {
			_, suffix := partition(e.ctx.Region)
			endpoint = "https://sqs." + e.ctx.Region + "." + suffix
		}
		return endpoint + "/" + e.ctx.AccountID + "/" + qn, nil
	case "AWS::Logs::LogGroup":
		name, err = named("LogGroupName")
	case "AWS::SSM::Parameter":
		name, err = named("Name")
	}
	if err != nil {
		return "", err
	}
	if name == "" {
		name = generated
	}
	return name, nil
}

func scalarString(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}
