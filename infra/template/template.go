// Package template reads the SAM template that wires Lantau (template.yaml)
// strictly: anything outside the subset Lantau uses is an error that names
// the resource and the property. The local runner builds every route,
// subscription and schedule from what this package returns, so there is no
// second list of wiring anywhere.
package template

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Template is a parsed, validated SAM template.
type Template struct {
	Path       string
	Parameters map[string]Parameter
	Mappings   map[string]any
	Conditions map[string]any
	Resources  map[string]*Resource
	Functions  []*Function // sorted by logical ID
	Outputs    map[string]any
}

// Parameter is one entry of the template's Parameters section. Its
// constraints are checked against the Default when the template is read and
// against overrides when a Resolver is made.
type Parameter struct {
	Type                  string // String, Number or CommaDelimitedList
	Default               any    // nil when the parameter has none
	AllowedValues         []any
	AllowedPattern        string // a regular expression the whole value must match
	MinLength, MaxLength  *int
	MinValue, MaxValue    *float64
	ConstraintDescription string
	Description           string
}

// Resource is one entry of the Resources section.
type Resource struct {
	LogicalID  string
	Type       string
	Properties map[string]any
	Metadata   map[string]any
	Condition  string   // name of the condition that decides whether it exists
	DependsOn  []string // logical IDs
}

// Function is an AWS::Serverless::Function with Globals merged in.
type Function struct {
	LogicalID  string
	Name       string         // the folder under functions/ (HealthFunction -> health)
	Properties map[string]any // merged with Globals.Function
	Timeout    time.Duration
	MemoryMB   int
	Events     []*Event // sorted by name
}

// Event is one entry of a function's Events.
type Event struct {
	Function   *Function
	Name       string
	Type       string // HttpApi, EventBridgeRule, S3, Schedule, ScheduleV2, SQS
	Properties map[string]any
}

// Error is a template problem; it names the resource and the property.
type Error struct {
	Path     string // template file
	Resource string // logical ID, or a section such as "Globals"
	Property string // dotted path inside the resource
	Reason   string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	if e.Resource != "" {
		b.WriteString(e.Resource)
		if e.Property != "" {
			b.WriteString(".")
			b.WriteString(e.Property)
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// Load reads and validates a template file.
func Load(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	t, err := Parse(data)
	if err != nil {
		var te *Error
		if errors.As(err, &te) {
			te.Path = path
		}
		return nil, err
	}
	t.Path = path
	return t, nil
}

var topLevelKeys = set("AWSTemplateFormatVersion", "Transform", "Description", "Parameters", "Globals",
	"Resources", "Outputs", "Conditions", "Mappings", "Metadata")

// Parse reads and validates template YAML.
func Parse(data []byte) (*Template, error) {
	raw, err := decodeYAML(data)
	if err != nil {
		return nil, &Error{Reason: err.Error()}
	}
	doc, ok := raw.(map[string]any)
	if !ok {
		return nil, &Error{Reason: "the template must be a mapping"}
	}
	for _, k := range sortedKeys(doc) {
		if !topLevelKeys[k] {
			return nil, &Error{Resource: k, Reason: "unknown top-level section"}
		}
	}
	if tr, _ := doc["Transform"].(string); tr != "AWS::Serverless-2016-10-31" {
		return nil, &Error{Resource: "Transform", Reason: "must be AWS::Serverless-2016-10-31"}
	}
	t := &Template{
		Parameters: map[string]Parameter{},
		Resources:  map[string]*Resource{},
	}
	if t.Mappings, err = optionalMap(doc, "Mappings"); err != nil {
		return nil, err
	}
	if t.Conditions, err = optionalMap(doc, "Conditions"); err != nil {
		return nil, err
	}
	if t.Outputs, err = optionalMap(doc, "Outputs"); err != nil {
		return nil, err
	}
	if err := checkOutputs(t.Outputs); err != nil {
		return nil, err
	}
	if err := t.readParameters(doc); err != nil {
		return nil, err
	}
	globals, err := readGlobals(doc)
	if err != nil {
		return nil, err
	}
	resources, err := optionalMap(doc, "Resources")
	if err != nil {
		return nil, err
	}
	if len(resources) == 0 {
		return nil, &Error{Resource: "Resources", Reason: "the template defines no resources"}
	}
	for _, id := range sortedKeys(resources) {
		r, err := readResource(id, resources[id])
		if err != nil {
			return nil, err
		}
		t.Resources[id] = r
		if r.Type == "AWS::Serverless::Function" {
			fn, err := readFunction(r, globals)
			if err != nil {
				return nil, err
			}
			t.Functions = append(t.Functions, fn)
		}
	}
	if err := t.checkReferences(); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *Template) readParameters(doc map[string]any) error {
	params, err := optionalMap(doc, "Parameters")
	if err != nil {
		return err
	}
	allowed := set("Type", "Default", "AllowedValues", "Description", "NoEcho", "MinLength", "MaxLength", "AllowedPattern", "MinValue", "MaxValue", "ConstraintDescription")
	for _, name := range sortedKeys(params) {
		if !isLogicalID(name) {
			return &Error{Resource: "Parameters", Property: name, Reason: "a parameter name must be ASCII letters and digits"}
		}
		m, ok := params[name].(map[string]any)
		if !ok {
			return &Error{Resource: "Parameters", Property: name, Reason: "must be a mapping"}
		}
		for _, k := range sortedKeys(m) {
			if !allowed[k] {
				return &Error{Resource: "Parameters", Property: name + "." + k, Reason: "unknown parameter property"}
			}
		}
		p, err := readParameter(name, m)
		if err != nil {
			return err
		}
		t.Parameters[name] = p
	}
	return nil
}

func readParameter(name string, m map[string]any) (Parameter, error) {
	bad := func(prop, reason string) error {
		return &Error{Resource: "Parameters", Property: name + "." + prop, Reason: reason}
	}
	p := Parameter{Default: m["Default"]}
	p.Type, _ = m["Type"].(string)
	switch p.Type {
	case "String", "Number", "CommaDelimitedList":
	default:
		return p, bad("Type", fmt.Sprintf("unsupported parameter type %q", p.Type))
	}
	p.Description, _ = m["Description"].(string)
	p.ConstraintDescription, _ = m["ConstraintDescription"].(string)
	if av, ok := m["AllowedValues"]; ok {
		if p.AllowedValues, ok = av.([]any); !ok {
			return p, bad("AllowedValues", "must be a list")
		}
		for _, v := range p.AllowedValues {
			if !isScalar(v) {
				return p, bad("AllowedValues", "must be a list of single values")
			}
		}
	}
	if v, ok := m["AllowedPattern"]; ok {
		s, ok := v.(string)
		if !ok {
			return p, bad("AllowedPattern", "must be a string")
		}
		if _, err := regexp.Compile(`^(?:` + s + `)$`); err != nil {
			return p, bad("AllowedPattern", "not a regular expression Go can read: "+err.Error())
		}
		p.AllowedPattern = s
	}
	for _, c := range []struct {
		key string
		dst **int
	}{{"MinLength", &p.MinLength}, {"MaxLength", &p.MaxLength}} {
		if v, ok := m[c.key]; ok {
			n, ok := v.(int64)
			if !ok || n < 0 || n > 1<<31 {
				return p, bad(c.key, "must be a whole number")
			}
			i := int(n)
			*c.dst = &i
		}
	}
	for _, c := range []struct {
		key string
		dst **float64
	}{{"MinValue", &p.MinValue}, {"MaxValue", &p.MaxValue}} {
		if v, ok := m[c.key]; ok {
			f, ok := toFloat(v)
			if !ok {
				return p, bad(c.key, "must be a number")
			}
			*c.dst = &f
		}
	}
	if p.Default != nil {
		if !isScalar(p.Default) {
			return p, bad("Default", "must be a single value (a CommaDelimitedList default is one comma-separated string)")
		}
		if err := p.check(scalarString(p.Default)); err != nil {
			return p, bad("Default", err.Error())
		}
	}
	return p, nil
}

// check reports whether value satisfies the parameter's type and constraints,
// as CloudFormation checks a parameter value before it creates a stack.
func (p Parameter) check(value string) error {
	values := []string{value}
	if p.Type == "CommaDelimitedList" {
		values = splitList(value)
	}
	for _, v := range values {
		if err := p.checkOne(v); err != nil {
			if p.ConstraintDescription != "" {
				return fmt.Errorf("%w (%s)", err, p.ConstraintDescription)
			}
			return err
		}
	}
	return nil
}

func (p Parameter) checkOne(v string) error {
	if len(p.AllowedValues) > 0 && !slices.ContainsFunc(p.AllowedValues, func(a any) bool { return scalarString(a) == v }) {
		allowed := make([]string, len(p.AllowedValues))
		for i, a := range p.AllowedValues {
			allowed[i] = scalarString(a)
		}
		return fmt.Errorf("%q is not one of the allowed values (%s)", v, strings.Join(allowed, ", "))
	}
	if p.Type == "Number" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("%q is not a number", v)
		}
		if p.MinValue != nil && f < *p.MinValue {
			return fmt.Errorf("%s is less than MinValue %v", v, *p.MinValue)
		}
		if p.MaxValue != nil && f > *p.MaxValue {
			return fmt.Errorf("%s is more than MaxValue %v", v, *p.MaxValue)
		}
		return nil
	}
	n := len([]rune(v))
	if p.MinLength != nil && n < *p.MinLength {
		return fmt.Errorf("%q is shorter than MinLength %d", v, *p.MinLength)
	}
	if p.MaxLength != nil && n > *p.MaxLength {
		return fmt.Errorf("%q is longer than MaxLength %d", v, *p.MaxLength)
	}
	if p.AllowedPattern != "" {
		re, err := regexp.Compile(`^(?:` + p.AllowedPattern + `)$`)
		if err != nil {
			return fmt.Errorf("AllowedPattern %s is not a regular expression Go can read: %w", p.AllowedPattern, err)
		}
		if !re.MatchString(v) {
			return fmt.Errorf("%q does not match AllowedPattern %s", v, p.AllowedPattern)
		}
	}
	return nil
}

// splitList splits a CommaDelimitedList value; CloudFormation trims spaces
// around each member.
func splitList(s string) []string {
	parts := strings.Split(s, ",")
	for i, p := range parts {
		parts[i] = strings.TrimSpace(p)
	}
	return parts
}

func readGlobals(doc map[string]any) (map[string]any, error) {
	g, err := optionalMap(doc, "Globals")
	if err != nil {
		return nil, err
	}
	for _, k := range sortedKeys(g) {
		if k != "Function" {
			return nil, &Error{Resource: "Globals", Property: k, Reason: "only Globals.Function is supported"}
		}
	}
	fg, _ := g["Function"].(map[string]any)
	if _, ok := g["Function"]; ok && fg == nil {
		return nil, &Error{Resource: "Globals", Property: "Function", Reason: "must be a mapping"}
	}
	for _, k := range sortedKeys(fg) {
		if !functionGlobals[k] {
			return nil, &Error{Resource: "Globals", Property: "Function." + k, Reason: "not a property SAM allows in Globals"}
		}
	}
	return fg, nil
}

func readResource(id string, v any) (*Resource, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, &Error{Resource: id, Reason: "must be a mapping"}
	}
	if !isLogicalID(id) {
		return nil, &Error{Resource: id, Reason: "a logical ID must be ASCII letters and digits"}
	}
	for _, k := range sortedKeys(m) {
		if !resourceKeys[k] {
			return nil, &Error{Resource: id, Property: k, Reason: "unknown resource attribute"}
		}
	}
	r := &Resource{LogicalID: id}
	r.Type, _ = m["Type"].(string)
	schema, ok := propertySchemas[r.Type]
	if !ok {
		return nil, &Error{Resource: id, Property: "Type", Reason: fmt.Sprintf("unsupported resource type %q", r.Type)}
	}
	props := m["Properties"]
	if props == nil {
		r.Properties = map[string]any{}
	} else if r.Properties, ok = props.(map[string]any); !ok {
		return nil, &Error{Resource: id, Property: "Properties", Reason: "must be a mapping"}
	}
	for _, k := range sortedKeys(r.Properties) {
		if !schema[k] {
			return nil, &Error{Resource: id, Property: "Properties." + k, Reason: fmt.Sprintf("unknown property for %s", r.Type)}
		}
	}
	if md, ok := m["Metadata"]; ok {
		if r.Metadata, ok = md.(map[string]any); !ok {
			return nil, &Error{Resource: id, Property: "Metadata", Reason: "must be a mapping"}
		}
	}
	if c, ok := m["Condition"]; ok {
		if r.Condition, ok = c.(string); !ok || r.Condition == "" {
			return nil, &Error{Resource: id, Property: "Condition", Reason: "must name a condition"}
		}
	}
	if d, ok := m["DependsOn"]; ok {
		list, isList := d.([]any)
		if !isList {
			list = []any{d}
		}
		for _, e := range list {
			s, ok := e.(string)
			if !ok || s == "" {
				return nil, &Error{Resource: id, Property: "DependsOn", Reason: "must be a logical ID or a list of them"}
			}
			r.DependsOn = append(r.DependsOn, s)
		}
	}
	return r, nil
}

func readFunction(r *Resource, globals map[string]any) (*Function, error) {
	id := r.LogicalID
	base, ok := strings.CutSuffix(id, "Function")
	if !ok || base == "" {
		return nil, &Error{Resource: id, Reason: "a function's logical ID must end in Function (HealthFunction is built from functions/health)"}
	}
	fn := &Function{LogicalID: id, Name: strings.ToLower(base), Properties: mergeMaps(globals, r.Properties)}
	if bm, _ := r.Metadata["BuildMethod"].(string); bm != "makefile" {
		return nil, &Error{Resource: id, Property: "Metadata.BuildMethod", Reason: "must be makefile (one go.mod, built by the top-level Makefile)"}
	}
	if rt, _ := fn.Properties["Runtime"].(string); rt != "provided.al2023" {
		return nil, &Error{Resource: id, Property: "Runtime", Reason: "must be provided.al2023"}
	}
	fn.Timeout = 3 * time.Second
	if v, ok := fn.Properties["Timeout"]; ok {
		n, ok := v.(int64)
		if !ok || n < 1 || n > 900 {
			return nil, &Error{Resource: id, Property: "Timeout", Reason: "must be a whole number of seconds from 1 to 900"}
		}
		fn.Timeout = time.Duration(n) * time.Second
	}
	fn.MemoryMB = 128
	if v, ok := fn.Properties["MemorySize"]; ok {
		n, ok := v.(int64)
		if !ok || n < 128 || n > 10240 {
			return nil, &Error{Resource: id, Property: "MemorySize", Reason: "must be a whole number of MB from 128 to 10240"}
		}
		fn.MemoryMB = int(n)
	}
	if env, ok := fn.Properties["Environment"]; ok {
		em, ok := env.(map[string]any)
		if !ok {
			return nil, &Error{Resource: id, Property: "Environment", Reason: "must be a mapping"}
		}
		for _, k := range sortedKeys(em) {
			if k != "Variables" {
				return nil, &Error{Resource: id, Property: "Environment." + k, Reason: "only Variables is supported"}
			}
		}
		if _, ok := em["Variables"].(map[string]any); !ok {
			return nil, &Error{Resource: id, Property: "Environment.Variables", Reason: "must be a mapping"}
		}
	}
	if err := checkPolicies(id, fn.Properties["Policies"]); err != nil {
		return nil, err
	}
	events, _ := fn.Properties["Events"].(map[string]any)
	if _, ok := fn.Properties["Events"]; ok && events == nil {
		return nil, &Error{Resource: id, Property: "Events", Reason: "must be a mapping"}
	}
	for _, name := range sortedKeys(events) {
		ev, err := readEvent(fn, name, events[name])
		if err != nil {
			return nil, err
		}
		fn.Events = append(fn.Events, ev)
	}
	return fn, nil
}

// mergeGlobals applies SAM's Globals rules (samtranslator's GlobalProperties):
// maps (Environment.Variables, Tags) are merged key by key, recursively;
// lists are concatenated, Globals' entries first; for anything else, or when
// the two kinds differ, the function's own value wins. An intrinsic function
// counts as a single value. The result shares nothing with its inputs, so
// functions never see each other's changes.
func mergeGlobals(global, local any) any {
	gm, gIsMap := global.(map[string]any)
	lm, lIsMap := local.(map[string]any)
	if gIsMap && lIsMap && !isIntrinsic(gm) && !isIntrinsic(lm) {
		return mergeMaps(gm, lm)
	}
	gl, gIsList := global.([]any)
	ll, lIsList := local.([]any)
	if gIsList && lIsList {
		return append(deepCopy(gl).([]any), deepCopy(ll).([]any)...)
	}
	return deepCopy(local)
}

// mergeMaps merges the maps key by key; local's keys win, by mergeGlobals' rules.
func mergeMaps(global, local map[string]any) map[string]any {
	out := make(map[string]any, len(global)+len(local))
	for k, gv := range global {
		out[k] = deepCopy(gv)
	}
	for k, lv := range local {
		if gv, ok := global[k]; ok {
			out[k] = mergeGlobals(gv, lv)
		} else {
			out[k] = deepCopy(lv)
		}
	}
	return out
}

func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}

func readEvent(fn *Function, name string, v any) (*Event, error) {
	id := fn.LogicalID
	where := "Events." + name
	m, ok := v.(map[string]any)
	if !ok {
		return nil, &Error{Resource: id, Property: where, Reason: "must be a mapping"}
	}
	for _, k := range sortedKeys(m) {
		if k != "Type" && k != "Properties" {
			return nil, &Error{Resource: id, Property: where + "." + k, Reason: "unknown event attribute"}
		}
	}
	ev := &Event{Function: fn, Name: name}
	ev.Type, _ = m["Type"].(string)
	schema, ok := eventSchemas[ev.Type]
	if !ok {
		return nil, &Error{Resource: id, Property: where + ".Type", Reason: fmt.Sprintf("unsupported event type %q", ev.Type)}
	}
	switch p := m["Properties"].(type) {
	case nil:
		ev.Properties = map[string]any{}
	case map[string]any:
		ev.Properties = p
	default:
		return nil, &Error{Resource: id, Property: where + ".Properties", Reason: "must be a mapping"}
	}
	for _, k := range sortedKeys(ev.Properties) {
		if !schema[k] {
			return nil, &Error{Resource: id, Property: where + ".Properties." + k, Reason: fmt.Sprintf("unknown property for a %s event", ev.Type)}
		}
	}
	bad := func(prop, reason string) error {
		return &Error{Resource: id, Property: where + ".Properties." + prop, Reason: reason}
	}
	switch ev.Type {
	case "HttpApi":
		method, _ := ev.Properties["Method"].(string)
		path, _ := ev.Properties["Path"].(string)
		if method == "" {
			return nil, bad("Method", "an HttpApi event needs Method and Path (use ANY and /{proxy+} for a catch-all)")
		}
		if !httpMethods[strings.ToUpper(method)] {
			return nil, bad("Method", fmt.Sprintf("unsupported HTTP method %q", method))
		}
		if path == "" {
			return nil, bad("Path", "an HttpApi event needs Method and Path (use ANY and /{proxy+} for a catch-all)")
		}
		if !strings.HasPrefix(path, "/") {
			return nil, bad("Path", "must start with /")
		}
		if auth, ok := ev.Properties["Auth"]; ok {
			am, ok := auth.(map[string]any)
			if !ok {
				return nil, bad("Auth", "must be a mapping")
			}
			for _, k := range sortedKeys(am) {
				if !httpAuthKeys[k] {
					return nil, bad("Auth."+k, "unknown HttpApi auth property")
				}
			}
		}
	case "EventBridgeRule":
		if _, ok := ev.Properties["Pattern"].(map[string]any); !ok {
			return nil, bad("Pattern", "an EventBridgeRule event needs a Pattern mapping")
		}
	case "S3":
		if ev.Properties["Bucket"] == nil {
			return nil, bad("Bucket", "an S3 event needs Bucket and Events")
		}
		if ev.Properties["Events"] == nil {
			return nil, bad("Events", "an S3 event needs Bucket and Events")
		}
	case "SQS":
		if ev.Properties["Queue"] == nil {
			return nil, bad("Queue", "an SQS event needs a Queue")
		}
	case "Schedule":
		if ev.Properties["Schedule"] == nil {
			return nil, bad("Schedule", "a Schedule event needs a Schedule expression")
		}
	case "ScheduleV2":
		if ev.Properties["ScheduleExpression"] == nil {
			return nil, bad("ScheduleExpression", "a ScheduleV2 event needs a ScheduleExpression")
		}
	}
	return ev, nil
}

func checkPolicies(id string, v any) error {
	if v == nil {
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	for i, p := range list {
		where := fmt.Sprintf("Policies[%d]", i)
		switch p := p.(type) {
		case string:
			// A managed policy name or ARN.
		case map[string]any:
			if _, ok := p["Statement"]; ok {
				continue
			}
			if len(p) != 1 {
				return &Error{Resource: id, Property: where, Reason: "a policy template entry has exactly one key"}
			}
			for name, params := range p {
				allowed, ok := policyTemplates[name]
				if !ok {
					return &Error{Resource: id, Property: where, Reason: fmt.Sprintf("unknown SAM policy template %q", name)}
				}
				pm, ok := params.(map[string]any)
				if !ok && params != nil {
					return &Error{Resource: id, Property: where + "." + name, Reason: "a policy template's parameters must be a mapping ({} when it has none)"}
				}
				for _, k := range sortedKeys(pm) {
					if !allowed[k] {
						return &Error{Resource: id, Property: where + "." + name + "." + k, Reason: "unknown policy template parameter"}
					}
				}
				for _, k := range sortedKeys(allowed) {
					if _, ok := pm[k]; !ok {
						return &Error{Resource: id, Property: where + "." + name + "." + k, Reason: "missing policy template parameter"}
					}
				}
			}
		default:
			return &Error{Resource: id, Property: where, Reason: "must be a policy name or a policy template"}
		}
	}
	return nil
}

var outputKeys = set("Value", "Description", "Export", "Condition")

func checkOutputs(outputs map[string]any) error {
	for _, name := range sortedKeys(outputs) {
		m, ok := outputs[name].(map[string]any)
		if !ok {
			return &Error{Resource: "Outputs", Property: name, Reason: "must be a mapping"}
		}
		for _, k := range sortedKeys(m) {
			if !outputKeys[k] {
				return &Error{Resource: "Outputs", Property: name + "." + k, Reason: "unknown output property"}
			}
		}
		if _, ok := m["Value"]; !ok {
			return &Error{Resource: "Outputs", Property: name + ".Value", Reason: "an output needs a Value"}
		}
		if c, ok := m["Condition"]; ok {
			if s, ok := c.(string); !ok || s == "" {
				return &Error{Resource: "Outputs", Property: name + ".Condition", Reason: "must name a condition"}
			}
		}
	}
	return nil
}

func optionalMap(doc map[string]any, key string) (map[string]any, error) {
	v, ok := doc[key]
	if !ok || v == nil {
		return map[string]any{}, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, &Error{Resource: key, Reason: "must be a mapping"}
	}
	return m, nil
}

// Function returns the function with the given logical ID or folder name.
func (t *Template) Function(name string) *Function {
	for _, f := range t.Functions {
		if f.LogicalID == name || f.Name == name {
			return f
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// isLogicalID reports whether id is a CloudFormation logical ID: ASCII
// letters and digits only.
func isLogicalID(id string) bool {
	if id == "" {
		return false
	}
	for _, c := range id {
		if c > unicode.MaxASCII || !(unicode.IsLetter(c) || unicode.IsDigit(c)) {
			return false
		}
	}
	return true
}

func isScalar(v any) bool {
	switch v.(type) {
	case map[string]any, []any:
		return false
	}
	return true
}

func toFloat(v any) (float64, bool) {
	switch v := v.(type) {
	case int64:
		return float64(v), true
	case float64:
		return v, true
	case string:
		f, err := strconv.ParseFloat(v, 64)
		return f, err == nil
	}
	return 0, false
}

func isIntrinsic(m map[string]any) bool {
	if len(m) != 1 {
		return false
	}
	for k := range m {
		return k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::")
	}
	return false
}
