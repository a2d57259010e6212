package template

import (
	"encoding/json"
	"fmt"
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

var subVar = regexp.MustCompile(`\$\{([^!}][^}]*)\}`)

// checkReferences makes sure every Ref, GetAtt and ${} in the template names
// something that exists, so a broken reference stops the runner at start.
func (t *Template) checkReferences(doc map[string]any) error {
	for _, id := range sortedKeys(t.Resources) {
		r := t.Resources[id]
		props := r.Properties
		if fn := t.Function(id); fn != nil {
			props = fn.Properties
		}
		if err := t.walkRefs(props, id, "Properties"); err != nil {
			return err
		}
	}
	outputs, _ := doc["Outputs"].(map[string]any)
	for _, k := range sortedKeys(outputs) {
		if err := t.walkRefs(outputs[k], "Outputs", k); err != nil {
			return err
		}
	}
	return nil
}

func (t *Template) walkRefs(v any, res, where string) error {
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 1 {
			for k, arg := range v {
				switch k {
				case "Ref":
					name, ok := arg.(string)
					if !ok {
						return &Error{Resource: res, Property: where, Reason: "!Ref takes a name"}
					}
					if err := t.checkRef(name); err != nil {
						return &Error{Resource: res, Property: where, Reason: err.Error()}
					}
					return nil
				case "Fn::GetAtt":
					l, ok := arg.([]any)
					if !ok || len(l) != 2 {
						return &Error{Resource: res, Property: where, Reason: "!GetAtt takes Resource.Attribute"}
					}
					name, _ := l[0].(string)
					attr, _ := l[1].(string)
					if err := t.checkGetAtt(name, attr); err != nil {
						return &Error{Resource: res, Property: where, Reason: err.Error()}
					}
					return nil
				case "Fn::Sub":
					tmpl, vars, err := subArgs(arg)
					if err != nil {
						return &Error{Resource: res, Property: where, Reason: err.Error()}
					}
					for _, m := range subVar.FindAllStringSubmatch(tmpl, -1) {
						name := m[1]
						if _, ok := vars[name]; ok {
							continue
						}
						var err error
						if r, a, ok := strings.Cut(name, "."); ok && !strings.HasPrefix(name, "AWS::") {
							err = t.checkGetAtt(r, a)
						} else {
							err = t.checkRef(name)
						}
						if err != nil {
							return &Error{Resource: res, Property: where, Reason: "!Sub " + err.Error()}
						}
					}
					for k, vv := range vars {
						if err := t.walkRefs(vv, res, where+"."+k); err != nil {
							return err
						}
					}
					return nil
				}
			}
		}
		for _, k := range sortedKeys(v) {
			if err := t.walkRefs(v[k], res, where+"."+k); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range v {
			if err := t.walkRefs(e, res, fmt.Sprintf("%s[%d]", where, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (t *Template) checkRef(name string) error {
	if pseudoParams[name] {
		return nil
	}
	if _, ok := t.Parameters[name]; ok {
		return nil
	}
	if _, ok := t.Resources[name]; ok {
		return nil
	}
	return fmt.Errorf("refers to %q, which is neither a parameter nor a resource", name)
}

func (t *Template) checkGetAtt(name, attr string) error {
	r, ok := t.Resources[name]
	if !ok {
		return fmt.Errorf("!GetAtt %s.%s: no resource %q", name, attr, name)
	}
	if !getAttrs[r.Type][attr] {
		return fmt.Errorf("!GetAtt %s.%s: %s has no attribute %q that the runner can resolve", name, attr, r.Type, attr)
	}
	return nil
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
	return "", nil, fmt.Errorf("!Sub takes a string or [string, {variables}]")
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

// Resolver evaluates intrinsic functions with local values.
type Resolver struct {
	t     *Template
	ctx   Context
	stack []string
}

// NewResolver checks parameter overrides against the template and returns a resolver.
func (t *Template) NewResolver(ctx Context) (*Resolver, error) {
	for _, k := range sortedKeys(ctx.Params) {
		p, ok := t.Parameters[k]
		if !ok {
			return nil, &Error{Resource: "Parameters", Property: k, Reason: "override for a parameter the template does not declare"}
		}
		if len(p.AllowedValues) > 0 && !slices.ContainsFunc(p.AllowedValues, func(a any) bool { return scalarString(a) == ctx.Params[k] }) {
			return nil, &Error{Resource: "Parameters", Property: k, Reason: fmt.Sprintf("%q is not one of the allowed values", ctx.Params[k])}
		}
	}
	for _, k := range sortedKeys(t.Parameters) {
		if _, ok := ctx.Params[k]; !ok && t.Parameters[k].Default == nil {
			return nil, &Error{Resource: "Parameters", Property: k, Reason: "has no Default and no override was given"}
		}
	}
	return &Resolver{t: t, ctx: ctx}, nil
}

// Value resolves every intrinsic in v. where names the place, for errors.
func (r *Resolver) Value(v any, res, where string) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 1 {
			for k, arg := range v {
				if k == "Ref" || strings.HasPrefix(k, "Fn::") {
					out, err := r.intrinsic(k, arg, res, where)
					if err != nil {
						var te *Error
						if ok := asError(err, &te); ok {
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
			rv, err := r.Value(v[k], res, where+"."+k)
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
		for i, e := range v {
			rv, err := r.Value(e, res, fmt.Sprintf("%s[%d]", where, i))
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

// String resolves v and requires a scalar.
func (r *Resolver) String(v any, res, where string) (string, error) {
	rv, err := r.Value(v, res, where)
	if err != nil {
		return "", err
	}
	switch rv.(type) {
	case map[string]any, []any:
		return "", &Error{Resource: res, Property: where, Reason: "must resolve to a single value"}
	}
	return scalarString(rv), nil
}

// JSON resolves v and encodes it as JSON (EventBridge patterns, inputs).
func (r *Resolver) JSON(v any, res, where string) ([]byte, error) {
	rv, err := r.Value(v, res, where)
	if err != nil {
		return nil, err
	}
	return json.Marshal(rv)
}

type noValueT struct{}

var noValue = noValueT{}

func (r *Resolver) intrinsic(fn string, arg any, res, where string) (any, error) {
	switch fn {
	case "Ref":
		name, _ := arg.(string)
		return r.Ref(name)
	case "Fn::GetAtt":
		l, _ := arg.([]any)
		if len(l) != 2 {
			return nil, fmt.Errorf("!GetAtt takes Resource.Attribute")
		}
		name, _ := l[0].(string)
		attr, _ := l[1].(string)
		return r.GetAtt(name, attr)
	case "Fn::Sub":
		tmpl, vars, err := subArgs(arg)
		if err != nil {
			return nil, err
		}
		resolved := map[string]string{}
		for k, vv := range vars {
			s, err := r.String(vv, res, where+"."+k)
			if err != nil {
				return nil, err
			}
			resolved[k] = s
		}
		var firstErr error
		out := subVar.ReplaceAllStringFunc(tmpl, func(m string) string {
			name := m[2 : len(m)-1]
			if s, ok := resolved[name]; ok {
				return s
			}
			var s string
			var err error
			if rn, a, ok := strings.Cut(name, "."); ok && !strings.HasPrefix(name, "AWS::") {
				s, err = r.GetAtt(rn, a)
			} else {
				var v any
				v, err = r.Ref(name)
				s = scalarString(v)
			}
			if err != nil && firstErr == nil {
				firstErr = err
			}
			return s
		})
		if firstErr != nil {
			return nil, firstErr
		}
		return strings.ReplaceAll(out, "${!", "${"), nil
	case "Fn::Join":
		l, _ := arg.([]any)
		if len(l) != 2 {
			return nil, fmt.Errorf("!Join takes [delimiter, [values]]")
		}
		sep, _ := l[0].(string)
		vals, err := r.Value(l[1], res, where)
		if err != nil {
			return nil, err
		}
		items, ok := vals.([]any)
		if !ok {
			return nil, fmt.Errorf("!Join's second argument must be a list")
		}
		parts := make([]string, len(items))
		for i, it := range items {
			parts[i] = scalarString(it)
		}
		return strings.Join(parts, sep), nil
	case "Fn::Select":
		l, _ := arg.([]any)
		if len(l) != 2 {
			return nil, fmt.Errorf("!Select takes [index, list]")
		}
		idx, err := strconv.Atoi(scalarString(l[0]))
		if err != nil {
			return nil, fmt.Errorf("!Select index must be a number")
		}
		vals, err := r.Value(l[1], res, where)
		if err != nil {
			return nil, err
		}
		items, _ := vals.([]any)
		if idx < 0 || idx >= len(items) {
			return nil, fmt.Errorf("!Select index %d out of range", idx)
		}
		return items[idx], nil
	case "Fn::Split":
		l, _ := arg.([]any)
		if len(l) != 2 {
			return nil, fmt.Errorf("!Split takes [delimiter, string]")
		}
		sep, _ := l[0].(string)
		s, err := r.String(l[1], res, where)
		if err != nil {
			return nil, err
		}
		var out []any
		for _, p := range strings.Split(s, sep) {
			out = append(out, p)
		}
		return out, nil
	case "Fn::If":
		l, _ := arg.([]any)
		if len(l) != 3 {
			return nil, fmt.Errorf("!If takes [condition, then, else]")
		}
		name, _ := l[0].(string)
		ok, err := r.Condition(name)
		if err != nil {
			return nil, err
		}
		if ok {
			return r.Value(l[1], res, where)
		}
		return r.Value(l[2], res, where)
	case "Fn::FindInMap":
		l, _ := arg.([]any)
		if len(l) != 3 {
			return nil, fmt.Errorf("!FindInMap takes [map, key, key]")
		}
		keys := make([]string, 3)
		for i, k := range l {
			s, err := r.String(k, res, where)
			if err != nil {
				return nil, err
			}
			keys[i] = s
		}
		m1, _ := r.t.Mappings[keys[0]].(map[string]any)
		m2, _ := m1[keys[1]].(map[string]any)
		v, ok := m2[keys[2]]
		if !ok {
			return nil, fmt.Errorf("!FindInMap %s/%s/%s: no such entry", keys[0], keys[1], keys[2])
		}
		return v, nil
	}
	return nil, fmt.Errorf("the runner does not support %s", fn)
}

// Condition evaluates a named condition from the Conditions section.
func (r *Resolver) Condition(name string) (bool, error) {
	c, ok := r.t.Conditions[name]
	if !ok {
		return false, fmt.Errorf("no condition %q", name)
	}
	return r.evalCondition(c)
}

func (r *Resolver) evalCondition(c any) (bool, error) {
	m, ok := c.(map[string]any)
	if !ok || len(m) != 1 {
		return false, fmt.Errorf("a condition must be one of !Equals, !Not, !And, !Or, !Condition")
	}
	for k, arg := range m {
		l, _ := arg.([]any)
		switch k {
		case "Condition":
			name, _ := arg.(string)
			return r.Condition(name)
		case "Fn::Equals":
			if len(l) != 2 {
				return false, fmt.Errorf("!Equals takes two values")
			}
			a, err := r.String(l[0], "Conditions", "Equals")
			if err != nil {
				return false, err
			}
			b, err := r.String(l[1], "Conditions", "Equals")
			if err != nil {
				return false, err
			}
			return a == b, nil
		case "Fn::Not", "Fn::And", "Fn::Or":
			results := make([]bool, len(l))
			for i, sub := range l {
				v, err := r.evalCondition(sub)
				if err != nil {
					return false, err
				}
				results[i] = v
			}
			switch k {
			case "Fn::Not":
				if len(results) != 1 {
					return false, fmt.Errorf("!Not takes one condition")
				}
				return !results[0], nil
			case "Fn::And":
				return !slices.Contains(results, false), nil
			default:
				return slices.Contains(results, true), nil
			}
		}
	}
	return false, fmt.Errorf("unsupported condition")
}

// Ref returns what !Ref gives for a parameter, pseudo parameter or resource.
func (r *Resolver) Ref(name string) (any, error) {
	switch name {
	case "AWS::Region":
		return r.ctx.Region, nil
	case "AWS::AccountId":
		return r.ctx.AccountID, nil
	case "AWS::StackName":
		return r.ctx.StackName, nil
	case "AWS::StackId":
		return fmt.Sprintf("arn:aws:cloudformation:%s:%s:stack/%s/local", r.ctx.Region, r.ctx.AccountID, r.ctx.StackName), nil
	case "AWS::Partition":
		return "aws", nil
	case "AWS::URLSuffix":
		return "amazonaws.com", nil
	case "AWS::NoValue":
		return noValue, nil
	}
	if p, ok := r.t.Parameters[name]; ok {
		if v, ok := r.ctx.Params[name]; ok {
			return v, nil
		}
		return scalarString(p.Default), nil
	}
	res, ok := r.t.Resources[name]
	if !ok {
		return nil, fmt.Errorf("!Ref %s: no such parameter or resource", name)
	}
	return r.physicalID(res)
}

// GetAtt returns the local value of a resource attribute.
func (r *Resolver) GetAtt(name, attr string) (string, error) {
	if err := r.t.checkGetAtt(name, attr); err != nil {
		return "", err
	}
	res := r.t.Resources[name]
	id, err := r.physicalID(res)
	if err != nil {
		return "", err
	}
	arn := func(service, resource string) string {
		return fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, r.ctx.Region, r.ctx.AccountID, resource)
	}
	switch res.Type + "." + attr {
	case "AWS::Serverless::Function.Arn":
		return arn("lambda", "function:"+id), nil
	case "AWS::Serverless::HttpApi.ApiEndpoint":
		return r.ctx.APIEndpoint, nil
	case "AWS::Serverless::HttpApi.ApiId":
		return id, nil
	case "AWS::DynamoDB::Table.Arn":
		return arn("dynamodb", "table/"+id), nil
	case "AWS::DynamoDB::Table.StreamArn":
		return arn("dynamodb", "table/"+id+"/stream/local"), nil
	case "AWS::S3::Bucket.Arn":
		return "arn:aws:s3:::" + id, nil
	case "AWS::S3::Bucket.DomainName", "AWS::S3::Bucket.RegionalDomainName":
		return id + ".s3." + r.ctx.Region + ".amazonaws.com", nil
	case "AWS::Events::EventBus.Arn":
		return arn("events", "event-bus/"+id), nil
	case "AWS::Events::EventBus.Name":
		return id, nil
	case "AWS::SQS::Queue.Arn":
		return arn("sqs", r.queueName(res)), nil
	case "AWS::SQS::Queue.QueueName":
		return r.queueName(res), nil
	case "AWS::SQS::Queue.QueueUrl":
		return id, nil
	case "AWS::Logs::LogGroup.Arn":
		return arn("logs", "log-group:"+id+":*"), nil
	case "AWS::KMS::Key.Arn":
		return arn("kms", "key/"+id), nil
	case "AWS::KMS::Key.KeyId":
		return id, nil
	case "AWS::SSM::Parameter.Type":
		return r.String(res.Properties["Type"], name, "Properties.Type")
	case "AWS::SSM::Parameter.Value":
		return r.String(res.Properties["Value"], name, "Properties.Value")
	}
	return "", fmt.Errorf("!GetAtt %s.%s is not supported by the runner", name, attr)
}

func (r *Resolver) queueName(res *Resource) string {
	if n, err := r.String(res.Properties["QueueName"], res.LogicalID, "Properties.QueueName"); err == nil && n != "" {
		return n
	}
	return r.ctx.StackName + "-" + res.LogicalID
}

// physicalID is the local stand-in for the name CloudFormation would give a resource.
func (r *Resolver) physicalID(res *Resource) (string, error) {
	if slices.Contains(r.stack, res.LogicalID) {
		return "", fmt.Errorf("circular reference through %s", strings.Join(append(r.stack, res.LogicalID), " -> "))
	}
	r.stack = append(r.stack, res.LogicalID)
	defer func() { r.stack = r.stack[:len(r.stack)-1] }()
	named := func(prop string) (string, error) {
		if v, ok := res.Properties[prop]; ok {
			return r.String(v, res.LogicalID, "Properties."+prop)
		}
		return "", nil
	}
	generated := r.ctx.StackName + "-" + res.LogicalID
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
		return strings.TrimRight(r.ctx.ServiceEndpoint, "/") + "/" + r.ctx.AccountID + "/" + r.queueName(res), nil
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

func asError(err error, target **Error) bool {
	te, ok := err.(*Error)
	if ok {
		*target = te
	}
	return ok
}
