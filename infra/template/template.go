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
	"os"
	"slices"
	"strings"
	"time"
	"unicode"

	"gopkg.in/yaml.v3"
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

// Parameter is one entry of the template's Parameters section.
type Parameter struct {
	Type          string
	Default       any
	AllowedValues []any
	Description   string
}

// Resource is one entry of the Resources section.
type Resource struct {
	LogicalID  string
	Type       string
	Properties map[string]any
	Metadata   map[string]any
	Condition  string
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
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, &Error{Reason: "not valid YAML: " + err.Error()}
	}
	raw, err := decodeNode(&root)
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
	if err := t.checkReferences(doc); err != nil {
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
		m, ok := params[name].(map[string]any)
		if !ok {
			return &Error{Resource: "Parameters", Property: name, Reason: "must be a mapping"}
		}
		for _, k := range sortedKeys(m) {
			if !allowed[k] {
				return &Error{Resource: "Parameters", Property: name + "." + k, Reason: "unknown parameter property"}
			}
		}
		p := Parameter{Default: m["Default"]}
		p.Type, _ = m["Type"].(string)
		switch p.Type {
		case "String", "Number", "CommaDelimitedList":
		default:
			return &Error{Resource: "Parameters", Property: name + ".Type", Reason: fmt.Sprintf("unsupported parameter type %q", p.Type)}
		}
		p.Description, _ = m["Description"].(string)
		if av, ok := m["AllowedValues"]; ok {
			if p.AllowedValues, ok = av.([]any); !ok {
				return &Error{Resource: "Parameters", Property: name + ".AllowedValues", Reason: "must be a list"}
			}
		}
		t.Parameters[name] = p
	}
	return nil
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
	r.Condition, _ = m["Condition"].(string)
	return r, nil
}

func readFunction(r *Resource, globals map[string]any) (*Function, error) {
	id := r.LogicalID
	base, ok := strings.CutSuffix(id, "Function")
	if !ok || base == "" {
		return nil, &Error{Resource: id, Reason: "a function's logical ID must end in Function (HealthFunction is built from functions/health)"}
	}
	for _, c := range base {
		if c > unicode.MaxASCII || !(unicode.IsLetter(c) || unicode.IsDigit(c)) {
			return nil, &Error{Resource: id, Reason: "a function's logical ID must be ASCII letters and digits"}
		}
	}
	fn := &Function{LogicalID: id, Name: strings.ToLower(base), Properties: mergeGlobals(globals, r.Properties)}
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

// mergeGlobals applies SAM's Globals rules: the function's own value wins;
// maps (Environment.Variables, Tags) are merged key by key.
func mergeGlobals(globals, props map[string]any) map[string]any {
	out := maps.Clone(props)
	if out == nil {
		out = map[string]any{}
	}
	for k, gv := range globals {
		fv, ok := out[k]
		if !ok {
			out[k] = gv
			continue
		}
		gm, gok := gv.(map[string]any)
		fm, fok := fv.(map[string]any)
		if gok && fok && !isIntrinsic(gm) && !isIntrinsic(fm) {
			out[k] = mergeGlobals(gm, fm)
		}
	}
	return out
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
	ev.Properties, _ = m["Properties"].(map[string]any)
	if ev.Properties == nil {
		ev.Properties = map[string]any{}
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
		if method == "" || path == "" {
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
		if ev.Properties["Bucket"] == nil || ev.Properties["Events"] == nil {
			return nil, bad("Bucket", "an S3 event needs Bucket and Events")
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
				pm, _ := params.(map[string]any)
				for _, k := range sortedKeys(pm) {
					if !allowed[k] {
						return &Error{Resource: id, Property: where + "." + name + "." + k, Reason: "unknown policy template parameter"}
					}
				}
			}
		default:
			return &Error{Resource: id, Property: where, Reason: "must be a policy name or a policy template"}
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

func isIntrinsic(m map[string]any) bool {
	if len(m) != 1 {
		return false
	}
	for k := range m {
		return k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::")
	}
	return false
}
